// Report writers: what a finished run produced, as JSON (report.json), CSV (requests.csv,
// messages.csv) and the terminal summary.
//
// Every function here except write_atomic is pure: the same spec, result and meta give the same
// bytes, so reports of two runs can be diffed. Nothing here runs a simulation.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/scenario.hpp"
#include "sim/simulator.hpp"

namespace reports {

// What the caller knows about a run that the run itself does not.
struct ReportMeta {
    std::string version;         // the build's BYZSIM_VERSION
    std::string scenario_file;   // as given on the command line
    std::string replay_command;  // one or more commands, separated by "; "
    std::uint64_t seed = 0;      // the seed the run used (after any override)
};

// Nearest-rank percentiles: pXX is the smallest value with at least XX% of values at or below
// it. All zero for an empty input.
struct Percentiles {
    std::int64_t p50 = 0, p90 = 0, p99 = 0, max = 0;
    double mean = 0.0;
};
Percentiles percentiles(std::vector<std::int64_t> values);

// The fingerprint as reports print it: 16 lower-case hex digits.
std::string fingerprint_hex(std::uint64_t fingerprint);

// Writes `content` to `file` so that readers see the old file or the new one, never a part:
// writes `file`.tmp.<pid>, fsyncs it, renames it over `file`. Creates missing parent
// directories. Throws std::system_error (naming the file) on failure, leaving no temporary.
void write_atomic(const std::filesystem::path& file, std::string_view content);

// The report.json document. `scenario` is spec.source with "seed" set to meta.seed, so that
// the report alone replays the run.
nlohmann::json report_json(const sim::ScenarioSpec& spec, const sim::RunResult& result,
                           const ReportMeta& meta);

// client,submit_ns,commit_ns,latency_ns,view,sequence,timestamp: one row per accepted request.
std::string requests_csv(const sim::RunResult& result);

// node,role,type,sent,delivered,dropped,corrupted: one row per node and message type with a
// non-zero counter. Nodes below `replicas` are replicas, the rest clients. Sends are counted
// at the sender, deliveries, drops and corruptions at the receiver.
std::string messages_csv(const sim::RunResult& result, std::uint32_t replicas);

// The terminal summary of a run, ending in a newline.
std::string summary_text(const sim::ScenarioSpec& spec, const sim::RunResult& result,
                         const ReportMeta& meta);

}  // namespace reports
