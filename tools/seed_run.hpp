// Running one seed: the concrete scenario it draws, run once (or twice, to check determinism)
// and judged, as one row of sweep.csv. Below sweeps, shrinking and hunts, which all use it.
#pragma once

#include <csignal>
#include <cstdint>
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
    bool interrupted = false;  // cut by `interrupt` (sim::SimOptions::interrupt)
    std::uint64_t events = 0, accepted = 0, fingerprint = 0;
    sim::SimTime end{};
};
RunOutcome run_concrete(const sim::ScenarioSpec& spec, std::vector<std::uint64_t>* log = nullptr,
                        const volatile std::sig_atomic_t* interrupt = nullptr);

// Draws and runs one seed; with `check_determinism`, twice, comparing every event's
// fingerprint. `drawn` receives the concrete scenario document when the seed fails.
SeedRow run_seed(const sim::ScenarioSpec& spec, std::uint64_t seed, bool check_determinism,
                 nlohmann::json* drawn, std::string* detail);

// `doc` with an expect block that asks for a violation of `invariant`: a failure file is a
// regression scenario as it stands.
nlohmann::json expect_violation(const nlohmann::json& doc, const std::string& invariant);

// Decimal text that is all of `text`; ok says whether it was.
std::uint64_t parse_u64(std::string_view text, bool& ok);

}  // namespace tools
