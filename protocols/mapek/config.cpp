#include "protocols/mapek/config.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "protocols/common/params.hpp"

namespace mapek {

namespace {

using nlohmann::json;
using sim::ScenarioError;

const std::initializer_list<const char*> kMetricList = {"latency", "error_rate", "throughput",
                                                        "queue_depth"};

template <std::size_t N>
std::size_t pick(const std::array<const char*, N>& names, const std::string& s,
                 const std::string& at, const char* what) {
    for (std::size_t i = 0; i < N; ++i)
        if (s == names[i]) return i;
    std::string all;
    for (const char* n : names) all += all.empty() ? n : fmt::format(", {}", n);
    throw ScenarioError(at, fmt::format("unknown {} '{}'; expected one of: {}", what, s, all));
}

const json& array_at(const json& v, const std::string& at, std::size_t max) {
    if (!v.is_array()) throw ScenarioError(at, "expected an array");
    if (v.size() > max) throw ScenarioError(at, fmt::format("at most {} entries", max));
    return v;
}

std::string name_at(const json& v, const std::string& at) {
    if (!v.is_string() || v.get_ref<const std::string&>().empty())
        throw ScenarioError(at, "expected a non-empty string");
    return v.get<std::string>();
}

WorkflowSpec read_workflow(const json& v, const std::string& at) {
    if (!v.is_object()) throw ScenarioError(at, "expected an object");
    const proto::Params p(v, at, {"name", "latency", "error_rate", "throughput", "queue_depth"});
    if (!p.has("name")) throw ScenarioError(p.at("name"), "required: the workflow's name");
    WorkflowSpec w;
    w.name = name_at(v.at("name"), p.at("name"));
    const std::array<std::int64_t, kMetrics> defaults = {100'000, 50, 1000, 10};
    for (std::size_t m = 0; m < kMetrics; ++m)
        w.baseline[m] = static_cast<std::int64_t>(
            p.uint(kMetricNames[m], static_cast<std::uint64_t>(defaults[m]), 1, 1'000'000'000));
    return w;
}

std::uint32_t workflow_index(const Config& c, const json& v, const std::string& at) {
    const std::string name = name_at(v, at);
    for (std::uint32_t i = 0; i < c.workflows.size(); ++i)
        if (c.workflows[i].name == name) return i;
    throw ScenarioError(at, fmt::format("no workflow named '{}'", name));
}

AnomalySpec read_anomaly(const Config& c, const json& v, const std::string& at, SimTime stop) {
    if (!v.is_object()) throw ScenarioError(at, "expected an object");
    const proto::Params p(v, at,
                          {"workflow", "type", "metric", "at", "until", "magnitude", "period"});
    if (!p.has("workflow")) throw ScenarioError(p.at("workflow"), "required: a workflow's name");
    AnomalySpec a;
    a.workflow = workflow_index(c, v.at("workflow"), p.at("workflow"));
    a.type = static_cast<AnomalyType>(pick(std::array<const char*, 3>{"spike", "drift", "flap"},
                                           p.string("type", "spike", {"spike", "drift", "flap"}),
                                           p.at("type"), "anomaly"));
    a.metric = static_cast<Metric>(
        pick(kMetricNames, p.string("metric", "latency", kMetricList), p.at("metric"), "metric"));
    if (!p.has("at")) throw ScenarioError(p.at("at"), "required: when the anomaly starts");
    a.at = p.duration("at", {});
    a.until = p.duration("until", stop);
    if (a.until <= a.at) throw ScenarioError(p.at("until"), "the anomaly must end after it starts");
    a.magnitude = p.number("magnitude", 3.0, 0.01, 1000.0);
    if (a.magnitude == 1.0) throw ScenarioError(p.at("magnitude"), "1 changes nothing");
    a.period = p.duration("period", sim::milliseconds(500));
    if (a.type == AnomalyType::Flap && a.period.ns <= 0)
        throw ScenarioError(p.at("period"), "a flapping metric needs a positive period");
    return a;
}

ActionSpec read_action(const Config& c, const json& v, const std::string& at) {
    if (!v.is_object()) throw ScenarioError(at, "expected an object");
    const proto::Params p(v, at, {"name", "metric", "threshold", "below", "delay"});
    for (const char* k : {"name", "metric", "threshold"})
        if (!p.has(k)) throw ScenarioError(p.at(k), "required");
    ActionSpec a;
    a.name = name_at(v.at("name"), p.at("name"));
    a.metric = static_cast<Metric>(
        pick(kMetricNames, p.string("metric", "", kMetricList), p.at("metric"), "metric"));
    a.threshold = static_cast<std::int64_t>(p.uint("threshold", 0, 1, 1'000'000'000'000));
    a.below = p.boolean("below", false);
    a.delay = p.duration("delay", sim::milliseconds(200));
    if (c.action_for(a.metric))
        throw ScenarioError(p.at("metric"), "another action already watches this metric");
    return a;
}

Lie read_lie(const sim::FaultSpec& f) {
    Lie l;
    l.kind = static_cast<Lie::Kind>(pick(kLieNames, f.behavior, f.path + "/behavior", "lie"));
    using K = Lie::Kind;
    const bool scales = l.kind == K::Inflate || l.kind == K::Deflate;
    const proto::Params p(f.params, f.path + "/params",
                          scales               ? std::initializer_list<const char*>{"factor"}
                          : l.kind == K::Delay ? std::initializer_list<const char*>{"delay"}
                                               : std::initializer_list<const char*>{});
    l.factor = p.number("factor", 10.0, 1.01, 1e6);
    l.delay = p.duration("delay", sim::milliseconds(80));
    l.at = f.at;
    if (f.until) l.until = *f.until;
    return l;
}

void read_lists(const proto::Params& p, const json& m, Config& c, SimTime stop) {
    if (!p.has("workflows")) throw ScenarioError(p.at("workflows"), "required: at least one");
    const json& wf = array_at(m.at("workflows"), p.at("workflows"), 64);
    if (wf.empty()) throw ScenarioError(p.at("workflows"), "at least one workflow");
    for (std::size_t i = 0; i < wf.size(); ++i) {
        WorkflowSpec w = read_workflow(wf[i], p.at("workflows") + "/" + std::to_string(i));
        for (const WorkflowSpec& o : c.workflows)
            if (o.name == w.name)
                throw ScenarioError(p.at("workflows") + "/" + std::to_string(i) + "/name",
                                    "two workflows with one name");
        c.workflows.push_back(std::move(w));
    }
    if (!p.has("actions")) throw ScenarioError(p.at("actions"), "required: at least one");
    const json& ac = array_at(m.at("actions"), p.at("actions"), kMetrics);
    if (ac.empty()) throw ScenarioError(p.at("actions"), "at least one action");
    for (std::size_t i = 0; i < ac.size(); ++i)
        c.actions.push_back(read_action(c, ac[i], p.at("actions") + "/" + std::to_string(i)));
    if (p.has("anomalies")) {
        const json& an = array_at(m.at("anomalies"), p.at("anomalies"), 256);
        for (std::size_t i = 0; i < an.size(); ++i)
            c.anomalies.push_back(
                read_anomaly(c, an[i], p.at("anomalies") + "/" + std::to_string(i), stop));
    }
}

}  // namespace

std::int64_t Config::noise_bound(std::uint32_t workflow, Metric m) const {
    const double b = static_cast<double>(workflows[workflow].baseline[static_cast<std::size_t>(m)]);
    return std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(b * noise)));
}

std::uint64_t Config::settle_rounds(std::size_t action) const {
    return static_cast<std::uint64_t>(actions[action].delay.ns / sample_period.ns) + 3;
}

const ActionSpec* Config::action_for(Metric m, std::size_t* index) const {
    for (std::size_t i = 0; i < actions.size(); ++i) {
        if (actions[i].metric != m) continue;
        if (index) *index = i;
        return &actions[i];
    }
    return nullptr;
}

bool is_lie(const std::string& behavior) {
    return std::find_if(kLieNames.begin(), kLieNames.end(),
                        [&](const char* n) { return behavior == n; }) != kLieNames.end();
}

Config read_config(const sim::ScenarioSpec& spec) {
    const json& m = spec.mapek;
    const proto::Params p(
        m, "/mapek",
        {"consensus", "coordination", "leader", "sample_period", "retry_timeout", "variation",
         "noise", "suspect_after", "liveness_bound", "workflows", "anomalies", "actions"});
    Config c;
    c.n = spec.nodes;
    c.f = spec.f;
    c.consensus = p.string("consensus", "pbft", {"pbft", "hotstuff"});
    c.coordination =
        static_cast<Coordination>(pick(std::array<const char*, 3>{"bft", "local", "leader"},
                                       p.string("coordination", "bft", {"bft", "local", "leader"}),
                                       p.at("coordination"), "coordination"));
    c.leader = static_cast<std::uint32_t>(p.uint("leader", 0, 0, spec.nodes - 1));
    c.sample_period = p.duration("sample_period", c.sample_period);
    if (c.sample_period < sim::milliseconds(1))
        throw ScenarioError(p.at("sample_period"), "at least 1ms");
    c.retry_timeout = p.duration("retry_timeout", c.retry_timeout);
    if (c.retry_timeout.ns <= 0) throw ScenarioError(p.at("retry_timeout"), "must be positive");
    c.variation = p.number("variation", c.variation, 0.0, 0.5);
    c.noise = p.number("noise", c.noise, 0.0, 0.5);
    c.suspect_after = static_cast<std::uint32_t>(p.uint("suspect_after", 3, 1, 1000));
    c.liveness_bound = p.duration("liveness_bound", c.liveness_bound);
    if (c.liveness_bound.ns <= 0) throw ScenarioError(p.at("liveness_bound"), "must be positive");
    read_lists(p, m, c, spec.stop.at);
    c.lies.assign(spec.nodes, {});
    for (const sim::FaultSpec& f : spec.faults)
        if (f.type == sim::FaultSpec::Type::Byzantine && is_lie(f.behavior))
            c.lies[f.node].push_back(read_lie(f));
    return c;
}

}  // namespace mapek
