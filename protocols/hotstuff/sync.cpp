// HotStuff state sync and pruning: snapshots of the executed state at every kSnapshotEvery-th
// height, answered to a replica too far behind to fetch what it misses, and adopted once f+1
// replicas send the same one; blocks below what a replica may still need are dropped.
#include <algorithm>

#include <fmt/format.h>

#include "protocols/hotstuff/replica.hpp"

namespace hotstuff {

void Replica::request_sync(sim::Context& ctx, std::uint64_t target_height) {
    const proto::SimTime retry{cfg_.view_timeout.ns / 4};
    if (last_sync_request_.ns >= 0 && ctx.now() - last_sync_request_ < retry) return;
    last_sync_request_ = ctx.now();
    if (ctx.tracing())
        ctx.trace(fmt::format("hotstuff sync: executed height {}, a block at height {} arrived",
                              b_exec_->height, target_height));
    ctx.broadcast(make_message(ctx, SyncRequest{b_exec_->height}));
}

// Something executed: once nothing more does for a view timeout, ask. At the end of a workload
// every replica asks; a replica cut off while the others executed the last blocks learns from
// the question that it is behind, with nothing else to tell it (PROTOCOLS.md §4.13).
void Replica::note_executed(sim::Context& ctx) {
    if (!idle_sync()) return;
    idle_asks_ = 0;
    idle_heard_.assign(ctx.replica_count(), false);
    idle_heard_count_ = 0;
    idle_.push(ctx, cfg_.view_timeout, kIdleTimer);
}

// The round ends once every other replica asked at our height or above, or answered; until
// then a replica cut off for longer than any fixed number of asks still learns, once the cut
// heals, that it is behind (found by a sweep: a replica cut off from 211ms to 934ms, with a
// 20ms view timeout, after the last request).
void Replica::on_idle_timer(sim::Context& ctx) {
    if (!idle_.fire(ctx, kIdleTimer)) return;
    const bool bounded = cfg_.mutations.has(Mutation::BoundedIdleSync);
    if (bounded ? idle_asks_ >= kIdleAsks : idle_heard_count_ + 1 >= ctx.replica_count()) return;
    ctx.broadcast(make_message(ctx, SyncRequest{b_exec_->height}));
    idle_.push(ctx, cfg_.view_timeout * (1LL << idle_asks_), kIdleTimer);
    idle_asks_ = std::min(idle_asks_ + 1, kIdleAsks);
}

void Replica::heard_idle(NodeId from) {
    if (from.v >= idle_heard_.size() || idle_heard_[from.v]) return;
    idle_heard_[from.v] = true;
    ++idle_heard_count_;
}

// Answers with each kept snapshot above the requester's executed height (replicas that
// executed different heights still send one identical reply for a snapshot they share) and the
// current state, which replicas that executed the same height, as at the end of a workload,
// send identically. A requester above us tells us we are behind: we ask in turn.
void Replica::on_sync_request(sim::Context& ctx, NodeId from, const SyncRequest& r) {
    if (from == ctx.self()) return;
    if (r.executed >= b_exec_->height) heard_idle(from);
    if (r.executed > b_exec_->height && idle_sync()) request_sync(ctx, r.executed);
    if (b_exec_->height <= r.executed) return;
    // The proof of our last commit first: one honest answer is enough with it (found by a
    // sweep: the honest replicas ahead of one idle a height below had executed different
    // heights, and it never gathered f+1 equal snapshots).
    if (!cfg_.basic && commit_proof_ && !cfg_.mutations.has(Mutation::BoundedIdleSync))
        ctx.send(from, commit_proof_);
    if (cfg_.mutations.has(Mutation::PruneWithoutSnapshots)) {
        SyncReply now;
        snapshot_into(now);
        return ctx.send(from, make_message(ctx, std::move(now)));
    }
    for (const SyncReply& s : snapshots_)
        if (s.block && s.block->height > r.executed) ctx.send(from, make_message(ctx, s));
    if (snapshots_[0].block == b_exec_) return;  // the current state is that snapshot
    SyncReply now;
    snapshot_into(now);
    ctx.send(from, make_message(ctx, std::move(now)));
}

void Replica::take_snapshot() {
    snapshots_[1] = std::move(snapshots_[0]);
    snapshot_into(snapshots_[0]);
}

void Replica::snapshot_into(SyncReply& s) const {
    proto::AppSnapshot app = app_->snapshot();
    s = SyncReply{b_exec_, app.digest, {}, std::move(app.data)};
    last_reply_.for_each_unordered([&](std::uint32_t client, const auto& last) {
        const auto& body = std::get<proto::Reply>(last.second->body);
        s.clients.push_back({client, last.first, body.result, body.index, body.view.v});
    });
    std::sort(s.clients.begin(), s.clients.end(),
              [](const ClientProgress& a, const ClientProgress& b) { return a.client < b.client; });
}

void Replica::on_sync_reply(sim::Context& ctx, NodeId from, const SyncReply& r) {
    heard_idle(from);
    if (!r.block || r.block->height <= b_exec_->height || !well_formed(ctx, *r.block)) return;
    const Digest content = r.content_digest();
    if (!make_room_for_sync_vote(from, content)) return;
    SyncVotes& votes = sync_votes_[content];
    votes.backers.push_back({from.v, ++sync_arrivals_});
    if (votes.backers.size() == 1) votes.reply = r;
    if (votes.backers.size() >= cfg_.quorum.weak()) adopt(ctx, votes.reply);
}

// Bounded: an honest replica keeps two snapshots and sends its current state, so a sender backs
// three contents at most; a fourth replaces its oldest (a sender that moved on since a cut
// sends snapshots newer than those it backed then). False: nothing to add (a repeat, or
// refused).
bool Replica::make_room_for_sync_vote(NodeId from, const Digest& content) {
    std::size_t backed = 0;
    auto oldest = sync_votes_.end();  // the content the sender backed first
    std::uint64_t oldest_arrival = 0;
    for (auto it = sync_votes_.begin(); it != sync_votes_.end(); ++it) {
        for (const SyncVotes::Backer& b : it->second.backers) {
            if (b.sender != from.v) continue;
            if (it->first == content) return false;
            ++backed;
            if (oldest == sync_votes_.end() || b.arrival < oldest_arrival) {
                oldest = it;
                oldest_arrival = b.arrival;
            }
        }
    }
    if (backed < 3) return true;
    ++refused_syncs_;
    if (cfg_.mutations.has(Mutation::SyncVotesNeverExpire)) return false;
    auto& backers = oldest->second.backers;
    std::erase_if(backers, [&](const SyncVotes::Backer& b) { return b.sender == from.v; });
    if (backers.empty()) sync_votes_.erase(oldest);
    return true;
}

// Takes a snapshot f+1 replicas agree on as our executed state (PROTOCOLS.md allows state
// transfer in place of re-executing history that peers have pruned).
void Replica::adopt(sim::Context& ctx, const SyncReply& r) {
    const BlockRef b = r.block;
    // f+1 replicas sent this content, data included; the service checks the data against the
    // digest they agree on.
    if (!app_->restore(proto::AppSnapshot{r.state, r.app_data})) return;
    if (ctx.tracing())
        ctx.trace(fmt::format("hotstuff sync: adopt executed height {} (was {})", b->height,
                              b_exec_->height));
    if (!lookup(b->digest)) {
        blocks_[b->digest] = b;
        index_height(*b);
    }
    b_exec_ = b;
    for (const ClientProgress& c : r.clients) {
        auto& last = last_reply_[c.client];
        if (c.timestamp <= last.first) continue;
        last.first = c.timestamp;
        last.second =
            proto::make_reply(ctx, proto::Reply{proto::View(c.view), c.timestamp, NodeId(c.client),
                                                ctx.self(), c.result, c.height});
    }
    // The lock stays: it is older than what the peers propose on now, so safeNode's liveness
    // rule (a justify newer than the lock) lets us vote again.
    update_qc_high(ctx, b->justify);
    sync_votes_.clear();
    if (b->height % kSnapshotEvery == 0) take_snapshot();
    ctx.state_transferred(b->height, app_->digest());
    prune();
    unpark(ctx, b->digest);
    if (cfg_.basic) return basic_try_propose(ctx);
    try_propose(ctx);
}

// Memory stays flat: committed history below the executed block and branches that can no
// longer commit are dropped.
void Replica::prune() {
    // Blocks from the older snapshot up stay too: a replica behind it syncs to a snapshot
    // (both are above it), one at or above it fetches what it misses. Before there are two
    // snapshots, no block is dropped.
    const std::uint64_t exec = b_exec_->height;
    const bool old_floor = cfg_.mutations.has(Mutation::PruneWithoutSnapshots);
    if ((snapshots_[1].block || old_floor) && exec >= kKeepBelowExecuted) {
        std::uint64_t floor = exec - kKeepBelowExecuted;
        if (!old_floor) floor = std::min(floor, snapshots_[1].block->height);
        auto end = std::lower_bound(by_height_.begin(), by_height_.end(), floor,
                                    [](const auto& e, std::uint64_t h) { return e.first < h; });
        for (auto it = by_height_.begin(); it != end; ++it) {
            blocks_.erase(it->second);
            proposals_.erase(it->second);
        }
        by_height_.erase(by_height_.begin(), end);
    }
    forget_old_votes();
    if (parked_.size() > 256) parked_.clear();
}

// At every prune and every kForgetEvery views entered: views can move without commits
// (timeouts), and what votes stored must stay bounded then too. Mostly there is nothing to drop,
// which the first entry tells.
void Replica::forget_old_votes() {
    const std::uint64_t vote_floor = view_ > kVoteViewsBehind ? view_ - kVoteViewsBehind : 0;
    while (!builders_.empty() && builders_.begin()->first.view < vote_floor)
        builders_.erase(builders_.begin());
    while (!voters_by_view_.empty() && voters_by_view_.begin()->first < vote_floor)
        voters_by_view_.erase(voters_by_view_.begin());
    detector_.forget_below(view_ > kDetectorViews ? view_ - kDetectorViews : 0);
}

Replica::Footprint Replica::footprint() const {
    Footprint f;
    f.vote_builders = builders_.size();
    f.voter_views = voters_by_view_.size();
    f.new_view_tallies = pacemaker_.tallies();
    f.detector_entries = detector_.size();
    f.refused_votes = refused_votes_;
    f.refused_new_views = pacemaker_.refused();
    f.refused_proposals = refused_proposals_;
    f.refused_blocks = refused_blocks_;
    f.refused_syncs = refused_syncs_;
    f.refused_parked = refused_parked_;
    return f;
}

}  // namespace hotstuff
