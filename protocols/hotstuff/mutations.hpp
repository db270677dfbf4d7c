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
};

// In enum order.
inline std::vector<std::string> mutation_names() {
    return {"two_chain_commit", "no_consecutive_view_check", "vote_without_lock_check",
            "accept_small_qc", "forget_lock_after_restart"};
}

using Mutations = proto::MutationSet<Mutation>;

}  // namespace hotstuff
