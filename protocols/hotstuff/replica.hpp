// A HotStuff replica (Yin et al., PODC'19; PROTOCOLS.md §2). The safety core (block tree, votes,
// lock, commit rule: chained.cpp for the event-driven chained form of Algorithm 4, basic.cpp for
// Algorithm 2) is apart from the Pacemaker (pacemaker.hpp). Common parts (replica.cpp): client
// requests and the mempool, block storage and sync, execution, pruning.
//
// Views are numbers a peer chooses (PROTOCOLS.md §4.12): a replica keeps votes and NEW-VIEW
// tallies only for views at most view_window() = 2n above its own (pacemaker.hpp), takes a
// proposal only that far above its own view and its QC's, and one signer's first statement per
// view and phase only; what it refuses is counted (footprint()). Views stop at 2^64-1
// (next_view) instead of wrapping.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <set>
#include <tuple>
#include <vector>

#include "protocols/common/application.hpp"
#include "protocols/common/idle_timer.hpp"
#include "protocols/hotstuff/mempool.hpp"
#include "protocols/hotstuff/messages.hpp"
#include "protocols/hotstuff/mutations.hpp"
#include "protocols/hotstuff/pacemaker.hpp"
#include "sim/actor.hpp"
#include "sim/flat_map.hpp"
#include "sim/hash.hpp"

namespace hotstuff {

struct DigestHash {
    std::size_t operator()(Digest d) const { return static_cast<std::size_t>(sim::mix64(d.v)); }
};

struct Config {
    proto::Quorum quorum;
    bool basic = false;              // Algorithm 2 (one decision per view, 4 phases)
    std::uint32_t batch_size = 100;  // commands per block, at most
    proto::SimTime view_timeout = sim::seconds(1);
    std::vector<std::uint32_t> leaders;  // leader of view v for v < size; then v mod n
    // On a timeout, NEW-VIEW goes to every replica (keeps views together under back-off) or,
    // as in the paper's linear view change, only to the next leader.
    bool broadcast_timeouts = true;
    bool clients_send_to_all = false;  // else clients send to one leader, which forwards
    Mutations mutations;               // seeded bugs; empty for the honest protocol
    proto::AppFactory app;             // the replicated service (LogChain when empty)
    // HotStuff's quorum: n - f votes (PROTOCOLS.md §0).
    std::uint32_t votes_needed() const { return quorum.n - quorum.f; }
};

class Replica : public sim::Actor {
public:
    explicit Replica(Config cfg);

    void on_start(sim::Context& ctx) override;
    void on_message(sim::Context& ctx, NodeId from, const sim::Payload& msg) override;
    void on_timer(sim::Context& ctx, std::uint64_t tag) override;
    void on_recover(sim::Context& ctx) override;

    // Read-only views for tests and monitors.
    std::uint64_t view() const { return view_; }
    std::uint64_t executed_height() const { return b_exec_->height; }
    std::uint64_t locked_view() const { return locked_qc_.stmt.view; }
    const QuorumCert& high_qc() const { return qc_high_; }
    std::size_t stored_blocks() const { return blocks_.size(); }
    const Config& config() const { return cfg_; }

    // What peers can make a replica keep, by views or statements they choose: the sizes its
    // bounds hold (tests), and what it refused for lying beyond its view window
    // (pacemaker.hpp: view_window) or for a second statement of one signer in one view.
    struct Footprint {
        std::size_t vote_builders = 0;     // builders_: one per statement voted for
        std::size_t voter_views = 0;       // voters_by_view_
        std::size_t new_view_tallies = 0;  // the pacemaker's, one per view
        std::size_t detector_entries = 0;  // signed statements the equivocation detector holds
        std::uint64_t refused_votes = 0, refused_new_views = 0, refused_proposals = 0;
        std::uint64_t refused_blocks = 0;  // BLOCKs nobody asked for
        std::uint64_t refused_syncs = 0;   // SYNC-REPLY snapshots beyond three per sender
        std::uint64_t refused_parked = 0;  // blocks past the parked table's bounds (256 missing
                                           // parents, 1024 blocks waiting on each)
    };
    Footprint footprint() const;

private:
    enum Timer : std::uint64_t { kViewTimer = 1, kIdleTimer = 2 };

    // replica.cpp
    void on_request(sim::Context& ctx, NodeId from, const ClientMessageRef& m);
    void on_fetch(sim::Context& ctx, NodeId from, const Fetch& f);
    void on_block(sim::Context& ctx, NodeId from, const BlockRef& b);
    bool well_formed(sim::Context& ctx, const Block& b);
    bool commands_valid(sim::Context& ctx, const Block& b);
    // trust_author_caches: a block's cached answers count even when computed before it was sent.
    bool trust_author_caches() const { return cfg_.mutations.has(Mutation::TrustAuthorCaches); }
    bool verify_carried_statement(sim::Context& ctx, const proto::SignedVote& p);
    // Whether `view` lies at most view_window() above this replica's view.
    bool in_window(std::uint64_t view) const {
        return within(view, view_, view_window(cfg_.quorum));
    }
    // Whether `view` is at most kDetectorViews below ours: what the detector still keeps.
    bool recent(std::uint64_t view) const {
        return view >= view_ || view_ - view <= kDetectorViews;
    }
    // A proposal's view may lie the window above what its (verified) QC proves, or above ours:
    // farther, it is its leader's word alone (PROTOCOLS.md §4.12).
    bool proposal_in_window(const Block& b) const;
    // s.digest(), remembered for the last statement asked: the n-f votes a leader collects in
    // a view all sign one statement.
    Digest vote_digest(const proto::Statement& s);
    bool valid_qc(sim::Context& ctx, const QuorumCert& qc);
    bool valid_qc(sim::Context& ctx, const QuorumCert& qc, const QcKey& key);
    // Stores a block whose parent is known; otherwise parks `m` and fetches the parent.
    bool store(sim::Context& ctx, NodeId from, const BlockRef& b, const MessageRef& m);
    BlockRef find(Digest hash) const;
    // The stored block, or null; valid while it stays stored (pruning removes it).
    const Block* lookup(Digest hash) const {
        const BlockRef* b = blocks_.find(hash);
        return b ? b->get() : nullptr;
    }
    bool extends(const Block& b, const Block& ancestor) const;
    void commit_chain(sim::Context& ctx, const Block& b);
    void execute(sim::Context& ctx, const Block& b);
    void prune();
    // Whether a block from `from` down holds commands not every holder of the chain committed.
    bool chain_has_cmds(const Block* from) const;
    std::uint64_t chain_commit_height(const Block* top) const;
    bool has_work() const;
    std::vector<ClientMessageRef> next_batch(const BlockRef& parent) const;
    void send_vote(sim::Context& ctx, const proto::Statement& stmt, NodeId to,
                   const proto::SignedVote& proposal);
    // Feeds a verified signed statement to the detector; reports equivocation it proves.
    void observe(sim::Context& ctx, const proto::SignedVote& v);
    void propose(sim::Context& ctx, const BlockRef& parent, std::vector<ClientMessageRef> batch);
    void maybe_arm(sim::Context& ctx);
    void restart_phase_timer(sim::Context& ctx, std::uint8_t phase);  // basic.cpp
    void fetch(sim::Context& ctx, Digest hash, NodeId from);
    void index_height(const Block& b);  // adds a stored block to by_height_
    // Handles what was parked waiting for the block `hash`, now stored.
    void unpark(sim::Context& ctx, Digest hash);
    // State sync (messages.hpp): asked for when a block arrives too far above what we executed.
    void request_sync(sim::Context& ctx, std::uint64_t target_height);
    // sync.cpp: once nothing executed for a view timeout, SYNC-REQUESTs with back-off (up to
    // 2^kIdleAsks view timeouts apart) until every other replica was heard not to be ahead;
    // one that reaches a replica behind tells it so (it asks in turn).
    void note_executed(sim::Context& ctx);
    void on_idle_timer(sim::Context& ctx);
    void heard_idle(NodeId from);
    // Off under no_idle_sync, and under prune_without_snapshots, which is the sync as it was
    // before snapshots, with no idle rounds either.
    bool idle_sync() const {
        return !cfg_.mutations.has(Mutation::NoIdleSync) &&
               !cfg_.mutations.has(Mutation::PruneWithoutSnapshots);
    }
    void on_sync_request(sim::Context& ctx, NodeId from, const SyncRequest& r);
    void on_sync_reply(sim::Context& ctx, NodeId from, const SyncReply& r);
    bool make_room_for_sync_vote(NodeId from, const Digest& content);
    void adopt(sim::Context& ctx, const SyncReply& r);

    // chained.cpp (Algorithms 4 and 5)
    void on_proposal(sim::Context& ctx, NodeId from, const MessageRef& m);
    // `m` is the proposal as sent: kept as commit_proof_ when it commits something.
    void process_proposal(sim::Context& ctx, const BlockRef& b, const proto::SignedVote& stmt,
                          const MessageRef& m);
    void update(sim::Context& ctx, const Block& b);
    bool safe_node(const Block& b) const;
    void on_vote(sim::Context& ctx, const proto::SignedVote& v);
    // Counts a verified generic vote towards a QC, whoever it was addressed to.
    void add_vote(sim::Context& ctx, const proto::SignedVote& v);
    // The builder for v's statement, new or not; null (and counted) when v's signer already
    // voted for another statement of that view and kind: an honest replica votes once per
    // view and phase, so one signer starts at most one builder there (bounded by n).
    proto::QcBuilder* builder_for(const proto::SignedVote& v);
    void update_qc_high(sim::Context& ctx, const QuorumCert& qc);
    void check_split(sim::Context& ctx, std::uint64_t view);
    void echo_new_view(sim::Context& ctx, NodeId from, std::uint64_t view);
    bool collecting() const;
    void report_qc(sim::Context& ctx, const QuorumCert& qc);
    void enter_view(sim::Context& ctx, std::uint64_t v);
    void try_propose(sim::Context& ctx);
    void on_new_view(sim::Context& ctx, NodeId from, const NewView& nv);
    void on_view_timeout(sim::Context& ctx);
    void announce_view(sim::Context& ctx, std::uint64_t v);

    // basic.cpp (Algorithm 2)
    void basic_on_proposal(sim::Context& ctx, const BlockRef& b, const proto::SignedVote& stmt);
    void basic_on_phase(sim::Context& ctx, NodeId from, const PhaseQc& p);
    void basic_on_vote(sim::Context& ctx, const proto::SignedVote& v);
    void basic_try_propose(sim::Context& ctx);
    void basic_finish_view(sim::Context& ctx);

    // Members in the order a proposal touches them: with 64 replicas, each one's state is out
    // of cache when its turn comes, so what every view reads and writes is kept together at
    // the front and the rarely used at the back.
    Config cfg_;
    std::uint64_t view_ = 0;
    std::uint64_t last_voted_view_ = 0;  // vote once per view (vheight, by view)
    std::uint64_t proposed_view_ = 0;
    // The last view whose votes reached a quorum of replicas without a QC (split by an
    // equivocating leader).
    std::uint64_t split_view_ = 0;
    std::uint64_t announced_ = 0;  // the last view it sent a NEW-VIEW for
    BlockRef b_lock_, b_exec_;
    std::unique_ptr<proto::Application> app_;  // the service the chain executes
    std::uint64_t verified_qcs_view_ = 0;      // the highest view among verified_qcs_
    // Hash maps here are only looked up, never iterated; by_height_ orders pruning: the stored
    // blocks as (height, digest), sorted by height (flat: no allocation per block).
    sim::FlatMap<Digest, BlockRef, DigestHash> blocks_;
    std::vector<std::pair<std::uint64_t, Digest>> by_height_;
    // QCs this replica accepted (distinct keys, cleared past kVerifiedQcsKept), appended in
    // order: almost every QC is newer than all of them (verified_qcs_view_), so the list is
    // searched rarely and a write to its end stays in cache, where a hash set missed it.
    std::vector<std::uint64_t> verified_qcs_;
    Mempool mempool_;  // pending requests in arrival order
    struct ClientHash {
        std::size_t operator()(std::uint32_t c) const { return sim::mix64(c); }
    };
    // Per client: the newest timestamp executed and its reply (sorted before it is sent on).
    sim::FlatMap<std::uint32_t, std::pair<std::uint64_t, ClientMessageRef>, ClientHash> last_reply_;
    // Scratch space reused by commit_chain and execute (no allocation per commit).
    std::vector<const Block*> chain_scratch_;  // blocks stay stored until prune()
    std::vector<sim::ExecutedRequest> done_scratch_;
    Pacemaker pacemaker_;
    QuorumCert qc_high_;                                // prepareQC / genericQC
    QuorumCert locked_qc_;                              // the QC for b_lock
    proto::SignedVote last_vote_, last_vote_proposal_;  // re-sent in NEW-VIEW
    proto::EquivocationDetector detector_;
    // Votes to this leader, by statement in view order (pruning drops the oldest views).
    struct ViewFirst {
        bool operator()(const proto::Statement& a, const proto::Statement& b) const {
            return std::tie(a.view, a.kind, a.slot, a.value) <
                   std::tie(b.view, b.kind, b.slot, b.value);
        }
    };
    std::map<proto::Statement, proto::QcBuilder, ViewFirst> builders_;
    // Distinct voters per view, over all the blocks voted for.
    std::map<std::uint64_t, std::vector<std::uint32_t>> voters_by_view_;
    struct DigestMemo {
        bool valid = false;
        proto::Statement stmt{};
        Digest digest{};
    } vote_digest_;                             // for vote_digest()
    proto::SignedVote last_carried_statement_;  // verified last by verify_carried_statement
    std::uint64_t refused_votes_ = 0, refused_proposals_ = 0;  // for footprint()
    std::uint64_t refused_blocks_ = 0, refused_syncs_ = 0, refused_parked_ = 0;
    Footprint reported_;  // the refused counts already passed to Context::refused
    std::uint64_t reported_total_ = 0;
    // Passes what the counters gained since the last call to the run's report.
    void report_refused(sim::Context& ctx);
    void handle(sim::Context& ctx, NodeId from, const sim::Payload& msg);
    // Leader statements of blocks (basic HotStuff only).
    sim::FlatMap<Digest, proto::SignedVote, DigestHash> proposals_;
    struct Parked {
        NodeId from;
        MessageRef msg;  // a proposal to handle again, or null for a bare block to store
        BlockRef block;
    };
    std::map<Digest, std::vector<Parked>> parked_;  // by the missing parent
    std::vector<std::uint64_t> equivocated_views_;  // views whose leader equivocated (recent)
    // Blocks asked for, and when: a request lost on the way is sent again after a while.
    std::map<Digest, proto::SimTime> fetching_;
    // State sync: matching replies by content, and when we last asked.
    struct SyncVotes {
        struct Backer {
            std::uint32_t sender;
            std::uint64_t arrival;  // when it backed this content (sync_arrivals_)
        };
        std::vector<Backer> backers;
        SyncReply reply;
    };
    std::uint64_t sync_arrivals_ = 0;
    std::map<Digest, SyncVotes> sync_votes_;
    proto::SimTime last_sync_request_{-1};
    proto::IdleTimer idle_;
    std::uint32_t idle_asks_ = 0;
    static constexpr std::uint32_t kIdleAsks = 5;
    // The proposal whose QCs committed our executed block: a sync answer carries it, so that a
    // replica behind commits what it misses on one honest peer's word (it fetches the blocks
    // below), where adopting a snapshot takes f+1 identical ones.
    MessageRef commit_proof_;
    // Per replica, this idle round: it asked at our height or above, or answered.
    std::vector<bool> idle_heard_;
    std::uint32_t idle_heard_count_ = 0;
    // Snapshots of the executed state at the last two heights that are multiples of
    // kSnapshotEvery, newest first (a null block: none yet). Replicas a few heights apart
    // still hold a common one, so a replica that syncs finds f+1 identical replies.
    std::array<SyncReply, 2> snapshots_{};
    static constexpr std::uint64_t kKeepBelowExecuted = 4;  // committed heights kept
    // A block this far above our executed one has ancestors the peers may have pruned already
    // (they keep kKeepBelowExecuted heights below their own executed block): ask for a snapshot.
    static constexpr std::uint64_t kSyncGap = 2 * kKeepBelowExecuted;
    // Executed heights that are multiples of this are kept as snapshots to sync from.
    static constexpr std::uint64_t kSnapshotEvery = 32;
    static constexpr std::uint64_t kPruneEvery = 8;  // executed heights between prunes
    std::uint64_t next_prune_ = 0;
    static constexpr std::uint64_t kForgetEvery = 8;  // views between forget_old_votes calls
    std::uint64_t next_forget_view_ = 0;
    // Votes for views more than this far below ours get no builder: a QC they could still form
    // is older than what the replicas propose on now.
    static constexpr std::uint64_t kVoteViewsBehind = 8;
    // Views below ours whose signed statements the equivocation detector keeps.
    static constexpr std::uint64_t kDetectorViews = 64;
    // Drops vote builders and detector entries of views that far below ours (sync.cpp).
    void forget_old_votes();
    void take_snapshot();
    void snapshot_into(SyncReply& s) const;  // the executed block, state and client progress
    // basic.cpp: the highest prepareQC this replica holds (sent in NEW-VIEW).
    QuorumCert prepare_qc_;
    std::pair<std::uint64_t, std::uint8_t> timed_phase_{};  // (view, last phase that restarted)
};

}  // namespace hotstuff
