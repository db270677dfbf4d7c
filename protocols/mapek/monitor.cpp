#include "protocols/mapek/monitor.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace mapek {

namespace {

sim::Finding finding(const char* invariant, std::string detail,
                     std::vector<std::uint32_t> nodes = {}) {
    return sim::Finding{invariant, std::move(detail), std::move(nodes)};
}

}  // namespace

LoopMonitor::LoopMonitor(std::shared_ptr<const Config> cfg, Truth truth, SimTime liveness_from,
                         bool liveness_owed)
    : cfg_(std::move(cfg)),
      truth_(std::move(truth)),
      liveness_from_(liveness_from),
      liveness_owed_(liveness_owed),
      anomalies_(cfg_->anomalies.size()),
      by_start_(cfg_->anomalies.size()) {
    for (std::size_t i = 0; i < by_start_.size(); ++i) by_start_[i] = i;
    std::stable_sort(by_start_.begin(), by_start_.end(), [&](std::size_t a, std::size_t b) {
        return cfg_->anomalies[a].at < cfg_->anomalies[b].at;
    });
}

void LoopMonitor::set_run(const std::vector<bool>& honest, const sim::KeyRing* keys) {
    honest_ = honest;
    keys_ = keys;
}

// Counted from the readings themselves, with the run's keys: f+1 distinct nodes of the run,
// each reading signed by that node's agent, of the decision's workflow, metric and round, past
// the threshold.
std::optional<sim::Finding> LoopMonitor::check_justified(const Decision& d,
                                                         const ActionSpec& a) const {
    const std::uint32_t n = cfg_->n;
    std::vector<bool> counted(n, false);
    std::uint32_t past = 0;
    for (const Reading& r : d.evidence) {
        if (r.node >= n || r.workflow != d.workflow || r.metric != d.metric || r.round != d.round ||
            counted[r.node])
            continue;
        if (!keys_->verify(sim::NodeId(n + r.node), reading_digest(r), r.sig)) continue;
        if (!(a.below ? r.value < a.threshold : r.value > a.threshold)) continue;
        counted[r.node] = true;
        ++past;
    }
    if (past >= cfg_->f + 1) return std::nullopt;
    return finding("mapek_justified",
                   fmt::format("{} on workflow {} (round {}) executed with {} valid readings "
                               "past {} from distinct nodes; f+1 = {} are needed",
                               a.name, d.workflow, d.round, past, a.threshold, cfg_->f + 1),
                   {d.proposer});
}

// The aggregate a committed decision records lies within its honest readings' range.
std::optional<sim::Finding> LoopMonitor::on_recorded(const Decision& d) const {
    std::optional<std::int64_t> lo, hi;
    for (const Reading& r : d.evidence) {
        if (!honest(r.node) || r.workflow != d.workflow || r.metric != d.metric ||
            r.round != d.round ||
            !keys_->verify(sim::NodeId(cfg_->n + r.node), reading_digest(r), r.sig))
            continue;
        lo = std::min(lo.value_or(r.value), r.value);
        hi = std::max(hi.value_or(r.value), r.value);
    }
    if (!lo || (d.aggregate >= *lo && d.aggregate <= *hi)) return std::nullopt;
    return finding("mapek_aggregate",
                   fmt::format("a decision on workflow {} (round {}) records {}, outside its "
                               "honest readings' range [{}, {}]",
                               d.workflow, d.round, d.aggregate, *lo, *hi),
                   {d.proposer});
}

void LoopMonitor::note_action(const Decision& d, SimTime now) {
    const ActionSpec& a = cfg_->actions.at(d.action);
    for (std::size_t i = 0; i < anomalies_.size(); ++i) {
        const AnomalySpec& an = cfg_->anomalies[i];
        // An action clears the anomalies its effect finds under way (the model's rule).
        if (an.workflow == d.workflow && an.metric == a.metric && an.at <= now + a.delay &&
            now < an.until && !anomalies_[i].acted)
            anomalies_[i].acted = now;
    }
}

// Whether some honest reading of the decision's round could pass the threshold: an honest
// reading is within the noise bound of the true value.
bool LoopMonitor::visible(const Decision& d) const {
    const ActionSpec& a = cfg_->actions.at(d.action);
    const std::int64_t truth = truth_(d.workflow, a.metric, d.round);
    const std::int64_t nb = cfg_->noise_bound(d.workflow, a.metric);
    return a.below ? truth - nb < a.threshold : truth + nb > a.threshold;
}

bool LoopMonitor::baseline_action(const Decision& d, SimTime now) {
    note_action(d, now);
    return !visible(d);
}

std::optional<sim::Finding> LoopMonitor::on_action(const Decision& d, bool committed, SimTime now) {
    note_action(d, now);
    const ActionSpec& a = cfg_->actions.at(d.action);
    if (!committed)
        return finding("mapek_uncommitted",
                       fmt::format("{} on workflow {} took effect before any honest replica "
                                   "committed its decision",
                                   a.name, d.workflow),
                       {d.proposer});
    if (!visible(d))
        return finding(
            "mapek_false_action",
            fmt::format("{} on workflow {}: its true {} at round {} was {}, and no "
                        "honest reading (within {} of it) passes {}",
                        a.name, d.workflow, kMetricNames[static_cast<std::size_t>(a.metric)],
                        d.round, truth_(d.workflow, a.metric, d.round),
                        cfg_->noise_bound(d.workflow, a.metric), a.threshold),
            {d.proposer});
    return check_justified(d, a);
}

std::optional<sim::Finding> LoopMonitor::on_mark(std::uint32_t node, bool byzantine) {
    if (!honest(node)) return std::nullopt;
    return finding("mapek_detection",
                   fmt::format("the knowledge base marked honest node {} {}", node,
                               byzantine ? "Byzantine" : "suspected"),
                   {node});
}

// Only the anomalies under way are looked at: those begun (by_start_), not yet observed, acted
// on or over (live_); an observed one moves to watched_ if its deadline falls before its end.
void LoopMonitor::check_round(std::uint64_t round) {
    const SimTime t{static_cast<std::int64_t>(round) * cfg_->sample_period.ns};
    while (begun_ < by_start_.size() && cfg_->anomalies[by_start_[begun_]].at <= t) {
        const std::size_t i = by_start_[begun_++];
        live_.insert(std::upper_bound(live_.begin(), live_.end(), i), i);
    }
    std::size_t kept = 0;
    for (const std::size_t i : live_) {
        const AnomalySpec& an = cfg_->anomalies[i];
        AnomalyState& s = anomalies_[i];
        if (s.observed || s.acted || t >= an.until) continue;
        const ActionSpec* a = cfg_->action_for(an.metric);
        const std::int64_t truth = a ? truth_(an.workflow, an.metric, round) : 0;
        const std::int64_t nb = cfg_->noise_bound(an.workflow, an.metric);
        if (a && (a->below ? truth + nb < a->threshold : truth - nb > a->threshold)) {
            s.observed = t;
            const SimTime deadline =
                sim::deadline_after(std::max(t, liveness_from_), cfg_->liveness_bound);
            if (an.until > deadline)
                watched_.insert(std::upper_bound(watched_.begin(), watched_.end(), i), i);
            continue;
        }
        live_[kept++] = i;
    }
    live_.resize(kept);
}

std::optional<sim::Finding> LoopMonitor::on_step(SimTime now) {
    while (next_round_ * static_cast<std::uint64_t>(cfg_->sample_period.ns) <=
           static_cast<std::uint64_t>(now.ns)) {
        check_round(next_round_++);
        next_check_ = {};
    }
    if (now <= next_check_) return std::nullopt;
    // The earliest deadline still open is the next time worth looking.
    next_check_ = SimTime::max();
    std::size_t kept = 0;
    std::optional<sim::Finding> found;
    for (const std::size_t i : watched_) {
        AnomalyState& s = anomalies_[i];
        if (s.acted || s.suppressed) continue;
        const SimTime deadline =
            sim::deadline_after(std::max(*s.observed, liveness_from_), cfg_->liveness_bound);
        if (found || now <= deadline) {
            if (!found) next_check_ = std::min(next_check_, deadline);
            watched_[kept++] = i;
            continue;
        }
        s.suppressed = true;
        next_check_ = {};
        if (!liveness_owed_) continue;
        found = finding("mapek_liveness",
                        fmt::format("anomaly {} on workflow {}, observed by every honest node "
                                    "from {}ns, has no action by {}ns",
                                    i, cfg_->anomalies[i].workflow, s.observed->ns, deadline.ns));
    }
    watched_.resize(kept);
    return found;
    return std::nullopt;
}

}  // namespace mapek
