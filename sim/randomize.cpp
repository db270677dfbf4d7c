// The `randomize` section's draw: one concrete scenario document per seed. Every section draws
// from its own child stream of RandomStream(seed).fork("randomize"), so adding a section never
// changes another's draws. Reading the section is sim/randomize_read.cpp.
#include "sim/randomize.hpp"

#include <algorithm>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "sim/random.hpp"

namespace sim {
namespace {

using nlohmann::json;
using Kind = RandomizeSpec::PartitionKind;

std::int64_t pick(RandomStream& rng, const DrawRange& r) {
    return r.lo == r.hi ? r.lo : rng.uniform(r.lo, r.hi);
}

// A duration in [lo, hi], in whole milliseconds or microseconds where the range allows, so
// drawn files stay readable.
std::int64_t pick_time(RandomStream& rng, const DrawRange& r) {
    for (const std::int64_t unit : {1'000'000LL, 1'000LL}) {
        // Rounded up without r.lo + unit - 1, which overflows for a range near the limit.
        const std::int64_t lo = r.lo / unit + (r.lo % unit != 0), hi = r.hi / unit;
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

// One seed's draw in progress: the document, its faults, and a line per thing drawn.
struct Draw {
    const ScenarioSpec& spec;
    const RandomizeSpec& r;
    const DrawHints& hints;
    RandomStream root;
    json doc;
    std::vector<std::string> drawn;
    std::set<std::uint32_t> byzantine;  // drawn Byzantine replicas

    json& faults() { return doc["faults"]; }
    // A window [at, until) drawn from a start range and a length range, cut at stop.at.
    std::pair<std::int64_t, std::int64_t> window(RandomStream& rng, const DrawRange& at,
                                                 const DrawRange& length_range) const {
        // from < stop.at (the reader checks every start), so stop.at - from cannot overflow
        // where from + length could: the window ends at the run's end at the latest.
        const std::int64_t from = pick_time(rng, at);
        const std::int64_t length = pick_time(rng, length_range);
        return {from, length <= spec.stop.at.ns - from ? from + length : spec.stop.at.ns};
    }
};

void draw_byzantine(Draw& d, const DrawRange& count) {
    RandomStream rng = d.root.fork("byzantine");
    const auto& b = *d.r.byzantine;
    const auto nodes = pick_distinct(rng, b.nodes, static_cast<std::size_t>(pick(rng, count)));
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
                const auto [from, until] = d.window(rng, *at, *duration);
                f["at"] = time_text(from);
                f["until"] = time_text(until);
                text += fmt::format(" from {} to {}", time_text(from), time_text(until));
            }
            d.faults().push_back(std::move(f));
            texts.push_back(std::move(text));
        }
        d.byzantine.insert(n);
        d.drawn.push_back(fmt::format("replica {} {}", n, fmt::join(texts, " + ")));
    }
}

void draw_crashes(Draw& d, const DrawRange& count) {
    RandomStream rng = d.root.fork("crashes");
    const auto& c = *d.r.crashes;
    std::vector<std::uint32_t> honest;
    for (std::uint32_t n : c.nodes)
        if (!d.byzantine.count(n)) honest.push_back(n);
    const auto nodes = pick_distinct(rng, honest, static_cast<std::size_t>(pick(rng, count)));
    // A replica that restarts without its state may sign what it signed before, forgotten:
    // it counts as faulty, so lost state is drawn only while the faulty stay within f.
    std::size_t faulty = d.byzantine.size();
    for (const FaultSpec& f : d.spec.faults)
        if (f.type == FaultSpec::Type::Byzantine && !d.byzantine.count(f.node)) ++faulty;
    for (std::uint32_t n : nodes) {
        const auto [at, until] = d.window(rng, c.at, c.duration);
        bool lose = pick_one(rng, c.lose_state);
        if (lose && faulty + 1 > d.spec.f && !d.spec.allow_unsafe_f) lose = false;
        if (lose) ++faulty;
        d.faults().push_back({{"type", "crash"},
                              {"node", n},
                              {"at", time_text(at)},
                              {"until", time_text(until)},
                              {"state", lose ? "lost" : "kept"}});
        d.drawn.push_back(fmt::format("crash of replica {} from {} to {} (state {})", n,
                                      time_text(at), time_text(until), lose ? "lost" : "kept"));
    }
}

// One side of a split: 1..n-1 distinct replicas, sorted.
std::vector<std::uint32_t> draw_side(RandomStream& rng, std::uint32_t nodes) {
    std::vector<std::uint32_t> all(nodes);
    for (std::uint32_t i = 0; i < nodes; ++i) all[i] = i;
    auto side = pick_distinct(rng, all, static_cast<std::size_t>(rng.uniform(1, nodes - 1)));
    std::sort(side.begin(), side.end());
    return side;
}

// Fills `f` with one partition-like fault of `kind`; returns its description.
std::string draw_partition(Draw& d, RandomStream& rng, Kind kind, json& f) {
    const std::uint32_t nodes = d.spec.nodes;
    switch (kind) {
        case Kind::Split:
        case Kind::ViewSplit: {
            const auto group = draw_side(rng, nodes);
            f["type"] = "partition";
            f["groups"] = json::array({group});
            std::string text = fmt::format("partition {{{}}} | rest", fmt::join(group, ","));
            if (kind == Kind::ViewSplit) {
                const auto& v = d.r.partitions->views;
                const std::int64_t a = pick(rng, v), b = pick(rng, v);
                f["views"] = {std::min(a, b), std::max(a, b)};
                text += fmt::format(" while the sender is in views {}..{}", std::min(a, b),
                                    std::max(a, b));
            }
            return text;
        }
        case Kind::OneWay: {
            std::vector<std::uint32_t> all(nodes);
            for (std::uint32_t i = 0; i < nodes; ++i) all[i] = i;
            auto order = pick_distinct(rng, all, all.size());
            const auto k = static_cast<std::size_t>(rng.uniform(1, nodes - 1));
            std::vector<std::uint32_t> from(order.begin(), order.begin() + k);
            std::vector<std::uint32_t> to(order.begin() + k, order.end());
            std::sort(from.begin(), from.end());
            std::sort(to.begin(), to.end());
            f["type"] = "one_way";
            f["from"] = from;
            f["to"] = to;
            return fmt::format("one-way block {{{}}} -> {{{}}}", fmt::join(from, ","),
                               fmt::join(to, ","));
        }
        case Kind::Isolate:
        case Kind::IsolateLeader: {
            const std::uint32_t n = kind == Kind::Isolate
                                        ? static_cast<std::uint32_t>(rng.uniform(0, nodes - 1))
                                        : d.hints.first_leader % nodes;
            f["type"] = "isolate";
            f["node"] = n;
            return fmt::format("isolation of replica {}{}", n,
                               kind == Kind::IsolateLeader ? " (the first leader)" : "");
        }
    }
    return {};
}

void draw_partitions(Draw& d, const DrawRange& count_range) {
    RandomStream rng = d.root.fork("partitions");
    const auto& p = *d.r.partitions;
    const auto count = pick(rng, count_range);
    for (std::int64_t i = 0; i < count; ++i) {
        const Kind kind = pick_one(rng, p.kinds);
        const auto [at, until] = d.window(rng, p.at, p.duration);
        json f = {{"at", time_text(at)}, {"until", time_text(until)}};
        const std::string text = draw_partition(d, rng, kind, f);
        d.drawn.push_back(fmt::format("{} from {} to {}", text, time_text(at), time_text(until)));
        d.faults().push_back(std::move(f));
    }
}

json draw_delay(RandomStream& rng, const RandomizeSpec::Delay& d) {
    const DelaySpec::Dist dist = pick_one(rng, d.dists);
    const std::int64_t a = pick_time(rng, d.bounds), b = pick_time(rng, d.bounds);
    const std::int64_t lo = std::min(a, b), hi = std::max(a, b);
    const std::int64_t positive = std::max<std::int64_t>(hi, 1);
    switch (dist) {
        case DelaySpec::Dist::Fixed:
            return time_text(a);
        case DelaySpec::Dist::Uniform:
            return {{"dist", "uniform"}, {"min", time_text(lo)}, {"max", time_text(hi)}};
        case DelaySpec::Dist::Normal:
            return {
                {"dist", "normal"}, {"mean", time_text(hi)}, {"stddev", time_text((hi - lo) / 2)}};
        case DelaySpec::Dist::Lognormal:
            return {{"dist", "lognormal"}, {"median", time_text(positive)}};
        case DelaySpec::Dist::Exponential:
            return {{"dist", "exponential"}, {"mean", time_text(positive)}};
    }
    return {};
}

void draw_network(Draw& d, const DrawRange (&gated)[3]) {
    const RandomizeSpec& r = d.r;
    json& net = d.doc["network"];
    if (!net.is_object()) net = json::object();
    RandomStream rng = d.root.fork("network");
    if (r.delay) {
        json delay = draw_delay(rng, *r.delay);
        d.drawn.push_back("delay " + delay.dump());
        net["delay"] = std::move(delay);
    }
    const std::pair<const char*, const std::optional<DrawRange>*> ppms[] = {
        {"loss", &r.loss}, {"duplicate", &r.duplicate}, {"corrupt", &r.corrupt}};
    for (std::size_t i = 0; i < std::size(ppms); ++i) {
        if (!*ppms[i].second) continue;
        const std::int64_t ppm = pick(rng, gated[i]);
        net[ppms[i].first] = probability(ppm);
        if (ppm != 0) d.drawn.push_back(fmt::format("{} {}", ppms[i].first, probability(ppm)));
    }
    if (!r.reorder.empty()) {
        const bool reorder = pick_one(rng, r.reorder);
        net["reorder"] = reorder;
        if (reorder) d.drawn.push_back("reordering");
    }
    if (r.gst) {
        const std::int64_t at = pick_time(rng, *r.gst);
        json& gst = net["gst"];
        if (!gst.is_object()) gst = json::object();
        gst["at"] = time_text(at);
        d.drawn.push_back("GST at " + time_text(at));
    }
}

void draw_workload(Draw& d) {
    json& work = d.doc["workload"];
    if (!work.is_object()) work = json::object();
    RandomStream rng = d.root.fork("workload");
    if (d.r.requests) work["requests"] = pick(rng, *d.r.requests);
    if (d.r.clients) work["clients"] = pick(rng, *d.r.clients);
    if (d.r.requests || d.r.clients) {
        d.drawn.push_back(fmt::format("{} requests from {} clients",
                                      work.value("requests", d.spec.workload.requests),
                                      work.value("clients", d.spec.workload.clients)));
    }
    // After the counts, from the same stream: adding modes leaves the counts' draws as they were.
    bool open = d.spec.workload.mode == WorkloadSpec::Mode::Open;
    if (!d.r.open_loop.empty()) {
        open = pick_one(rng, d.r.open_loop);
        work["mode"] = open ? "open" : "closed";
    }
    if (!open) {
        if (!d.r.think) return;
        const std::int64_t think = pick(rng, *d.r.think);
        work["think"] = time_text(think);
        return d.drawn.push_back("closed loop, thinking " + time_text(think));
    }
    if (!d.r.rate) {
        if (!d.r.open_loop.empty()) d.drawn.push_back("open loop");
        return;
    }
    const std::int64_t rate = pick(rng, *d.r.rate);
    work["rate"] = rate;
    d.drawn.push_back(fmt::format("open loop at {} requests/s", rate));
}

// One end of a rule's match: any node (half the time), or one replica.
json draw_end(RandomStream& rng, std::uint32_t nodes) {
    if (rng.uniform(0, 1) == 0) return nullptr;
    return rng.uniform(0, nodes - 1);
}

// A rule's action; a hold releases at the end of the rule's window.
json draw_action(RandomStream& rng, const RandomizeSpec::Rules& r, std::int64_t until) {
    switch (pick_one(rng, r.actions)) {
        case RuleSpec::Action::Drop:
            return "drop";
        case RuleSpec::Action::Delay:
            return {{"delay", time_text(pick_time(rng, r.delay))}};
        case RuleSpec::Action::Duplicate:
            return {{"duplicate", rng.uniform(2, 3)}};
        case RuleSpec::Action::Hold:
            return {{"hold", {{"until", time_text(until)}}}};
    }
    return "drop";
}

// One type as a name; with `per_rule`, a drawn number of distinct types, in `kinds`' order.
json draw_kinds(RandomStream& rng, const std::vector<std::string>& kinds,
                const std::optional<DrawRange>& per_rule) {
    if (!per_rule) return pick_one(rng, kinds);
    std::vector<std::uint32_t> all(kinds.size());
    for (std::uint32_t i = 0; i < all.size(); ++i) all[i] = i;
    auto chosen = pick_distinct(rng, all, static_cast<std::size_t>(pick(rng, *per_rule)));
    std::sort(chosen.begin(), chosen.end());
    json out = json::array();
    for (std::uint32_t i : chosen) out.push_back(kinds[i]);
    return out;
}

void draw_rules(Draw& d, const DrawRange& count_range) {
    RandomStream rng = d.root.fork("rules");
    const auto& r = *d.r.rules;
    const std::vector<std::string>& kinds = r.kinds.empty() ? d.hints.kind_names : r.kinds;
    const auto count = pick(rng, count_range);
    for (std::int64_t i = 0; i < count; ++i) {
        const auto [at, until] = d.window(rng, r.at, r.duration);
        json match = json::object();
        if (!kinds.empty()) match["kind"] = draw_kinds(rng, kinds, r.kinds_per_rule);
        if (json from = draw_end(rng, d.spec.nodes); !from.is_null()) match["from"] = from;
        if (json to = draw_end(rng, d.spec.nodes); !to.is_null()) match["to"] = to;
        if (r.views && rng.uniform(0, 1) == 1) {
            const std::int64_t a = pick(rng, *r.views), b = pick(rng, *r.views);
            match["view"] = {std::min(a, b), std::max(a, b)};
        }
        json f = {{"type", "rule"}, {"at", time_text(at)}, {"until", time_text(until)}};
        f["match"] = match;
        f["action"] = draw_action(rng, r, until);
        d.drawn.push_back(fmt::format("rule {} {} from {} to {}", match.dump(), f["action"].dump(),
                                      time_text(at), time_text(until)));
        d.faults().push_back(std::move(f));
    }
}

void draw_anomalies(Draw& d, const DrawRange& count) {
    RandomStream rng = d.root.fork("anomalies");
    const auto& a = *d.r.anomalies;
    json& list = d.doc["mapek"]["anomalies"];
    if (!list.is_array()) list = json::array();
    for (std::int64_t i = pick(rng, count); i > 0; --i) {
        const std::string workflow = pick_one(rng, a.workflows);
        const std::string metric = pick_one(rng, a.metrics);
        const std::string type = pick_one(rng, a.types);
        const auto [from, until] = d.window(rng, a.at, a.duration);
        const double magnitude = static_cast<double>(pick(rng, a.magnitude)) / 1000.0;
        list.push_back({{"workflow", workflow},
                        {"metric", metric},
                        {"type", type},
                        {"at", time_text(from)},
                        {"until", time_text(until)},
                        {"magnitude", magnitude}});
        d.drawn.push_back(fmt::format("{} on {} {} x{} from {} to {}", type, workflow, metric,
                                      magnitude, time_text(from), time_text(until)));
    }
}

// Whether a draw with probability `ppm` comes out true.
bool chance(RandomStream& rng, std::int64_t ppm) {
    return rng.uniform(0, 999'999) < ppm;
}

void draw_schedule(Draw& d) {
    RandomStream rng = d.root.fork("leader_schedules");
    const RandomizeSpec::Schedules& s = *d.r.schedules;
    if (!d.hints.put_schedule)
        throw ScenarioError("/randomize/leader_schedules", "the protocol has no leader schedule");
    DrawnSchedule out;
    out.byzantine = pick_one(rng, s.nodes);
    const auto n = static_cast<std::uint32_t>(d.spec.nodes);
    out.leaders.resize(static_cast<std::size_t>(pick(rng, s.views)));
    for (std::uint32_t& leader : out.leaders)
        leader = chance(rng, s.share) ? out.byzantine
                                      : static_cast<std::uint32_t>(pick(rng, {0, n - 1}));
    std::vector<std::uint32_t> others;
    for (std::uint32_t i = 0; i < n; ++i)
        if (i != out.byzantine) others.push_back(i);
    // The views it leads, from view 1 (view 0's proposal is made before any QC exists).
    for (std::uint64_t v = 1; v < out.leaders.size(); ++v) {
        if (out.leaders[v] != out.byzantine) continue;
        DrawnSchedule::Step step{v, std::nullopt, {}};
        if (chance(rng, s.fork)) {
            const auto back = static_cast<std::uint64_t>(
                pick(rng, {1, static_cast<std::int64_t>(std::min(s.back, v))}));
            step.parent_view = v - back;
        }
        if (chance(rng, s.partial)) {
            const auto k =
                static_cast<std::size_t>(pick(rng, {1, static_cast<std::int64_t>(others.size())}));
            step.to = pick_distinct(rng, others, k);
            std::sort(step.to.begin(), step.to.end());
        }
        if (step.parent_view || !step.to.empty()) out.steps.push_back(std::move(step));
    }
    d.hints.put_schedule(d.doc, out);
    d.byzantine.insert(out.byzantine);
    d.drawn.push_back(fmt::format("leaders {} with replica {} forking in {} of its views",
                                  fmt::join(out.leaders, ","), out.byzantine, out.steps.size()));
}

}  // namespace

json draw_document(const ScenarioSpec& spec, std::uint64_t seed, const DrawHints& hints) {
    json doc = spec.source;
    doc.erase("randomize");
    doc["seed"] = seed;
    if (!spec.randomize) return doc;
    const RandomizeSpec& r = *spec.randomize;
    Draw d{spec, r, hints, RandomStream(seed).fork("randomize"), std::move(doc), {}, {}};
    Swarm swarm(r.swarm, d.root.fork("swarm"));
    // Gate every class in one fixed order, present or not, so the switches of one class do
    // not depend on which others the scenario has (a new class gates after the others).
    const DrawRange byz_count = swarm.gate(r.byzantine ? r.byzantine->count : DrawRange{});
    const DrawRange crash_count = swarm.gate(r.crashes ? r.crashes->count : DrawRange{});
    const DrawRange part_count = swarm.gate(r.partitions ? r.partitions->count : DrawRange{});
    const DrawRange gated[3] = {swarm.gate(r.loss.value_or(DrawRange{})),
                                swarm.gate(r.duplicate.value_or(DrawRange{})),
                                swarm.gate(r.corrupt.value_or(DrawRange{}))};
    const DrawRange rule_count = swarm.gate(r.rules ? r.rules->count : DrawRange{});
    // Anomalies are what a MAPE-K run is about: drawn on every seed, never gated off.
    const DrawRange anomaly_count = r.anomalies ? r.anomalies->count : DrawRange{};

    if (!d.faults().is_array()) d.faults() = json::array();
    if (r.byzantine) draw_byzantine(d, byz_count);
    // Leader schedules are what such a sweep is about: drawn on every seed, never gated off;
    // before the crashes, which spare its Byzantine replica.
    if (r.schedules) draw_schedule(d);
    if (r.crashes) draw_crashes(d, crash_count);
    if (r.partitions) draw_partitions(d, part_count);
    if (r.rules) draw_rules(d, rule_count);
    if (r.anomalies) draw_anomalies(d, anomaly_count);
    draw_network(d, gated);
    // A MAPE-K system's agents are its only clients: it has no workload to draw.
    if (spec.system != "mapek") draw_workload(d);
    const std::string what =
        fmt::format("seed {} of '{}' drew: {}", seed, spec.name,
                    d.drawn.empty() ? "no faults" : fmt::format("{}", fmt::join(d.drawn, "; ")));
    d.doc["description"] = spec.description.empty() ? what : spec.description + " [" + what + "]";
    return std::move(d.doc);
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
