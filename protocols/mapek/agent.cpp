#include "protocols/mapek/agent.hpp"

#include <algorithm>

#include "protocols/mapek/knowledge.hpp"
#include "protocols/mapek/world.hpp"

namespace mapek {

Agent::Agent(std::shared_ptr<const Config> cfg, std::uint32_t node, std::uint16_t reading_kind,
             Sending sending)
    : cfg_(std::move(cfg)), node_(node), reading_kind_(reading_kind), sending_(std::move(sending)) {
    honest_ = cfg_->lies[node_].empty();
    replies_.assign(cfg_->n, std::nullopt);
    own_.resize((kKeptRounds + 1) * cfg_->workflows.size() * cfg_->actions.size());
    held_.resize((kKeptRounds + kAheadRounds + 1) * cfg_->workflows.size() * cfg_->actions.size());
    anomalous_.assign(cfg_->workflows.size() * kMetrics, false);
    quiet_until_.assign(cfg_->workflows.size() * kMetrics, SimTime{});
    for (std::size_t m = 0; m < kMetrics; ++m)
        cfg_->action_for(static_cast<Metric>(m), &action_of_[m]);
}

World& Agent::world(sim::Context& ctx) const {
    return static_cast<World&>(*ctx.environment());
}

// The place of (round, workflow, metric) in a ring of `Rounds` rounds (a constant, so that
// the remainder is no division).
template <std::uint64_t Rounds>
std::size_t Agent::slot(const Key& key) const {
    const auto& [round, workflow, metric] = key;
    return ((round % Rounds) * cfg_->workflows.size() + workflow) * cfg_->actions.size() +
           action_of_[metric];
}

bool Agent::lies(Lie::Kind k, SimTime now) const {
    return std::any_of(cfg_->lies[node_].begin(), cfg_->lies[node_].end(),
                       [&](const Lie& l) { return l.kind == k && l.active(now); });
}

void Agent::on_start(sim::Context& ctx) {
    ctx.set_timer(cfg_->sample_period, kSample);
}

void Agent::on_timer(sim::Context& ctx, std::uint64_t tag) {
    if (tag == kSample) {
        round_ = static_cast<std::uint64_t>(ctx.now().ns / cfg_->sample_period.ns);
        sample(ctx, round_);
        ctx.set_timer(cfg_->sample_period, kSample);
    } else if (tag == kRetry && outstanding_) {
        for (std::uint32_t r = 0; r < cfg_->n; ++r) ctx.send(NodeId(r), current_);
        retry_ = ctx.set_timer(cfg_->retry_timeout, kRetry);
    } else if (tag == kDelayed && !delayed_.empty()) {
        for (std::uint32_t a = 0; a < cfg_->n; ++a)
            if (a != node_) ctx.send(NodeId(cfg_->n + a), delayed_.front());
        delayed_.pop_front();
    }
}

// What a lying agent reports instead of `v`, its honest reading of `r`.
std::int64_t Agent::lie(sim::Context& ctx, const Reading& r, std::int64_t v) const {
    const SimTime now = ctx.now();
    const ActionSpec* a = cfg_->action_for(r.metric);
    for (const Lie& l : cfg_->lies[node_]) {
        if (!l.active(now)) continue;
        const auto scaled = static_cast<double>(v);
        if (l.kind == Lie::Kind::Inflate) v = static_cast<std::int64_t>(scaled * l.factor);
        if (l.kind == Lie::Kind::Deflate) v = static_cast<std::int64_t>(scaled / l.factor);
        if (l.kind == Lie::Kind::Fake && a)
            v = a->below ? a->threshold / 2 : a->threshold + a->threshold / 2 + 1;
        if (l.kind == Lie::Kind::Hide)
            v = cfg_->workflows[r.workflow].baseline[static_cast<std::size_t>(r.metric)];
    }
    return v;
}

void Agent::sample(sim::Context& ctx, std::uint64_t round) {
    std::vector<Reading>& past = past_;    // sent now
    std::vector<Reading>& other = other_;  // an equivocator's second versions
    past.clear();
    other.clear();
    const bool equivocate = lies(Lie::Kind::Equivocate, ctx.now());
    const bool lying = !cfg_->lies[node_].empty();
    for (std::uint32_t w = 0; w < cfg_->workflows.size(); ++w) {
        for (const ActionSpec& a : cfg_->actions) {
            Reading r{node_, w, a.metric, round, 0, {}};
            const std::int64_t nb = cfg_->noise_bound(w, a.metric);
            r.value = world(ctx).truth(w, a.metric, round) + ctx.rng().uniform(-nb, nb);
            if (lying) r.value = lie(ctx, r, r.value);
            Own& o =
                own_[slot<kKeptRounds + 1>(Key{round, w, static_cast<std::uint8_t>(a.metric)})];
            o = {std::move(r), false};
            // Readings go out by exception: those past a threshold now, the others when asked
            // (an equivocating liar sends both of its versions of everything).
            if (!equivocate && !Config::beyond(a, o.reading->value)) continue;
            past.push_back(sign_own(ctx, o));
            if (!equivocate) continue;
            Reading twin = *o.reading;
            twin.value = a.below ? a.threshold / 2 : a.threshold + a.threshold / 2 + 1;
            if (twin.value == o.reading->value) twin.value += 1;
            twin.sig = ctx.sign(reading_digest(twin));
            other.push_back(std::move(twin));
        }
    }
    if (!past.empty()) send_readings(ctx, past, equivocate ? other : past);
    for (const Reading& r : past)
        held(ctx, Key{r.round, r.workflow, static_cast<std::uint8_t>(r.metric)}).answered = true;
    for (std::uint32_t w = 0; w < cfg_->workflows.size(); ++w) {
        for (const ActionSpec& a : cfg_->actions) {
            const Key key{round, w, static_cast<std::uint8_t>(a.metric)};
            Own& o = own_[slot<kKeptRounds + 1>(key)];
            const bool anomalous = anomalous_[watch_index(w, a.metric)];
            const bool beyond = Config::beyond(a, o.reading->value);
            if (anomalous || beyond || find(key)) store(ctx, sign_own(ctx, o));
            // Nothing to analyze in a reading within the threshold, as the last one was.
            if (anomalous || beyond) analyze(ctx, *o.reading);
        }
    }
    lie_in_plans(ctx, round);
}

// A reading from another agent (sent because it was past its threshold, or back within it)
// asks for this agent's own of that round, so that a decision or an outcome can gather 2f+1:
// sent to every agent, once per (round, workflow, metric).
void Agent::answer(sim::Context& ctx, Held& h, const Reading& r) {
    if (h.answered) return;
    const Reading* mine = own(ctx, Key{r.round, r.workflow, static_cast<std::uint8_t>(r.metric)});
    if (!mine) return;
    h.answered = true;
    const std::vector<Reading> one{*mine};
    send_readings(ctx, one, one);
}

// `mine` to the agents of the lower half of the other nodes, `other` to the upper half (the
// same readings unless it equivocates); late, on a timer, under delay_readings.
void Agent::send_readings(sim::Context& ctx, const std::vector<Reading>& mine,
                          const std::vector<Reading>& other) {
    const ReadingRef low = make_readings(ctx, reading_kind_, mine);
    const ReadingRef high = &mine == &other ? low : make_readings(ctx, reading_kind_, other);
    if (lies(Lie::Kind::Delay, ctx.now())) {
        for (const Lie& l : cfg_->lies[node_])
            if (l.kind == Lie::Kind::Delay && l.active(ctx.now())) {
                delayed_.push_back(low);
                ctx.set_timer(l.delay, kDelayed);
                return;
            }
    }
    for (std::uint32_t a = 0; a < cfg_->n; ++a)
        if (a != node_) ctx.send(NodeId(cfg_->n + a), a < cfg_->n / 2 ? low : high);
}

const Reading* Agent::own(sim::Context& ctx, const Key& key) {
    Own& o = own_[slot<kKeptRounds + 1>(key)];
    if (!o.reading || o.reading->round != std::get<0>(key)) return nullptr;
    return &sign_own(ctx, o);
}

const Reading& Agent::sign_own(sim::Context& ctx, Own& o) {
    if (!o.is_signed) o.reading->sig = ctx.sign(reading_digest(*o.reading));
    o.is_signed = true;
    return *o.reading;
}

// The readings held for `key` (a watched metric of a known workflow, a round in the window),
// if any.
Agent::Held* Agent::find(const Key& key) {
    Held& h = held_[slot<kKeptRounds + kAheadRounds + 1>(key)];
    return h.round == std::get<0>(key) ? &h : nullptr;
}

// The readings of `key`, its own first if it took one before they were held.
Agent::Held& Agent::held(sim::Context& ctx, const Key& key) {
    Held& h = held_[slot<kKeptRounds + kAheadRounds + 1>(key)];
    if (h.round == std::get<0>(key)) return h;
    h.round = std::get<0>(key);
    h.list.clear();
    h.from.assign(cfg_->n, false);
    h.checked = 0;
    h.answered = h.outcome_wanted = false;
    if (const Reading* mine = own(ctx, key)) {
        h.from[node_] = true;
        h.list.push_back(*mine);
    }
    return h;
}

Agent::Held* Agent::store(sim::Context& ctx, const Reading& r) {
    if (r.round + kKeptRounds < round_ || r.round > round_ + kAheadRounds || r.node >= cfg_->n ||
        r.workflow >= cfg_->workflows.size() || !cfg_->action_for(r.metric)) {
        ctx.refused("mapek.readings");
        return nullptr;
    }
    Held& h = held(ctx, Key{r.round, r.workflow, static_cast<std::uint8_t>(r.metric)});
    if (h.from[r.node]) return nullptr;
    h.from[r.node] = true;
    h.list.push_back(r);
    return &h;
}

void Agent::on_message(sim::Context& ctx, NodeId from, const sim::Payload& msg) {
    if (msg.kind == proto::kReplyKind) {
        const auto& m = static_cast<const proto::ClientMessage&>(msg);
        if (from.v < cfg_->n && proto::authentic(ctx, m)) on_reply(ctx, m);
        return;
    }
    if (msg.kind != reading_kind_ || from.v < cfg_->n || from.v >= 2 * cfg_->n) return;
    const auto& m = static_cast<const ReadingMessage&>(msg);
    if (m.readings.size() > cfg_->workflows.size() * kMetrics) {
        ctx.refused("mapek.readings", m.readings.size());
        return;
    }
    for (const Reading& r : m.readings) {
        // A reading counts only from the agent of the node it names; its signature is checked
        // when a decision would carry it.
        if (r.node != from.v - cfg_->n) continue;
        Held* h = store(ctx, r);
        if (!h) continue;
        answer(ctx, *h, r);
        const Key key{r.round, r.workflow, static_cast<std::uint8_t>(r.metric)};
        try_decide(ctx, key, h);
        try_outcome(ctx, key, h);
    }
}

void Agent::analyze(sim::Context& ctx, const Reading& own) {
    const ActionSpec* a = cfg_->action_for(own.metric);
    if (!a) return;
    const std::size_t watch = watch_index(own.workflow, own.metric);
    const Key key{own.round, own.workflow, static_cast<std::uint8_t>(own.metric)};
    if (!Config::beyond(*a, own.value)) {
        // Back within the threshold after an anomaly: say so, and measure the outcome.
        if (cfg_->coordination != Coordination::Bft || !anomalous_[watch]) return;
        anomalous_[watch] = false;
        Held& h = held(ctx, key);
        if (!h.answered) {
            h.answered = true;
            const std::vector<Reading> one{own};
            send_readings(ctx, one, one);
        }
        h.outcome_wanted = true;
        return try_outcome(ctx, key, &h);
    }
    anomalous_[watch] = true;
    if (honest_) world(ctx).detected(own.workflow, own.metric, ctx.now());
    if (cfg_->coordination == Coordination::Bft)
        try_decide(ctx, key, find(key));
    else if (cfg_->coordination == Coordination::Local || node_ == cfg_->leader)
        act_alone(ctx, own);
}

}  // namespace mapek
