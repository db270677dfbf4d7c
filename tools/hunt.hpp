// `byzsim hunt`: measures the bug-finding power of sweeps. For each sweep scenario and each
// seeded bug (`mutations`) its protocol knows, a sweep with that one mutation switched on runs
// until its first failing seed, which is then shrunk; a sweep of the honest protocol runs too,
// and must find nothing. One row per sweep in hunt.csv.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tools {

struct HuntOptions {
    std::uint64_t first = 1, last = 500;  // seeds per sweep
    unsigned jobs = 1;
    std::optional<double> time_budget_s;  // per sweep
    std::vector<std::string> only;        // mutation names to hunt (B+M: B with M on); empty: all
    std::vector<std::string> skip;        // mutation names not to hunt
    bool honest = true;                   // also sweep with no mutation
    // A failing seed's shrunk case keeps the faults its timing needs; another failing seed may
    // shrink further. After the first, the sweep goes on to at most this many failing seeds in
    // all while the smallest case so far has more than `fault_goal` fault entries.
    unsigned witnesses = 5;
    std::uint64_t fault_goal = 3;
    std::filesystem::path out = "hunt";
    bool progress = true;
};

struct HuntRow {
    std::string scenario, protocol, mutation;  // mutation "none": the honest sweep
    bool found = false;
    std::uint64_t seeds_run = 0;               // to the first failure, or all of them
    std::optional<std::uint64_t> first_seed;   // the first failing seed
    std::optional<std::uint64_t> shrunk_seed;  // the failing seed whose case shrank furthest
    std::uint64_t witnesses = 0;               // failing seeds shrunk
    double wall_s = 0;                         // sweep and shrink
    std::string invariant;
    std::uint64_t shrunk_faults = 0, shrunk_size = 0, original_size = 0, shrink_runs = 0;
};

std::string hunt_csv(const std::vector<HuntRow>& rows);

// Runs the hunt over scenario files (each with a randomize section); writes out/hunt.csv and,
// per sweep, out/<file stem>-<mutation>/. `scenario_docs` are the parsed documents, `files`
// their names. Throws sim::ScenarioError for a bad scenario or an unknown mutation.
std::vector<HuntRow> hunt(const std::vector<std::string>& files,
                          const std::vector<nlohmann::json>& scenario_docs,
                          const HuntOptions& opts);

}  // namespace tools
