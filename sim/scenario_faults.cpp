// Reading the "/faults" timeline: one entry per fault, each checked against the scenario read
// so far (node count, links, stop time). Format: scenarios/FORMAT.md, section `faults`.
#include <algorithm>
#include <set>

#include "sim/scenario_read.hpp"

namespace sim {

using namespace jsonr;

namespace {

// In FaultSpec::Type order.
const Keys kFaultTypes = {"crash", "recover",   "partition", "one_way", "isolate",
                          "link",  "byzantine", "rule",      "params"};

void read_partition(const Fields& o, std::uint32_t nodes, FaultSpec& f) {
    const json& groups = o.need("groups");
    const std::string path = o.at("groups");
    if (!groups.is_array() || groups.empty()) {
        wrong_type(groups, path, "a non-empty array of groups (arrays of replica indices)");
    }
    std::vector<std::size_t> group_of(nodes, groups.size());  // size(): in no group yet
    for (std::size_t g = 0; g < groups.size(); ++g) {
        f.groups.push_back(read_nodes(groups[g], child(path, g), nodes));
        for (std::size_t i = 0; i < f.groups[g].size(); ++i) {
            const std::uint32_t n = f.groups[g][i];
            if (group_of[n] != groups.size()) {
                fail(child(child(path, g), i), "replica " + std::to_string(n) +
                                                   " is already in group " +
                                                   std::to_string(group_of[n]));
            }
            group_of[n] = g;
        }
    }
    std::vector<std::uint32_t> rest;
    for (std::uint32_t n = 0; n < nodes; ++n) {
        if (group_of[n] == groups.size()) rest.push_back(n);
    }
    if (!rest.empty()) f.groups.push_back(rest);
}

void read_link_fault(const Fields& o, const ScenarioSpec& s, FaultSpec& f) {
    const std::uint32_t a = read_node(o.need("from"), o.at("from"), s.nodes);
    const std::uint32_t b = read_node(o.need("to"), o.at("to"), s.nodes);
    if (a == b) {
        fail(o.at("to"),
             "a link joins two different replicas; from and to are both " + std::to_string(a));
    }
    f.from = {a};
    f.to = {b};
    f.both_ways = o.flag("bidirectional").value_or(false);
    LinkSpec spec = s.network.defaults;
    if (!s.network.links.empty()) {
        const auto& links = s.network.links;
        const auto find = [&](std::uint32_t x, std::uint32_t y) {
            return std::find_if(links.begin(), links.end(), [&](const ExplicitLink& l) {
                return (l.from == x && l.to == y) || (l.bidirectional && l.from == y && l.to == x);
            });
        };
        const auto it = find(a, b);
        if (it == links.end() || (f.both_ways && find(b, a) == links.end())) {
            const bool forth = it != links.end();
            fail(o.path(), "there is no link from replica " + std::to_string(forth ? b : a) +
                               " to " + std::to_string(forth ? a : b) +
                               " in /network/links to change");
        }
        spec = it->spec;
    }
    if (read_link_props(o, spec) == 0) {
        fail(o.path(), "a link fault must set at least one of: " + join(kLinkProps));
    }
    f.link = spec;
}

Keys fault_keys(FaultSpec::Type type) {
    using T = FaultSpec::Type;
    switch (type) {
        case T::Crash:
            return {"type", "at", "until", "node", "state"};
        case T::Recover:
            return {"type", "at", "node", "state"};
        case T::Partition:
            return {"type", "at", "until", "groups", "views"};
        case T::OneWay:
            return {"type", "at", "until", "from", "to"};
        case T::Isolate:
            return {"type", "at", "until", "node"};
        case T::Link:
            return {"type",  "at",   "until",     "from",    "to",     "bidirectional",
                    "delay", "loss", "duplicate", "corrupt", "reorder"};
        case T::Byzantine:
            return {"type", "at", "until", "node", "behavior", "params"};
        case T::Rule:
            return {"type", "at", "until", "match", "action"};
        case T::Params:
            return {"type", "node", "params"};
    }
    return {};
}

// The keys a fault entry has besides type, at and until.
void read_fault_body(const Fields& o, const ScenarioSpec& s, FaultSpec& f) {
    using T = FaultSpec::Type;
    const auto node = [&](std::string_view key) {
        return read_node(o.need(key), o.at(key), s.nodes);
    };
    switch (f.type) {
        case T::Isolate:
            f.node = node("node");
            break;
        case T::Crash:
        case T::Recover:
            f.node = node("node");
            if (const json* st = o.find("state")) {
                if (f.type == T::Crash && !f.until) {
                    fail(o.at("state"),
                         "state is the recovery's: give the crash an until, or "
                         "write a recover entry");
                }
                f.lose_state = read_choice(*st, o.at("state"), {"kept", "lost"}) == 1;
            }
            break;
        case T::Partition:
            read_partition(o, s.nodes, f);
            f.views = o.get("views", read_round_range);
            break;
        case T::Rule:
            f.rule = read_rule(o, s, f.at);
            break;
        case T::Params:
            f.node = node("node");
            f.params = o.need("params");
            if (!f.params.is_object() || f.params.empty()) {
                wrong_type(f.params, o.at("params"), "a non-empty object of protocol parameters");
            }
            break;
        case T::OneWay:
            f.from = read_nodes(o.need("from"), o.at("from"), s.nodes);
            f.to = read_nodes(o.need("to"), o.at("to"), s.nodes);
            break;
        case T::Link:
            read_link_fault(o, s, f);
            break;
        case T::Byzantine:
            f.node = node("node");
            f.behavior = read_name(o.need("behavior"), o.at("behavior"));
            if (const json* p = o.find("params")) {
                if (!p->is_object()) wrong_type(*p, o.at("params"), "an object");
                f.params = *p;
            }
            break;
    }
}

FaultSpec read_fault(const json& v, const std::string& path, const ScenarioSpec& s) {
    using T = FaultSpec::Type;
    if (!v.is_object()) wrong_type(v, path, "an object with a \"type\"");
    const auto type = v.find("type");
    if (type == v.end()) {
        fail(child(path, "type"),
             "missing required key 'type'; expected one of: " + join(kFaultTypes));
    }
    FaultSpec f;
    f.path = path;
    f.type = static_cast<T>(read_choice(*type, child(path, "type"), kFaultTypes));
    const Fields o(v, path, fault_keys(f.type));
    // Behaviours, rules and view-keyed partitions hold from the start unless given a time;
    // protocol overrides hold for the whole run.
    const bool at_optional = f.type == T::Byzantine || f.type == T::Rule || f.type == T::Params ||
                             (f.type == T::Partition && o.find("views") != nullptr);
    f.at = at_optional ? o.duration("at").value_or(SimTime{})
                       : parse_duration(o.need("at"), o.at("at"));
    if (f.at > s.stop.at) {
        fail(o.at("at"), "never happens: at = " + format_duration(f.at) +
                             " is after stop.at = " + format_duration(s.stop.at));
    }
    f.until = o.duration("until");
    if (f.until && *f.until <= f.at) {
        fail(o.at("until"), "until = " + format_duration(*f.until) +
                                " must be after at = " + format_duration(f.at));
    }
    read_fault_body(o, s, f);
    return f;
}

// A crash with `until` is two timeline entries: the crash, and the recovery at `until` (with
// the entry's state), both remembering the entry's order and path.
void split_crash_window(std::vector<FaultSpec>& faults) {
    FaultSpec& crash = faults.back();
    if (crash.type != FaultSpec::Type::Crash || !crash.until) return;
    FaultSpec recovery = crash;
    recovery.type = FaultSpec::Type::Recover;
    recovery.at = *crash.until;
    recovery.until.reset();
    recovery.path = crash.path + "/until";
    crash.until.reset();
    crash.lose_state = false;
    faults.push_back(std::move(recovery));
}

}  // namespace

void read_faults(const json& v, ScenarioSpec& s) {
    using T = FaultSpec::Type;
    if (!v.is_array()) wrong_type(v, "/faults", "an array of faults");
    std::set<std::uint32_t> byzantine;
    std::vector<std::string> overridden(s.nodes);  // path of each replica's params entry
    for (std::size_t i = 0; i < v.size(); ++i) {
        s.faults.push_back(read_fault(v[i], child("/faults", i), s));
        s.faults.back().order = i;
        const FaultSpec& f = s.faults.back();
        if (f.type == T::Params) {
            if (!overridden[f.node].empty()) {
                fail(f.path + "/node", "replica " + std::to_string(f.node) +
                                           " has protocol overrides already at " +
                                           overridden[f.node] + "; merge the two entries");
            }
            overridden[f.node] = f.path;
        }
        if (f.type == T::Byzantine && byzantine.insert(f.node).second && byzantine.size() > s.f &&
            !s.allow_unsafe_f) {
            fail(f.path + "/node",
                 "replica " + std::to_string(f.node) + " makes " +
                     std::to_string(byzantine.size()) +
                     " distinct Byzantine replicas, more than f = " + std::to_string(s.f) +
                     "; set allow_unsafe_f to test the checker");
        }
        split_crash_window(s.faults);
    }
    std::stable_sort(s.faults.begin(), s.faults.end(),
                     [](const FaultSpec& a, const FaultSpec& b) { return a.at < b.at; });
    // Crashes and recoveries must alternate per replica along the timeline.
    std::set<std::uint32_t> crashed;
    for (const FaultSpec& f : s.faults) {
        const std::string who = "replica " + std::to_string(f.node);
        const std::string when = " at " + format_duration(f.at);
        if (f.type == T::Crash && !crashed.insert(f.node).second) {
            fail(f.path, who + " is crashed already" + when + "; recover it first");
        }
        if (f.type == T::Recover && crashed.erase(f.node) == 0) {
            fail(f.path, "cannot recover " + who + when + ": it is not crashed then");
        }
    }
}

}  // namespace sim
