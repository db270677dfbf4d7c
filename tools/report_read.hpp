// A report.json as `byzsim replay` reads it: the scenario it ran (with its seed), the
// fingerprint to match, and the events it was cut at, if its budget or Ctrl-C cut it. The report is
// untrusted input: every field is checked for presence and type, and the scenario is validated
// like a scenario file, before anything uses them.
#pragma once

#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "sim/scenario.hpp"

namespace tools {

struct ReportInput {
    nlohmann::json doc;
    sim::ScenarioSpec spec;
    std::string fingerprint;
    std::uint64_t max_events = 0;  // the run's events if it was cut (0: it was not)
};

// Parses report text within sim::JsonBounds; throws sim::ScenarioError at the report's path
// ("/scenario/nodes", "/seed"; "" for the whole file).
ReportInput parse_report(std::string_view text);

}  // namespace tools
