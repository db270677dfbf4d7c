// Totality of a broadcast that orders nothing (reliable broadcast; Bracha 1987, §3): if one
// honest replica delivers a value at an index, every honest replica delivers one there. The
// checker's per-index agreement says it is the same value; this monitor says it comes.
//
// Once liveness is owed (GST and the last fault, as for requests), every honest replica that is
// up must deliver an index within the bound after the first honest delivery there, or after it
// came back up (a crashed replica owes nothing while it is down). A run that ends with nothing
// left to happen counts as past every deadline. The report is the invariant `totality`.
//
// Written apart from the replicas: it sees only their commits, by index.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "sim/monitor.hpp"
#include "sim/types.hpp"

namespace sim {

class TotalityMonitor {
public:
    // `honest[r]`: replica r counts; deliveries are owed from `from` with `bound`.
    TotalityMonitor(std::vector<bool> honest, SimTime from, SimTime bound);

    // Honest replica `replica` delivered at `index` (again: ignored).
    void on_deliver(std::uint32_t replica, std::uint64_t index, SimTime now);
    // A crashed replica owes nothing while down; back up at `now`, it owes every index an honest
    // replica delivered within the bound.
    void set_active(std::uint32_t replica, bool active, SimTime now);
    // Whether a deadline passed (O(1)); then on_step checks it.
    bool due(SimTime now) const {
        return !deadlines_.empty() && deadlines_.begin()->first < now.ns;
    }
    std::optional<Finding> on_step(SimTime now);
    // No honest replica that is up lacks an index another honest replica delivered: nothing
    // owed is outstanding (a stop "when done" waits for this too).
    bool settled() const { return owing_ == 0; }

private:
    struct Pending {
        std::vector<std::uint64_t> delivered;  // bitmap of honest replicas
        std::uint32_t count = 0;
        std::uint32_t first = 0;  // the first honest replica to deliver
    };
    bool has(const Pending& p, std::uint32_t r) const {
        return (p.delivered[r / 64] >> (r % 64)) & 1;
    }
    std::int64_t deadline_after(SimTime t) const;
    void prune();

    // Indices lacked only by replicas that are down are forgotten once this many are pending, so
    // memory stays bounded while a replica is down for good (its obligation is then unchecked).
    static constexpr std::size_t kPruneAtLeast = 65536;

    std::vector<bool> honest_, active_;
    std::vector<SimTime> up_since_;  // when each replica last came back up
    std::uint32_t honest_count_ = 0, active_honest_ = 0;
    std::map<std::uint64_t, Pending> pending_;  // indices some honest replica still lacks
    std::set<std::pair<std::int64_t, std::uint64_t>> deadlines_;  // (deadline ns, index)
    // Pairs (pending index, honest replica up that lacks it).
    std::uint64_t owing_ = 0;
    std::size_t prune_at_ = kPruneAtLeast;
    SimTime from_, bound_;
};

}  // namespace sim
