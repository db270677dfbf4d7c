// Seeded bugs for HotStuff ("/protocol/mutations"; scenarios/FORMAT.md), all off by default and
// each one conditional in the safety core. Sources: Yin et al., PODC'19 and arXiv:1803.05069
// (PROTOCOLS.md §2), and the Twins paper (Bano et al.) for lost state after a restart.
#pragma once

#include <string>
#include <vector>

#include "protocols/common/mutations.hpp"

namespace hotstuff {

enum class Mutation : std::uint8_t {
    // two_chain_commit: commit b' once b'' is its direct child; Alg. 4 commits b on a 3-chain.
    TwoChainCommit,
    // no_consecutive_view_check: 3-chain on parent links alone; Alg. 3 needs consecutive views.
    NoConsecutiveViewCheck,
    // vote_without_lock_check: safeNode always true; Alg. 4 votes only on a safeNode proposal.
    VoteWithoutLockCheck,
    // accept_small_qc: a QC of f+1 votes is valid; Alg. 4 onReceiveVote forms one at n-f.
    AcceptSmallQc,
    // forget_lock_after_restart: on recovery the lock is genesis again; Twins' "lost state" bug.
    ForgetLockAfterRestart,
    // basic_leader_waits_for_work: a basic-HotStuff leader with no new command does not propose,
    // even when the highest QC's block is not decided; Alg. 2 proposes on prepareQC each view,
    // and only a decided descendant executes the block (its commands would wait for ever).
    BasicLeaderWaitsForWork,
    // prune_without_snapshots: replicas keep only 4 heights below their executed block and
    // answer a sync with their current state, so a replica behind peers that executed
    // different heights finds neither the blocks it misses nor f+1 identical snapshots.
    // PROTOCOLS.md §4.13: a replica that fell behind must catch up.
    PruneWithoutSnapshots,
    // trust_block_commands: a block's commands are executed unchecked, so a Byzantine leader
    // orders requests no client signed (PROTOCOLS.md §4.12: each command carries a valid
    // client signature, and a replica is no client).
    TrustBlockCommands,
    // trust_block_height: a block's height is taken as sent, not checked to be its parent's + 1,
    // so one Byzantine leader makes honest replicas skip log positions (PROTOCOLS.md §4.12: a
    // block's height must be its parent's + 1).
    TrustBlockHeight,
    // trust_proposal_view: a proposal is taken in whatever view its leader names, however far
    // above the replica's view and what its QC proves, so one Byzantine leader moves every
    // honest replica there on its word alone; at the largest view numbers, where view + 1 has
    // nowhere to go, they never vote again (PROTOCOLS.md §4.12: views far ahead must not be
    // adopted unchecked, and view + 1 must not overflow).
    TrustProposalView,
    // idle_by_own_commit: a leader with no new command proposes only while blocks above its own
    // executed height hold commands, so a leader that executed what the others have not (its
    // proposal with the completing QC was lost) stays idle; with a Byzantine leader among the
    // others no three consecutive views certify a block again and the commands wait for ever.
    // PROTOCOLS.md §2.6: liveness after GST needs honest leaders to decide; a leader judges
    // what is left to commit by the chain, which everyone holds, not by its own execution.
    IdleByOwnCommit,
    // ignore_old_decide: basic variant: a DECIDE whose commitQC is for a view the replica has
    // left (its timer fired first) is dropped, so the decided block waits for a later decision
    // that may never come (HotStuff Alg. 2: a commitQC decides its block whenever it arrives).
    IgnoreOldDecide,
    // lock_by_height: chained variant: the lock moves to b' when b' is higher than the locked
    // block, while vote-once and safeNode compare views. A block on a fork that is higher but
    // older (or lower but newer) than the lock moves it the wrong way, and a Byzantine leader
    // proposing on an older QC collects honest votes the view rule forbids (PROTOCOLS.md §4.11:
    // one rule set; chained.cpp states the argument for views).
    LockByHeight,
    // trust_author_caches: a block's cached answers (its digest check, its commands' check, its
    // QC's memo key, its proposal digest) count even when computed before the block was sent,
    // so a Byzantine author asks them of an honest block, then edits it under the same digest
    // and signatures: invented commands and forged QCs pass (PROTOCOLS.md §4.12: what a
    // replica checks is what it received; sim::ContentMemo keeps answers from the seal on).
    TrustAuthorCaches,
    // one_timer_per_view: basic variant: the view timer runs once per view, from its start,
    // and a view that certified its proposal resets the back-off for the next: four phases
    // (seven message delays) must fit in the base timeout, so on a network slower than that no
    // view ever decides (PROTOCOLS.md §2.6 and §4.10: a livelock under a slow network). The
    // fix gives each phase the timeout: the timer restarts as each phase of the view arrives.
    OneTimerPerView,
    // no_idle_sync: a replica asks for a sync only when a block far above its executed height
    // arrives, never once nothing executes for a while, and a SYNC-REQUEST from a replica
    // that executed more tells it nothing; one cut off while the others executed the last
    // blocks of a workload stays behind for good (PROTOCOLS.md §4.13: a replica that fell
    // behind must catch up; the checker's catch_up once the requests are done).
    NoIdleSync,
    // silent_after_vote: chained variant: a replica in a view it entered by a vote tells the
    // view's leader nothing when the others time out into that view, and the leader proposes
    // on n-f NEW-VIEWs whether or not a QC is coming. After a Byzantine leader's block reached
    // only some replicas, those that voted never send the next leader a NEW-VIEW, it never
    // holds n-f, and nothing commits again (PROTOCOLS.md §2.6: replicas in a view without
    // progress send its leader a NEW-VIEW).
    SilentAfterVote,
    // bounded_idle_sync: once idle, a replica sends five SYNC-REQUESTs with back-off and stops,
    // whoever it heard, and a sync answer carries snapshots only, adopted once f+1 replicas
    // send the same: one cut off for longer than the asks while the others executed the last
    // blocks of a workload stays behind for good (PROTOCOLS.md §4.13; the fix asks, up to 2^5
    // view timeouts apart, until every other replica asked at its height or answered, and
    // answers with the proposal whose QCs committed its last block as well).
    BoundedIdleSync,
    // uncapped_view_timer: the view timer doubles per view missed since the highest QC up to
    // 2^16 times, not 2^3, so views that failed through a long partition leave a timer that,
    // once it heals, waits far past the liveness bound (found by the chained long-outages
    // sweep; PODC'19 §4.4 leaves the pacemaker's back-off open, and after GST delays are
    // bounded).
    UncappedViewTimer,
    // sync_votes_never_expire: a replica that syncs refuses a sender's snapshot once it backed
    // three others, however old: one that heard stale snapshots while cut off from most
    // replicas refuses every fresh one after and never catches up (found by the chained
    // long-outages sweep; the fix lets a fourth replace the sender's oldest).
    SyncVotesNeverExpire,
};

// In enum order.
inline std::vector<std::string> mutation_names() {
    return {"two_chain_commit",
            "no_consecutive_view_check",
            "vote_without_lock_check",
            "accept_small_qc",
            "forget_lock_after_restart",
            "basic_leader_waits_for_work",
            "prune_without_snapshots",
            "trust_block_commands",
            "trust_block_height",
            "trust_proposal_view",
            "idle_by_own_commit",
            "ignore_old_decide",
            "lock_by_height",
            "trust_author_caches",
            "one_timer_per_view",
            "no_idle_sync",
            "silent_after_vote",
            "bounded_idle_sync",
            "uncapped_view_timer",
            "sync_votes_never_expire"};
}
// The mutations a variant runs: the commit-rule ones change only the chained variant's rule,
// basic_leader_waits_for_work only the basic variant's leader.
inline std::vector<std::string> mutation_names(bool basic) {
    std::vector<std::string> out;
    for (const std::string& m : mutation_names()) {
        const bool chained_only = m == "two_chain_commit" || m == "no_consecutive_view_check" ||
                                  m == "idle_by_own_commit" || m == "lock_by_height" ||
                                  m == "silent_after_vote" || m == "uncapped_view_timer";
        // prune_without_snapshots changes both variants, but only the basic sweep shows it
        // (20,000 chained seeds did not): the hunt looks for it there.
        const bool basic_only = m == "basic_leader_waits_for_work" ||
                                m == "prune_without_snapshots" || m == "ignore_old_decide" ||
                                m == "one_timer_per_view";
        if (basic ? !chained_only : !basic_only) out.push_back(m);
    }
    return out;
}

using Mutations = proto::MutationSet<Mutation>;

}  // namespace hotstuff
