// The executed-log monitor of a protocol that orders one log (PBFT, HotStuff), written from the
// safety definitions (PROTOCOLS.md §3 S1, S3) and apart from the replicas' own bookkeeping:
//
// - agreement as a hash chain: the monitor hashes each honest replica's log itself (index,
//   slot digest, and the requests the replica executed there, with their results), so equal
//   chain values at index i mean equal logs up to i. Every honest replica's chain at every index
//   is compared with the first honest replica's to reach it; no index is forgotten while some
//   honest replica (crashed ones included) has not passed it;
// - a replica's indices follow one another (i+1 after i); a jump only through a state transfer
//   to a state some honest replica reached at that index (a verified transfer);
// - exactly-once in the replicated service: along the agreed log, each client's requests are
//   executed in strictly increasing timestamp order, so none twice, whatever each replica's
//   reply cache says;
// - catch-up liveness: once liveness is owed, every honest replica's log reaches the highest
//   index an honest replica executed within the liveness bound.
//
// The replica's reported state digest is compared too (the protocol's own hash of its state),
// but the monitor never trusts it for its own chain.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/actor.hpp"
#include "sim/monitor.hpp"
#include "sim/ring.hpp"
#include "sim/types.hpp"

namespace sim {

class LogMonitor {
public:
    // `honest[r]`: replica r counts; liveness is owed from `from` (GST and the last fault) with
    // `bound`, if `owed`.
    LogMonitor(std::vector<bool> honest, bool owed, SimTime from, SimTime bound);

    std::optional<Finding> on_commit(std::uint32_t replica, const CommitRecord& rec, SimTime now);
    std::optional<Finding> on_state_transfer(std::uint32_t replica, std::uint64_t index,
                                             Digest state);
    // The replica restarted without its state: its log starts over.
    void on_state_lost(std::uint32_t replica);
    // A crashed replica owes no catch-up while it is down; back up at `now`, it owes the
    // highest agreed index within the bound.
    void set_active(std::uint32_t replica, bool active, SimTime now);
    // Whether a catch-up deadline passed (O(1)); then on_step checks it.
    bool due(SimTime now) const {
        return !deadlines_.empty() && deadlines_.front().deadline_ns < now.ns;
    }
    std::optional<Finding> on_step(SimTime now) { return catch_up_due(now); }
    // Whether every honest replica that is up has executed what the others did (or nothing is
    // owed): a run that stops when its requests are done waits for this, up to the deadlines.
    bool settled() const;

private:
    struct Ref {
        std::uint64_t chain = 0, requests = 0;
        Digest digest{}, state{};
        std::uint32_t first = 0;  // the honest replica that executed it first
    };
    struct Replica {
        std::uint64_t index = 0, chain = 0;
        bool honest = false, active = true;
        // Its position is below what the monitor still remembers (it was down long, or took a
        // state transfer there): its chain is unknown until it reaches a remembered index,
        // where its digest, requests and state are compared and it takes the agreed chain.
        bool unverified = false;
    };
    struct Deadline {
        std::int64_t deadline_ns = 0;
        std::uint64_t index = 0;
    };
    const Ref* ref_at(std::uint64_t index) const {
        if (index < refs_base_ || index - refs_base_ >= refs_.size()) return nullptr;
        return &refs_[index - refs_base_];
    }
    std::optional<Finding> compare(std::uint32_t replica, const CommitRecord& rec,
                                   std::uint64_t requests, const Ref& ref) const;
    std::optional<Finding> extend(std::uint32_t replica, const CommitRecord& rec,
                                  std::uint64_t requests, SimTime now);
    std::optional<Finding> catch_up_due(SimTime now);
    // An index that does not follow the replica's last one.
    std::optional<Finding> out_of_order(std::uint32_t replica, const CommitRecord& rec) const;
    void add_deadline(SimTime now, std::uint64_t index);
    void prune();

    std::vector<Replica> replicas_;
    Ring<Ref> refs_;  // the agreed log: index refs_base_ + k at refs_[k]
    std::uint64_t refs_base_ = 1;
    std::size_t prune_at_ = 4096;
    std::vector<std::uint64_t> service_ts_;  // per client: newest timestamp along the log
    bool owed_;
    SimTime from_, bound_;
    Ring<Deadline> deadlines_;  // catch-up deadlines, in time order
};

}  // namespace sim
