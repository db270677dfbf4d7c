#include "protocols/mapek/world.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "protocols/mapek/bytes.hpp"
#include "sim/hash.hpp"

namespace mapek {

namespace {

constexpr std::int64_t kPpm = 1'000'000;

std::int64_t ppm(double x) {
    return static_cast<std::int64_t>(x * static_cast<double>(kPpm) + 0.5);
}

// An anomaly's factor at time t, in parts per million.
std::int64_t factor_ppm(const AnomalySpec& a, SimTime t) {
    const std::int64_t full = ppm(a.magnitude);
    switch (a.type) {
        case AnomalyType::Spike:
            return full;
        case AnomalyType::Drift: {
            const Wide span = a.until.ns - a.at.ns;
            return kPpm + static_cast<std::int64_t>((full - kPpm) * Wide{t.ns - a.at.ns} / span);
        }
        case AnomalyType::Flap:
            return ((t.ns - a.at.ns) / a.period.ns) % 2 == 0 ? full : kPpm;
    }
    return kPpm;
}

}  // namespace

World::World(std::shared_ptr<const Config> cfg, std::uint64_t seed, SimTime liveness_from,
             bool liveness_owed, std::vector<bool> faulty, std::shared_ptr<DecodeMemo> memo)
    : cfg_(std::move(cfg)),
      seed_(seed),
      faulty_(std::move(faulty)),
      monitor_(
          cfg_, [this](std::uint32_t w, Metric m, std::uint64_t r) { return truth(w, m, r); },
          liveness_from, liveness_owed && cfg_->coordination == Coordination::Bft),
      memo_(memo ? std::move(memo) : std::make_shared<DecodeMemo>()),
      kb_(cfg_, memo_),
      detected_(cfg_->anomalies.size()),
      marked_(cfg_->n, Mark::None),
      knowledge_(cfg_->n),
      diverged_(cfg_->n, false),
      anomalies_of_(cfg_->workflows.size() * kMetrics),
      effects_of_(cfg_->workflows.size() * kMetrics),
      truth_memo_(cfg_->workflows.size() * kMetrics) {
    for (std::size_t i = 0; i < cfg_->anomalies.size(); ++i) {
        const AnomalySpec& a = cfg_->anomalies[i];
        Timeline& line = anomalies_of_[watch_index(a.workflow, a.metric)];
        line.by_start.push_back(i);
        line.longest = std::max(line.longest, a.until.ns - a.at.ns);
    }
    for (Timeline& line : anomalies_of_)
        std::stable_sort(line.by_start.begin(), line.by_start.end(),
                         [&](std::size_t x, std::size_t y) {
                             return cfg_->anomalies[x].at < cfg_->anomalies[y].at;
                         });
}

const std::vector<std::size_t>& World::under_way(std::size_t watch, SimTime t) const {
    under_way_.clear();
    const Timeline& line = anomalies_of_[watch];
    const auto started_by = [&](std::size_t i, std::int64_t ns) {
        return cfg_->anomalies[i].at.ns < ns;
    };
    // Those that started at t - longest or later, up to t.
    auto it = std::lower_bound(line.by_start.begin(), line.by_start.end(), t.ns - line.longest,
                               started_by);
    for (; it != line.by_start.end() && cfg_->anomalies[*it].at <= t; ++it)
        if (t < cfg_->anomalies[*it].until) under_way_.push_back(*it);
    std::sort(under_way_.begin(), under_way_.end());
    return under_way_;
}

std::int64_t World::truth(std::uint32_t workflow, Metric m, std::uint64_t round) const {
    Memo& memo = truth_memo_[watch_index(workflow, m)];
    const std::size_t effects = effects_of_[watch_index(workflow, m)].size();
    if (memo.valid && memo.round == round && memo.effects == effects) return memo.value;
    memo = {round, effects, model(workflow, m, round), true};
    return memo.value;
}

// The true value: the baseline, its wander, and the anomalies under way not cleared yet.
std::int64_t World::model(std::uint32_t workflow, Metric m, std::uint64_t round) const {
    const SimTime t{static_cast<std::int64_t>(round) * cfg_->sample_period.ns};
    const std::int64_t base = cfg_->workflows[workflow].baseline[static_cast<std::size_t>(m)];
    // The model's own wander: uniform in ±variation·baseline, one draw per round.
    const std::uint64_t h =
        sim::hash_fields(seed_, workflow, static_cast<std::uint64_t>(m), round, 0x574c);
    const std::int64_t u = static_cast<std::int64_t>(h % (2 * kPpm + 1)) - kPpm;
    Wide v = Wide{base} * kPpm + Wide{base} * ppm(cfg_->variation) * u / kPpm;
    for (const std::size_t i : under_way(watch_index(workflow, m), t)) {
        const AnomalySpec& a = cfg_->anomalies[i];
        if (cleared(a, t)) continue;
        v = v * factor_ppm(a, t) / kPpm;
    }
    return static_cast<std::int64_t>(v / kPpm);
}

bool World::cleared(const AnomalySpec& a, SimTime t) const {
    const std::vector<SimTime>& at = effects_of_[watch_index(a.workflow, a.metric)];
    return std::any_of(at.begin(), at.end(), [&](SimTime e) { return e >= a.at && e <= t; });
}

void World::detected(std::uint32_t workflow, Metric m, SimTime now) {
    for (const std::size_t i : under_way(watch_index(workflow, m), now))
        if (!detected_[i]) detected_[i] = now;
}

void World::set_run(const std::vector<bool>& honest, const sim::KeyRing* keys) {
    honest_ = honest;
    monitor_.set_run(honest, keys);
}

// An action executes now; its effect lands after the action's delay.
std::optional<sim::Finding> World::take(const Decision& d, std::uint64_t index, SimTime now,
                                        std::uint32_t node, bool committed) {
    const ActionSpec& a = cfg_->actions.at(d.action);
    effects_.push_back({d.workflow, a.metric, now + a.delay});
    effects_of_[watch_index(d.workflow, a.metric)].push_back(now + a.delay);
    std::optional<sim::Finding> f;
    bool false_action = false;
    if (cfg_->coordination == Coordination::Bft) {
        f = monitor_.on_action(d, committed, now);
        false_action = f && f->invariant == "mapek_false_action";
    } else {
        false_action = monitor_.baseline_action(d, now);
    }
    add_row(index, now, node, d, Outcome::Executed, committed, false_action);
    return f;
}

void World::add_row(std::uint64_t index, SimTime at, std::uint32_t node, const Decision& d,
                    Outcome o, bool committed, bool false_action) {
    Decision head{d.workflow, d.metric, d.action, d.round, d.aggregate, d.proposer, {}};
    head.outcome = d.outcome;
    rows_.push_back(
        {index, at, node, std::move(head), d.evidence.size(), o, committed, false_action});
}

void World::actuate(std::uint32_t node, const Decision& d, SimTime now) {
    if (cfg_->coordination != Coordination::Bft)
        knowledge_[node] =
            sim::Digest(sim::hash_fields(knowledge_[node].v, d.workflow, d.action, d.round));
    auto f = take(d, 0, now, node, false);
    if (f && !pending_) pending_ = std::move(f);
}

std::optional<sim::Finding> World::new_marks() {
    for (std::uint32_t i = 0; i < cfg_->n; ++i) {
        const Mark m = kb_.mark(i);
        if (m <= marked_[i]) continue;  // marks only grow (None, Suspected, Byzantine)
        marked_[i] = m;
        if (auto f = monitor_.on_mark(i, m == Mark::Byzantine)) return f;
    }
    return std::nullopt;
}

// Equivocation evidence from the protocol (two conflicting signed votes or proposals) marks a
// node Byzantine as the knowledge base's own proof does; against an honest node the checker
// reports it (false_evidence).
void World::on_evidence(std::uint32_t culprit) {
    if (culprit < marked_.size()) marked_[culprit] = Mark::Byzantine;
}

std::optional<sim::Finding> World::replay(SimTime now, const sim::CommitRecord& rec) {
    std::optional<sim::Finding> first;
    for (const sim::ExecutedRequest& r : rec.requests) {
        if (!r.data) continue;
        std::optional<Decision> fresh;
        const Decision* d = memo_->peek(*r.data, fresh);
        if (!d) continue;
        const Outcome o = kb_.apply(*d);
        if (o == Outcome::Executed) {
            auto f = take(*d, rec.index, now, d->proposer, true);
            if (!first) first = std::move(f);
        } else {
            add_row(rec.index, now, d->proposer, *d, o, true, false);
        }
        if (auto f = monitor_.on_recorded(*d); f && !first) first = std::move(f);
    }
    auto marks = new_marks();
    return first ? first : marks;
}

std::optional<sim::Finding> World::on_commit(SimTime now, std::uint32_t replica,
                                             const sim::CommitRecord& rec) {
    const auto [first, fresh] = canonical_.try_emplace(rec.index);
    if (fresh)
        *first = rec.state;
    else if (*first != rec.state)
        diverged_[replica] = true;
    knowledge_[replica] = rec.state;
    if (rec.index <= replayed_) return std::nullopt;
    replayed_ = rec.index;
    return replay(now, rec);
}

std::optional<sim::Finding> World::on_step(SimTime now) {
    end_ = now;
    if (pending_) {
        auto f = std::move(pending_);
        pending_.reset();
        return f;
    }
    if (!monitor_.due(now)) return std::nullopt;
    return monitor_.on_step(now);
}

std::optional<sim::Finding> World::finish(SimTime now) {
    end_ = now;
    return on_step(now);
}

}  // namespace mapek
