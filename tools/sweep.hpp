// Randomized seed sweeps (`byzsim sweep`, `byzsim merge`) and the one-seed runner that sweeps,
// shrinking and hunts share.
//
// A sweep runs the seeds of a range in long-lived worker processes (forked once, each running
// many seeds), one seed in flight per worker, seeds handed out in ascending order. Every
// finished seed is appended to DIR/sweep.journal at once; DIR/sweep.csv (sorted by seed) is
// written atomically at the end, or when interrupted. Rows depend only on (scenario, seed), so
// sweep.csv does not depend on --jobs; with --stop-on-first it holds the seeds up to the
// lowest failing one, which is also independent of --jobs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/scenario.hpp"
#include "sim/simulator.hpp"

namespace tools {

// One seed's line of sweep.csv.
struct SeedRow {
    std::uint64_t seed = 0;
    std::string outcome;    // safe, violation, nondeterministic, error
    std::string invariant;  // the violated invariant, or the first differing event, or ""
    std::uint64_t events = 0;
    std::uint64_t commits = 0;  // requests accepted by clients
    std::int64_t virtual_time_ns = 0;
    std::string fingerprint;  // 16 hex digits
};

std::string sweep_csv_header();
std::string sweep_csv_line(const SeedRow& row);  // with the newline
// Parses one line (no newline); nullopt if it is not a complete row.
std::optional<SeedRow> parse_sweep_csv_line(const std::string& line);

// Runs a concrete scenario once (in this process).
struct RunOutcome {
    std::optional<sim::Violation> violation;
    std::uint64_t events = 0, accepted = 0, fingerprint = 0;
    sim::SimTime end{};
};
RunOutcome run_concrete(const sim::ScenarioSpec& spec, std::vector<std::uint64_t>* log = nullptr);

// Draws and runs one seed; with `check_determinism`, twice, comparing every event's
// fingerprint. `drawn` receives the concrete scenario document when the seed fails.
SeedRow run_seed(const sim::ScenarioSpec& spec, std::uint64_t seed, bool check_determinism,
                 nlohmann::json* drawn, std::string* detail);

struct SweepOptions {
    std::string scenario_file;
    std::uint64_t first = 1, last = 100;  // seeds, inclusive
    unsigned jobs = 1;
    std::optional<double> time_budget_s;
    bool stop_on_first = false;
    std::filesystem::path out = "sweep";
    bool resume = false;
    std::uint32_t shard = 1, shards = 1;  // this is the shard-th of `shards` slices
    bool check_determinism = false;
    bool shrink = false;
    bool progress = true;  // a progress bar, when stderr is a terminal
    bool quiet = false;    // no summary lines (for hunts)
};

struct SweepSummary {
    std::uint64_t seeds_done = 0, violations = 0, failures = 0;  // failures: any non-safe row
    std::optional<std::uint64_t> first_failure;                  // lowest failing seed
    std::string first_invariant;
    double wall_seconds = 0;
    bool interrupted = false, complete = false;
};

// Runs a sweep; throws std::runtime_error (as an InputError at the CLI) for an unusable
// output directory or a resume that does not match.
SweepSummary sweep(const sim::ScenarioSpec& spec, const SweepOptions& opts);

// Joins the output directories of shards of one sweep into `out`, as the unsharded sweep would
// have written it. Returns the merged summary.
SweepSummary merge_sweeps(const std::vector<std::filesystem::path>& dirs,
                          const std::filesystem::path& out);

// `doc` with an expect block that asks for a violation of `invariant`: a failure file is a
// regression scenario as it stands.
nlohmann::json expect_violation(const nlohmann::json& doc, const std::string& invariant);

// "1..100" or "7"; throws std::invalid_argument with a message.
std::pair<std::uint64_t, std::uint64_t> parse_seed_range(const std::string& text);

}  // namespace tools
