#include "protocols/pbft/factory.hpp"

#include <algorithm>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "protocols/common/behaviors.hpp"
#include "protocols/common/params.hpp"
#include "protocols/pbft/byzantine.hpp"
#include "protocols/pbft/monitor.hpp"
#include "protocols/pbft/replica.hpp"

namespace pbft {

std::vector<std::string> mutation_names() {
    return {"commit_quorum_2f",
            "prepare_ignores_digest",
            "new_primary_ignores_p_sets",
            "backups_skip_o_check",
            "out_of_order_execution",
            "transfer_without_reply_cache",
            "trust_stored_digest",
            "no_checkpoint_resend",
            "accept_replica_requests",
            "no_catch_up",
            "one_request_timer",
            "propose_before_new_view_installed",
            "keep_old_view_timers",
            "no_idle_status",
            "proof_above_executed_only",
            "forget_committed_cert",
            "recover_arms_view_change_timer",
            "bounded_idle_status",
            "long_status_backoff",
            "reason_ends_idle_round",
            "uncapped_view_change_backoff",
            "unbounded_buffers"};
}

namespace {

const std::initializer_list<const char*> kKeys = {
    "checkpoint_interval", "watermark_window",    "batch_size",     "batch_timeout",
    "request_timeout",     "view_change_timeout", "state_transfer", "mutations"};

// Timers, batching (only a primary batches, and backups take a batch of any size) and state
// transfer (whether this replica fetches state) are one replica's own business. These are not:
const std::initializer_list<proto::SharedKey> kShared = {
    {"checkpoint_interval",
     "a stable checkpoint needs 2f+1 CHECKPOINT messages for one sequence number, and replicas "
     "checkpointing at different intervals would never collect them"},
    {"watermark_window",
     "the sequence numbers a replica accepts and the prepared entries a VIEW-CHANGE may carry "
     "are bounded by it, so replicas with different windows would refuse each other's correct "
     "messages"},
    {"mutations",
     "a seeded bug is a bug of the protocol under test; a replica that runs other code is "
     "Byzantine: give it a behaviour"}};

// What a replica may set for itself, with `c`'s values as defaults.
void read_replica_params(const proto::Params& p, Config& c) {
    c.batch_size = static_cast<std::uint32_t>(p.uint("batch_size", c.batch_size, 1, 100'000));
    c.batch_timeout = p.duration("batch_timeout", c.batch_timeout);
    c.request_timeout = p.duration("request_timeout", c.request_timeout);
    c.view_change_timeout = p.duration("view_change_timeout", c.view_change_timeout);
    c.state_transfer = p.boolean("state_transfer", c.state_transfer);
    if (c.request_timeout.ns <= 0)
        throw sim::ScenarioError(p.at("request_timeout"), "must be greater than zero");
    if (c.view_change_timeout.ns <= 0)
        throw sim::ScenarioError(p.at("view_change_timeout"), "must be greater than zero");
    // A primary holding a request for a batch past the backups' request timeout makes them
    // leave its view though it is honest.
    if (c.batch_timeout >= c.request_timeout)
        throw sim::ScenarioError(
            p.has("batch_timeout") ? p.at("batch_timeout") : p.at("request_timeout"),
            "batch_timeout must be shorter than request_timeout (a waiting batch would make "
            "the backups leave an honest primary's view)");
}

// Any replica may be a primary: its batch_timeout must be shorter than every other replica's
// request_timeout too, not only its own (read_replica_params checks that one). A refusal names
// the last "params" entry that set the primary's batch_timeout, else the backup's timeout.
void check_batch_timeouts(const sim::ScenarioSpec& spec, const std::vector<Config>& configs) {
    const auto setter = [&spec](std::uint32_t node, const char* key) -> std::string {
        std::string path;
        for (const sim::FaultSpec& f : spec.faults)
            if (f.type == sim::FaultSpec::Type::Params && f.node == node && f.params.contains(key))
                path = f.path + "/params/" + key;
        return path;
    };
    // The longest batch wait against the shortest request timer decides for every pair.
    const auto longest = std::max_element(
        configs.begin(), configs.end(),
        [](const Config& a, const Config& b) { return a.batch_timeout < b.batch_timeout; });
    const auto shortest = std::min_element(
        configs.begin(), configs.end(),
        [](const Config& a, const Config& b) { return a.request_timeout < b.request_timeout; });
    if (longest->batch_timeout < shortest->request_timeout) return;
    const auto i = static_cast<std::uint32_t>(longest - configs.begin());
    const auto j = static_cast<std::uint32_t>(shortest - configs.begin());
    std::string path = setter(i, "batch_timeout");
    if (path.empty()) path = setter(j, "request_timeout");
    throw sim::ScenarioError(
        path, fmt::format("replica {}'s batch_timeout must be shorter than replica {}'s "
                          "request_timeout (a batch waiting at {} as primary would make {} "
                          "leave its view though it is honest)",
                          i, j, i, j));
}

Config parse_config(const sim::ScenarioSpec& spec) {
    proto::Params p(spec.protocol_params, "/protocol", kKeys);
    Config c;
    c.quorum = proto::Quorum{spec.nodes, spec.f};
    c.checkpoint_interval = p.uint("checkpoint_interval", 100, 1, 1'000'000);
    c.watermark_window = p.uint("watermark_window", 2 * c.checkpoint_interval, 1, 4'000'000);
    if (c.watermark_window < c.checkpoint_interval)
        throw sim::ScenarioError(p.at("watermark_window"),
                                 fmt::format("must be at least checkpoint_interval ({}) or the "
                                             "window can never advance",
                                             c.checkpoint_interval));
    c.mutations = proto::parse_mutations<Mutation>(p, mutation_names());
    read_replica_params(p, c);
    return c;
}

std::vector<std::vector<Behavior>> parse_behaviors(const sim::ScenarioSpec& spec) {
    return proto::behaviors_by_node(spec, parse_behavior);
}

}  // namespace

protocols::Protocol make_protocol(const sim::ScenarioSpec& spec, const proto::AppFactory& app) {
    Config cfg = parse_config(spec);
    cfg.app = app;
    const auto configs = std::make_shared<const std::vector<Config>>(
        proto::replica_configs(spec, cfg, kKeys, kShared, read_replica_params));
    check_batch_timeouts(spec, *configs);
    protocols::Protocol p;
    p.name = "pbft";
    p.total_order = true;
    // Per peer: four windows of messages (4L: what a replica keeps for numbers and views it has
    // not reached, until it catches up) and a VIEW-CHANGE for each view up to 64n ahead. The
    // replica's tables stay inside: its early-message buffer holds 4Ln in all (replica.cpp),
    // its CHECKPOINT table 4L/K numbers per peer (checkpoint.cpp), its VIEW-CHANGE table the
    // views w..w+64n (view_change.cpp).
    p.held_bound = std::uint64_t{cfg.quorum.n} * (4 * cfg.watermark_window + 64 * cfg.quorum.n);
    p.kind_names = kind_names();
    protocols::assign_replicas(
        p, parse_behaviors(spec),
        [configs](sim::NodeId id) { return std::make_unique<Replica>((*configs)[id.v]); },
        [configs](sim::NodeId id, const std::vector<Behavior>& b) {
            return std::make_unique<ByzantineReplica>(std::make_unique<Replica>((*configs)[id.v]),
                                                      b);
        });
    const proto::Quorum quorum = cfg.quorum;
    p.client_target = [quorum](proto::View v) { return quorum.primary(v); };
    p.monitor = [configs](const sim::MonitorEnv& env) {
        std::vector<sim::SimTime> timeouts;
        for (const Config& c : *configs)
            timeouts.push_back(std::min(c.request_timeout, c.view_change_timeout));
        return std::make_unique<Monitor>(env, std::move(timeouts));
    };
    return p;
}

}  // namespace pbft
