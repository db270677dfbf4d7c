// The fault timeline's effects on the simulator (crashes, recoveries, partitions, link
// changes), and what the checker needs to know of the timeline.
#include <set>

#include "sim/simulator.hpp"
#include "sim/simulator_context.hpp"

namespace sim {

namespace {

// When the last windowed fault ends; nullopt if some fault never ends (a partition with no
// `until`, a crash never recovered beyond f, ...). Byzantine nodes within f do not count.
std::optional<SimTime> faults_end(const ScenarioSpec& spec, std::uint32_t* permanent_faulty) {
    SimTime end{};
    std::set<std::uint32_t> faulty;
    std::vector<bool> down(spec.nodes, false);
    bool endless = false;
    for (const FaultSpec& f : spec.faults) {
        using T = FaultSpec::Type;
        if (f.type == T::Params) continue;  // an honest replica's own settings, not a fault
        end = std::max(end, f.at);
        if (f.until) end = std::max(end, *f.until);
        if (f.type == T::Byzantine) {
            faulty.insert(f.node);
        } else if (f.type == T::Crash) {
            down[f.node] = true;
        } else if (f.type == T::Recover) {
            down[f.node] = false;
        } else if (f.rule && !f.until) {
            // A rule that ends by itself: a hold released at a time. Delays and duplicates
            // slow messages but let every one through. Drops, and holds that wait for an
            // event, may never end.
            using A = RuleSpec::Action;
            const RuleSpec& r = *f.rule;
            if (r.action == A::Hold && r.release == RuleSpec::Release::Time)
                end = std::max(end, r.release_at);
            else if (r.action == A::Drop || r.action == A::Hold)
                endless = true;
        } else if (!f.until) {
            endless = true;  // a view-keyed partition too: its views may never pass
        }
    }
    for (std::uint32_t i = 0; i < spec.nodes; ++i)
        if (down[i]) faulty.insert(i);
    *permanent_faulty = static_cast<std::uint32_t>(faulty.size());
    if (endless) return std::nullopt;
    return end;
}

}  // namespace

CheckerConfig checker_config_for(const ScenarioSpec& spec) {
    CheckerConfig c;
    c.replicas = spec.nodes;
    c.f = spec.f;
    c.byzantine.assign(spec.nodes, false);
    for (const FaultSpec& f : spec.faults)
        if (f.type == FaultSpec::Type::Byzantine) c.byzantine[f.node] = true;
    c.liveness_bound = spec.liveness_bound;
    std::uint32_t faulty = 0;
    auto end = faults_end(spec, &faulty);
    c.liveness_expected = end.has_value() && faulty <= spec.f;
    c.liveness_from = std::max(end.value_or(SimTime{}), spec.network.gst.value_or(SimTime{}));
    return c;
}

void Simulator::apply_fault(const FaultSpec& f, bool begin) {
    using T = FaultSpec::Type;
    const int d = begin ? 1 : -1;
    switch (f.type) {
        case T::Crash: {
            Node& n = nodes_[f.node];
            n.up = false;
            ++n.epoch;
            // Whatever waited in its inbox is lost with it.
            for (std::size_t i = 0; i < n.inbox_size; ++i) {
                const InboxItem& item = n.inbox[(n.inbox_head + i) % n.inbox.size()];
                if (item.kind == EventKind::Deliver) {
                    drop_inflight(item.slot, f.node, DropReason::Offline);
                } else {
                    timers_[item.slot].live = false;
                    ++timers_[item.slot].gen;
                    timers_free_.push_back(item.slot);
                }
            }
            n.inbox_size = 0;
            n.busy_until = now_;
            checker_.set_active(NodeId(f.node), false, now_);
            result_.states[f.node] = NodeState::Offline;
            if (tracing_) trace_event(TraceRecord::Kind::Crash, f.node, f.node, nullptr, 0);
            break;
        }
        case T::Recover:
            recover(f);
            break;
        case T::Partition:
            if (!f.views) net_.partition(f.groups, d);  // view-keyed ones: sim/rules
            break;
        case T::OneWay:
            for (std::uint32_t a : f.from)
                for (std::uint32_t b : f.to) net_.block(a, b, d);
            break;
        case T::Isolate:
            net_.isolate(f.node, d);
            break;
        case T::Link: {
            const LinkSpec* spec = begin ? &*f.link : nullptr;
            net_.override_link(f.from[0], f.to[0], spec);
            if (f.both_ways) net_.override_link(f.to[0], f.from[0], spec);
            break;
        }
        case T::Rule:  // the rules read their own windows
        case T::Byzantine:
        case T::Params:
            break;
    }
}

void Simulator::recover(const FaultSpec& f) {
    Node& n = nodes_[f.node];
    n.up = true;
    checker_.set_active(NodeId(f.node), true, now_);
    result_.states[f.node] = n.byzantine ? NodeState::Byzantine : NodeState::Active;
    if (tracing_) trace_event(TraceRecord::Kind::Recover, f.node, f.node, nullptr, f.lose_state);
    ctx_->enter(f.node, {});
    if (f.lose_state && factory_) {
        checker_.on_state_lost(NodeId(f.node));
        n.actor = factory_(NodeId(f.node));
        n.actor->on_restart(*ctx_);
    } else {
        n.actor->on_recover(*ctx_);
    }
}

bool Simulator::apply_rules(std::uint32_t from, std::uint32_t to, PayloadRef& msg, SimTime depart) {
    using A = RuleVerdict::Act;
    const RuleVerdict v = rules_.decide(from, to, *msg, depart, result_.view_per_node);
    const auto drop = [&](DropReason why) {
        ++result_.counters[to * result_.kind_names.size() + msg->kind].dropped;
        ++result_.drops[static_cast<std::size_t>(why)];
        if (tracing_)
            trace_event(
                why == DropReason::Rule ? TraceRecord::Kind::RuleDrop : TraceRecord::Kind::Drop,
                from, to, msg.get(), static_cast<std::uint64_t>(why), depart.ns);
        return true;
    };
    switch (v.act) {
        case A::Pass:
            return false;
        case A::Partition:
            return drop(DropReason::Partition);
        case A::Drop:
            fold(0x4d, from, to, msg->wire_hash(), v.rule);
            return drop(DropReason::Rule);
        case A::Delay:
            route(from, to, std::move(msg), depart, v.extra);
            return true;
        case A::Duplicate:
            for (std::uint32_t c = 1; c < v.copies; ++c) route(from, to, msg, depart);
            route(from, to, std::move(msg), depart);
            return true;
        case A::Hold:
            fold(0x4f, from, to, msg->wire_hash(), v.rule);
            if (tracing_)
                trace_event(TraceRecord::Kind::Hold, from, to, msg.get(), v.rule, depart.ns);
            if (!rules_.hold(v.rule, from, to, msg)) return drop(DropReason::Held);
            return true;
    }
    return false;
}

// Held messages leave in their send order, routed as if sent now.
void Simulator::release_held() {
    release_due_ = false;
    for (MessageRules::Held& h : rules_.take_released()) {
        fold(0x4e, h.from, h.to, h.msg->wire_hash(), 1);
        if (tracing_) trace_event(TraceRecord::Kind::Release, h.from, h.to, h.msg.get(), 0);
        route(h.from, h.to, std::move(h.msg), now_);
    }
}

}  // namespace sim
