// Two HotStuff behaviours that craft chosen messages under the replica's own key (byzantine.hpp
// lists every behaviour; scenarios/FORMAT.md has their params):
//
//   far_future  every `every`, to every replica, a VOTE and a NEW-VIEW for a view far above its
//               own (its own + views_ahead + k mod views_ahead at the k-th tick, so the views
//               cycle through views_ahead distinct ones; with max_view, every fourth tick
//               2^64-1 or 2^64-2 in turn), and with `propose`, a PROPOSAL in the largest view
//               at or below that one which it leads. Honest replicas must never move there on
//               its word alone (the f+1 join rule), never overflow `view + 1`, and keep what
//               they store bounded however many views it names.
//   mixed_qc    as leader, proposes on a QC whose signer bitmap and signatures each verify, but
//               over different statements: n-f-1 votes for the QC's statement and one for
//               another block, the same block in another view, or another phase, from the
//               votes it received (else signed itself); or a real QC relabelled with another
//               block or view, its signatures kept. Honest replicas must refuse the block: a
//               QC's every signature is over its one statement.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <vector>

#include "protocols/hotstuff/messages.hpp"
#include "sim/scenario.hpp"

namespace hotstuff {

struct Config;

// far_future's votes are for the block Digest(mix64(view ^ kFarVoteBlock)): no block at all.
inline constexpr std::uint64_t kFarVoteBlock = 0x6661722d766f7465ULL;  // "far-vote"
// mixed_qc's other block, for a QC's block d: Digest(mix64(d ^ kMixedOtherBlock)).
inline constexpr std::uint64_t kMixedOtherBlock = 0x6d697865642d7163ULL;  // "mixed-qc"

struct FarFutureParams {
    sim::SimTime every = sim::milliseconds(50);
    std::uint64_t views_ahead = 1000;
    bool max_view = true;
    bool propose = true;
};
// Reads a far_future entry's params; sim::ScenarioError at the param's path.
FarFutureParams parse_far_future(const sim::FaultSpec& f);

// What a mixed QC's odd signature, or a relabelled QC's statement, differs in.
enum class Mix : std::uint8_t { Blocks, Views, Phases, RelabelBlock, RelabelView };
struct MixedQcParams {
    std::vector<Mix> mixes;  // used in turn, one per proposal
};
// Reads a mixed_qc entry's params ("mix": one kind, or "all" in turn); ScenarioError at the path.
MixedQcParams parse_mixed_qc(const sim::FaultSpec& f);

class FarFuture {
public:
    explicit FarFuture(FarFutureParams p) : p_(p) {}

    // The view the next tick names, for a replica in view `own`.
    std::uint64_t target(std::uint64_t own) const;
    // The largest view at or below `view` that `self` leads (round robin above the schedule
    // of `cfg`), if above `own`.
    static std::optional<std::uint64_t> led_view(const Config& cfg, std::uint32_t self,
                                                 std::uint64_t view, std::uint64_t own);
    // One tick: a VOTE (for a block of no one, at its high QC's height + 1) and a NEW-VIEW
    // (carrying `high_qc`) for target(own), and with `propose` a PROPOSAL on `high_qc` with no
    // commands in led_view(), each broadcast under the replica's own key.
    void tick(sim::Context& ctx, const Config& cfg, std::uint64_t own, const QuorumCert& high_qc);
    std::uint64_t ticks() const { return ticks_; }

private:
    FarFutureParams p_;
    std::uint64_t ticks_ = 0;
};

class MixedQc {
public:
    explicit MixedQc(MixedQcParams p) : p_(std::move(p)) {}

    // Keeps the validly signed votes it receives (VOTEs, NEW-VIEWs' last votes), the newest
    // kPool of them.
    void observe(sim::Context& ctx, const Message& m);
    // What to send in place of the honest proposal `m`: a block like it (view, commands) on a
    // QC crafted from m's justify by the next mix in turn, made once per view and sent to every
    // recipient; `original` on genesis or when the votes held do not suffice.
    sim::PayloadRef rewrite(sim::Context& ctx, const Proposal& m, const sim::PayloadRef& original,
                            std::uint32_t quorum);
    // The QC labelled as `qc` (or relabelled) by `mix`, for a block of view `block_view`, with
    // `quorum` signers; nullopt when the votes held do not suffice. Aggregated where the
    // context aggregates.
    std::optional<QuorumCert> craft(sim::Context& ctx, const QuorumCert& qc, Mix mix,
                                    std::uint64_t block_view, std::uint32_t quorum) const;

private:
    // The odd signatures to try, in order: the newest vote it holds by another replica that
    // differs from s as `mix` says, then its own signature over such a statement.
    std::vector<proto::SignedVote> odd_votes(sim::Context& ctx, const proto::Statement& s, Mix mix,
                                             std::uint64_t block_view) const;
    // quorum signers: `odd` and the lowest others that signed s; nullopt if too few did.
    std::optional<QuorumCert> assemble(sim::Context& ctx, const proto::Statement& s,
                                       const proto::SignedVote& odd, std::uint32_t quorum) const;

    static constexpr std::size_t kPool = 256;
    MixedQcParams p_;
    std::deque<proto::SignedVote> pool_;
    std::map<std::uint64_t, MessageRef> crafted_;  // by view, the newest 64
    std::size_t next_mix_ = 0;
};

}  // namespace hotstuff
