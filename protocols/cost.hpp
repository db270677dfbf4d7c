// What a run will cost, estimated from the scenario before it starts, and the budget a run may
// spend. The estimate counts the work of a fault-free run: the requests the workload can issue
// before the stop time, each at the protocol's messages per request (PROTOCOLS.md's counts with
// one request per batch), plus the time-driven work (MAPE-K's sampling). Faults add work the
// estimate cannot see (view changes, retransmissions), so the event budget also stops a run
// cleanly when it is reached (stop reason "event budget").
#pragma once

#include <cstdint>
#include <string>

#include "sim/scenario.hpp"

namespace protocols {

struct Budget {
    static constexpr std::uint64_t kDefaultEvents = 1'000'000'000;
    static constexpr std::uint64_t kDefaultBytes = std::uint64_t{4} << 30;
    std::uint64_t events = kDefaultEvents;
    std::uint64_t bytes = kDefaultBytes;  // the estimate's peak memory (not measured)
    // The user chose the event budget (--max-events): the run is cut there, so an estimate
    // above it is not refused, and the memory it needs is counted up to the cut only.
    bool cut = false;
};

struct CostEstimate {
    std::string system;  // "pbft", "MAPE-K over hotstuff"
    std::uint32_t nodes = 0;
    std::uint64_t requests = 0;            // requests the workload issues before the stop
    std::uint64_t events_per_request = 0;  // the protocol's, at this n
    std::uint64_t timed_events = 0;        // time-driven (sampling)
    std::uint64_t events = 0;              // in all (saturating)
    std::uint64_t bytes = 0;               // peak memory
    std::uint64_t stored_bytes = 0;        // the part of it that grows with the requests
    // The JSON paths of the terms that dominate the events and the memory.
    std::string events_path, bytes_path;
    // "pbft, n=4: 1000 requests x 42 events each" and so on.
    std::string basis() const;
};

// The estimate for a concrete scenario (no randomize section: draw it first).
CostEstimate estimate_cost(const sim::ScenarioSpec& spec);

// Throws sim::ScenarioError at the estimate's dominant path, with the estimate, when it passes
// `budget`: its events (unless the budget cuts the run) or its memory.
void check_budget(const CostEstimate& estimate, const Budget& budget);

// "1.5e+09", "42", "no limit": an event count as people read it.
std::string count_text(std::uint64_t n);
// "3.2 GiB", "512 MiB", "no limit".
std::string bytes_text(std::uint64_t n);

}  // namespace protocols
