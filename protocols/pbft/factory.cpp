#include "protocols/pbft/factory.hpp"

#include <fmt/format.h>

#include "protocols/common/behaviors.hpp"
#include "protocols/common/params.hpp"
#include "protocols/pbft/byzantine.hpp"
#include "protocols/pbft/replica.hpp"

namespace pbft {

std::vector<std::string> mutation_names() {
    return {"commit_quorum_2f", "prepare_ignores_digest", "new_primary_ignores_p_sets",
            "backups_skip_o_check", "out_of_order_execution"};
}

namespace {

Config parse_config(const sim::ScenarioSpec& spec) {
    proto::Params p(spec.protocol_params, "/protocol",
                    {"checkpoint_interval", "watermark_window", "batch_size", "batch_timeout",
                     "request_timeout", "view_change_timeout", "state_transfer", "mutations"});
    Config c;
    c.quorum = proto::Quorum{spec.nodes, spec.f};
    c.checkpoint_interval = p.uint("checkpoint_interval", 100, 1, 1'000'000);
    c.watermark_window = p.uint("watermark_window", 2 * c.checkpoint_interval, 1, 4'000'000);
    if (c.watermark_window < c.checkpoint_interval)
        throw sim::ScenarioError(p.at("watermark_window"),
                                 fmt::format("must be at least checkpoint_interval ({}) or the "
                                             "window can never advance",
                                             c.checkpoint_interval));
    c.batch_size = static_cast<std::uint32_t>(p.uint("batch_size", 1, 1, 100'000));
    c.batch_timeout = p.duration("batch_timeout", c.batch_timeout);
    c.request_timeout = p.duration("request_timeout", c.request_timeout);
    c.view_change_timeout = p.duration("view_change_timeout", c.view_change_timeout);
    c.state_transfer = p.boolean("state_transfer", true);
    c.mutations = proto::parse_mutations<Mutation>(p, mutation_names());
    if (c.request_timeout.ns <= 0)
        throw sim::ScenarioError(p.at("request_timeout"), "must be greater than zero");
    if (c.view_change_timeout.ns <= 0)
        throw sim::ScenarioError(p.at("view_change_timeout"), "must be greater than zero");
    return c;
}

std::vector<std::vector<Behavior>> parse_behaviors(const sim::ScenarioSpec& spec) {
    return proto::behaviors_by_node(spec, parse_behavior);
}

}  // namespace

protocols::Protocol make_protocol(const sim::ScenarioSpec& spec) {
    const Config cfg = parse_config(spec);
    protocols::Protocol p;
    p.name = "pbft";
    p.total_order = true;
    p.kind_names = kind_names();
    protocols::assign_replicas(
        p, parse_behaviors(spec), [cfg] { return std::make_unique<Replica>(cfg); },
        [cfg](const std::vector<Behavior>& b) {
            return std::make_unique<ByzantineReplica>(std::make_unique<Replica>(cfg), b);
        });
    const proto::Quorum quorum = cfg.quorum;
    p.client_target = [quorum](proto::View v) { return quorum.primary(v); };
    return p;
}

}  // namespace pbft
