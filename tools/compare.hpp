// `byzsim compare`: the same workload and network under several protocols and sizes, one row
// per (protocol, n), for a side-by-side table and CSV.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tools {

struct CompareRow {
    std::string protocol;
    std::uint32_t n = 0, f = 0;
    std::string outcome;          // "safe" or the violated invariant
    std::uint64_t decisions = 0;  // log slots (PBFT) or blocks (HotStuff) decided
    std::uint64_t requests = 0;   // client requests accepted
    std::uint64_t messages = 0;   // replica-to-replica messages (no REQUEST or REPLY)
    std::uint64_t bytes = 0;      // their bytes
    double messages_per_decision = 0, bytes_per_decision = 0;
    double latency_p50_ms = 0, latency_p99_ms = 0;
    double decisions_per_s = 0;  // per virtual second
};

// Runs `scenario` (a scenario document) once per protocol and size: `/protocol` becomes just
// the protocol's name, `/nodes` the size, f its default, and Byzantine faults are dropped (they
// name protocol behaviours). Throws sim::ScenarioError for a document that stays invalid.
std::vector<CompareRow> compare(const nlohmann::json& scenario,
                                const std::vector<std::string>& protocols,
                                const std::vector<std::uint32_t>& sizes);

std::string compare_csv(const std::vector<CompareRow>& rows);
std::string compare_table(const std::vector<CompareRow>& rows);
// compare.html: the rows plotted against n, per protocol (tools/compare_html.cpp).
std::string compare_html(const std::vector<CompareRow>& rows, const std::string& title);

}  // namespace tools
