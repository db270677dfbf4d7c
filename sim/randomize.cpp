// The `randomize` section: reading it with the scenario's error conventions, and drawing one
// concrete scenario document per seed. Every section draws from its own child stream of
// RandomStream(seed).fork("randomize"), so adding a section never changes another's draws.
#include "sim/randomize.hpp"

#include <algorithm>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "sim/json_read.hpp"
#include "sim/random.hpp"

namespace sim {
namespace {

using namespace jsonr;
using Kind = RandomizeSpec::PartitionKind;

const Keys kPartitionKinds = {"split", "one_way", "isolate", "isolate_leader"};
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
DrawRange read_start(const Fields& o, std::string_view key, const ScenarioSpec& base) {
    const DrawRange r = read_times(o.need(key), o.at(key));
    if (r.hi >= base.stop.at.ns) {
        fail(o.at(key), "the range reaches " + format_duration(SimTime{r.hi}) +
                            ", not before stop.at = " + format_duration(base.stop.at));
    }
    return r;
}

DrawRange read_window_length(const Fields& o, std::string_view key) {
    const DrawRange r = read_times(o.need(key), o.at(key));
    if (r.lo <= 0) fail(o.at(key), "a window lasts more than 0s");
    return r;
}

// An optional window: `at` and `duration` together, or neither.
void read_window(const Fields& o, const ScenarioSpec& base, std::optional<DrawRange>& at,
                 std::optional<DrawRange>& duration) {
    if (!o.find("at") && !o.find("duration")) return;
    at = read_start(o, "at", base);
    duration = read_window_length(o, "duration");
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
    c.duration = read_window_length(o, "duration");
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
    const Fields o(v, path, {"count", "kinds", "at", "duration"});
    RandomizeSpec::Partitions p;
    p.count = read_count(o.need("count"), o.at("count"), 1000);
    p.at = read_start(o, "at", base);
    p.duration = read_window_length(o, "duration");
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

// ---- drawing -------------------------------------------------------------------------------

std::int64_t pick(RandomStream& rng, const DrawRange& r) {
    return r.lo == r.hi ? r.lo : rng.uniform(r.lo, r.hi);
}

// A duration in [lo, hi], in whole milliseconds or microseconds where the range allows, so
// drawn files stay readable.
std::int64_t pick_time(RandomStream& rng, const DrawRange& r) {
    for (const std::int64_t unit : {1'000'000LL, 1'000LL}) {
        const std::int64_t lo = (r.lo + unit - 1) / unit, hi = r.hi / unit;
        if (hi - lo >= 10) return rng.uniform(lo, hi) * unit;
    }
    return pick(rng, r);
}

// `count` distinct elements of `from`, in drawn order.
std::vector<std::uint32_t> pick_distinct(RandomStream& rng, std::vector<std::uint32_t> from,
                                         std::size_t count) {
    count = std::min(count, from.size());
    for (std::size_t i = 0; i < count; ++i) {
        const auto j = static_cast<std::size_t>(
            rng.uniform(static_cast<std::int64_t>(i), static_cast<std::int64_t>(from.size()) - 1));
        std::swap(from[i], from[j]);
    }
    from.resize(count);
    return from;
}

template <class T>
T pick_one(RandomStream& rng, const std::vector<T>& from) {
    return from[static_cast<std::size_t>(
        rng.uniform(0, static_cast<std::int64_t>(from.size()) - 1))];
}

std::string time_text(std::int64_t ns) {
    return format_duration(SimTime{ns});
}

double probability(std::int64_t ppm) {
    return static_cast<double>(ppm) / 1e6;
}

// Which fault classes a seed switches on. Without swarm, all of them.
class Swarm {
public:
    Swarm(bool on, RandomStream rng) : on_(on), rng_(std::move(rng)) {}
    // The count range for a class: [0, 0] when switched off, else at least 1 when it can be.
    DrawRange gate(const DrawRange& r) {
        if (!on_) return r;
        if (rng_.uniform(0, 1) == 0) return r.lo == 0 ? DrawRange{0, 0} : r;
        return {std::max<std::int64_t>(r.lo, std::min<std::int64_t>(1, r.hi)), r.hi};
    }

private:
    bool on_;
    RandomStream rng_;
};

}  // namespace

RandomizeSpec read_randomize(const json& doc, const ScenarioSpec& base) {
    const Fields o(doc, "/randomize",
                   {"swarm", "byzantine", "crashes", "partitions", "network", "workload"});
    RandomizeSpec r;
    r.swarm = o.flag("swarm").value_or(true);
    if (const json* v = o.find("byzantine"))
        r.byzantine = read_byzantine(*v, o.at("byzantine"), base);
    if (const json* v = o.find("crashes")) r.crashes = read_crashes(*v, o.at("crashes"), base);
    if (const json* v = o.find("partitions"))
        r.partitions = read_partitions(*v, o.at("partitions"), base);
    if (const json* v = o.find("network")) read_network_ranges(*v, o.at("network"), base, r);
    if (const json* v = o.find("workload")) {
        const Fields w(*v, o.at("workload"), {"requests", "clients"});
        if (const json* q = w.find("requests"))
            r.requests = read_count(*q, w.at("requests"), 100'000'000);
        if (const json* c = w.find("clients")) {
            r.clients = read_count(*c, w.at("clients"), 10'000);
            if (r.clients->lo < 1) fail(w.at("clients"), "at least 1 client");
        }
    }
    return r;
}

json draw_document(const ScenarioSpec& spec, std::uint64_t seed, const DrawHints& hints) {
    json doc = spec.source;
    doc.erase("randomize");
    doc["seed"] = seed;
    if (!spec.randomize) return doc;
    const RandomizeSpec& r = *spec.randomize;
    const RandomStream root = RandomStream(seed).fork("randomize");
    Swarm swarm(r.swarm, root.fork("swarm"));
    // Gate every class in one fixed order, present or not, so the switches of one class do
    // not depend on which others the scenario has.
    const DrawRange byz_count = swarm.gate(r.byzantine ? r.byzantine->count : DrawRange{});
    const DrawRange crash_count = swarm.gate(r.crashes ? r.crashes->count : DrawRange{});
    const DrawRange part_count = swarm.gate(r.partitions ? r.partitions->count : DrawRange{});
    const DrawRange loss = swarm.gate(r.loss.value_or(DrawRange{}));
    const DrawRange duplicate = swarm.gate(r.duplicate.value_or(DrawRange{}));
    const DrawRange corrupt = swarm.gate(r.corrupt.value_or(DrawRange{}));

    std::vector<std::string> drawn;
    json& faults = doc["faults"];
    if (!faults.is_array()) faults = json::array();
    std::set<std::uint32_t> byzantine;
    if (r.byzantine) {
        RandomStream rng = root.fork("byzantine");
        const auto& b = *r.byzantine;
        const auto nodes =
            pick_distinct(rng, b.nodes, static_cast<std::size_t>(pick(rng, byz_count)));
        for (std::uint32_t n : nodes) {
            const auto& which = pick_one(rng, b.behaviors);
            std::vector<std::string> texts;
            for (const RandomizeSpec::Part& part : which) {
                const json& kind = part.behavior["behavior"];
                json f = {{"type", "byzantine"}, {"node", n}, {"behavior", kind}};
                if (!part.behavior["params"].empty()) f["params"] = part.behavior["params"];
                std::string text = kind.get<std::string>();
                const auto& at = part.at ? part.at : b.at;
                const auto& duration = part.at ? part.duration : b.duration;
                if (at) {
                    const std::int64_t from = pick_time(rng, *at);
                    const std::int64_t until =
                        std::min(from + pick_time(rng, *duration), spec.stop.at.ns);
                    f["at"] = time_text(from);
                    f["until"] = time_text(until);
                    text += fmt::format(" from {} to {}", time_text(from), time_text(until));
                }
                faults.push_back(std::move(f));
                texts.push_back(std::move(text));
            }
            byzantine.insert(n);
            drawn.push_back(fmt::format("replica {} {}", n, fmt::join(texts, " + ")));
        }
    }
    if (r.crashes) {
        RandomStream rng = root.fork("crashes");
        const auto& c = *r.crashes;
        std::vector<std::uint32_t> honest;
        for (std::uint32_t n : c.nodes)
            if (!byzantine.count(n)) honest.push_back(n);
        const auto nodes =
            pick_distinct(rng, honest, static_cast<std::size_t>(pick(rng, crash_count)));
        // A replica that restarts without its state may sign what it signed before, forgotten:
        // it counts as faulty, so lost state is drawn only while the faulty stay within f.
        std::size_t faulty = byzantine.size();
        for (const FaultSpec& f : spec.faults)
            if (f.type == FaultSpec::Type::Byzantine && !byzantine.count(f.node)) ++faulty;
        for (std::uint32_t n : nodes) {
            const std::int64_t at = pick_time(rng, c.at);
            const std::int64_t until = std::min(at + pick_time(rng, c.duration), spec.stop.at.ns);
            bool lose = pick_one(rng, c.lose_state);
            if (lose && faulty + 1 > spec.f && !spec.allow_unsafe_f) lose = false;
            if (lose) ++faulty;
            faults.push_back({{"type", "crash"}, {"node", n}, {"at", time_text(at)}});
            faults.push_back({{"type", "recover"},
                              {"node", n},
                              {"at", time_text(until)},
                              {"state", lose ? "lost" : "kept"}});
            drawn.push_back(fmt::format("crash of replica {} from {} to {} (state {})", n,
                                        time_text(at), time_text(until), lose ? "lost" : "kept"));
        }
    }
    if (r.partitions) {
        RandomStream rng = root.fork("partitions");
        const auto& p = *r.partitions;
        const auto count = pick(rng, part_count);
        std::vector<std::uint32_t> all(spec.nodes);
        for (std::uint32_t i = 0; i < spec.nodes; ++i) all[i] = i;
        for (std::int64_t i = 0; i < count; ++i) {
            const Kind kind = pick_one(rng, p.kinds);
            const std::int64_t at = pick_time(rng, p.at);
            const std::int64_t until = std::min(at + pick_time(rng, p.duration), spec.stop.at.ns);
            json f = {{"at", time_text(at)}, {"until", time_text(until)}};
            std::string text;
            switch (kind) {
                case Kind::Split: {
                    const auto side = pick_distinct(
                        rng, all, static_cast<std::size_t>(rng.uniform(1, spec.nodes - 1)));
                    std::vector<std::uint32_t> group(side.begin(), side.end());
                    std::sort(group.begin(), group.end());
                    f["type"] = "partition";
                    f["groups"] = json::array({group});
                    text = fmt::format("partition {{{}}} | rest", fmt::join(group, ","));
                    break;
                }
                case Kind::OneWay: {
                    auto order = pick_distinct(rng, all, all.size());
                    const auto k = static_cast<std::size_t>(rng.uniform(1, spec.nodes - 1));
                    std::vector<std::uint32_t> from(order.begin(), order.begin() + k);
                    std::vector<std::uint32_t> to(order.begin() + k, order.end());
                    std::sort(from.begin(), from.end());
                    std::sort(to.begin(), to.end());
                    f["type"] = "one_way";
                    f["from"] = from;
                    f["to"] = to;
                    text = fmt::format("one-way block {{{}}} -> {{{}}}", fmt::join(from, ","),
                                       fmt::join(to, ","));
                    break;
                }
                case Kind::Isolate:
                case Kind::IsolateLeader: {
                    const std::uint32_t n =
                        kind == Kind::Isolate
                            ? static_cast<std::uint32_t>(rng.uniform(0, spec.nodes - 1))
                            : hints.first_leader % spec.nodes;
                    f["type"] = "isolate";
                    f["node"] = n;
                    text = fmt::format("isolation of replica {}{}", n,
                                       kind == Kind::IsolateLeader ? " (the first leader)" : "");
                    break;
                }
            }
            drawn.push_back(fmt::format("{} from {} to {}", text, time_text(at), time_text(until)));
            faults.push_back(std::move(f));
        }
    }
    json& net = doc["network"];
    if (!net.is_object()) net = json::object();
    {
        RandomStream rng = root.fork("network");
        if (r.delay) {
            const auto& d = *r.delay;
            const DelaySpec::Dist dist = pick_one(rng, d.dists);
            const std::int64_t a = pick_time(rng, d.bounds), b = pick_time(rng, d.bounds);
            const std::int64_t lo = std::min(a, b), hi = std::max(a, b);
            const std::int64_t positive = std::max<std::int64_t>(hi, 1);
            json delay;
            switch (dist) {
                case DelaySpec::Dist::Fixed:
                    delay = time_text(a);
                    break;
                case DelaySpec::Dist::Uniform:
                    delay = {{"dist", "uniform"}, {"min", time_text(lo)}, {"max", time_text(hi)}};
                    break;
                case DelaySpec::Dist::Normal:
                    delay = {{"dist", "normal"},
                             {"mean", time_text(hi)},
                             {"stddev", time_text((hi - lo) / 2)}};
                    break;
                case DelaySpec::Dist::Lognormal:
                    delay = {{"dist", "lognormal"}, {"median", time_text(positive)}};
                    break;
                case DelaySpec::Dist::Exponential:
                    delay = {{"dist", "exponential"}, {"mean", time_text(positive)}};
                    break;
            }
            drawn.push_back("delay " + delay.dump());
            net["delay"] = std::move(delay);
        }
        const std::pair<const char*, const std::optional<DrawRange>*> ppms[] = {
            {"loss", &r.loss}, {"duplicate", &r.duplicate}, {"corrupt", &r.corrupt}};
        const DrawRange gated[] = {loss, duplicate, corrupt};
        for (std::size_t i = 0; i < std::size(ppms); ++i) {
            if (!*ppms[i].second) continue;
            const std::int64_t ppm = pick(rng, gated[i]);
            net[ppms[i].first] = probability(ppm);
            if (ppm != 0) drawn.push_back(fmt::format("{} {}", ppms[i].first, probability(ppm)));
        }
        if (!r.reorder.empty()) {
            const bool reorder = pick_one(rng, r.reorder);
            net["reorder"] = reorder;
            if (reorder) drawn.push_back("reordering");
        }
        if (r.gst) {
            const std::int64_t at = pick_time(rng, *r.gst);
            json& gst = net["gst"];
            if (!gst.is_object()) gst = json::object();
            gst["at"] = time_text(at);
            drawn.push_back("GST at " + time_text(at));
        }
    }
    json& work = doc["workload"];
    if (!work.is_object()) work = json::object();
    {
        RandomStream rng = root.fork("workload");
        if (r.requests) work["requests"] = pick(rng, *r.requests);
        if (r.clients) work["clients"] = pick(rng, *r.clients);
        if (r.requests || r.clients) {
            drawn.push_back(fmt::format("{} requests from {} clients",
                                        work.value("requests", spec.workload.requests),
                                        work.value("clients", spec.workload.clients)));
        }
    }
    const std::string what =
        fmt::format("seed {} of '{}' drew: {}", seed, spec.name,
                    drawn.empty() ? "no faults" : fmt::format("{}", fmt::join(drawn, "; ")));
    doc["description"] = spec.description.empty() ? what : spec.description + " [" + what + "]";
    return doc;
}

ScenarioSpec concrete_scenario(const ScenarioSpec& spec, std::uint64_t seed,
                               const DrawHints& hints) {
    if (!spec.randomize) {
        ScenarioSpec s = spec;
        s.seed = seed;
        s.source["seed"] = seed;
        return s;
    }
    const json doc = draw_document(spec, seed, hints);
    try {
        return parse_scenario(doc);
    } catch (const ScenarioError& e) {
        throw ScenarioError("/randomize", fmt::format("seed {} drew a scenario that does not "
                                                      "parse ({}: {}); please report this",
                                                      seed, e.path(), e.reason()));
    }
}

}  // namespace sim
