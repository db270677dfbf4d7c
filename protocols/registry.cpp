#include "protocols/registry.hpp"

#include <fmt/format.h>

#include "protocols/common/client.hpp"
#include "protocols/hotstuff/factory.hpp"
#include "protocols/pbft/factory.hpp"
#include "protocols/rbc/factory.hpp"

namespace protocols {

namespace {

using Maker = Protocol (*)(const sim::ScenarioSpec&);

// One row per protocol: its scenario name and the function that validates and assembles it.
struct Entry {
    const char* name;
    Maker make;
};
constexpr Entry kProtocols[] = {
    {"pbft", &pbft::make_protocol},
    {"hotstuff", &hotstuff::make_protocol},
    {"rbc", &rbc::make_protocol},
};

Protocol assemble(const sim::ScenarioSpec& spec) {
    std::string names;
    for (const Entry& e : kProtocols) {
        if (spec.protocol == e.name) return e.make(spec);
        names += names.empty() ? e.name : fmt::format(", {}", e.name);
    }
    throw sim::ScenarioError(
        "/protocol/name",
        fmt::format("unknown protocol '{}'; expected one of: {}", spec.protocol, names));
}

}  // namespace

std::vector<std::string> protocol_names() {
    std::vector<std::string> out;
    for (const Entry& e : kProtocols) out.emplace_back(e.name);
    return out;
}

void validate(const sim::ScenarioSpec& spec) {
    assemble(spec);
}

std::unique_ptr<sim::Simulator> build(const sim::ScenarioSpec& spec, sim::SimOptions opts) {
    Protocol p = assemble(spec);
    auto s = std::make_unique<sim::Simulator>(spec, p.kind_names, opts);
    for (std::uint32_t i = 0; i < spec.nodes; ++i)
        s->add_actor(p.make_replica(sim::NodeId(i)), p.byzantine(sim::NodeId(i)));
    s->set_factory(p.make_replica);
    s->set_compare_states(p.total_order);
    const auto& w = spec.workload;
    for (std::uint32_t c = 0; c < w.clients; ++c) {
        proto::ClientConfig cc;
        cc.workload = w;
        cc.clients = w.clients;
        cc.requests = w.requests / w.clients + (c < w.requests % w.clients ? 1 : 0);
        cc.target = p.client_target;
        cc.send_to_all = p.clients_send_to_all;
        s->add_actor(std::make_unique<proto::Client>(std::move(cc)));
    }
    return s;
}

}  // namespace protocols
