// Reading the `randomize` section with the scenario's error conventions: every bad value is a
// ScenarioError naming its JSON path. Drawing from it is sim/randomize.cpp.
#include <algorithm>
#include <set>
#include <utility>

#include "sim/json_read.hpp"
#include "sim/randomize.hpp"

namespace sim {
namespace {

using namespace jsonr;
using Kind = RandomizeSpec::PartitionKind;

const Keys kPartitionKinds = {"split", "one_way", "isolate", "isolate_leader", "view_split"};
const Keys kRuleActions = {"drop", "delay", "duplicate", "hold"};
// A drawn rule's added delay stays below an hour, as the network's own draws do.
constexpr std::int64_t kMaxRuleDelayNs = 3'600'000'000'000;
const Keys kDists = {"fixed", "uniform", "normal", "lognormal", "exponential"};

// A value, or a range [lo, hi] of two values read by `read`; lo <= hi.
template <class Read>
DrawRange read_range(const json& v, const std::string& path, Read read) {
    if (!v.is_array()) {
        const std::int64_t x = read(v, path);
        return {x, x};
    }
    if (v.size() != 2) wrong_type(v, path, "a value or a range [lo, hi]");
    const DrawRange r{read(v[0], child(path, 0)), read(v[1], child(path, 1))};
    if (r.hi < r.lo) fail(child(path, 1), "the range's upper bound is below its lower bound");
    return r;
}

DrawRange read_count(const json& v, const std::string& path, std::uint64_t hi) {
    return read_range(v, path, [hi](const json& x, const std::string& p) {
        return static_cast<std::int64_t>(read_uint(x, p, 0, hi));
    });
}

DrawRange read_times(const json& v, const std::string& path) {
    return read_range(v, path,
                      [](const json& x, const std::string& p) { return parse_duration(x, p).ns; });
}

DrawRange read_probabilities(const json& v, const std::string& path) {
    return read_range(v, path, [](const json& x, const std::string& p) {
        return static_cast<std::int64_t>(read_ppm(x, p));
    });
}

// Times inside the run: every value of the range is before stop.at.
// "modes": which workload modes to draw from; "rate": the open loop's rate, per second.
void read_workload_modes(const Fields& w, RandomizeSpec& r) {
    if (const json* m = w.find("modes")) {
        if (!m->is_array() || m->empty()) wrong_type(*m, w.at("modes"), "a non-empty array");
        for (std::size_t i = 0; i < m->size(); ++i)
            r.open_loop.push_back(
                read_choice((*m)[i], child(w.at("modes"), i), {"closed", "open"}) == 1);
    }
    if (const json* q = w.find("rate")) {
        r.rate = read_count(*q, w.at("rate"), 1'000'000);
        if (r.rate->lo < 1) fail(w.at("rate"), "at least 1 request per second");
    }
    if (const json* t = w.find("think")) {
        r.think = read_times(*t, w.at("think"));
        if (r.think->hi > seconds(60).ns) fail(w.at("think"), "at most 60s");
    }
}

DrawRange read_start(const Fields& o, std::string_view key, const ScenarioSpec& base) {
    const DrawRange r = read_times(o.need(key), o.at(key));
    if (r.hi >= base.stop.at.ns) {
        fail(o.at(key), "the range reaches " + format_duration(SimTime{r.hi}) +
                            ", not before stop.at = " + format_duration(base.stop.at));
    }
    return r;
}

DrawRange read_window_length(const Fields& o, std::string_view key, const ScenarioSpec& base) {
    const DrawRange r = read_times(o.need(key), o.at(key));
    if (r.lo <= 0) fail(o.at(key), "a window lasts more than 0s");
    // Longer than the run means nothing more, and start + length must not overflow.
    if (r.hi > base.stop.at.ns) {
        fail(o.at(key), "a window longer than the run (stop.at = " + format_duration(base.stop.at) +
                            ") means nothing more");
    }
    return r;
}

// An optional window: `at` and `duration` together, or neither.
void read_window(const Fields& o, const ScenarioSpec& base, std::optional<DrawRange>& at,
                 std::optional<DrawRange>& duration) {
    if (!o.find("at") && !o.find("duration")) return;
    at = read_start(o, "at", base);
    duration = read_window_length(o, "duration", base);
}

// Candidate replicas: the listed ones, or every replica; `excluded` ones are refused if listed
// and left out otherwise.
std::vector<std::uint32_t> read_candidates(const Fields& o, const ScenarioSpec& base,
                                           const std::set<std::uint32_t>& excluded,
                                           const std::string& why) {
    std::vector<std::uint32_t> out;
    if (const json* v = o.find("nodes")) {
        out = read_nodes(*v, o.at("nodes"), base.nodes);
        for (std::size_t i = 0; i < out.size(); ++i) {
            if (excluded.count(out[i])) {
                fail(child(o.at("nodes"), i), "replica " + std::to_string(out[i]) + " " + why);
            }
        }
        return out;
    }
    for (std::uint32_t n = 0; n < base.nodes; ++n)
        if (!excluded.count(n)) out.push_back(n);
    return out;
}

void check_count(const Fields& o, const DrawRange& count, std::size_t candidates) {
    if (static_cast<std::uint64_t>(count.hi) > candidates) {
        fail(o.at("count"), "up to " + std::to_string(count.hi) + " drawn, but only " +
                                std::to_string(candidates) + " candidate replicas");
    }
}

// One behaviour: a name, or {"behavior", "params", "at", "duration"}.
RandomizeSpec::Part read_part(const json& v, const std::string& path, const ScenarioSpec& base) {
    RandomizeSpec::Part part;
    if (v.is_string()) {
        part.behavior = {{"behavior", read_name(v, path)}, {"params", json::object()}};
        return part;
    }
    const Fields e(v, path, {"behavior", "params", "at", "duration"});
    json params = json::object();
    if (const json* q = e.find("params")) {
        if (!q->is_object()) wrong_type(*q, e.at("params"), "an object");
        params = *q;
    }
    part.behavior = {{"behavior", read_name(e.need("behavior"), e.at("behavior"))},
                     {"params", params}};
    read_window(e, base, part.at, part.duration);
    return part;
}

RandomizeSpec::Byzantine read_byzantine(const json& v, const std::string& path,
                                        const ScenarioSpec& base) {
    const Fields o(v, path, {"count", "nodes", "behaviors", "at", "duration"});
    RandomizeSpec::Byzantine b;
    std::set<std::uint32_t> scripted;
    for (const FaultSpec& f : base.faults)
        if (f.type == FaultSpec::Type::Byzantine) scripted.insert(f.node);
    b.nodes = read_candidates(o, base, scripted, "is Byzantine in /faults already");
    b.count = read_count(o.need("count"), o.at("count"), base.nodes);
    check_count(o, b.count, b.nodes.size());
    const std::uint64_t most = scripted.size() + static_cast<std::uint64_t>(b.count.hi);
    if (most > base.f && !base.allow_unsafe_f) {
        fail(o.at("count"), "up to " + std::to_string(most) +
                                " Byzantine replicas with those in /faults, more than f = " +
                                std::to_string(base.f) +
                                "; set allow_unsafe_f to test the checker");
    }
    const json& list = o.need("behaviors");
    if (!list.is_array() || list.empty()) {
        wrong_type(list, o.at("behaviors"), "a non-empty array of behaviours");
    }
    for (std::size_t i = 0; i < list.size(); ++i) {
        const std::string p = child(o.at("behaviors"), i);
        if (!list[i].is_array()) {
            b.behaviors.push_back({read_part(list[i], p, base)});
            continue;
        }
        // A combination: every behaviour on the same drawn replica.
        if (list[i].empty()) wrong_type(list[i], p, "a non-empty array of behaviours");
        std::vector<RandomizeSpec::Part> parts;
        for (std::size_t j = 0; j < list[i].size(); ++j)
            parts.push_back(read_part(list[i][j], child(p, j), base));
        b.behaviors.push_back(std::move(parts));
    }
    read_window(o, base, b.at, b.duration);
    return b;
}

RandomizeSpec::Crashes read_crashes(const json& v, const std::string& path,
                                    const ScenarioSpec& base) {
    const Fields o(v, path, {"count", "nodes", "at", "duration", "state"});
    RandomizeSpec::Crashes c;
    std::set<std::uint32_t> scripted;
    for (const FaultSpec& f : base.faults)
        if (f.type == FaultSpec::Type::Crash || f.type == FaultSpec::Type::Recover)
            scripted.insert(f.node);
    c.nodes = read_candidates(o, base, scripted, "crashes in /faults already");
    c.count = read_count(o.need("count"), o.at("count"), base.nodes);
    check_count(o, c.count, c.nodes.size());
    c.at = read_start(o, "at", base);
    c.duration = read_window_length(o, "duration", base);
    if (const json* s = o.find("state")) {
        if (!s->is_array() || s->empty()) wrong_type(*s, o.at("state"), "a non-empty array");
        for (std::size_t i = 0; i < s->size(); ++i)
            c.lose_state.push_back(
                read_choice((*s)[i], child(o.at("state"), i), {"kept", "lost"}) == 1);
    } else {
        c.lose_state = {false};
    }
    return c;
}

RandomizeSpec::Partitions read_partitions(const json& v, const std::string& path,
                                          const ScenarioSpec& base) {
    const Fields o(v, path, {"count", "kinds", "at", "duration", "views"});
    RandomizeSpec::Partitions p;
    if (const json* w = o.find("views")) p.views = read_count(*w, o.at("views"), kU32Max);
    p.count = read_count(o.need("count"), o.at("count"), 1000);
    p.at = read_start(o, "at", base);
    p.duration = read_window_length(o, "duration", base);
    if (const json* k = o.find("kinds")) {
        if (!k->is_array() || k->empty()) wrong_type(*k, o.at("kinds"), "a non-empty array");
        for (std::size_t i = 0; i < k->size(); ++i)
            p.kinds.push_back(
                static_cast<Kind>(read_choice((*k)[i], child(o.at("kinds"), i), kPartitionKinds)));
    } else {
        p.kinds = {Kind::Split, Kind::OneWay, Kind::Isolate, Kind::IsolateLeader};
    }
    if (base.nodes < 2 && p.count.hi > 0) fail(o.at("count"), "partitions need 2 replicas or more");
    return p;
}

void read_network_ranges(const json& v, const std::string& path, const ScenarioSpec& base,
                         RandomizeSpec& r) {
    const Fields o(v, path, {"delay", "loss", "duplicate", "corrupt", "reorder", "gst"});
    if (const json* d = o.find("delay")) {
        const Fields od(*d, o.at("delay"), {"dists", "min", "max"});
        RandomizeSpec::Delay delay;
        if (const json* k = od.find("dists")) {
            if (!k->is_array() || k->empty()) wrong_type(*k, od.at("dists"), "a non-empty array");
            for (std::size_t i = 0; i < k->size(); ++i)
                delay.dists.push_back(static_cast<DelaySpec::Dist>(
                    read_choice((*k)[i], child(od.at("dists"), i), kDists)));
        } else {
            delay.dists = {DelaySpec::Dist::Fixed, DelaySpec::Dist::Uniform,
                           DelaySpec::Dist::Exponential};
        }
        delay.bounds.lo = parse_duration(od.need("min"), od.at("min")).ns;
        delay.bounds.hi = parse_duration(od.need("max"), od.at("max")).ns;
        if (delay.bounds.hi < delay.bounds.lo) fail(od.at("max"), "max is less than min");
        if (delay.bounds.hi <= 0) fail(od.at("max"), "expected a duration > 0");
        r.delay = delay;
    }
    if (const json* x = o.find("loss")) r.loss = read_probabilities(*x, o.at("loss"));
    if (const json* x = o.find("duplicate"))
        r.duplicate = read_probabilities(*x, o.at("duplicate"));
    if (const json* x = o.find("corrupt")) r.corrupt = read_probabilities(*x, o.at("corrupt"));
    if (const json* x = o.find("reorder")) {
        if (!x->is_array() || x->empty())
            wrong_type(*x, o.at("reorder"), "a non-empty array of booleans");
        for (std::size_t i = 0; i < x->size(); ++i)
            r.reorder.push_back(read_bool((*x)[i], child(o.at("reorder"), i)));
    }
    if (o.find("gst")) {
        const DrawRange g = read_times(o.need("gst"), o.at("gst"));
        if (g.hi > base.stop.at.ns) {
            fail(o.at("gst"), "GST may fall after stop.at = " + format_duration(base.stop.at));
        }
        r.gst = g;
    }
}

// A non-empty list of distinct names (for message types; the protocol checks them).
std::vector<std::string> read_names(const json& v, const std::string& path) {
    if (!v.is_array() || v.empty()) wrong_type(v, path, "a non-empty array of names");
    std::vector<std::string> out;
    for (std::size_t i = 0; i < v.size(); ++i) {
        std::string name = read_name(v[i], child(path, i));
        if (std::find(out.begin(), out.end(), name) != out.end())
            fail(child(path, i), quote(name) + " is listed twice");
        out.push_back(std::move(name));
    }
    return out;
}

RandomizeSpec::Rules read_rules(const json& v, const std::string& path, const ScenarioSpec& base) {
    const Fields o(
        v, path,
        {"count", "actions", "kinds", "kinds_per_rule", "at", "duration", "delay", "views"});
    RandomizeSpec::Rules r;
    r.count = read_count(o.need("count"), o.at("count"), 1000);
    r.at = read_start(o, "at", base);
    r.duration = read_window_length(o, "duration", base);
    if (const json* a = o.find("actions")) {
        if (!a->is_array() || a->empty()) wrong_type(*a, o.at("actions"), "a non-empty array");
        for (std::size_t i = 0; i < a->size(); ++i)
            r.actions.push_back(static_cast<RuleSpec::Action>(
                read_choice((*a)[i], child(o.at("actions"), i), kRuleActions)));
    } else {
        r.actions = {RuleSpec::Action::Drop, RuleSpec::Action::Delay, RuleSpec::Action::Duplicate,
                     RuleSpec::Action::Hold};
    }
    if (const json* k = o.find("kinds")) r.kinds = read_names(*k, o.at("kinds"));
    if (const json* k = o.find("kinds_per_rule")) {
        r.kinds_per_rule = read_count(*k, o.at("kinds_per_rule"), 1000);
        if (r.kinds_per_rule->lo < 1) fail(o.at("kinds_per_rule"), "a rule matches 1 type or more");
    }
    if (const json* d = o.find("delay")) {
        r.delay = read_times(*d, o.at("delay"));
        if (r.delay.hi > kMaxRuleDelayNs) {
            fail(o.at("delay"),
                 "a rule's delay is at most " + format_duration(SimTime{kMaxRuleDelayNs}));
        }
    }
    if (const json* w = o.find("views")) r.views = read_count(*w, o.at("views"), kU32Max);
    return r;
}

// A list of names, each one of `allowed` (all of them when absent).
std::vector<std::string> read_names(const Fields& o, std::string_view key,
                                    const std::vector<std::string>& allowed) {
    const json* v = o.find(key);
    if (!v) return allowed;
    if (!v->is_array() || v->empty()) wrong_type(*v, o.at(key), "a non-empty array of names");
    std::vector<std::string> out;
    for (std::size_t i = 0; i < v->size(); ++i) {
        const std::string name = read_string((*v)[i], child(o.at(key), i));
        if (std::find(allowed.begin(), allowed.end(), name) == allowed.end())
            fail(child(o.at(key), i),
                 "'" + name + "' is not one of: " + join(Keys(allowed.begin(), allowed.end())));
        out.push_back(name);
    }
    return out;
}

RandomizeSpec::Anomalies read_anomalies(const json& v, const std::string& path,
                                        const ScenarioSpec& base) {
    if (base.system != "mapek") fail(path, "only a \"system\": \"mapek\" scenario has anomalies");
    const Fields o(v, path,
                   {"count", "workflows", "metrics", "types", "at", "duration", "magnitude"});
    RandomizeSpec::Anomalies a;
    a.count = read_count(o.need("count"), o.at("count"), 64);
    std::vector<std::string> workflows, metrics;
    for (const json& w : base.mapek.value("workflows", json::array()))
        if (w.is_object() && w.contains("name") && w["name"].is_string())
            workflows.push_back(w["name"]);
    for (const json& x : base.mapek.value("actions", json::array()))
        if (x.is_object() && x.contains("metric") && x["metric"].is_string())
            metrics.push_back(x["metric"]);
    a.workflows = read_names(o, "workflows", workflows);
    a.metrics = read_names(o, "metrics", metrics);
    a.types = read_names(o, "types", {"spike", "drift", "flap"});
    if (a.workflows.empty() || a.metrics.empty()) fail(path, "/mapek names no workflow or action");
    a.at = read_start(o, "at", base);
    a.duration = read_window_length(o, "duration", base);
    if (const json* m = o.find("magnitude")) {
        a.magnitude = read_range(*m, o.at("magnitude"), [](const json& x, const std::string& p) {
            const double d = read_number(x, p, "a factor from 1.01 to 1000");
            if (d < 1.01 || d > 1000) fail(p, "a factor from 1.01 to 1000");
            return static_cast<std::int64_t>(d * 1000 + 0.5);
        });
    }
    return a;
}

// The Byzantine leader is the run's Byzantine replica: with `byzantine` drawn as well, or one
// in /faults, there could be more than f.
RandomizeSpec::Schedules read_schedules(const json& v, const std::string& path,
                                        const ScenarioSpec& base, bool byzantine_too) {
    const Fields o(v, path, {"nodes", "views", "share", "fork", "back", "partial"});
    RandomizeSpec::Schedules s;
    std::set<std::uint32_t> scripted;
    for (const FaultSpec& f : base.faults)
        if (f.type == FaultSpec::Type::Byzantine) scripted.insert(f.node);
    if (!base.allow_unsafe_f && (byzantine_too || !scripted.empty() || base.f == 0)) {
        fail(path, byzantine_too ? "draws the run's Byzantine replica; with /randomize/byzantine "
                                   "too there could be more than f"
                   : base.f == 0 ? "draws a Byzantine replica, but f = 0"
                                 : "draws the run's Byzantine replica; /faults has one already");
    }
    s.nodes = read_candidates(o, base, scripted, "is Byzantine in /faults already");
    if (s.nodes.empty()) fail(o.at("nodes"), "no candidate replica");
    s.views = read_count(o.need("views"), o.at("views"), 1024);
    if (s.views.lo < 2) fail(o.at("views"), "at least 2 views");
    const auto ppm = [&o](std::string_view key, std::int64_t dflt) {
        const json* p = o.find(key);
        return p ? static_cast<std::int64_t>(read_ppm(*p, o.at(key))) : dflt;
    };
    s.share = ppm("share", s.share);
    s.fork = ppm("fork", s.fork);
    s.partial = ppm("partial", s.partial);
    if (const json* b = o.find("back")) s.back = read_uint(*b, o.at("back"), 1, 1024);
    return s;
}

}  // namespace

RandomizeSpec read_randomize(const json& doc, const ScenarioSpec& base) {
    const Fields o(doc, "/randomize",
                   {"swarm", "byzantine", "crashes", "partitions", "rules", "network", "workload",
                    "anomalies", "leader_schedules"});
    RandomizeSpec r;
    r.swarm = o.flag("swarm").value_or(true);
    if (const json* v = o.find("byzantine"))
        r.byzantine = read_byzantine(*v, o.at("byzantine"), base);
    if (const json* v = o.find("crashes")) r.crashes = read_crashes(*v, o.at("crashes"), base);
    if (const json* v = o.find("partitions"))
        r.partitions = read_partitions(*v, o.at("partitions"), base);
    if (const json* v = o.find("rules")) r.rules = read_rules(*v, o.at("rules"), base);
    if (const json* v = o.find("network")) read_network_ranges(*v, o.at("network"), base, r);
    if (const json* v = o.find("anomalies"))
        r.anomalies = read_anomalies(*v, o.at("anomalies"), base);
    if (const json* v = o.find("leader_schedules"))
        r.schedules = read_schedules(*v, o.at("leader_schedules"), base, r.byzantine.has_value());
    if (const json* v = o.find("workload")) {
        if (base.system == "mapek") fail(o.at("workload"), "a MAPE-K system has no workload");
        const Fields w(*v, o.at("workload"), {"requests", "clients", "modes", "rate", "think"});
        read_workload_modes(w, r);
        if (const json* q = w.find("requests"))
            r.requests = read_count(*q, w.at("requests"), 100'000'000);
        if (const json* c = w.find("clients")) {
            r.clients = read_count(*c, w.at("clients"), 10'000);
            if (r.clients->lo < 1) fail(w.at("clients"), "at least 1 client");
            for (const ScheduledRequest& s : base.workload.schedule) {
                if (s.client >= static_cast<std::uint64_t>(r.clients->lo)) {
                    fail(w.at("clients"), "may draw " + std::to_string(r.clients->lo) +
                                              " clients, but /workload/schedule names client " +
                                              std::to_string(s.client));
                }
            }
        }
    }
    return r;
}

}  // namespace sim
