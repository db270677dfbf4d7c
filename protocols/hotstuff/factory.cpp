#include "protocols/hotstuff/factory.hpp"

#include "protocols/common/behaviors.hpp"
#include "protocols/common/params.hpp"
#include "protocols/hotstuff/byzantine.hpp"
#include "protocols/hotstuff/replica.hpp"

namespace hotstuff {

namespace {

Config parse_config(const sim::ScenarioSpec& spec) {
    proto::Params p(spec.protocol_params, "/protocol",
                    {"variant", "batch_size", "view_timeout", "leaders", "view_sync",
                     "clients_send_to", "mutations"});
    Config c;
    c.quorum = proto::Quorum{spec.nodes, spec.f};
    c.basic = p.string("variant", "chained", {"chained", "basic"}) == "basic";
    c.batch_size = static_cast<std::uint32_t>(p.uint("batch_size", 100, 1, 100'000));
    c.view_timeout = p.duration("view_timeout", c.view_timeout);
    if (c.view_timeout.ns <= 0)
        throw sim::ScenarioError(p.at("view_timeout"), "must be greater than zero");
    c.leaders = p.nodes("leaders", spec.nodes);
    c.clients_send_to_all = p.string("clients_send_to", "leader", {"leader", "all"}) == "all";
    c.broadcast_timeouts =
        p.string("view_sync", "broadcast", {"broadcast", "leader"}) == "broadcast";
    c.mutations = proto::parse_mutations<Mutation>(p, mutation_names());
    return c;
}

std::vector<std::vector<Behavior>> parse_behaviors(const sim::ScenarioSpec& spec) {
    return proto::behaviors_by_node(spec, parse_behavior);
}

}  // namespace

protocols::Protocol make_protocol(const sim::ScenarioSpec& spec) {
    const Config cfg = parse_config(spec);
    protocols::Protocol p;
    p.name = "hotstuff";
    p.kind_names = kind_names();
    protocols::assign_replicas(
        p, parse_behaviors(spec), [cfg] { return std::make_unique<Replica>(cfg); },
        [cfg](const std::vector<Behavior>& b) { return make_byzantine(cfg, b); });
    p.clients_send_to_all = cfg.clients_send_to_all;
    Pacemaker schedule(cfg.quorum, cfg.view_timeout, cfg.leaders);
    // A client first sends to the leader of the view after the one it last heard of.
    p.client_target = [schedule](proto::View v) { return schedule.leader(v.v + 1); };
    return p;
}

}  // namespace hotstuff
