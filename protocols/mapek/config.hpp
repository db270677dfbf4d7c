// A MAPE-K system's configuration: the workflows and their metrics, the anomalies injected on
// them, the actions that mitigate them, how the nodes coordinate, and the agents' lies. Read
// from the scenario's "mapek" section (format: scenarios/FORMAT.md) with the JSON path of the
// first bad value.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/scenario.hpp"
#include "sim/types.hpp"

namespace mapek {

using sim::Digest;
using sim::NodeId;
using sim::SimTime;

// A workflow's metrics, each an integer: latency in microseconds, error rate in basis points
// (1/10,000), throughput in requests per second, queue depth in requests.
enum class Metric : std::uint8_t { Latency, ErrorRate, Throughput, QueueDepth };
inline constexpr std::size_t kMetrics = 4;
// An index per (workflow, metric), for tables of them.
inline std::size_t watch_index(std::uint32_t workflow, Metric m) {
    return workflow * kMetrics + static_cast<std::size_t>(m);
}
inline constexpr std::array<const char*, kMetrics> kMetricNames = {"latency", "error_rate",
                                                                   "throughput", "queue_depth"};

struct WorkflowSpec {
    std::string name;
    std::array<std::int64_t, kMetrics> baseline{};
};

// An anomaly multiplies one metric of one workflow by a factor while it lasts: `spike` by
// `magnitude`; `drift` by a factor growing from 1 to `magnitude` over its window; `flap` by
// `magnitude` in every other `period`. An action on that metric clears it for good.
enum class AnomalyType : std::uint8_t { Spike, Drift, Flap };
struct AnomalySpec {
    std::uint32_t workflow = 0;
    AnomalyType type = AnomalyType::Spike;
    Metric metric = Metric::Latency;
    SimTime at{}, until{};
    double magnitude = 3.0;
    SimTime period{};  // flap
};

// The action taken when a metric crosses its threshold (above it, or below with `below`); it
// takes effect `delay` after it executes (a scale-out's warm-up, a restart's reboot).
struct ActionSpec {
    std::string name;
    Metric metric = Metric::Latency;
    std::int64_t threshold = 0;
    bool below = false;
    SimTime delay{};
};

enum class Coordination : std::uint8_t { Bft, Local, Leader };

// What a lying agent does with its readings and decisions, in a window of time.
struct Lie {
    enum class Kind : std::uint8_t {
        Inflate,      // readings times `factor`
        Deflate,      // readings divided by `factor`
        Fake,         // readings past every threshold
        Hide,         // readings at the baseline
        Equivocate,   // a different reading to each half of the agents
        Replay,       // decisions re-submitted with old evidence
        Delay,        // readings sent `delay` late
        Unjustified,  // decisions with no evidence; ordered as leader without checking them
    };
    Kind kind = Kind::Inflate;
    double factor = 10.0;
    SimTime delay{};
    SimTime at{}, until = SimTime::max();
    bool active(SimTime now) const { return now >= at && now < until; }
};
inline constexpr std::array<const char*, 8> kLieNames = {
    "inflate",         "deflate",        "fake_anomaly",    "hide_anomaly", "equivocate_readings",
    "replay_evidence", "delay_readings", "unjustified_plan"};

// The seeded bugs a hunt must find (/protocol/mutations).
enum class Bug : std::uint8_t { SkipJustification, MeanInsteadOfMedian, ExecuteOnPropose };
inline constexpr std::array<const char*, 3> kBugNames = {
    "skip_justification", "mean_instead_of_median", "execute_on_propose"};

struct Config {
    std::string consensus = "pbft";
    Coordination coordination = Coordination::Bft;
    std::uint32_t n = 4, f = 1;
    std::uint32_t leader = 0;  // "leader" coordination: the node that decides alone
    SimTime sample_period = sim::milliseconds(100);
    SimTime retry_timeout = sim::milliseconds(500);
    double variation = 0.02;          // the model's own wander, a fraction of the baseline
    double noise = 0.02;              // an honest reading is within ±noise·baseline of the truth
    std::uint32_t suspect_after = 3;  // outlying readings that mark a node suspected
    SimTime liveness_bound = sim::seconds(3);
    std::vector<WorkflowSpec> workflows;
    std::vector<AnomalySpec> anomalies;
    std::vector<ActionSpec> actions;
    std::vector<std::vector<Lie>> lies;  // per node
    std::array<bool, kBugNames.size()> bugs{};

    bool bug(Bug b) const { return bugs[static_cast<std::size_t>(b)]; }
    // The widest an honest reading of (workflow, metric) strays from the truth.
    std::int64_t noise_bound(std::uint32_t workflow, Metric m) const;
    // The readings a decision carries: all from one round, from at least 2f+1 nodes.
    std::uint32_t quorum() const { return 2 * f + 1; }
    // An action's effect settles within this many rounds of its execution.
    std::uint64_t settle_rounds(std::size_t action) const;
    // The action for a metric, if the scenario has one.
    const ActionSpec* action_for(Metric m, std::size_t* index = nullptr) const;
    // Whether a value is past the action's threshold.
    static bool beyond(const ActionSpec& a, std::int64_t v) {
        return a.below ? v < a.threshold : v > a.threshold;
    }
};

// Reads the scenario's "mapek" section and its agents' lies (byzantine faults whose behaviour
// is a lie's name, which the consensus never sees). Throws sim::ScenarioError.
Config read_config(const sim::ScenarioSpec& spec);
// Whether a behaviour name is an agent's lie rather than the consensus replica's behaviour.
bool is_lie(const std::string& behavior);

}  // namespace mapek
