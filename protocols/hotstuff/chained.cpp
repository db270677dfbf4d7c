// Chained HotStuff in its event-driven form (PROTOCOLS.md §2.4-2.6; Algorithms 4 and 5), with
// every safety rule on views, as DiemBFT's preferred round (Algorithm 4 states them on heights;
// the two must not be mixed, mutation lock_by_height):
//   vote    once per view, in increasing views, for a block b whose justify QC is at least as
//           new as the lock: b.justify.view > lock.view, or b extends the locked block;
//   lock    on processing b*, on b' = b*.justify.node.justify.node when its QC's view is newer
//           than the lock's (the lock's view never decreases);
//   commit  b when b <- b' <- b'' are direct parents in consecutive views v, v+1, v+2 and b''
//           is certified.
// Why these are safe: a QC needs n - f votes, so two QCs of one view share an honest voter, who
// voted once: a view certifies at most one block. Let b commit with b'' certified in view v+2;
// its n - f voters hold, from voting on, a lock of view >= v (b'' carries b'.justify, whose
// node is b). By induction on w > v+2, every block certified in view w extends b: its voters
// share an honest one with b'''s, which voted in v+2 first (views increase) and then, with a
// lock of view L >= v, only for a block whose justify certifies a block of a view in [L, w),
// which extends b by induction (views v, v+1, v+2 certify b, b', b''). Two commits at one
// height therefore lie on one chain. Heights play no part: a fork can be higher but older than
// the lock, and moving the lock to it lets the replica vote where the view rule forbids.
#include <fmt/format.h>

#include "protocols/hotstuff/replica.hpp"

namespace hotstuff {

void Replica::on_proposal(sim::Context& ctx, NodeId from, const MessageRef& m) {
    const Proposal& p = *as<Proposal>(*m);
    const BlockRef& b = p.block;
    if (!b || m->signer != pacemaker_.leader(b->view)) return;
    if (!proposal_in_window(*b)) {
        ++refused_proposals_;
        if (ctx.tracing())
            ctx.trace(fmt::format("hotstuff refused a proposal of view {} (view {}, QC view {})",
                                  b->view, view_, b->justify.stmt.view));
        return;
    }
    if (!well_formed(ctx, *b)) return;
    if (p.leader_statement.signer != m->signer ||
        p.leader_statement.stmt != proposal_statement(*b) ||
        !proto::verify_vote(ctx, p.leader_statement, b->proposal_digest(trust_author_caches())))
        return;
    if (recent(b->view)) observe(ctx, p.leader_statement);
    if (b->height <= b_exec_->height) return;
    if (!store(ctx, from, b, m)) return;  // parked until its parent arrives
    if (cfg_.basic) {
        proposals_[b->digest] = p.leader_statement;
        return basic_on_proposal(ctx, b, p.leader_statement);
    }
    process_proposal(ctx, b, p.leader_statement, m);
}

void Replica::process_proposal(sim::Context& ctx, const BlockRef& b, const proto::SignedVote& stmt,
                               const MessageRef& m) {
    const std::uint64_t executed = b_exec_->height;
    update(ctx, *b);
    if (b_exec_->height > executed) commit_proof_ = m;
    if (b->view < view_) return;
    // Vote once per view, only for a safe block, to the next view's leader (§2.5).
    const bool vote = b->view > last_voted_view_ && safe_node(*b);
    if (!vote) {
        // An unsafe proposal: stay in its view; our timeout will announce the next one, which
        // the next leader needs (a vote would have stood for that NEW-VIEW).
        if (ctx.tracing())
            ctx.trace(fmt::format("hotstuff no vote for view {} (voted in {}, lock view {})",
                                  b->view, last_voted_view_, locked_qc_.stmt.view));
        enter_view(ctx, b->view);
        return;
    }
    last_voted_view_ = b->view;
    send_vote(ctx, proto::Statement{kGeneric, b->view, b->height, b->digest},
              pacemaker_.leader(next_view(b->view)), stmt);
    enter_view(ctx, next_view(b->view));
}

// Before the QC is verified: its view only widens the window, and a QC that fails verification
// is refused next whatever its view.
bool Replica::proposal_in_window(const Block& b) const {
    if (cfg_.mutations.has(Mutation::TrustProposalView)) return true;
    return within(b.view, std::max(view_, next_view(b.justify.stmt.view)),
                  view_window(cfg_.quorum));
}

// safeNode (§2.2): the block extends the locked block, or its justify is newer than the lock.
bool Replica::safe_node(const Block& b) const {
    if (cfg_.mutations.has(Mutation::VoteWithoutLockCheck)) return true;
    // The view comparison first: in the steady state it holds and spares the walk to the lock.
    return b.justify.stmt.view > locked_qc_.stmt.view || extends(b, *b_lock_);
}

// update(b*) of Algorithm 4: b'' = b*.justify.node, b' = b''.justify.node, b = b'.justify.node.
void Replica::update(sim::Context& ctx, const Block& b) {
    update_qc_high(ctx, b.justify);
    const Block* b2 = lookup(b.justify.stmt.value);
    if (!b2 || b2->height == 0) return;
    const Block* b1 = lookup(b2->justify.stmt.value);
    if (!b1) return;
    // Lock on b' when its QC is newer than the lock's (no direct-parent check needed).
    const bool newer = cfg_.mutations.has(Mutation::LockByHeight)
                           ? b1->height > b_lock_->height
                           : b2->justify.stmt.view > locked_qc_.stmt.view;
    if (newer) {
        b_lock_ = BlockRef(b1);
        locked_qc_ = b2->justify;
    }
    if (cfg_.mutations.has(Mutation::TwoChainCommit) && b1->height > b_exec_->height &&
        b2->parent == b1->digest && directly_after(b1->view, b2->view)) {
        return commit_chain(ctx, *b1);
    }
    if (b1->height == 0) return;
    const Block* b0 = lookup(b1->justify.stmt.value);
    if (!b0) return;
    // Commit b on a 3-chain of direct parents in consecutive views.
    const bool consecutive =
        (directly_after(b1->view, b2->view) && directly_after(b0->view, b1->view)) ||
        cfg_.mutations.has(Mutation::NoConsecutiveViewCheck);
    if (b2->parent == b1->digest && b1->parent == b0->digest && consecutive) {
        commit_chain(ctx, *b0);
    }
}

void Replica::update_qc_high(sim::Context& ctx, const QuorumCert& qc) {
    report_qc(ctx, qc);
    if (qc.stmt.view <= qc_high_.stmt.view) return;
    qc_high_ = qc;
    // A QC for a later view moves this replica on (view synchronisation, §2.6). In basic
    // HotStuff a view's QCs belong to that view; replicas move on at DECIDE or timeout.
    if (!cfg_.basic && next_view(qc.stmt.view) > view_) enter_view(ctx, next_view(qc.stmt.view));
}

// H1 and H5: every QC an honest replica accepts goes to the checker, which holds honest
// replicas to one certified block per view, each with a quorum of signers.
void Replica::report_qc(sim::Context& ctx, const QuorumCert& qc) {
    if (is_genesis_qc(qc)) return;
    ctx.certified(qc.stmt.kind, qc.stmt.view, qc.stmt.slot, qc.stmt.value, qc.signer_count());
}

void Replica::on_vote(sim::Context& ctx, const proto::SignedVote& v) {
    if (v.stmt.kind != kGeneric || pacemaker_.leader(next_view(v.stmt.view)) != ctx.self()) return;
    add_vote(ctx, v);
}

void Replica::add_vote(sim::Context& ctx, const proto::SignedVote& v) {
    if (v.stmt.kind != kGeneric || v.stmt.view <= qc_high_.stmt.view) return;
    proto::QcBuilder* builder = builder_for(v);
    if (!builder || builder->complete()) return;
    if (builder->add_trusted(v) != proto::QcBuilder::Added::Ok) return;
    if (!builder->complete()) {
        auto& voters = voters_by_view_[v.stmt.view];
        if (std::find(voters.begin(), voters.end(), v.signer.v) == voters.end())
            voters.push_back(v.signer.v);
        check_split(ctx, v.stmt.view);
        return;
    }
    update_qc_high(ctx, builder->build(ctx));
    try_propose(ctx);
}

proto::QcBuilder* Replica::builder_for(const proto::SignedVote& v) {
    if (!in_window(v.stmt.view)) {
        ++refused_votes_;
        return nullptr;
    }
    if (view_ > kVoteViewsBehind && v.stmt.view < view_ - kVoteViewsBehind) return nullptr;
    const auto [it, fresh] = builders_.try_emplace(v.stmt, v.stmt, cfg_.votes_needed());
    if (!fresh) return &it->second;
    // The builders of this view and kind are next to each other (ViewFirst).
    auto other = builders_.lower_bound(proto::Statement{v.stmt.kind, v.stmt.view, 0, Digest{}});
    for (; other != builders_.end() && other->first.view == v.stmt.view &&
           other->first.kind == v.stmt.kind;
         ++other) {
        if (other != it && other->second.has(v.signer)) {
            builders_.erase(it);
            ++refused_votes_;
            return nullptr;
        }
    }
    return &it->second;
}

// A quorum of replicas voted in view `view`, split over the conflicting blocks of a leader we
// hold equivocation evidence against: no QC is coming from the honest ones, so the next leader
// proposes on its high QC now instead of letting its own view time out as well. Without this an
// equivocating leader silences the leader after it too, and with n = 4 round-robin no three
// consecutive views ever certify (found by a sweep). Proposing on the high QC is always safe.
void Replica::check_split(sim::Context& ctx, std::uint64_t view) {
    if (next_view(view) != view_ || pacemaker_.leader(view_) != ctx.self()) return;
    if (std::find(equivocated_views_.begin(), equivocated_views_.end(), view) ==
        equivocated_views_.end())
        return;
    const auto it = voters_by_view_.find(view);
    if (it == voters_by_view_.end() || it->second.size() < cfg_.votes_needed()) return;
    split_view_ = view;
    try_propose(ctx);
}

void Replica::enter_view(sim::Context& ctx, std::uint64_t v) {
    if (v <= view_) return;
    view_ = v;
    ctx.view_entered(v);
    pacemaker_.forget_below(v);
    // Every few views, as pruning is every few heights: as bounded, for a fraction of the cost.
    if (view_ >= next_forget_view_) {
        forget_old_votes();
        next_forget_view_ = next_view(view_) + kForgetEvery;
    }
    pacemaker_.disarm();
    maybe_arm(ctx);
    if (cfg_.basic) return basic_try_propose(ctx);
    try_propose(ctx);
}

// The leader proposes once it holds the previous view's QC (the chained steady state) or n-f
// NEW-VIEWs for its view, and only when there is something to order or to finish committing.
void Replica::try_propose(sim::Context& ctx) {
    if (cfg_.basic || pacemaker_.leader(view_) != ctx.self() || proposed_view_ >= view_) return;
    // n-f NEW-VIEWs: a quorum timed out waiting for progress (a replica times views only when
    // it has work), so the leader proposes even if it has nothing left itself, e.g. because it
    // already committed what the others still wait to commit (found by a sweep).
    const bool asked = pacemaker_.new_view_from(view_, ctx.self().v) >= cfg_.votes_needed();
    const bool ready = next_view(qc_high_.stmt.view) == view_ || next_view(split_view_) == view_ ||
                       (asked && !collecting());
    if (!ready) return;
    BlockRef parent = find(qc_high_.stmt.value);
    if (!parent) {
        // A QC for a block this leader never received: fetch it from the block's proposer.
        fetch(ctx, qc_high_.stmt.value, pacemaker_.leader(qc_high_.stmt.view));
        return;
    }
    if (!asked && mempool_.empty() && !chain_has_cmds(parent.get())) return;
    auto batch = next_batch(parent);
    if (!asked && batch.empty() && !chain_has_cmds(parent.get())) return;
    propose(ctx, parent, std::move(batch));
}

void Replica::on_new_view(sim::Context& ctx, NodeId from, const NewView& nv) {
    if (!valid_qc(ctx, nv.high_qc)) return;
    update_qc_high(ctx, nv.high_qc);
    const std::size_t have = pacemaker_.new_view_from(nv.view, from.v);
    // The sender's last vote, for a QC its addressee may have failed to form.
    if (!cfg_.basic && nv.last_vote.signer == from && in_window(nv.last_vote.stmt.view) &&
        recent(nv.last_vote.stmt.view) && proto::verify_vote(ctx, nv.last_vote)) {
        observe(ctx, nv.last_vote);
        add_vote(ctx, nv.last_vote);
    }
    if (nv.view > view_) {
        // Someone is waiting for progress: time views here too, and join f+1 ahead of us. A
        // view beyond the window is one replica's word: it moves our timer no more than us.
        if (auto v = pacemaker_.join(view_)) announce_view(ctx, *v);
        if (!pacemaker_.armed() && in_window(nv.view))
            pacemaker_.arm(ctx, kViewTimer, view_, qc_high_.stmt.view);
    }
    echo_new_view(ctx, from, nv.view);
    if (pacemaker_.leader(nv.view) != ctx.self() || nv.view < view_) return;
    if (nv.view > view_ && have >= cfg_.votes_needed()) enter_view(ctx, nv.view);
    if (cfg_.basic) return basic_try_propose(ctx);
    try_propose(ctx);
}

// Another replica timed out into our view, which we entered by a vote or a QC and announced to
// no one: its leader proposes without a QC only on n-f NEW-VIEWs, so send ours (once per
// view), and run the view's timer from now, as they do. A replica that voted for a Byzantine
// leader's block the others never got is in the next view before them; without this no later
// view after a Byzantine one gathers n-f in time and nothing commits (found by a sweep: a leader
// whose proposals reach one replica).
void Replica::echo_new_view(sim::Context& ctx, NodeId from, std::uint64_t view) {
    if (cfg_.basic || view != view_ || from == ctx.self() || announced_ >= view_ ||
        cfg_.mutations.has(Mutation::SilentAfterVote))
        return;
    announced_ = view_;
    // They start the view's timer now; ours, started when we voted, would end first, and we
    // would leave the view just as its leader proposes.
    pacemaker_.restart(ctx, kViewTimer);
    const NodeId leader = pacemaker_.leader(view_);
    if (leader == ctx.self()) return;
    ctx.send(leader, make_message(ctx, NewView{view_, qc_high_, last_vote_, last_vote_proposal_}));
}

// A leader holding some votes of the view before but no QC yet waits for that QC rather than
// propose on n-f NEW-VIEWs while it can still come: some of those NEW-VIEWs may be echoes of
// replicas that voted too, and a proposal on an older QC would waste the one coming. It comes
// no more once fewer than n-f replicas are left that did not give up on the view (sent a
// NEW-VIEW without voting in it).
bool Replica::collecting() const {
    if (cfg_.mutations.has(Mutation::SilentAfterVote) || view_ == 0 ||
        next_view(qc_high_.stmt.view) == view_)
        return false;
    const auto voted = voters_by_view_.find(view_ - 1);
    if (voted == voters_by_view_.end()) return false;
    std::size_t gave_up = 0;
    for (const std::uint32_t r : pacemaker_.senders(view_))
        gave_up += std::find(voted->second.begin(), voted->second.end(), r) == voted->second.end();
    return cfg_.quorum.n - gave_up >= cfg_.votes_needed();
}

// No progress in time: go to the next view and send our highest QC (Algorithm 5,
// onNextSyncView) to its leader, or to everyone (broadcast_timeouts).
void Replica::on_view_timeout(sim::Context& ctx) {
    pacemaker_.fired();
    if (ctx.tracing())
        ctx.trace(fmt::format("hotstuff view {} timed out (high QC view {}, {} pending, work {})",
                              view_, qc_high_.stmt.view, mempool_.size(), has_work()));
    ctx.suspect(pacemaker_.leader(view_));
    announce_view(ctx, next_view(view_));
}

// Enters view v without a QC for v-1 (timeout or join) and says so with a NEW-VIEW, which is
// what the leader of v waits for.
void Replica::announce_view(sim::Context& ctx, std::uint64_t v) {
    if (v <= view_) return;
    const NodeId leader = pacemaker_.leader(v);
    pacemaker_.new_view_from(v, ctx.self().v);
    announced_ = v;
    if (!cfg_.basic && last_vote_.stmt.view > qc_high_.stmt.view) add_vote(ctx, last_vote_);
    MessageRef nv = make_message(
        ctx, NewView{v, cfg_.basic ? prepare_qc_ : qc_high_, last_vote_, last_vote_proposal_});
    if (cfg_.broadcast_timeouts) {
        ctx.broadcast(nv);
    } else if (leader != ctx.self()) {
        ctx.send(leader, nv);
    }
    enter_view(ctx, v);
    if (!pacemaker_.armed()) pacemaker_.arm(ctx, kViewTimer, view_, qc_high_.stmt.view);
}

}  // namespace hotstuff
