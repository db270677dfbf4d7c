// HotStuff's wire monitor (sim/monitor.hpp): the paper's safety rules checked from what
// replicas send, apart from the replica code (PROTOCOLS.md §3, H1 H3 H4 H5; Yin et al., PODC'19,
// Algorithms 2 and 4). It keeps its own record of every block and quorum certificate on the
// wire, verifying each QC itself against n - f distinct valid signatures, and of each honest
// replica's votes, and checks:
//
// - quorum (H5): an honest replica votes only for a block whose justify QC is certified (and,
//   in basic HotStuff, votes PRE-COMMIT or COMMIT only on a certified QC of the phase before);
// - vote_once (H1): an honest replica's proposal votes go to strictly increasing views;
// - safe_node (H3, safeNode): an honest replica votes for a block only if it extends the
//   replica's lock or its justify QC is newer than the lock. The lock is the monitor's own
//   lower bound of it: for chained HotStuff the QC two hops up the justify chain of every block
//   the replica voted for (b*.justify.node.justify), for basic HotStuff the precommitQC of every
//   COMMIT vote, whichever is newest by view. A replica that fails to move its lock when it
//   must, or forgets it, votes where this lock forbids;
// - three_chain (H4): what an honest replica commits lies at or below the head of a certified
//   3-chain of direct parents in consecutive views (chained), or of a certified commitQC
//   (basic), seen on the wire before the commit.
//
// Votes a replica delivers to itself never reach the wire, so the monitor sees most votes, not
// all: it may miss a bad vote, never flag a good one. Blocks and certificates it has forgotten
// (it keeps two generations of 1024 entries) count as unknown, and unknown is never a finding.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "protocols/hotstuff/messages.hpp"
#include "sim/aged_map.hpp"
#include "sim/flat_map.hpp"
#include "sim/hash.hpp"
#include "sim/monitor.hpp"

namespace hotstuff {

class Monitor final : public sim::WireMonitor {
public:
    explicit Monitor(const sim::MonitorEnv& env);

    std::uint64_t kinds() const override;
    std::optional<sim::Finding> on_send(std::uint32_t from, const sim::Payload& msg) override;
    std::optional<sim::Finding> on_commit(std::uint32_t replica,
                                          const sim::CommitRecord& rec) override;
    void on_state_lost(std::uint32_t replica) override;

private:
    struct BlockInfo {
        Digest parent{};
        std::uint64_t view = 0, height = 0;
        proto::Statement justify;
    };
    struct Lock {
        std::uint64_t view = 0;  // the view of the QC that locks
        Digest block{};
        std::uint64_t height = 0;
    };
    // What every vote for one block shares.
    struct Voted {
        Digest block{};
        std::uint8_t kind = 0;
        proto::Statement justify;
        bool justify_ok = false;   // certified
        std::optional<Lock> lock;  // chained: the QC two hops up its justify chain
    };
    struct Voter {
        bool voted = false;
        std::uint64_t view = 0;  // of its last proposal vote (generic or PREPARE)
        Digest value{};
        Lock lock;
        Digest head{};  // the certified head its last commit lay below
        std::uint64_t head_height = 0;
    };
    struct Hash {
        std::size_t operator()(Digest d) const { return static_cast<std::size_t>(sim::mix64(d.v)); }
    };
    template <class V>
    using Aged = sim::AgedMap<Digest, V, Hash>;  // two generations of 1,024

    bool verify(const QuorumCert& qc);
    void record_qc(const QuorumCert& qc);
    void record_block(const BlockRef& b);
    bool certified(const proto::Statement& s) const;
    void certify(const proto::Statement& s);
    void check_three_chain(Digest b2);
    std::optional<sim::Finding> on_vote(std::uint32_t replica, const proto::SignedVote& v);
    const Voted* voted(const proto::Statement& s);
    std::optional<sim::Finding> on_proposal_vote(std::uint32_t replica, const proto::SignedVote& v,
                                                 const Voted& b);
    // The ancestor of `head` at `height`: its digest, or nullopt where the walk meets a block
    // the monitor does not know.
    std::optional<Digest> ancestor_at(Digest head, std::uint64_t height) const;
    bool covers(Digest head, const BlockInfo& x, Digest xd) const;

    std::uint32_t n_, quorum_;
    std::vector<bool> honest_;
    const sim::KeyRing& keys_;
    Aged<BlockInfo> blocks_;
    Aged<bool> certified_;      // by statement digest
    std::deque<Digest> heads_;  // recent committable heads, newest last
    std::vector<Voter> voters_;
    Voted voted_;  // the block voted for last
    // The block whose commit was last found below a head, and that head.
    Digest last_commit_{}, last_commit_head_{};
    std::uint64_t last_commit_head_height_ = 0;
};

}  // namespace hotstuff
