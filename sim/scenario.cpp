// Scenario parsing. Every check names the JSON pointer of the value at fault, and values are
// type-checked before they are read, so no nlohmann exception reaches the caller. The format is
// documented in scenarios/FORMAT.md; keep the two in step.
#include "sim/scenario.hpp"

#include "sim/json_read.hpp"
#include "sim/randomize.hpp"
#include "sim/scenario_read.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <iterator>
#include <limits>
#include <numeric>
#include <set>
#include <string_view>
#include <utility>

namespace sim {

using namespace jsonr;

const Keys kLinkProps = {"delay", "loss", "duplicate", "corrupt", "reorder"};

// A replica's inbound queue is allocated whole when the run starts.
constexpr std::uint64_t kMaxQueue = 1'000'000;

DelaySpec read_delay(const json& v, const std::string& path) {
    DelaySpec d;
    if (!v.is_object()) {
        if (!v.is_string() && !v.is_number()) {
            wrong_type(v, path, "a duration such as \"5ms\" or an object with \"dist\"");
        }
        d.value = parse_duration(v, path);
        return d;
    }
    const Keys dists = {"fixed", "uniform", "normal", "lognormal", "exponential"};
    const Keys keys[] = {{"dist", "value"},
                         {"dist", "min", "max"},
                         {"dist", "mean", "stddev"},
                         {"dist", "median", "sigma"},
                         {"dist", "mean"}};
    const auto dist = v.find("dist");
    if (dist == v.end()) {
        fail(child(path, "dist"), "missing required key 'dist'; expected one of: " + join(dists));
    }
    const std::size_t k = read_choice(*dist, child(path, "dist"), dists);
    const Fields o(v, path, keys[k]);
    const auto need = [&](std::string_view key) { return parse_duration(o.need(key), o.at(key)); };
    d.dist = static_cast<DelaySpec::Dist>(k);
    switch (d.dist) {
        case DelaySpec::Dist::Fixed:
            d.value = need("value");
            break;
        case DelaySpec::Dist::Uniform:
            d.min = need("min");
            d.max = need("max");
            if (d.max < d.min) {
                fail(o.at("max"), "max = " + format_duration(d.max) +
                                      " is less than min = " + format_duration(d.min));
            }
            break;
        case DelaySpec::Dist::Normal:
            d.mean = need("mean");
            d.stddev = need("stddev");
            break;
        case DelaySpec::Dist::Lognormal:
            d.median = positive(need("median"), o.at("median"));
            if (const json* s = o.find("sigma")) {
                d.sigma = read_number(*s, o.at("sigma"), "a number > 0");
                if (!(d.sigma > 0 && std::isfinite(d.sigma))) {
                    wrong_type(*s, o.at("sigma"), "a number > 0");
                }
            }
            break;
        case DelaySpec::Dist::Exponential:
            d.mean = positive(need("mean"), o.at("mean"));
            break;
    }
    return d;
}

// Overrides the link properties present in `o`; returns how many were given.
int read_link_props(const Fields& o, LinkSpec& spec) {
    int given = 0;
    if (const json* v = o.find("delay")) {
        spec.delay = read_delay(*v, o.at("delay"));
        ++given;
    }
    std::uint32_t* ppms[] = {&spec.loss_ppm, &spec.duplicate_ppm, &spec.corrupt_ppm};
    for (std::size_t i = 0; i < std::size(ppms); ++i) {
        if (const json* v = o.find(kLinkProps[i + 1])) {
            *ppms[i] = read_ppm(*v, o.at(kLinkProps[i + 1]));
            ++given;
        }
    }
    if (auto reorder = o.flag("reorder")) {
        spec.reorder = *reorder;
        ++given;
    }
    return given;
}

namespace {

struct Unit {
    std::string_view name;
    std::int64_t ns;
};
constexpr Unit kUnits[] = {
    {"ns", 1}, {"us", 1'000}, {"ms", 1'000'000}, {"s", 1'000'000'000}, {"m", 60'000'000'000}};
constexpr std::string_view kUnitNames = "ns, us, ms, s, m";

// Explicit links must connect every replica, taking each link as undirected.
void check_connected(const std::vector<ExplicitLink>& links, std::uint32_t nodes,
                     const std::string& path) {
    std::vector<std::vector<std::uint32_t>> adjacent(nodes);
    for (const ExplicitLink& l : links) {
        adjacent[l.from].push_back(l.to);
        adjacent[l.to].push_back(l.from);
    }
    std::vector<bool> seen(nodes, false);
    std::vector<std::uint32_t> queue = {0};
    seen[0] = true;
    for (std::size_t head = 0; head < queue.size(); ++head) {
        for (std::uint32_t next : adjacent[queue[head]]) {
            if (!seen[next]) {
                seen[next] = true;
                queue.push_back(next);
            }
        }
    }
    std::string cut;
    for (std::uint32_t n = 0; n < nodes; ++n) {
        if (!seen[n]) cut += (cut.empty() ? "" : ", ") + std::to_string(n);
    }
    if (!cut.empty()) {
        fail(path, "the links do not connect replica 0 to replica(s) " + cut +
                       "; the replicas must form one connected graph");
    }
}

void read_links(const json& v, const std::string& path, ScenarioSpec& s) {
    if (!v.is_array() || v.empty()) {
        wrong_type(v, path, "a non-empty array of links (omit 'links' for a complete graph)");
    }
    std::set<std::pair<std::uint32_t, std::uint32_t>> edges;
    for (std::size_t i = 0; i < v.size(); ++i) {
        const Fields o(
            v[i], child(path, i),
            {"from", "to", "bidirectional", "delay", "loss", "duplicate", "corrupt", "reorder"});
        ExplicitLink link;
        link.from = read_node(o.need("from"), o.at("from"), s.nodes);
        link.to = read_node(o.need("to"), o.at("to"), s.nodes);
        if (link.from == link.to) {
            fail(o.at("to"), "a link joins two different replicas; from and to are both " +
                                 std::to_string(link.from));
        }
        link.bidirectional = o.flag("bidirectional").value_or(true);
        link.spec = s.network.defaults;
        read_link_props(o, link.spec);
        const bool fresh = edges.insert({link.from, link.to}).second &&
                           (!link.bidirectional || edges.insert({link.to, link.from}).second);
        if (!fresh) {
            fail(o.path(), "duplicate link between replicas " + std::to_string(link.from) +
                               " and " + std::to_string(link.to));
        }
        s.network.links.push_back(link);
    }
    check_connected(s.network.links, s.nodes, path);
}

void read_network(const json& v, ScenarioSpec& s) {
    const Fields o(
        v, "/network",
        {"delay", "loss", "duplicate", "corrupt", "reorder", "queue_capacity", "links", "gst"});
    read_link_props(o, s.network.defaults);
    s.network.queue_capacity =
        static_cast<std::uint32_t>(o.integer("queue_capacity", 0, kMaxQueue).value_or(0));
    if (const json* g = o.find("gst")) {
        const Fields gst(*g, o.at("gst"), {"at", "delta"});
        s.network.gst = parse_duration(gst.need("at"), gst.at("at"));
        s.network.delta = gst.positive_duration("delta").value_or(s.network.delta);
    }
    if (const json* links = o.find("links")) read_links(*links, o.at("links"), s);
}

double read_rate(const json& v, const std::string& path) {
    const char* expected = "a rate > 0 such as \"1000/s\" or a number per second";
    double rate = 0;
    if (v.is_number()) {
        rate = v.get<double>();
    } else if (v.is_string()) {
        const std::string& s = v.get_ref<const std::string&>();
        const std::size_t slash = s.find('/');
        if (slash == std::string::npos) wrong_type(v, path, expected);
        double count = 0;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + slash, count);
        const std::string_view unit = std::string_view(s).substr(slash + 1);
        const auto u = std::find_if(std::begin(kUnits), std::end(kUnits),
                                    [&](const Unit& x) { return x.name == unit; });
        if (ec != std::errc() || end != s.data() + slash || u == std::end(kUnits)) {
            wrong_type(v, path, expected);
        }
        rate = count * 1e9 / static_cast<double>(u->ns);
    } else {
        wrong_type(v, path, expected);
    }
    if (!(rate > 0 && std::isfinite(rate))) wrong_type(v, path, expected);
    // A gap between arrivals is at most kMaxDuration on average: no overflow in the draw.
    if (rate * static_cast<double>(kMaxDuration.ns) < 1e9)
        fail(path, "too low: at least one request per " + format_duration(kMaxDuration));
    return rate;
}

// A bound on schedule entries: each is a timer and a request, and a longer list belongs in a
// workload generator, not a scenario file.
constexpr std::size_t kMaxScheduled = 100'000;

// The entries in file order; check_times orders them once stop.at is known, so that an error
// names an entry by its place in the file.
std::vector<ScheduledRequest> read_schedule(const json& v, const std::string& path,
                                            std::uint32_t clients) {
    if (!v.is_array()) wrong_type(v, path, "an array of {\"client\", \"at\", \"op\"} objects");
    if (v.empty()) fail(path, "an empty schedule issues nothing; leave 'schedule' out");
    if (v.size() > kMaxScheduled) {
        fail(path, std::to_string(v.size()) + " entries; at most " + std::to_string(kMaxScheduled) +
                       " are allowed");
    }
    std::vector<ScheduledRequest> out;
    out.reserve(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
        const Fields o(v[i], child(path, i), {"client", "at", "op"});
        ScheduledRequest r;
        const std::uint64_t c = read_uint(o.need("client"), o.at("client"), 0, kU32Max);
        if (c >= clients) {
            fail(o.at("client"), "client " + std::to_string(c) +
                                     " does not exist: clients = " + std::to_string(clients) +
                                     " (indices 0 to " + std::to_string(clients - 1) + ")");
        }
        r.client = static_cast<std::uint32_t>(c);
        r.at = parse_duration(o.need("at"), o.at("at"));
        r.op = read_name(o.need("op"), o.at("op"));
        out.push_back(std::move(r));
    }
    return out;
}

void read_workload(const json& v, WorkloadSpec& w) {
    const Fields o(
        v, "/workload",
        {"clients", "requests", "mode", "rate", "think", "retry_timeout", "start", "schedule"});
    w.clients = static_cast<std::uint32_t>(o.integer("clients", 1, 10000).value_or(w.clients));
    w.requests = o.integer("requests", 0, kU64Max).value_or(w.requests);
    if (const json* m = o.find("mode")) {
        w.mode = static_cast<WorkloadSpec::Mode>(read_choice(*m, o.at("mode"), {"closed", "open"}));
    }
    if (const json* r = o.find("rate")) w.rate_per_s = read_rate(*r, o.at("rate"));
    w.think = o.duration("think").value_or(w.think);
    w.retry_timeout = o.positive_duration("retry_timeout").value_or(w.retry_timeout);
    w.start = o.duration("start").value_or(w.start);
    if (const json* sc = o.find("schedule")) {
        w.schedule = read_schedule(*sc, o.at("schedule"), w.clients);
    }
}

void read_protocol(const json& v, ScenarioSpec& s) {
    if (v.is_string()) {
        s.protocol = read_name(v, "/protocol");
        return;
    }
    if (!v.is_object()) wrong_type(v, "/protocol", "a protocol name or an object with \"name\"");
    const auto name = v.find("name");
    if (name == v.end()) fail("/protocol/name", "missing required key 'name'");
    s.protocol = read_name(*name, "/protocol/name");
    s.protocol_params = v;
    s.protocol_params.erase("name");
}

// f defaults to the most the replicas tolerate; more is refused unless explicitly unsafe.
void read_fault_tolerance(const Fields& o, ScenarioSpec& s) {
    s.allow_unsafe_f = o.flag("allow_unsafe_f").value_or(false);
    const std::uint32_t max_f = (s.nodes - 1) / 3;
    const std::uint64_t f = o.integer("f", 0, kU64Max).value_or(max_f);
    const std::string fn = "f = " + std::to_string(f);
    const std::string n = "n = " + std::to_string(s.nodes);
    if (f >= s.nodes) fail(o.at("f"), fn + " must be less than " + n);
    s.f = static_cast<std::uint32_t>(f);
    if (s.f > max_f && !s.allow_unsafe_f) {
        fail(o.at("f"), fn + " exceeds floor((n-1)/3) = " + std::to_string(max_f) + " for " + n +
                            "; set allow_unsafe_f to test the checker");
    }
}

void read_stop(const json& v, StopSpec& stop) {
    const Fields o(v, "/stop", {"at", "when_done"});
    stop.at = o.positive_duration("at").value_or(stop.at);
    stop.when_done = o.flag("when_done").value_or(stop.when_done);
}

void read_costs(const json& v, CostSpec& c) {
    const Fields o(v, "/costs", {"message", "sign", "verify"});
    c.per_message = o.duration("message").value_or(SimTime{});
    c.per_sign = o.duration("sign").value_or(SimTime{});
    c.per_verify = o.duration("verify").value_or(SimTime{});
}

// Times that contradict stop.at: the thing that would never happen is the one named. Then the
// schedule, checked in file order, is put in time order (stable: equal entries keep theirs).
void check_times(ScenarioSpec& s) {
    const std::string stop = "stop.at = " + format_duration(s.stop.at);
    if (s.workload.start >= s.stop.at) {
        fail("/workload/start", "the workload never starts: start = " +
                                    format_duration(s.workload.start) + " is not before " + stop);
    }
    auto& schedule = s.workload.schedule;
    for (std::size_t i = 0; i < schedule.size(); ++i) {
        if (schedule[i].at >= s.stop.at) {
            fail(child(child("/workload/schedule", i), "at"),
                 "the request is never issued: at = " + format_duration(schedule[i].at) +
                     " is not before " + stop);
        }
    }
    std::stable_sort(schedule.begin(), schedule.end(),
                     [](const ScheduledRequest& a, const ScheduledRequest& b) {
                         return a.at != b.at ? a.at < b.at : a.client < b.client;
                     });
    if (s.network.gst && *s.network.gst > s.stop.at) {
        fail("/network/gst/at",
             "GST never happens: at = " + format_duration(*s.network.gst) + " is after " + stop);
    }
}

// A MAPE-K system's agents are its clients, one per node: it has no workload of its own.
void read_system(const Fields& o, ScenarioSpec& s) {
    if (const json* sys = o.find("system"))
        s.system =
            read_choice(*sys, o.at("system"), {"consensus", "mapek"}) == 1 ? "mapek" : "consensus";
    const json* m = o.find("mapek");
    if (s.system != "mapek") {
        if (m) fail(o.at("mapek"), "only a scenario with \"system\": \"mapek\" has this section");
        return;
    }
    if (!m)
        fail(o.at("mapek"), "required: a \"system\": \"mapek\" scenario describes its loop here");
    if (!m->is_object()) wrong_type(*m, o.at("mapek"), "an object");
    if (o.find("workload"))
        fail(o.at("workload"),
             "a MAPE-K system's clients are its agents, one per node; it has "
             "no workload of its own");
    s.mapek = *m;
    s.workload.clients = s.nodes;
    s.workload.requests = 0;
}

ScenarioSpec read_scenario(const json& doc) {
    ScenarioSpec s;
    const Fields o(doc, "",
                   {"$schema", "name", "description", "seed", "nodes", "f", "allow_unsafe_f",
                    "protocol", "crypto", "costs", "network", "workload", "faults", "stop",
                    "invariants", "expect", "randomize", "system", "mapek"});
    o.text("$schema");  // for editors: a string, otherwise unread
    s.name = read_name(o.need("name"), o.at("name"));
    s.description = o.text("description").value_or("");
    s.seed = o.integer("seed", 0, kU64Max).value_or(s.seed);
    s.nodes = static_cast<std::uint32_t>(read_uint(o.need("nodes"), o.at("nodes"), 1, 1024));
    read_fault_tolerance(o, s);
    read_system(o, s);
    if (const json* p = o.find("protocol")) read_protocol(*p, s);
    if (const json* c = o.find("crypto")) {
        s.ed25519 = read_choice(*c, o.at("crypto"), {"simulated", "ed25519"}) == 1;
    }
    if (const json* c = o.find("costs")) read_costs(*c, s.costs);
    if (const json* n = o.find("network")) read_network(*n, s);
    if (const json* w = o.find("workload")) read_workload(*w, s.workload);
    if (const json* st = o.find("stop")) read_stop(*st, s.stop);
    if (const json* inv = o.find("invariants")) {
        const Fields io(*inv, o.at("invariants"), {"liveness_bound"});
        s.liveness_bound = io.positive_duration("liveness_bound").value_or(s.liveness_bound);
    }
    if (const json* e = o.find("expect")) read_expect(*e, s.expect);
    check_times(s);
    if (const json* f = o.find("faults")) read_faults(*f, s);
    if (const json* r = o.find("randomize")) {
        s.randomize = std::make_shared<const RandomizeSpec>(read_randomize(*r, s));
    }
    s.source = doc;
    return s;
}

}  // namespace

SimTime parse_duration(const nlohmann::json& v, const std::string& path) {
    if (v.is_number()) {
        fail(path, "a duration needs a unit: write e.g. \"" + v.dump() + "ms\" instead of " +
                       v.dump() + " (units: " + std::string(kUnitNames) + ")");
    }
    if (!v.is_string()) wrong_type(v, path, "a duration string such as \"250ms\"");
    const std::string& s = v.get_ref<const std::string&>();
    const auto bad = [&](const std::string& why) {
        fail(path, "bad duration \"" + s + "\": " + why);
    };
    const auto is_digit = [&](std::size_t i) { return i < s.size() && s[i] >= '0' && s[i] <= '9'; };
    if (!s.empty() && s[0] == '-') bad("durations cannot be negative");
    std::size_t i = 0;
    while (is_digit(i)) ++i;
    const std::size_t int_end = i;
    std::size_t frac_end = i;
    if (i < s.size() && s[i] == '.') {
        while (is_digit(++i)) {
        }
        frac_end = i;
        if (frac_end == int_end + 1) bad("expected digits after '.'");
    }
    if (int_end == 0) bad("expected a number followed by a unit (" + std::string(kUnitNames) + ")");
    const std::string_view unit_text = std::string_view(s).substr(i);
    if (unit_text.empty()) bad("missing unit; add one of " + std::string(kUnitNames));
    const auto unit = std::find_if(std::begin(kUnits), std::end(kUnits),
                                   [&](const Unit& u) { return u.name == unit_text; });
    if (unit == std::end(kUnits)) {
        bad("unknown unit '" + std::string(unit_text) + "'; expected one of " +
            std::string(kUnitNames));
    }
    const std::string too_large = "too large; durations are at most " +
                                  format_duration(kMaxDuration) +
                                  " (11.6 days), so that no sum of them in a run can overflow";
    std::int64_t total = 0;
    for (std::size_t k = 0; k < int_end; ++k) {
        if (__builtin_mul_overflow(total, 10, &total) ||
            __builtin_add_overflow(total, s[k] - '0', &total)) {
            bad(too_large);
        }
    }
    if (__builtin_mul_overflow(total, unit->ns, &total)) bad(too_large);
    // The fraction f / 10^k is exact in ns iff 10^k / gcd(unit, 10^k) divides f. Trailing zeros
    // do not count; past 18 significant digits no unit here can be exact.
    std::size_t frac_last = frac_end;
    while (frac_last > int_end + 1 && s[frac_last - 1] == '0') --frac_last;
    if (frac_last > int_end + 1) {
        if (frac_last - int_end - 1 > 18) bad("more precise than 1ns");
        std::uint64_t frac = 0, scale = 1;
        for (std::size_t k = int_end + 1; k < frac_last; ++k) {
            frac = frac * 10 + static_cast<std::uint64_t>(s[k] - '0');
            scale *= 10;
        }
        const auto unit_ns = static_cast<std::uint64_t>(unit->ns);
        const std::uint64_t g = std::gcd(unit_ns, scale);
        if (frac % (scale / g) != 0) bad("more precise than 1ns");
        const auto frac_ns = static_cast<std::int64_t>(frac / (scale / g) * (unit_ns / g));
        if (__builtin_add_overflow(total, frac_ns, &total)) bad(too_large);
    }
    if (total > kMaxDuration.ns) bad(too_large);
    return SimTime{total};
}

std::string format_duration(SimTime t) {
    // Magnitude in unsigned arithmetic, so that the most negative value has one too.
    const std::uint64_t mag =
        t.ns < 0 ? 0 - static_cast<std::uint64_t>(t.ns) : static_cast<std::uint64_t>(t.ns);
    if (mag == 0) return "0s";
    std::string best;
    // Units in order of preference among equally short forms. A unit larger than the value
    // is skipped: "500ms", not "0.5s".
    constexpr std::size_t kOrder[] = {3, 2, 1, 0, 4};
    for (std::size_t u : kOrder) {
        const auto unit_ns = static_cast<std::uint64_t>(kUnits[u].ns);
        if (mag < unit_ns) continue;
        std::string text = std::to_string(mag / unit_ns);
        std::uint64_t rest = mag % unit_ns;
        if (rest != 0) text += '.';
        for (int digits = 0; rest != 0 && digits < 20; ++digits) {
            rest *= 10;
            text += static_cast<char>('0' + rest / unit_ns);
            rest %= unit_ns;
        }
        if (rest != 0) continue;  // not a terminating decimal in this unit
        text += kUnits[u].name;
        if (best.empty() || text.size() < best.size()) best = text;
    }
    return (t.ns < 0 ? "-" : "") + best;
}

ScenarioSpec parse_scenario(const nlohmann::json& doc) {
    try {
        return read_scenario(doc);
    } catch (const nlohmann::json::exception& e) {
        // Unreachable if every value is type-checked before it is read; kept as a net.
        throw ScenarioError("",
                            std::string("internal error while reading the scenario: ") + e.what());
    }
}

}  // namespace sim
