#include "protocols/registry.hpp"

#include <fmt/format.h>

#include "protocols/common/client.hpp"
#include "protocols/hotstuff/factory.hpp"
#include "protocols/hotstuff/mutations.hpp"
#include "protocols/mapek/factory.hpp"
#include "protocols/pbft/factory.hpp"
#include "protocols/pbft/replica.hpp"
#include "protocols/rbc/factory.hpp"
#include "protocols/rbc/replica.hpp"
#include "sim/randomize.hpp"
#include "sim/rules.hpp"

namespace protocols {

namespace {

using Maker = Protocol (*)(const sim::ScenarioSpec&, const proto::AppFactory&);

// One row per protocol: its scenario name, the function that validates and assembles it, and
// the replica counts it supports (make refuses the others at /nodes).
struct Entry {
    const char* name;
    Maker make;
    const char* nodes;
};
constexpr Entry kProtocols[] = {
    {"pbft", &pbft::make_protocol,
     "n >= 1; f = floor((n-1)/3), so n = 1..3 tolerate no fault; quorums of "
     "ceil((n+f+1)/2)"},
    {"hotstuff", &hotstuff::make_protocol,
     "n >= 2 (one replica would be its own quorum in every view); n = 2..3 tolerate no "
     "fault; quorums of ceil((n+f+1)/2)"},
    // Reliable broadcast delivers values and runs no service.
    {"rbc",
     [](const sim::ScenarioSpec& s, const proto::AppFactory&) { return rbc::make_protocol(s); },
     "n >= 1; n = 1..3 tolerate no fault; ready on ceil((n+f+1)/2) echoes or f+1 readies"},
};

Protocol assemble(const sim::ScenarioSpec& spec, const proto::AppFactory& app = {}) {
    if (spec.system == "mapek") {
        Protocol p = mapek::assemble(spec).consensus;
        sim::check_rule_kinds(spec, p.kind_names);
        return p;
    }
    std::string names;
    for (const Entry& e : kProtocols) {
        names += names.empty() ? e.name : fmt::format(", {}", e.name);
        if (spec.protocol != e.name) continue;
        Protocol p = e.make(spec, app);
        sim::check_rule_kinds(spec, p.kind_names);
        return p;
    }
    throw sim::ScenarioError(
        "/protocol/name",
        fmt::format("unknown protocol '{}'; expected one of: {}", spec.protocol, names));
}

// Each behaviour a randomize section may draw, tried on every candidate replica it may be
// drawn for (a parameter naming a replica can be valid for one and not for another), so that
// no seed draws a scenario validate would refuse.
void validate_drawable_behaviors(const sim::ScenarioSpec& spec) {
    if (!spec.randomize || !spec.randomize->byzantine) return;
    const auto& b = *spec.randomize->byzantine;
    const nlohmann::json& listed = spec.source["randomize"]["byzantine"]["behaviors"];
    nlohmann::json doc = spec.source;
    doc.erase("randomize");
    doc["allow_unsafe_f"] = true;
    if (!doc.contains("faults")) doc["faults"] = nlohmann::json::array();
    for (std::size_t i = 0; i < b.behaviors.size(); ++i) {
        for (std::size_t j = 0; j < b.behaviors[i].size(); ++j) {
            const nlohmann::json& part = b.behaviors[i][j].behavior;
            for (const std::uint32_t node : b.nodes) {
                nlohmann::json fault = {{"type", "byzantine"}, {"node", node}};
                fault["behavior"] = part["behavior"];
                fault["params"] = part["params"];
                doc["faults"].push_back(std::move(fault));
                try {
                    assemble(sim::parse_scenario(doc));
                } catch (const sim::ScenarioError& e) {
                    // A combination's parts are one level down (behaviors/i/j).
                    std::string at = fmt::format("/randomize/byzantine/behaviors/{}", i);
                    if (listed[i].is_array()) at += fmt::format("/{}", j);
                    const std::size_t entry = e.path().find("/params");
                    const std::string why =
                        node == b.nodes.front()
                            ? e.reason()
                            : fmt::format("for candidate replica {}: {}", node, e.reason());
                    throw sim::ScenarioError(
                        entry == std::string::npos ? at : at + e.path().substr(entry), why);
                }
                doc["faults"].erase(doc["faults"].size() - 1);
            }
        }
    }
}

sim::DrawHints draw_hints(const Protocol& p) {
    return sim::DrawHints{.first_leader = p.client_target(proto::View{0}).v,
                          .kind_names = p.kind_names,
                          .put_schedule = p.put_schedule};
}

}  // namespace

std::vector<std::string> protocol_names() {
    std::vector<std::string> out;
    for (const Entry& e : kProtocols) out.emplace_back(e.name);
    return out;
}

std::string replica_counts(const std::string& protocol) {
    for (const Entry& e : kProtocols)
        if (protocol == e.name) return e.nodes;
    return {};
}

std::vector<std::string> mutation_names(const sim::ScenarioSpec& spec) {
    // A MAPE-K hunt looks for the loop's own bugs; its consensus's are hunted on their own.
    if (spec.system == "mapek") return mapek::mutation_names();
    if (spec.protocol == "hotstuff") {
        const auto variant = spec.protocol_params.find("variant");
        const bool basic = variant != spec.protocol_params.end() && *variant == "basic";
        return hotstuff::mutation_names(basic);
    }
    return mutation_names(spec.protocol);
}

std::vector<std::string> mutation_names(const std::string& protocol) {
    if (protocol == "pbft") return pbft::mutation_names();
    if (protocol == "hotstuff") return hotstuff::mutation_names();
    if (protocol == "rbc") return rbc::mutation_names();
    return {};
}

void validate(const sim::ScenarioSpec& spec) {
    const Protocol p = assemble(spec);
    if (spec.randomize && spec.randomize->schedules && !p.put_schedule)
        throw sim::ScenarioError("/randomize/leader_schedules",
                                 fmt::format("{} has no leader schedule to draw (chained "
                                             "HotStuff has)",
                                             p.name));
    validate_drawable_behaviors(spec);
}

nlohmann::json concrete_document(const sim::ScenarioSpec& spec, std::uint64_t seed) {
    return sim::draw_document(spec, seed, draw_hints(assemble(spec)));
}

sim::ScenarioSpec concrete_scenario(const sim::ScenarioSpec& spec, std::uint64_t seed) {
    if (!spec.randomize) return sim::concrete_scenario(spec, seed);
    return sim::concrete_scenario(spec, seed, draw_hints(assemble(spec)));
}

std::unique_ptr<sim::Simulator> build(const sim::ScenarioSpec& spec, sim::SimOptions opts,
                                      const proto::AppFactory& app) {
    if (spec.system == "mapek") return mapek::build(spec, opts);
    Protocol p = assemble(spec, app);
    auto s = std::make_unique<sim::Simulator>(spec, p.kind_names, opts);
    for (std::uint32_t i = 0; i < spec.nodes; ++i)
        s->add_actor(p.make_replica(sim::NodeId(i)), p.byzantine(sim::NodeId(i)));
    s->set_factory(p.make_replica);
    s->set_compare_states(p.total_order);
    s->set_held_bound(p.held_bound);
    s->set_wire_monitor(p.monitor);
    const auto& w = spec.workload;
    // Each client gets only its own scheduled entries (already in time order), not a copy of
    // everyone's.
    std::vector<std::vector<proto::ScheduledOp>> scheduled(w.clients);
    for (const sim::ScheduledRequest& r : w.schedule)
        scheduled[r.client].push_back({r.at, proto::op_word(r.op)});
    sim::WorkloadSpec shared = w;
    shared.schedule.clear();
    for (std::uint32_t c = 0; c < w.clients; ++c) {
        proto::ClientConfig cc;
        cc.workload = shared;
        cc.schedule = std::move(scheduled[c]);
        cc.clients = w.clients;
        cc.requests = w.requests / w.clients + (c < w.requests % w.clients ? 1 : 0);
        cc.target = p.client_target;
        cc.send_to_all = p.clients_send_to_all;
        s->add_actor(std::make_unique<proto::Client>(std::move(cc)));
    }
    return s;
}

}  // namespace protocols
