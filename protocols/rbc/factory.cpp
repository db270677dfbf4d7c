#include "protocols/rbc/factory.hpp"

#include <memory>
#include <vector>

#include "protocols/common/behaviors.hpp"
#include "protocols/common/params.hpp"
#include "protocols/rbc/byzantine.hpp"
#include "protocols/rbc/replica.hpp"

namespace rbc {

namespace {

const std::initializer_list<const char*> kKeys = {"retransmit_timeout", "mutations"};

const std::initializer_list<proto::SharedKey> kShared = {
    {"mutations",
     "a seeded bug is a bug of the protocol under test; a replica that runs other code is "
     "Byzantine: give it a behaviour"}};

// What a replica may set for itself, with `c`'s values as defaults.
void read_replica_params(const proto::Params& p, Config& c) {
    c.retransmit_timeout = p.duration("retransmit_timeout", c.retransmit_timeout);
    if (c.retransmit_timeout.ns <= 0)
        throw sim::ScenarioError(p.at("retransmit_timeout"), "must be greater than zero");
}

Config parse_config(const sim::ScenarioSpec& spec) {
    proto::Params p(spec.protocol_params, "/protocol", kKeys);
    Config c;
    c.quorum = proto::Quorum{spec.nodes, spec.f};
    c.mutations = proto::parse_mutations<Mutation>(p, mutation_names());
    read_replica_params(p, c);
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
    const auto configs = std::make_shared<const std::vector<Config>>(
        proto::replica_configs(spec, cfg, kKeys, kShared, read_replica_params));
    protocols::Protocol p;
    p.name = "rbc";
    p.kind_names = kind_names();
    protocols::assign_replicas(
        p, parse_behaviors(spec),
        [configs](sim::NodeId id) { return std::make_unique<Replica>((*configs)[id.v]); },
        [configs](sim::NodeId id, const std::vector<Behavior>& b) {
            return std::make_unique<ByzantineReplica>(std::make_unique<Replica>((*configs)[id.v]),
                                                      b);
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
