// An agent's Plan step: decisions it submits for ordering, or, without agreement, the actions
// it takes alone; and the requests that carry decisions to the replicas.
#include <algorithm>

#include "protocols/mapek/agent.hpp"
#include "protocols/mapek/knowledge.hpp"
#include "protocols/mapek/world.hpp"

namespace mapek {

// f+1 agents, a different set each round and workflow, submit a decision on it: at least one
// of them is honest, and the others' duplicates cost the replicas no more than f.
bool Agent::designated(const Key& key) const {
    const auto& [round, workflow, metric] = key;
    const std::uint64_t first = (round + workflow * 7 + metric) % cfg_->n;
    return (node_ + cfg_->n - first) % cfg_->n < cfg_->f + 1;
}

// What a designated agent submits for `key` once it holds readings of that round from 2f+1
// nodes (their signatures checked), f+1 of them past the threshold (for an outcome, within
// it): all of them, with their aggregate.
std::optional<Decision> Agent::justify(sim::Context& ctx, const Key& key, Held& h, bool outcome) {
    const auto& [round, workflow, metric] = key;
    std::size_t action = 0;
    const ActionSpec* a = cfg_->action_for(static_cast<Metric>(metric), &action);
    if (!a || !designated(key) || h.list.size() < cfg_->quorum()) return std::nullopt;
    check_signatures(ctx, h);
    const std::vector<Reading>& list = h.list;
    Values values;
    std::uint32_t counted = 0;
    for (const Reading& r : list) {
        values.push_back(r.value);
        counted += Config::beyond(*a, r.value) != outcome ? 1 : 0;
    }
    if (list.size() < cfg_->quorum() || counted < cfg_->f + 1) return std::nullopt;
    Decision d{workflow,
               a->metric,
               static_cast<std::uint8_t>(action),
               round,
               aggregate_in(*cfg_, {values.data(), values.size()}),
               node_,
               list};
    d.outcome = outcome;
    return d;
}

// A decision, from an agent whose own reading of the round is past the threshold, while no
// decision on this metric is pending or settling.
void Agent::try_decide(sim::Context& ctx, const Key& key, Held* h) {
    if (cfg_->coordination != Coordination::Bft || !h || !designated(key)) return;
    const ActionSpec* a = cfg_->action_for(static_cast<Metric>(std::get<2>(key)));
    if (!a) return;
    SimTime& quiet = quiet_until_[watch_index(std::get<1>(key), Metric(std::get<2>(key)))];
    if (quiet > ctx.now()) return;
    const std::vector<Reading>& list = h->list;
    const auto own =
        std::find_if(list.begin(), list.end(), [&](const Reading& r) { return r.node == node_; });
    if (own == list.end() || !Config::beyond(*a, own->value)) return;
    std::optional<Decision> d = justify(ctx, key, *h, false);
    if (!d) return;
    quiet = SimTime::max();
    submit(ctx, std::move(*d));
}

// The outcome of an action, as the loop measures it, from an agent whose own reading went back
// within the threshold at this round; the knowledge base records it against the last action on
// the metric.
void Agent::try_outcome(sim::Context& ctx, const Key& key, Held* h) {
    if (!h || !h->outcome_wanted || !designated(key)) return;
    std::optional<Decision> d = justify(ctx, key, *h, true);
    if (!d) return;
    h->outcome_wanted = false;
    submit(ctx, std::move(*d));
}

// A reading with a bad signature is dropped, and its node's next reading of the round counts.
void Agent::check_signatures(sim::Context& ctx, Held& held) {
    std::vector<Reading>& list = held.list;
    for (std::size_t i = held.checked; i < list.size();) {
        if (list[i].node == node_ || reading_signed(ctx, cfg_->n, list[i])) {
            ++i;
        } else {
            ctx.refused("mapek.bad_reading_signature");
            held.from[list[i].node] = false;
            list.erase(list.begin() + static_cast<std::ptrdiff_t>(i));
        }
    }
    held.checked = list.size();
}

void Agent::act_alone(sim::Context& ctx, const Reading& own) {
    SimTime& quiet = quiet_until_[watch_index(own.workflow, own.metric)];
    if (quiet > ctx.now()) return;
    std::size_t action = 0;
    const ActionSpec* a = cfg_->action_for(own.metric, &action);
    Decision d{own.workflow, own.metric, static_cast<std::uint8_t>(action), own.round, own.value,
               node_,        {own}};
    world(ctx).actuate(node_, d, ctx.now());
    quiet = ctx.now() + a->delay + cfg_->sample_period * 3;
}

// A lying agent's own plans: a decision with no evidence (unjustified_plan), or the first
// decision it submitted again, old evidence and all (replay_evidence), while nothing else of
// its is outstanding.
void Agent::lie_in_plans(sim::Context& ctx, std::uint64_t round) {
    if (outstanding_ || cfg_->coordination != Coordination::Bft) return;
    if (lies(Lie::Kind::Unjustified, ctx.now())) {
        const ActionSpec& a = cfg_->actions.front();
        submit(ctx, Decision{0, a.metric, 0, round, a.threshold + 1, node_, {}});
    } else if (lies(Lie::Kind::Replay, ctx.now()) && replayable_) {
        submit(ctx, *replayable_);
    }
}

void Agent::submit(sim::Context& ctx, Decision d) {
    if (!replayable_ && !d.evidence.empty() && !d.outcome) replayable_ = d;
    // The execute_on_propose bug: the action is taken as the decision is proposed.
    if (cfg_->bug(Bug::ExecuteOnPropose) && honest_ && !d.outcome)
        world(ctx).actuate(node_, d, ctx.now());
    queue_.push_back(std::move(d));
    if (!outstanding_) send_next(ctx);
}

void Agent::send_next(sim::Context& ctx) {
    if (queue_.empty()) return;
    const Decision& d = queue_.front();
    proto::Request req{kDecisionOp, ++timestamp_, ctx.self(), encode(d)};
    current_watch_ = {d.workflow, static_cast<std::uint8_t>(d.metric)};
    current_outcome_ = d.outcome;
    queue_.pop_front();
    current_ = proto::make_request(ctx, req);
    ctx.issue(proto::request_key(req), current_->digest);
    // Liveness is owed to honest agents only.
    if (honest_) ctx.request_sent(proto::request_key(req));
    outstanding_ = true;
    replies_.assign(cfg_->n, std::nullopt);
    if (sending_.to_all || !sending_.target) {
        for (std::uint32_t r = 0; r < cfg_->n; ++r) ctx.send(NodeId(r), current_);
    } else {
        ctx.send(sending_.target(view_), current_);
    }
    retry_ = ctx.set_timer(cfg_->retry_timeout, kRetry);
}

// f+1 matching replies from distinct replicas: the decision committed.
void Agent::on_reply(sim::Context& ctx, const proto::ClientMessage& m) {
    const auto& rep = std::get<proto::Reply>(m.body);
    if (!outstanding_ || rep.timestamp != timestamp_ || rep.client != ctx.self()) return;
    replies_[rep.replica.v] = rep.result;
    const auto matching = std::count(replies_.begin(), replies_.end(), rep.result);
    if (static_cast<std::uint32_t>(matching) < cfg_->f + 1) return;
    outstanding_ = false;
    view_ = std::max(view_, rep.view);
    // Its retransmission timer dies with it: left alone, it would fire early on the next one.
    if (retry_) ctx.cancel_timer(*retry_);
    retry_.reset();
    const auto& req = std::get<proto::Request>(current_->body);
    if (honest_) ctx.accept(proto::request_key(req), rep.result, rep.view.v, rep.index);
    // After an action, no new decision on the metric until its effect can have settled.
    std::size_t action = 0;
    cfg_->action_for(static_cast<Metric>(current_watch_.second), &action);
    if (!current_outcome_)
        quiet_until_[watch_index(current_watch_.first, Metric(current_watch_.second))] =
            ctx.now() + cfg_->actions[action].delay + cfg_->sample_period * 3;
    send_next(ctx);
}

}  // namespace mapek
