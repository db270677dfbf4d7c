// Randomized seed sweeps (`byzsim sweep`, `byzsim merge`); one seed's run is tools/seed_run.
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
#include "tools/seed_run.hpp"

namespace tools {

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

// "1..100" or "7"; throws std::invalid_argument with a message.
std::pair<std::uint64_t, std::uint64_t> parse_seed_range(const std::string& text);

}  // namespace tools
