// `byzsim compare` on a MAPE-K scenario: the same workflows, anomalies and lies under each
// coordination (bft, local, leader), one row each, to show what agreement buys.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tools {

struct LoopRow {
    std::string coordination;
    std::string outcome;  // "safe" or the violated invariant
    std::uint64_t actions = 0, false_actions = 0, suppressed = 0, divergent = 0;
    std::uint64_t anomalies = 0, mitigated = 0;
    std::optional<double> mitigate_ms;  // mean time to mitigate, over the mitigated anomalies
    std::uint64_t messages = 0;         // every message sent, readings included
};

// Runs the scenario document once per coordination; throws sim::ScenarioError.
std::vector<LoopRow> compare_loops(const nlohmann::json& scenario,
                                   const std::vector<std::string>& coordinations);
std::string loops_csv(const std::vector<LoopRow>& rows);
std::string loops_table(const std::vector<LoopRow>& rows);

}  // namespace tools
