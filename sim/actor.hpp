// Actors and the Context: the only way a replica or client touches the world.
//
// A handler runs at one instant of virtual time. Everything it emits (messages, timers, commits)
// goes through the Context it was given, which is valid only for the duration of that call.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "sim/hash.hpp"
#include "sim/payload.hpp"
#include "sim/random.hpp"
#include "sim/types.hpp"

namespace sim {

class Environment;

// One client request as the invariant checker sees it.
struct RequestKey {
    NodeId client{};
    std::uint64_t timestamp = 0;
    auto operator<=>(const RequestKey&) const = default;
};
// For sim::FlatMap: a request's client and timestamp, avalanched.
struct RequestKeyHash {
    std::size_t operator()(const RequestKey& k) const noexcept {
        return static_cast<std::size_t>(mix64((std::uint64_t{k.client.v} << 40) ^ k.timestamp));
    }
};

// A replica executed the slot `index` of its log (a PBFT sequence number, a HotStuff log
// position). `digest` names the slot's content; `requests` are executed in order (empty for a
// null request). `state` is the replica's state digest after executing the slot.
struct ExecutedRequest {
    RequestKey key;
    Digest digest{};  // of the request as the client issued it
    Digest result{};  // what the replica replies
    // The command's own data, where it has any (a MAPE-K decision and its justification);
    // valid during the commit call only.
    const std::vector<std::uint8_t>* data = nullptr;
};
struct CommitRecord {
    std::uint64_t index = 0;
    std::uint64_t view = 0;
    Digest digest{};
    Digest state{};
    std::span<const ExecutedRequest> requests;
};

class Context {
public:
    virtual ~Context() = default;

    virtual SimTime now() const = 0;
    virtual NodeId self() const = 0;
    // Replicas are NodeIds 0..replica_count()-1.
    virtual std::uint32_t replica_count() const = 0;
    // The fault threshold of the run (f).
    virtual std::uint32_t fault_threshold() const = 0;

    // Sends to one node. A message to oneself is delivered at once and is not a network message.
    virtual void send(NodeId to, PayloadRef msg) = 0;
    // Sends to every replica except self (n-1 network messages), sharing one payload.
    virtual void broadcast(PayloadRef msg) = 0;

    // Fires on_timer(tag) after `after` unless cancelled first. Timers die with a crash.
    virtual TimerId set_timer(SimTime after, std::uint64_t tag) = 0;
    virtual void cancel_timer(TimerId id) = 0;

    // Signs with this node's own key; no node can sign with another's.
    virtual Signature sign(Digest d) = 0;
    virtual bool verify(NodeId signer, Digest d, const Signature& sig) = 0;
    // Combines signatures over one digest into one, where the scheme allows it (simulated
    // signatures do, like BLS); nullopt where it does not (Ed25519: keep the list).
    virtual std::optional<Signature> aggregate(std::span<const Signature> sigs) = 0;
    // Verifies an aggregate made by aggregate() from exactly these signers' signatures over d.
    virtual bool verify_aggregate(std::span<const NodeId> signers, Digest d,
                                  const Signature& agg) = 0;
    // Charges the CPU time of `count` signature verifications without doing them, for a node
    // that takes a check's result from the memo below: virtual time is as if it had checked.
    virtual void charge_verify(std::uint32_t count) = 0;
    // A run-wide memo of signature checks that passed, by a digest of everything checked (e.g.
    // a QC's statement, signer bitmap and signatures). Such a result is a pure function of its
    // input, so one node may reuse another's, charging what its own check would cost. The memo
    // may forget (then the check is done again); without one, nothing is remembered.
    virtual bool verified_before(std::uint64_t key) const {
        (void)key;
        return false;
    }
    virtual void remember_verified(std::uint64_t key) { (void)key; }

    // A certificate this replica accepted: `signers` distinct valid signatures over statement
    // (kind, view, slot, value). The checker holds honest replicas to one value per (kind,
    // view) (e.g. HotStuff's one QC per view) and to a quorum it computes itself from the run's
    // n and f, never from what the replica believes it needs.
    virtual void certified(std::uint8_t kind, std::uint64_t view, std::uint64_t slot, Digest value,
                           std::uint32_t signers) = 0;
    // The replica's own protocol invariant does not hold (e.g. its lock moved back). From an
    // honest replica this is a violation the checker reports under `invariant`.
    virtual void invariant_failed(std::string_view invariant, std::string_view detail) = 0;

    // Replica effects, observed by the invariant checker and the reports.
    virtual void commit(const CommitRecord& rec) = 0;
    virtual void state_transferred(std::uint64_t index, Digest state) = 0;
    virtual void view_entered(std::uint64_t view) = 0;
    // A bounded table of this replica refused, or evicted, `count` things a peer sent (a
    // message beyond a buffer's bound, a checkpoint beyond the table's, an answer asked for too
    // often): counted in the report per table, so a run shows what an adversary tried.
    virtual void refused(std::string_view table, std::uint64_t count = 1) {
        (void)table;
        (void)count;
    }
    // This replica now holds `size` entries in `table`, a table its peers fill (a buffer of
    // messages for later views, a table of checkpoints), called as the table grows. The checker
    // holds honest replicas to the protocol's bound on any such table (bounded_state), and the
    // report keeps each table's peak.
    virtual void holding(std::string_view table, std::uint64_t size) {
        (void)table;
        (void)size;
    }
    // This replica stopped trusting `node` (e.g. it started a view change away from it).
    virtual void suspect(NodeId node) = 0;
    // This replica holds verified proof that `culprit` misbehaved (two conflicting signed
    // statements). The node is reported Byzantine; proof against an honest node is a checker
    // violation ("false_evidence"), since honest nodes never sign conflicting statements.
    virtual void evidence(NodeId culprit, std::string_view what) = 0;

    // Client effects.
    virtual void issue(RequestKey key, Digest digest) = 0;
    // The client hands an issued request to the replicas for the first time (an open loop's
    // arrivals wait at the client until then): liveness is owed from here.
    virtual void request_sent(RequestKey key) { (void)key; }
    virtual void accept(RequestKey key, Digest result, std::uint64_t view, std::uint64_t index) = 0;

    // The world outside the protocol that this run simulates (sim/environment.hpp), if any.
    virtual Environment* environment() { return nullptr; }

    // This actor's own random stream (forked from the root by its id).
    virtual RandomStream& rng() = 0;
    // A free-form line for the trace (only kept when tracing).
    virtual void trace(std::string_view line) = 0;
    virtual bool tracing() const = 0;
};

// A replica or client: a deterministic state machine driven by the engine.
class Actor {
public:
    virtual ~Actor() = default;
    virtual void on_start(Context& ctx) = 0;
    // `from` is the node the network delivered this from (authenticated channel).
    virtual void on_message(Context& ctx, NodeId from, const Payload& msg) = 0;
    virtual void on_timer(Context& ctx, std::uint64_t tag) = 0;
    // After a crash: the node comes back with its state (timers were lost).
    virtual void on_recover(Context& ctx) { on_start(ctx); }
    // After a crash that lost the state: a fresh actor starts, knowing it missed everything.
    virtual void on_restart(Context& ctx) { on_start(ctx); }
};

}  // namespace sim
