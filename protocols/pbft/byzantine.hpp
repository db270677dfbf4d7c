// Byzantine behaviour for PBFT as strategies that rewrite an honest replica's outbox (the
// concord-bft way): the honest Replica runs unchanged inside a ByzantineReplica, whose Context
// intercepts every send. Honest code has no `if (byzantine)`, and strategies have no back door:
// they sign only with their own node's key, through the same Context.
//
// Behaviours (scenario "behavior" names):
//   silent             sends nothing
//   crash              handles nothing and sends nothing (a crash that counts against f)
//   equivocate         as primary, sends a conflicting PRE-PREPARE (the null request) to half of
//                      the honest backups; with "collude": true, also commits to that half;
//                      with "splice": true, relays the first half's PREPAREs and COMMITs to the
//                      second under the null digest, their authors' signatures kept (a splice
//                      honest replicas must refuse: the signature covers another body)
//   collude            backs an equivocating primary: PREPARE/COMMIT for the null request to
//                      the same half (together with `equivocate`, more than f of these break
//                      agreement: the checker's own test)
//   conflicting_votes  PREPARE/COMMIT for a digest it never received; REPLY with a bogus result
//   forge_sender       also sends copies claiming to come from "victim" (signed with its own
//                      key, so honest replicas must reject them)
//   drop               drops everything to "targets"
//   delay              delays everything to "targets" by "delay"
//   replay             also re-sends old messages ("probability" per send)
//   lying_view_change  sends VIEW-CHANGE with an empty P set
//   null_new_view      as new primary, sends NEW-VIEW whose O has the null request at every
//                      number (honest backups recompute O and refuse it) and COMMITs for them
//   mutate             small-scope mutation of outgoing messages (protocols/common/mutate.hpp)
// Behaviours that craft chosen messages, signed with the replica's own key (byzantine_craft.hpp):
//   preprepare         as primary, its PRE-PREPAREs to "to" (default: every backup) at n +
//                      "seq_offset" (default 1: a gap; beyond L: above the high watermark), with
//                      "digest" "batch" (default), "other" (not its batch's) or "null" (the null
//                      request), and with "twice", the same again at the next number
//   stale_view_change  every "every", a VIEW-CHANGE for the view after its own, with "prepared"
//                      "none" (default), "stale" (per number the oldest-view certificate it saw)
//                      or "forged" (a certificate whose PREPAREs it signed for other replicas)
//   bogus_checkpoint   every "every", "count" CHECKPOINTs with random states, at checkpoint
//                      numbers in its window and at numbers up to 8 windows above it
//   client_request     every "every", a REQUEST as client "client" (default: its own id;
//                      another id is claimed under its own signature), broadcast; as primary
//                      it also puts each one into its next PRE-PREPARE's batch
//   wrong_reply        REPLYs with a wrong result ("probability" per reply)
//   far_future         "rate" messages a second (PRE-PREPARE, PREPARE, COMMIT, VIEW-CHANGE in
//                      turn) for views up to "views_ahead" above its own and numbers far above
//                      its window
//   false_catch_up     answers each STATUS with a CATCH-UP that breaks one rule in turn:
//                      certificates one COMMIT short, one replica's COMMIT twice, a certificate
//                      of its own with COMMITs it forged for others, COMMITs spliced to its own
//                      PRE-PREPARE's digest, a checkpoint proof of its own CHECKPOINT q times
// A primary's script (script.hpp):
//   censor             drops every REQUEST of the "clients" (default: the first client) it
//                      receives: as primary it orders everyone's requests but theirs, as a
//                      backup it relays none of theirs
//   script             per view it leads, what its PRE-PREPAREs carry: "seq" "next" or N (the
//                      view's first at N, the rest after it), "requests" "honest", "none",
//                      "duplicate" or "other" (one it signs for a client), and "to" whom
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocols/common/mutate.hpp"
#include "protocols/pbft/byzantine_craft.hpp"
#include "protocols/pbft/craft.hpp"
#include "protocols/pbft/replica.hpp"
#include "protocols/pbft/script.hpp"
#include "sim/scenario.hpp"

namespace pbft {

struct Behavior {
    enum class Kind {
        Silent,
        Crash,
        Equivocate,
        Collude,
        ConflictingVotes,
        ForgeSender,
        Drop,
        Delay,
        Replay,
        LyingViewChange,
        NullNewView,
        Mutate,
        PrePrepare,
        StaleViewChange,
        BogusCheckpoint,
        ClientRequest,
        WrongReply,
        FarFuture,
        FalseCatchUp,
        Script,
        Censor
    };
    enum class PpDigest : std::uint8_t { Batch, Other, Null };
    enum class Prepared : std::uint8_t { None, Stale, Forged };
    Kind kind = Kind::Silent;
    sim::SimTime from{}, until = sim::SimTime::max();
    std::vector<std::uint32_t> targets;  // drop, delay, preprepare's "to" (empty: everyone)
    sim::SimTime delay = sim::milliseconds(100);
    std::uint32_t victim = 0;                     // forge_sender
    std::uint32_t replay_ppm = 200'000;           // replay
    bool collude = false;                         // equivocate
    bool splice = false;                          // equivocate
    std::vector<std::uint32_t> colluders;         // equivocate, collude: the Byzantine coalition
    proto::MutateParams mutate;                   // mutate
    std::uint64_t seq_offset = 1;                 // preprepare
    PpDigest pp_digest = PpDigest::Batch;         // preprepare
    bool twice = false;                           // preprepare
    Prepared prepared = Prepared::None;           // stale_view_change
    sim::SimTime every = sim::milliseconds(500);  // stale_view_change, bogus_checkpoint, ...
    std::uint32_t count = 4;                      // bogus_checkpoint
    std::optional<std::uint32_t> client;          // client_request (absent: its own id)
    std::uint64_t views_ahead = 1000;             // far_future
    std::uint32_t rate = 200;                     // far_future, messages per second
    std::uint32_t lie_ppm = 1'000'000;            // wrong_reply
    std::vector<ScriptStep> script;               // script
    std::vector<std::uint32_t> censored;          // censor: the clients whose requests it drops

    bool active(sim::SimTime now) const { return now >= from && now < until; }
};

std::vector<std::string> behavior_names();
// Validates a "byzantine" fault entry; throws sim::ScenarioError naming its path.
Behavior parse_behavior(const sim::FaultSpec& f, const sim::ScenarioSpec& spec);

class ByzantineReplica final : public sim::Actor {
public:
    ByzantineReplica(std::unique_ptr<Replica> inner, std::vector<Behavior> behaviors);
    ~ByzantineReplica() override;

    void on_start(sim::Context& ctx) override;
    void on_message(sim::Context& ctx, NodeId from, const sim::Payload& msg) override;
    void on_timer(sim::Context& ctx, std::uint64_t tag) override;
    void on_recover(sim::Context& ctx) override;
    void on_restart(sim::Context& ctx) override;

private:
    class Outbox;
    friend class Outbox;
    bool censors(sim::SimTime now, const sim::Payload& msg) const;
    static constexpr std::uint64_t kOwnTimer = 1ULL << 63;
    static constexpr std::uint64_t kTickTimer = 1ULL << 62;  // | the behaviour's index
    // The end of a crash behaviour's window: the honest core's timers died with the crash.
    static constexpr std::uint64_t kRecoverTimer = 1ULL << 61;

    // Arms the first tick of every periodic behaviour (timers die with a crash).
    void arm_ticks(sim::Context& ctx);
    void on_tick(sim::Context& ctx, std::size_t index);

    bool crashed(sim::SimTime now) const;
    // Applies every active behaviour to one outgoing message, in scenario order.
    void emit(sim::Context& ctx, NodeId to, sim::PayloadRef msg);
    bool apply(sim::Context& ctx, const Behavior& b, NodeId& to, sim::PayloadRef& msg);
    sim::PayloadRef conflict(sim::Context& ctx, const Behavior& b, NodeId to, sim::PayloadRef msg);
    sim::PayloadRef conflicting_vote(sim::Context& ctx, sim::PayloadRef msg);
    void replay(sim::Context& ctx, const Behavior& b, NodeId to, const sim::PayloadRef& msg);
    MessageRef rewrite_digest(sim::Context& ctx, const Message& m, Digest d);
    const std::vector<MessageRef>& null_new_view(sim::Context& ctx, const NewView& nv);
    std::vector<std::uint32_t> split_b(sim::Context& ctx, const Behavior& b) const;
    void splice_votes(sim::Context& ctx, const Behavior& b, const sim::Payload& msg);

    std::unique_ptr<Replica> inner_;
    std::vector<Behavior> behaviors_;
    std::map<std::pair<std::uint64_t, std::uint64_t>, MessageRef> conflicting_;  // (v, n)
    std::vector<std::pair<std::uint32_t, sim::PayloadRef>> sent_;                // replay buffer
    std::map<std::uint64_t, std::pair<std::uint32_t, sim::PayloadRef>> delayed_;
    // null_new_view: per view, the rewritten NEW-VIEW followed by its COMMITs.
    std::map<std::uint64_t, std::vector<MessageRef>> null_new_view_;
    std::uint64_t next_delayed_ = 0;
    Craft craft_;
    std::unique_ptr<proto::Mutator> mutator_;  // with a mutate behaviour
    std::unique_ptr<Crafter> crafter_;         // with a behaviour of byzantine_craft.hpp
    std::unique_ptr<PrimaryScript> script_;    // with a script behaviour
    bool observing_ = false;                   // the crafter remembers what it sees
};

}  // namespace pbft
