// The invariant checker: safety (agreement, validity, integrity, client safety) and bounded
// liveness, checked incrementally as effects happen, so a step that changes nothing costs O(1).
//
// Only replicas that no scenario entry makes Byzantine count as honest; crashed replicas are
// honest. The first violation is kept; the simulator stops the run when it appears.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "sim/actor.hpp"
#include "sim/log_monitor.hpp"
#include "sim/monitor.hpp"
#include "sim/totality.hpp"
#include "sim/types.hpp"

namespace sim {

struct Violation {
    std::string invariant;  // agreement, validity, integrity, client_safety, liveness
    std::string detail;
    SimTime time{};
    std::uint64_t event = 0;
    std::vector<std::uint32_t> nodes;
};

struct CheckerConfig {
    std::uint32_t replicas = 0;
    std::uint32_t f = 0;          // the faults the run tolerates (the scenario's f)
    std::vector<bool> byzantine;  // per replica
    SimTime liveness_bound = seconds(30);
    SimTime liveness_from{};  // max(GST, end of the last scheduled fault)
    bool liveness_expected = true;
    // The protocol orders one log, so honest replicas also reach one state per index (PBFT,
    // HotStuff; not reliable broadcast, which delivers in a different order at each replica).
    bool compare_states = false;
};

class Checker {
public:
    explicit Checker(CheckerConfig cfg);
    // It keeps an iterator into its own map: not copied or moved.
    Checker(const Checker&) = delete;
    Checker& operator=(const Checker&) = delete;

    void on_commit(NodeId replica, const CommitRecord& rec, SimTime now, std::uint64_t event);
    void on_state_transfer(NodeId replica, std::uint64_t index, Digest state, SimTime now,
                           std::uint64_t event);
    // One certified value per (kind, view) among honest replicas, each with a quorum of
    // n - f signers (a quorum certificate, HotStuff §4.1), from the config's n and f.
    void on_certified(NodeId replica, std::uint8_t kind, std::uint64_t view, std::uint64_t slot,
                      Digest value, std::uint32_t signers, SimTime now, std::uint64_t event);
    void on_invariant_failed(NodeId replica, std::string_view invariant, std::string_view detail,
                             SimTime now, std::uint64_t event);
    // bounded_state: an honest replica holds at most the protocol's bound in any table its
    // peers fill, however much a Byzantine peer sends (0: the protocol states none).
    void set_held_bound(std::uint64_t bound) { held_bound_ = bound; }
    void on_holding(NodeId replica, std::string_view table, std::uint64_t size, SimTime now,
                    std::uint64_t event);
    void on_issue(RequestKey key, Digest digest);
    void on_request_sent(RequestKey key, SimTime now);
    void on_accept(RequestKey key, Digest result, SimTime now, std::uint64_t event);
    // Called after every event: O(1) unless a liveness deadline passed.
    void on_step(SimTime now, std::uint64_t event) {
        if (!deadlines_.empty() && deadlines_.begin()->first < now.ns) liveness_missed(now, event);
        if (log_ && log_->due(now)) report(log_->on_step(now), now, event);
        if (totality_ && totality_->due(now)) report(totality_->on_step(now), now, event);
    }
    // Nothing owed is outstanding that a run stopping "when done" would leave unchecked (while
    // liveness is owed): no honest replica that is up lacks an index another honest replica
    // delivered (reliable broadcast) or executed (a protocol that orders one log).
    bool settled() const {
        return (!totality_ || totality_->settled()) && (!log_ || log_->settled());
    }
    void set_active(NodeId replica, bool active, SimTime now = {});
    // The protocol's own monitor (sim/monitor.hpp), if it has one.
    void set_wire_monitor(std::unique_ptr<WireMonitor> m);
    bool has_wire_monitor() const { return wire_ != nullptr; }
    // A node handed `msg` to the network (or to itself). A broadcast hands one payload to n-1
    // sends in a row: the monitor sees it once.
    void on_send(std::uint32_t from, const PayloadRef& msg, SimTime now, std::uint64_t event) {
        if (wire_kinds_ == 0 || msg->kind >= 64 || !((wire_kinds_ >> msg->kind) & 1)) return;
        if (msg.get() == last_sent_.get() && from == last_sender_) return;
        last_sent_ = msg;
        last_sender_ = from;
        if (violation_) return;
        wire_->at(now);
        if (auto f = wire_->on_send(from, *msg)) report(std::move(f), now, event);
    }
    // The replica restarted without its state: it may execute again, from its new state,
    // requests it executed before (integrity holds per state-machine instance), and, having
    // forgotten what it signed, it may sign a conflicting statement: amnesia is a fault, so
    // evidence against it from then on is not false evidence.
    void on_state_lost(NodeId replica);
    // The protocol orders one log: agreement, exactly-once and catch-up are checked on it by a
    // LogMonitor (see sim/log_monitor.hpp) instead of index by index. Otherwise each index is
    // checked by itself, and for totality by a TotalityMonitor (sim/totality.hpp) when
    // liveness is owed.
    void set_compare_states(bool on);
    // A replica proved `culprit` misbehaved; honest replicas never sign conflicting statements.
    void on_evidence(NodeId reporter, NodeId culprit, std::string_view what, SimTime now,
                     std::uint64_t event);
    // At the end of the run: a liveness deadline passed before the end time, and results
    // accepted that no honest replica ever produced. `quiescent`: the run ended because nothing
    // was left to happen, so a replica still behind will never catch up (its deadline counts
    // as passed).
    void finish(SimTime now, std::uint64_t event, bool quiescent = false);

    // A finding of a monitor outside the checker (the environment's).
    void on_finding(std::optional<Finding> f, SimTime now, std::uint64_t event) {
        if (!violation_) report(std::move(f), now, event);
    }

    const std::optional<Violation>& violation() const { return violation_; }
    bool honest(NodeId replica) const {
        return replica.v < cfg_.replicas && !cfg_.byzantine[replica.v];
    }

private:
    struct Slot {
        Digest digest{};
        Digest state{};
        std::uint32_t first = 0;
        std::uint32_t count = 0;
        std::vector<std::uint64_t> seen;  // bitmap of the replicas that executed it
    };
    std::unique_ptr<LogMonitor> log_;            // protocols that order one log
    std::unique_ptr<TotalityMonitor> totality_;  // the others, when liveness is owed
    std::unique_ptr<WireMonitor> wire_;
    // The payload the wire monitor saw last, kept alive so that its address names it.
    PayloadRef last_sent_;
    std::uint32_t last_sender_ = 0;
    std::uint64_t wire_kinds_ = 0;  // wire_->kinds(), or none
    void fail(std::string invariant, std::string detail, SimTime now, std::uint64_t event,
              std::vector<std::uint32_t> nodes);
    void report(std::optional<Finding> f, SimTime now, std::uint64_t event) {
        if (f) fail(std::move(f->invariant), std::move(f->detail), now, event, std::move(f->nodes));
    }
    // Reliable broadcast: one digest per index among honest replicas, each counted once.
    bool check_slot(NodeId replica, const CommitRecord& rec, SimTime now, std::uint64_t event);
    void liveness_missed(SimTime now, std::uint64_t event);
    void prune();

    CheckerConfig cfg_;
    std::uint32_t honest_count_ = 0;
    std::map<std::uint64_t, Slot> slots_;    // index -> first honest execution
    std::vector<std::uint64_t> last_index_;  // per replica
    std::vector<bool> active_;
    std::vector<bool> amnesiac_;               // restarted without state at least once
    std::vector<std::vector<Digest>> issued_;  // [client][timestamp-1]
    // [replica][client]: the newest timestamp executed; clients are the issued_ ones (dense).
    std::vector<std::vector<std::uint64_t>> last_ts_;
    // Recent requests per client: the first honest result and the accepted one, compared when
    // both are known; entries far below the client's latest accepted timestamp are pruned.
    struct Outcome {
        std::optional<Digest> honest, accepted;
        std::uint32_t executor = 0;
    };
    std::map<RequestKey, Outcome> outcomes_;
    // The entry looked up last: the n replicas that execute one request report it in a row.
    // Reset to end() by every erase from outcomes_.
    std::map<RequestKey, Outcome>::iterator last_outcome_ = outcomes_.end();
    Outcome& outcome(const RequestKey& key);
    std::set<std::pair<std::int64_t, RequestKey>> deadlines_;
    std::map<RequestKey, std::int64_t> deadline_of_;
    struct Certified {
        Digest value{};
        std::uint64_t slot = 0;
        std::uint32_t replica = 0;
    };
    std::map<std::pair<std::uint64_t, std::uint8_t>, Certified> certified_;  // (view, kind)
    // The (view, kind) and value on_certified saw last, while certified_ holds it: the n
    // replicas that accept one QC report it in a row, and a repeat needs no lookup.
    std::optional<std::pair<std::pair<std::uint64_t, std::uint8_t>, Digest>> last_certified_;
    std::uint64_t held_bound_ = 0;
    std::optional<Violation> violation_;
};

}  // namespace sim
