// The MAPE-K invariants, written from their definitions apart from the loop's code: it never
// asks an agent or a knowledge base what it holds. It is told each action that takes effect
// on a workflow (with whether an honest replica had committed its decision) and each node the
// knowledge base marks, and reads the workflows' true metrics itself.
//
//   mapek_justified     an action executed without readings of one round from f+1 distinct
//                       nodes, each signed by its node's agent, past the threshold
//   mapek_false_action  an action when no honest node could have seen the metric past its
//                       threshold: the true value, widened by the honest noise bound, was not
//   mapek_aggregate     a decision's aggregate outside the range of its honest readings
//   mapek_uncommitted   an action took effect before any honest replica committed it
//   mapek_detection     an honest node marked suspected or Byzantine
//   mapek_liveness      an anomaly every honest node observes (the true value past the
//                       threshold by more than the noise bound) with no action on it within
//                       the bound, counted from when it is observed or from when liveness is
//                       owed, whichever is later
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "protocols/mapek/config.hpp"
#include "protocols/mapek/messages.hpp"
#include "sim/crypto.hpp"
#include "sim/monitor.hpp"

namespace mapek {

class LoopMonitor {
public:
    using Truth = std::function<std::int64_t(std::uint32_t, Metric, std::uint64_t)>;
    LoopMonitor(std::shared_ptr<const Config> cfg, Truth truth, SimTime liveness_from,
                bool liveness_owed);
    void set_run(const std::vector<bool>& honest, const sim::KeyRing* keys);

    // An action on `d`'s workflow executes now; `committed`: an honest replica committed it.
    std::optional<sim::Finding> on_action(const Decision& d, bool committed, SimTime now);
    // The same for a loop without agreement (`local`, `leader`): counts the anomaly as acted
    // on, and says whether the action was false, checking nothing else.
    bool baseline_action(const Decision& d, SimTime now);
    // Any decision committed, whether it took an action or not.
    std::optional<sim::Finding> on_recorded(const Decision& d) const;
    std::optional<sim::Finding> on_mark(std::uint32_t node, bool byzantine);
    // Sampling rounds up to now; finds a missed deadline.
    std::optional<sim::Finding> on_step(SimTime now);
    // Whether on_step(now) has anything to look at: a new round, or a deadline passed.
    bool due(SimTime now) const {
        return next_round_ * static_cast<std::uint64_t>(cfg_->sample_period.ns) <=
                   static_cast<std::uint64_t>(now.ns) ||
               now > next_check_;
    }

    // Per anomaly: when every honest node first could see it, and whether it was suppressed
    // (its deadline passed with no action).
    struct AnomalyState {
        std::optional<SimTime> observed;
        std::optional<SimTime> acted;  // first action on its metric at or after its start
        bool suppressed = false;
    };
    const std::vector<AnomalyState>& anomalies() const { return anomalies_; }

private:
    bool honest(std::uint32_t node) const { return node < honest_.size() && honest_[node]; }
    std::optional<sim::Finding> check_justified(const Decision& d, const ActionSpec& a) const;
    void check_round(std::uint64_t round);
    void note_action(const Decision& d, SimTime now);
    bool visible(const Decision& d) const;

    std::shared_ptr<const Config> cfg_;
    Truth truth_;
    SimTime liveness_from_;
    bool liveness_owed_ = true;
    std::vector<bool> honest_;
    const sim::KeyRing* keys_ = nullptr;
    std::vector<AnomalyState> anomalies_;
    std::vector<std::size_t> by_start_;  // anomalies by start time
    std::size_t begun_ = 0;              // how many of by_start_ began
    std::vector<std::size_t> live_;      // begun, not observed, acted on or over (ascending)
    std::vector<std::size_t> watched_;   // observed, deadline before the end (ascending)
    std::uint64_t next_round_ = 1;
    SimTime next_check_{};  // no deadline passes before then
};

}  // namespace mapek
