#include "protocols/rbc/factory.hpp"

#include "protocols/common/behaviors.hpp"
#include "protocols/common/params.hpp"
#include "protocols/rbc/byzantine.hpp"
#include "protocols/rbc/replica.hpp"

namespace rbc {

namespace {

Config parse_config(const sim::ScenarioSpec& spec) {
    proto::Params p(spec.protocol_params, "/protocol", {"retransmit_timeout"});
    Config c;
    c.quorum = proto::Quorum{spec.nodes, spec.f};
    c.retransmit_timeout = p.duration("retransmit_timeout", c.retransmit_timeout);
    if (c.retransmit_timeout.ns <= 0)
        throw sim::ScenarioError(p.at("retransmit_timeout"), "must be greater than zero");
    return c;
}

std::vector<std::vector<Behavior>> parse_behaviors(const sim::ScenarioSpec& spec) {
    for (const auto& f : spec.faults) {
        // Nothing to transfer state from: a replica rebuilt empty would execute requests again
        // and could vote twice in one instance, which honest replicas never do.
        if (f.type == sim::FaultSpec::Type::Recover && f.lose_state)
            throw sim::ScenarioError(f.path + "/state",
                                     "rbc keeps no log to transfer, so a replica cannot recover "
                                     "with its state lost; use \"kept\"");
    }
    return proto::behaviors_by_node(spec, parse_behavior);
}

}  // namespace

protocols::Protocol make_protocol(const sim::ScenarioSpec& spec) {
    const Config cfg = parse_config(spec);
    protocols::Protocol p;
    p.name = "rbc";
    p.kind_names = kind_names();
    protocols::assign_replicas(
        p, parse_behaviors(spec), [cfg] { return std::make_unique<Replica>(cfg); },
        [cfg](const std::vector<Behavior>& b) {
            return std::make_unique<ByzantineReplica>(std::make_unique<Replica>(cfg), b);
        });
    // A client's first transmission goes to one replica, which becomes the sender; replies
    // always carry view 0, so that is replica 0.
    const std::uint32_t n = spec.nodes;
    p.client_target = [n](proto::View v) {
        return sim::NodeId(static_cast<std::uint32_t>(v.v % n));
    };
    return p;
}

}  // namespace rbc
