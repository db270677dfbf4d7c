#include "protocols/hotstuff/factory.hpp"

#include <memory>
#include <vector>

#include "protocols/common/behaviors.hpp"
#include "protocols/common/params.hpp"
#include "protocols/hotstuff/byzantine.hpp"
#include "protocols/hotstuff/monitor.hpp"
#include "protocols/hotstuff/replica.hpp"

namespace hotstuff {

namespace {

const std::initializer_list<const char*> kKeys = {"variant",  "batch_size", "view_timeout",
                                                  "leaders",  "view_sync",  "clients_send_to",
                                                  "mutations"};

// A replica's view timer, its block size (only a leader proposes; voters take any size) and
// where it sends its timeouts (receivers handle both) are its own business. These are not:
const std::initializer_list<proto::SharedKey> kShared = {
    {"variant",
     "chained and basic HotStuff exchange different phases, so a mix never forms "
     "a quorum"},
    {"leaders", "replicas must agree on each view's leader, or a view has two leaders or none"},
    {"clients_send_to",
     "clients are the same for every replica, and a replica that believed clients send to all "
     "would stop forwarding their requests to the leader"},
    {"mutations",
     "a seeded bug is a bug of the protocol under test; a replica that runs other code is "
     "Byzantine: give it a behaviour"}};

// What a replica may set for itself, with `c`'s values as defaults.
void read_replica_params(const proto::Params& p, Config& c) {
    c.batch_size = static_cast<std::uint32_t>(p.uint("batch_size", c.batch_size, 1, 100'000));
    c.view_timeout = p.duration("view_timeout", c.view_timeout);
    if (c.view_timeout.ns <= 0)
        throw sim::ScenarioError(p.at("view_timeout"), "must be greater than zero");
    c.broadcast_timeouts = p.string("view_sync", c.broadcast_timeouts ? "broadcast" : "leader",
                                    {"broadcast", "leader"}) == "broadcast";
}

Config parse_config(const sim::ScenarioSpec& spec) {
    proto::Params p(spec.protocol_params, "/protocol", kKeys);
    Config c;
    c.quorum = proto::Quorum{spec.nodes, spec.f};
    c.basic = p.string("variant", "chained", {"chained", "basic"}) == "basic";
    read_replica_params(p, c);
    c.leaders = p.nodes("leaders", spec.nodes);
    c.clients_send_to_all = p.string("clients_send_to", "leader", {"leader", "all"}) == "all";
    c.mutations = proto::parse_mutations<Mutation>(p, mutation_names());
    return c;
}

std::vector<std::vector<Behavior>> parse_behaviors(const sim::ScenarioSpec& spec) {
    return proto::behaviors_by_node(spec, parse_behavior);
}

}  // namespace

protocols::Protocol make_protocol(const sim::ScenarioSpec& spec, const proto::AppFactory& app) {
    // One replica leads every view and its own vote is a quorum: each proposal would certify
    // the previous one at once, with no message in between to end the chain of proposals.
    if (spec.nodes < 2)
        throw sim::ScenarioError("/nodes",
                                 "HotStuff needs at least 2 replicas (a single "
                                 "replica is its own quorum in every view)");
    Config cfg = parse_config(spec);
    cfg.app = app;
    const auto configs = std::make_shared<const std::vector<Config>>(
        proto::replica_configs(spec, cfg, kKeys, kShared, read_replica_params));
    protocols::Protocol p;
    p.name = "hotstuff";
    p.total_order = true;  // one chain of blocks: log index = height
    p.kind_names = kind_names();
    protocols::assign_replicas(
        p, parse_behaviors(spec),
        [configs](sim::NodeId id) { return std::make_unique<Replica>((*configs)[id.v]); },
        [configs](sim::NodeId id, const std::vector<Behavior>& b) {
            return make_byzantine((*configs)[id.v], b);
        });
    p.clients_send_to_all = cfg.clients_send_to_all;
    p.monitor = [](const sim::MonitorEnv& env) { return std::make_unique<Monitor>(env); };
    if (!cfg.basic) p.put_schedule = put_schedule;
    Pacemaker schedule(cfg.quorum, cfg.view_timeout, cfg.leaders);
    // A client first sends to the leader of the view after the one it last heard of.
    p.client_target = [schedule](proto::View v) { return schedule.leader(v.v + 1); };
    return p;
}

}  // namespace hotstuff
