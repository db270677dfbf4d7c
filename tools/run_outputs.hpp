// What `byzsim run --out DIR` writes beside report.json and the CSVs: report.html, always, and
// the traces asked for with --trace / --trace-format (trace.jsonl, trace.chrome.json,
// trace.otlp.json). Traces are written to temporary files as the run goes and renamed into
// place only once it has finished, so an interrupted run leaves none half-written.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "reports/report.hpp"
#include "reports/trace_window.hpp"
#include "sim/scenario.hpp"
#include "sim/simulator.hpp"
#include "sim/trace.hpp"

namespace reports {
class ChromeTrace;
class OtlpTrace;
}  // namespace reports

namespace cli {

enum class TraceFormat { Jsonl, Chrome, Otlp };

// "jsonl", "chrome", "otlp", or several joined by commas; throws UsageError otherwise.
std::vector<TraceFormat> parse_trace_formats(const std::string& list);
// "A..B" with durations as the scenario format writes them ("1.2s..1.5s", "300ms..1s");
// throws UsageError otherwise.
std::pair<std::int64_t, std::int64_t> parse_window(const std::string& text);

class TraceFile;

class RunOutputs {
public:
    RunOutputs(const std::filesystem::path& dir, const sim::ScenarioSpec& spec,
               const std::vector<TraceFormat>& formats,
               std::optional<std::pair<std::int64_t, std::int64_t>> window);
    ~RunOutputs();
    RunOutputs(const RunOutputs&) = delete;
    RunOutputs& operator=(const RunOutputs&) = delete;

    // For SimOptions::trace.
    sim::TraceSink* sink() { return &tee_; }
    // Closes and renames the traces, and writes report.html.
    void finish(const sim::ScenarioSpec& spec, const sim::RunResult& r,
                const reports::ReportMeta& meta);

private:
    void add_export(sim::TraceSink& sink,
                    std::optional<std::pair<std::int64_t, std::int64_t>> window);

    std::filesystem::path dir_;
    std::vector<std::unique_ptr<TraceFile>> files_;  // the traces' files, in the tee's order
    std::unique_ptr<sim::JsonlTrace> jsonl_;
    std::unique_ptr<reports::ChromeTrace> chrome_;
    std::unique_ptr<reports::OtlpTrace> otlp_;
    TraceFile* otlp_file_ = nullptr;
    reports::TraceWindow window_;
    std::vector<std::unique_ptr<sim::WindowFilter>> filters_;  // --window for the exports
    sim::TraceTee tee_;
};

}  // namespace cli
