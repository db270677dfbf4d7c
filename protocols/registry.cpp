#include "protocols/registry.hpp"

#include <fmt/format.h>

#include "protocols/common/client.hpp"
#include "protocols/common/params.hpp"
#include "protocols/pbft/byzantine.hpp"
#include "protocols/pbft/replica.hpp"

namespace protocols {

namespace {

pbft::Config pbft_config(const sim::ScenarioSpec& spec) {
    proto::Params p(spec.protocol_params, "/protocol",
                    {"checkpoint_interval", "watermark_window", "batch_size", "batch_timeout",
                     "request_timeout", "view_change_timeout", "state_transfer"});
    pbft::Config c;
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
    if (c.request_timeout.ns <= 0)
        throw sim::ScenarioError(p.at("request_timeout"), "must be greater than zero");
    if (c.view_change_timeout.ns <= 0)
        throw sim::ScenarioError(p.at("view_change_timeout"), "must be greater than zero");
    return c;
}

std::vector<std::vector<pbft::Behavior>> pbft_behaviors(const sim::ScenarioSpec& spec) {
    std::vector<std::vector<pbft::Behavior>> by_node(spec.nodes);
    for (const auto& f : spec.faults)
        if (f.type == sim::FaultSpec::Type::Byzantine)
            by_node[f.node].push_back(pbft::parse_behavior(f, spec));
    return by_node;
}

void check_name(const sim::ScenarioSpec& spec) {
    for (const auto& n : protocol_names())
        if (n == spec.protocol) return;
    throw sim::ScenarioError("/protocol/name",
                             fmt::format("unknown protocol '{}'; expected one of: pbft",
                                         spec.protocol));
}

}  // namespace

std::vector<std::string> protocol_names() { return {"pbft"}; }

void validate(const sim::ScenarioSpec& spec) {
    check_name(spec);
    pbft_config(spec);
    pbft_behaviors(spec);
}

std::unique_ptr<sim::Simulator> build(const sim::ScenarioSpec& spec, sim::SimOptions opts) {
    check_name(spec);
    const pbft::Config cfg = pbft_config(spec);
    auto behaviors = pbft_behaviors(spec);
    auto s = std::make_unique<sim::Simulator>(spec, pbft::kind_names(), opts);
    auto make = [cfg, behaviors](sim::NodeId id) -> std::unique_ptr<sim::Actor> {
        auto honest = std::make_unique<pbft::Replica>(cfg);
        if (behaviors[id.v].empty()) return honest;
        return std::make_unique<pbft::ByzantineReplica>(std::move(honest), behaviors[id.v]);
    };
    for (std::uint32_t i = 0; i < spec.nodes; ++i)
        s->add_actor(make(sim::NodeId(i)), !behaviors[i].empty());
    s->set_factory([make](sim::NodeId id) { return make(id); });
    const proto::Quorum quorum{spec.nodes, spec.f};
    const auto& w = spec.workload;
    for (std::uint32_t c = 0; c < w.clients; ++c) {
        proto::ClientConfig cc;
        cc.workload = w;
        cc.clients = w.clients;
        cc.requests = w.requests / w.clients + (c < w.requests % w.clients ? 1 : 0);
        cc.target = [quorum](proto::View v) { return quorum.primary(v); };
        s->add_actor(std::make_unique<proto::Client>(std::move(cc)));
    }
    return s;
}

}  // namespace protocols
