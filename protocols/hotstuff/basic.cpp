// Basic HotStuff (Algorithm 2, PROTOCOLS.md §2.3): one decision per view in four phases. The
// leader of view v collects n-f NEW-VIEWs, proposes on the highest prepareQC, and turns each
// round of n-f votes into the next phase's QC: PRE-COMMIT(prepareQC), COMMIT(precommitQC) and
// DECIDE(commitQC). Replicas lock on precommitQC and execute on commitQC.
#include "protocols/hotstuff/replica.hpp"

namespace hotstuff {

namespace {
constexpr std::uint8_t kDecide = kCommit + 1;
}

void Replica::basic_try_propose(sim::Context& ctx) {
    if (pacemaker_.leader(view_) != ctx.self() || proposed_view_ >= view_) return;
    if (pacemaker_.new_view_from(view_, ctx.self().v) < cfg_.votes_needed()) return;
    BlockRef parent = find(qc_high_.stmt.value);
    if (!parent) return;
    auto batch = next_batch(parent);
    // Nothing new, and nothing below left to decide: wait for a request. A highest QC above the
    // executed block is decided only through a descendant, so that one is proposed even empty.
    const bool undecided =
        parent->height > b_exec_->height && !cfg_.mutations.has(Mutation::BasicLeaderWaitsForWork);
    if (batch.empty() && !undecided) return;
    propose(ctx, parent, std::move(batch));
}

void Replica::basic_on_proposal(sim::Context& ctx, const BlockRef& b,
                                const proto::SignedVote& stmt) {
    update_qc_high(ctx, b->justify);
    if (b->view > view_) enter_view(ctx, b->view);  // a valid proposal from a later view
    if (b->view != view_ || b->view <= last_voted_view_ || !safe_node(*b)) return;
    last_voted_view_ = b->view;
    restart_phase_timer(ctx, kPrepare);
    send_vote(ctx, proto::Statement{kPrepare, b->view, b->height, b->digest},
              pacemaker_.leader(b->view), stmt);
}

void Replica::basic_on_vote(sim::Context& ctx, const proto::SignedVote& v) {
    if (v.stmt.kind < kPrepare || v.stmt.kind > kCommit) return;
    if (v.stmt.view != view_ || pacemaker_.leader(v.stmt.view) != ctx.self()) return;
    proto::QcBuilder* builder = builder_for(v);
    if (!builder || builder->complete()) return;
    if (builder->add_trusted(v) != proto::QcBuilder::Added::Ok || !builder->complete()) return;
    PhaseQc next{static_cast<Phase>(v.stmt.kind + 1), builder->build(ctx)};
    ctx.broadcast(make_message(ctx, next));
    basic_on_phase(ctx, ctx.self(), next);
}

void Replica::basic_on_phase(sim::Context& ctx, NodeId from, const PhaseQc& p) {
    if (!cfg_.basic || p.phase < kPreCommit || p.phase > kDecide) return;
    const QuorumCert& qc = p.qc;
    if (from != pacemaker_.leader(qc.stmt.view)) return;
    if (qc.stmt.view < view_) {
        // A view left: its commitQC still decides its block (it proves the decision), but the
        // other phases no longer ask anything of us.
        if (p.phase != kDecide || qc.stmt.kind + 1 != p.phase ||
            cfg_.mutations.has(Mutation::IgnoreOldDecide) || !valid_qc(ctx, qc))
            return;
        report_qc(ctx, qc);
        if (const BlockRef b = find(qc.stmt.value)) commit_chain(ctx, *b);
        return;
    }
    if (qc.stmt.kind + 1 == p.phase && qc.stmt.view > view_ && valid_qc(ctx, qc))
        enter_view(ctx, qc.stmt.view);
    if (qc.stmt.kind + 1 != p.phase || !valid_qc(ctx, qc)) return;
    report_qc(ctx, qc);
    BlockRef b = find(qc.stmt.value);
    if (!b) return;
    auto proposal_of = [this](const BlockRef& blk) {
        const proto::SignedVote* stmt = proposals_.find(blk->digest);
        return stmt ? *stmt : proto::SignedVote{};
    };
    const NodeId leader = pacemaker_.leader(view_);
    if (p.phase != kDecide && qc.stmt.view == view_) restart_phase_timer(ctx, p.phase);
    switch (p.phase) {
        case kPreCommit:
            if (qc.stmt.view > prepare_qc_.stmt.view) prepare_qc_ = qc;
            update_qc_high(ctx, qc);
            send_vote(ctx, proto::Statement{kPreCommit, qc.stmt.view, b->height, b->digest}, leader,
                      proposal_of(b));
            break;
        case kCommit:
            if (qc.stmt.view > locked_qc_.stmt.view) {
                locked_qc_ = qc;
                b_lock_ = b;
            }
            send_vote(ctx, proto::Statement{kCommit, qc.stmt.view, b->height, b->digest}, leader,
                      proposal_of(b));
            break;
        default:  // DECIDE
            commit_chain(ctx, *b);
            basic_finish_view(ctx);
            break;
    }
}

// A phase of this view arrived (the proposal voted for, prepareQC, precommitQC): the next one
// gets the view's full timeout, so a view lasts as long as its phases keep coming. Once per
// phase: a leader sending one phase's QC again does not hold the view open (four timeouts at
// most). A network too slow for one phase fails views with no QC, and those double it.
void Replica::restart_phase_timer(sim::Context& ctx, std::uint8_t phase) {
    if (cfg_.mutations.has(Mutation::OneTimerPerView)) return;
    if (timed_phase_.first != view_) timed_phase_ = {view_, 0};
    if (phase <= timed_phase_.second) return;
    timed_phase_.second = phase;
    pacemaker_.restart(ctx, kViewTimer);
}

// End of view: NEW-VIEW(prepareQC) to the next leader (Algorithm 2's last step).
void Replica::basic_finish_view(sim::Context& ctx) {
    const std::uint64_t next = next_view(view_);
    const NodeId leader = pacemaker_.leader(next);
    if (leader == ctx.self()) {
        pacemaker_.new_view_from(next, ctx.self().v);
    } else {
        ctx.send(leader, make_message(ctx, NewView{next, prepare_qc_}));
    }
    enter_view(ctx, next);
}

}  // namespace hotstuff
