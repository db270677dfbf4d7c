// Byzantine behaviour for HotStuff: strategies that rewrite honest replicas' outboxes, as for
// PBFT. Behaviours (scenario "behavior" names):
//   silent          sends nothing
//   silent_leader   never sends its proposals
//   equivocate      as leader, sends a conflicting block of the same view to half the replicas
//   double_vote     with each vote, also votes for a conflicting block of the same view
//   withhold_votes  sends no votes (to "targets", or to anyone)
//   fork_old_qc     as leader, proposes on an older QC than its highest, to fork the chain
//   forged_qc       as leader, justifies its block with a QC whose signature is forged
//   undersized_qc   as leader, justifies its block with a QC missing one signer (validly
//                   signed over the votes it received, when it holds them)
//   twins           two honest replicas share this identity and key (the Twins paper); one
//                   talks only to "a", the other only to "b" (replica ids; clients reach both);
//                   "views": [{"view": V, "a": [...], "b": [...]}] changes the sides per view
//   script          per view, what this replica proposes as leader: on which QC, to whom,
//                   with which height and commands (protocols/hotstuff/script.hpp)
//   mutate          small-scope mutation of outgoing messages (protocols/common/mutate.hpp,
//                   through hotstuff::Craft)
//   far_future      every "every" (50ms), a VOTE and a NEW-VIEW to every replica for a view
//                   "views_ahead" (1000) above its own and more, cycling through that many
//                   views; with "max_view" (true) every fourth one for view 2^64-1 or 2^64-2;
//                   with "propose" (true) also a PROPOSAL on its high QC in the largest view at
//                   or below it that it leads (protocols/hotstuff/byzantine_far.hpp)
//   mixed_qc        as leader, proposes on a QC whose signatures each verify but over
//                   different statements ("mix": blocks, views, phases), or on a real QC
//                   relabelled with another block or view (relabel_block, relabel_view); the
//                   default "all" takes them in turn (protocols/hotstuff/byzantine_far.hpp)
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "protocols/common/mutate.hpp"
#include "protocols/hotstuff/byzantine_far.hpp"
#include "protocols/hotstuff/replica.hpp"
#include "protocols/hotstuff/script.hpp"
#include "sim/scenario.hpp"

namespace hotstuff {

struct Behavior {
    enum class Kind {
        Silent,
        SilentLeader,
        Equivocate,
        DoubleVote,
        WithholdVotes,
        ForkOldQc,
        ForgedQc,
        UndersizedQc,
        Twins,
        Mutate,
        Script,
        FarFuture,
        MixedQc
    };
    Kind kind = Kind::Silent;
    sim::SimTime from{}, until = sim::SimTime::max();
    std::vector<std::uint32_t> targets;  // withhold_votes (empty: everyone); silent_leader's `to`
    // fork_old_qc: fork from the newest remembered block two views or more behind the justify
    // (in a steady chain the locked block: the fork is its sibling, an unsafe node), not the
    // oldest (which usually lies at or below the executed height, and honest replicas drop it).
    bool fork_newest = false;
    std::vector<std::uint32_t> a, b;  // twins: the replicas each twin talks to
    // Twins' per-view partitions (the Twins paper's per-round schedules): from `view` on, as
    // seen by each twin itself, the twins talk to these replicas instead.
    struct Phase {
        std::uint64_t view = 0;
        std::vector<std::uint32_t> a, b;
    };
    std::vector<Phase> phases;       // sorted by view
    proto::MutateParams mutate;      // mutate
    std::vector<ScriptStep> script;  // script
    FarFutureParams far;             // far_future
    MixedQcParams mixed;             // mixed_qc

    bool active(sim::SimTime now) const { return now >= from && now < until; }
};

std::vector<std::string> behavior_names();
Behavior parse_behavior(const sim::FaultSpec& f, const sim::ScenarioSpec& spec);
std::unique_ptr<sim::Actor> make_byzantine(const Config& cfg, std::vector<Behavior> behaviors);

}  // namespace hotstuff
