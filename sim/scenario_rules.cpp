// Reading a network rule's "match" and "action" (fault type "rule"), and round ranges, which
// view-keyed partitions share. Format: scenarios/FORMAT.md, section `faults`, "rule".
#include <algorithm>
#include <set>

#include "sim/scenario_read.hpp"

namespace sim {

using namespace jsonr;

namespace {

// A replica index, "clients", "replicas", or a list of replica indices and "clients".
NodeMatch read_node_match(const json& v, const std::string& path, std::uint32_t nodes) {
    const char* expected =
        "a replica index, \"clients\", \"replicas\", or a list of replica indices and \"clients\"";
    NodeMatch m;
    m.any = false;
    if (v.is_string()) {
        const std::size_t which = read_choice(v, path, {"clients", "replicas"});
        if (which == 0) {
            m.clients = true;
        } else {
            for (std::uint32_t r = 0; r < nodes; ++r) m.replicas.push_back(r);
        }
        return m;
    }
    if (v.is_number()) {
        m.replicas.push_back(read_node(v, path, nodes));
        return m;
    }
    if (!v.is_array() || v.empty()) wrong_type(v, path, expected);
    for (std::size_t i = 0; i < v.size(); ++i) {
        const std::string at = child(path, i);
        if (v[i].is_string()) {
            read_choice(v[i], at, {"clients"});
            if (m.clients) fail(at, "\"clients\" is listed twice");
            m.clients = true;
            continue;
        }
        const std::uint32_t n = read_node(v[i], at, nodes);
        if (std::find(m.replicas.begin(), m.replicas.end(), n) != m.replicas.end()) {
            fail(at, "replica " + std::to_string(n) + " is listed twice");
        }
        m.replicas.push_back(n);
    }
    std::sort(m.replicas.begin(), m.replicas.end());
    return m;
}

std::vector<std::string> read_kinds(const json& v, const std::string& path) {
    if (v.is_string()) return {read_name(v, path)};
    if (!v.is_array() || v.empty()) {
        wrong_type(v, path, "a message type name such as \"PREPARE\", or a non-empty list of them");
    }
    std::vector<std::string> out;
    for (std::size_t i = 0; i < v.size(); ++i) {
        std::string k = read_name(v[i], child(path, i));
        if (std::find(out.begin(), out.end(), k) != out.end()) {
            fail(child(path, i), "message type " + quote(k) + " is listed twice");
        }
        out.push_back(std::move(k));
    }
    return out;
}

RuleSpec::Release read_release(const json& v, const std::string& path, const ScenarioSpec& s,
                               RuleSpec& r) {
    if (!v.is_object()) {
        r.release_at = parse_duration(v, path);
        return RuleSpec::Release::Time;
    }
    const Fields o(v, path, {"committed", "view"});
    if (o.find("committed") && o.find("view")) {
        fail(path, "a hold waits for one event: give either 'committed' or 'view', not both");
    }
    if (const json* c = o.find("committed")) {
        const Fields e(*c, o.at("committed"), {"node", "index"});
        r.release_node = read_node(e.need("node"), e.at("node"), s.nodes);
        r.release_value = read_uint(e.need("index"), e.at("index"), 1, kU64Max);
        return RuleSpec::Release::Committed;
    }
    if (const json* w = o.find("view")) {
        const Fields e(*w, o.at("view"), {"node", "at_least"});
        r.release_node = read_node(e.need("node"), e.at("node"), s.nodes);
        r.release_value = read_uint(e.need("at_least"), e.at("at_least"), 1, kU64Max);
        return RuleSpec::Release::View;
    }
    fail(path, "a hold needs an event to wait for: 'committed' or 'view' (or give a time)");
}

void read_action(const json& v, const std::string& path, const ScenarioSpec& s, RuleSpec& r) {
    using A = RuleSpec::Action;
    if (v.is_string()) {
        read_choice(v, path, {"drop"});
        r.action = A::Drop;
        return;
    }
    const char* expected = "\"drop\", or an object with one of \"delay\", \"duplicate\", \"hold\"";
    if (!v.is_object() || v.size() != 1) wrong_type(v, path, expected);
    const Fields o(v, path, {"delay", "duplicate", "hold"});
    if (const json* d = o.find("delay")) {
        r.action = A::Delay;
        r.delay = read_delay(*d, o.at("delay"));
        // Draws are capped at an hour (sample_delay); fixed and uniform delays are refused above
        // it, so an arrival time can never overflow.
        const SimTime most = r.delay.dist == DelaySpec::Dist::Fixed     ? r.delay.value
                             : r.delay.dist == DelaySpec::Dist::Uniform ? r.delay.max
                                                                        : SimTime{};
        if (most > seconds(3600))
            fail(o.at("delay"), "a rule's delay is at most 1 hour, got " + format_duration(most));
    } else if (const json* k = o.find("duplicate")) {
        r.action = A::Duplicate;
        r.copies = static_cast<std::uint32_t>(read_uint(*k, o.at("duplicate"), 2, 16));
    } else {
        r.action = A::Hold;
        const Fields h(o.need("hold"), o.at("hold"), {"until"});
        r.release = read_release(h.need("until"), h.at("until"), s, r);
    }
}

}  // namespace

RoundRange read_round_range(const json& v, const std::string& path) {
    if (v.is_number()) {
        const std::uint64_t x = read_uint(v, path, 0, kU64Max);
        return {x, x};
    }
    if (!v.is_array() || v.size() != 2) {
        wrong_type(v, path, "a round number, or a range [lo, hi] of round numbers");
    }
    RoundRange r{read_uint(v[0], child(path, 0), 0, kU64Max),
                 read_uint(v[1], child(path, 1), 0, kU64Max)};
    if (r.hi < r.lo) {
        fail(child(path, 1),
             "hi = " + std::to_string(r.hi) + " is below lo = " + std::to_string(r.lo));
    }
    return r;
}

RuleSpec read_rule(const Fields& o, const ScenarioSpec& s, SimTime at) {
    RuleSpec r;
    if (const json* mv = o.find("match")) {  // no match: every message
        const Fields m(*mv, o.at("match"), {"from", "to", "kind", "view", "seq", "height"});
        if (const json* v = m.find("from")) r.from = read_node_match(*v, m.at("from"), s.nodes);
        if (const json* v = m.find("to")) r.to = read_node_match(*v, m.at("to"), s.nodes);
        if (const json* v = m.find("kind")) {
            r.kinds = read_kinds(*v, m.at("kind"));
            r.kind_list = v->is_array();
        }
        r.view = m.get("view", read_round_range);
        r.seq = m.get("seq", read_round_range);
        r.height = m.get("height", read_round_range);
    }
    read_action(o.need("action"), o.at("action"), s, r);
    if (r.action == RuleSpec::Action::Hold && r.release == RuleSpec::Release::Time &&
        r.release_at <= at) {
        fail(o.at("action") + "/hold/until",
             "the hold would release at " + format_duration(r.release_at) +
                 ", not after the rule starts at " + format_duration(at));
    }
    return r;
}

}  // namespace sim
