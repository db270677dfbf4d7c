// The simulated workflows and everything that happens to them: their true metrics over virtual
// time (a seeded model, the injected anomalies, the actions' effects), the actions taken, and
// the measures a run reports (time to detect, decide and mitigate each anomaly, false actions,
// suppressed anomalies, knowledge per node, detection of Byzantine nodes). Agents read it
// through Context::environment(); it hears honest replicas' commits and replays the committed
// decisions through its own knowledge base, in log order, to know which took an action.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocols/mapek/config.hpp"
#include "protocols/mapek/knowledge.hpp"
#include "protocols/mapek/monitor.hpp"
#include "sim/environment.hpp"
#include "sim/flat_map.hpp"
#include "sim/hash.hpp"

namespace mapek {

class World final : public sim::Environment {
public:
    // `faulty`: per node, whether its agent lies or its replica is Byzantine (for detection's
    // precision and recall).
    World(std::shared_ptr<const Config> cfg, std::uint64_t seed, SimTime liveness_from,
          bool liveness_owed, std::vector<bool> faulty, std::shared_ptr<DecodeMemo> memo = nullptr);

    // The true value of a metric at a sampling round (time round · sample_period).
    std::int64_t truth(std::uint32_t workflow, Metric m, std::uint64_t round) const;
    // An honest agent's own analysis found (workflow, metric) past its threshold.
    void detected(std::uint32_t workflow, Metric m, SimTime now);
    // An agent acts without agreement: the `local` and `leader` loops, and a loop that acts
    // on what it proposes (the execute_on_propose bug).
    void actuate(std::uint32_t node, const Decision& d, SimTime now);

    void set_run(const std::vector<bool>& honest, const sim::KeyRing* keys) override;
    std::optional<sim::Finding> on_commit(SimTime now, std::uint32_t replica,
                                          const sim::CommitRecord& rec) override;
    void on_evidence(std::uint32_t culprit) override;
    std::optional<sim::Finding> on_step(SimTime now) override;
    std::optional<sim::Finding> finish(SimTime now) override;
    nlohmann::json report() const override;
    std::map<std::string, std::string> csv_files() const override;

private:
    struct Row {  // one decision that executed or acted: a line of mapek.csv
        std::uint64_t index = 0;
        SimTime at{};
        std::uint32_t node = 0;
        Decision decision;  // without its evidence: `readings` says how many it carried
        std::size_t readings = 0;
        Outcome outcome = Outcome::Executed;
        bool committed = true;
        bool false_action = false;
    };
    struct Effect {
        std::uint32_t workflow = 0;
        Metric metric = Metric::Latency;
        SimTime at{};
    };
    std::int64_t model(std::uint32_t workflow, Metric m, std::uint64_t round) const;
    void add_row(std::uint64_t index, SimTime at, std::uint32_t node, const Decision& d, Outcome o,
                 bool committed, bool false_action);
    bool cleared(const AnomalySpec& a, SimTime t) const;
    std::optional<sim::Finding> take(const Decision& d, std::uint64_t index, SimTime now,
                                     std::uint32_t node, bool committed);
    std::optional<sim::Finding> replay(SimTime now, const sim::CommitRecord& rec);
    std::optional<sim::Finding> new_marks();
    nlohmann::json anomaly_report() const;
    nlohmann::json detection_report() const;
    nlohmann::json knowledge_report() const;

    std::shared_ptr<const Config> cfg_;
    std::uint64_t seed_;
    std::vector<bool> faulty_;
    std::vector<bool> honest_;
    LoopMonitor monitor_;
    std::shared_ptr<DecodeMemo> memo_;  // the replicas': the world decodes what they did
    KnowledgeBase kb_;                  // the committed decisions, replayed in log order
    std::uint64_t replayed_ = 0;
    std::vector<Effect> effects_;
    std::vector<Row> rows_;
    std::vector<std::optional<SimTime>> detected_;  // per anomaly
    std::vector<Mark> marked_;
    std::optional<sim::Finding> pending_;
    // Knowledge per node: a replica's state digest at each index it executed (checked against
    // the first honest one there), or a loop without agreement's own record of its actions.
    sim::FlatMap<std::uint64_t, sim::Digest, sim::U64Hash> canonical_;  // never iterated
    std::vector<sim::Digest> knowledge_;
    std::vector<bool> diverged_;
    // Per (workflow, metric): its anomalies (indices) by start time, and the longest one's span
    // (those under way at t started at most that long before); when the actions on it take
    // effect.
    struct Timeline {
        std::vector<std::size_t> by_start;
        std::int64_t longest = 0;
    };
    std::vector<Timeline> anomalies_of_;
    std::vector<std::vector<SimTime>> effects_of_;
    // The anomalies of `watch` under way at t, in the scenario's order (scratch space).
    const std::vector<std::size_t>& under_way(std::size_t watch, SimTime t) const;
    mutable std::vector<std::size_t> under_way_;
    // Per (workflow, metric): the last truth computed, for the round and the number of effects
    // it was computed with (every agent asks for the same round's in turn).
    struct Memo {
        std::uint64_t round = 0;
        std::size_t effects = 0;
        std::int64_t value = 0;
        bool valid = false;
    };
    mutable std::vector<Memo> truth_memo_;
    SimTime end_{};
};

}  // namespace mapek
