// PBFT catch-up (PROTOCOLS.md §4.13): a replica that fell behind, by a crash, a partition or
// lost ordering messages, asks with a STATUS; the others answer with what it misses, as the
// BFT library's status messages do (Castro's thesis §5.2):
// - a NEW-VIEW, when it is in an older view (it accepts one for any view above its own);
// - a CATCH-UP: the stable checkpoint and its proof when it is above the asker's low
//   watermark, so the asker takes the certified state (§1.4) or moves its window, and commit
//   certificates for the numbers above, which it executes in order whatever view it is in.
// Nothing in a CATCH-UP is taken on the sender's word: the proof needs q CHECKPOINTs and each
// certificate the primary's PRE-PREPARE and q matching COMMITs, all signed by replicas.
#include <algorithm>

#include "protocols/pbft/replica.hpp"

namespace pbft {

void Replica::note_ahead(sim::Context& ctx, View v, Seq n) {
    if (cfg_.mutations.has(Mutation::NoCatchUp)) return;
    ahead_view_ = std::max(ahead_view_, v);
    ahead_seq_ = std::max(ahead_seq_, n);
    // Wait a while first: in a healthy run a replica briefly sees numbers and views it reaches
    // a moment later, and a STATUS then would only cost messages.
    if (status_timer_on_) return;
    status_timer_on_ = true;
    ctx.set_timer(status_period(), kStatusTimer);
}

// Something executed: once nothing more does for a status period, one STATUS round, asked until
// every other replica answered. At the end of a workload every replica asks; a replica cut off
// while the others executed the last requests learns of them then, with nothing else to tell it
// (Castro's thesis §5.2: replicas send status messages periodically).
void Replica::note_executed(sim::Context& ctx) {
    if (cfg_.mutations.has(Mutation::NoCatchUp) || cfg_.mutations.has(Mutation::NoIdleStatus))
        return;
    idle_.push(ctx, status_period(), kIdleTimer);
}

// Asks until q-1 replicas answered (a STATUS or its answers may be lost, or the asker cut
// off), backing off from one period to four: a replica back from a cut hears the next ask
// within four periods, so it catches up within a liveness bound of a few request timeouts.
void Replica::send_status(sim::Context& ctx, bool idle) {
    if (cfg_.mutations.has(Mutation::NoCatchUp)) return;
    answered_.clear();
    if (!asking_) {
        asking_ = true;
        idle_round_ = idle;
        status_attempts_ = 0;
        ctx.set_timer(status_period(), kStatusRetry);
    } else if (cfg_.mutations.has(Mutation::ReasonEndsIdleRound)) {
        if (!idle) idle_round_ = false;
    } else if (idle) {
        // A round for a reason asks until q-1 answered; one asked for while idle keeps asking
        // until every other replica answered, whichever came first, so a replica cut off then
        // still hears it once the cut heals.
        idle_round_ = true;
    }
    // At most one per half period, whatever asks for it.
    if (status_sent_.ns >= 0 && ctx.now().ns < status_sent_.ns + status_period().ns / 2) return;
    broadcast_status(ctx);
}

void Replica::broadcast_status(sim::Context& ctx) {
    status_sent_ = ctx.now();
    ctx.broadcast(make_message(ctx, Status{view_, last_exec_, h_}));
}

void Replica::retry_status(sim::Context& ctx) {
    const std::size_t enough = idle_round_ ? cfg_.quorum.n - 1 : cfg_.quorum.q() - 1;
    const bool bounded = cfg_.mutations.has(Mutation::BoundedIdleStatus);
    if (!asking_ || answered_.size() >= enough ||
        (bounded && idle_round_ && status_attempts_ + 1 >= kIdleAttempts)) {
        asking_ = false;
        return;
    }
    broadcast_status(ctx);
    status_attempts_ = std::min(status_attempts_ + 1, kIdleAttempts);
    const std::uint32_t cap = cfg_.mutations.has(Mutation::LongStatusBackoff) ? 5 : 2;
    ctx.set_timer(status_period() * (1LL << std::min(status_attempts_, cap)), kStatusRetry);
}

void Replica::on_status(sim::Context& ctx, const MessageRef& m) {
    if (m->signer == ctx.self() || cfg_.mutations.has(Mutation::NoCatchUp)) return;
    const Status& st = *as<Status>(*m);
    // One answer per requester per half period: a replica asks at most that often, so more is
    // a Byzantine one making us send for it.
    auto [last, fresh] = status_answered_.try_emplace(m->signer.v, ctx.now());
    if (!fresh && ctx.now().ns < last->second.ns + status_period().ns / 2) {
        refuse(ctx, refused_.statuses, "pbft.status_answers");
        return;
    }
    last->second = ctx.now();
    // The asker executed more, or is in a later view: we are the one behind (a STATUS is what
    // reaches a replica back from a partition once the others fell idle).
    if ((st.n > last_exec_ || st.v > view_) && !cfg_.mutations.has(Mutation::NoIdleStatus))
        note_ahead(ctx, st.v, st.n);
    if (st.v < view_ && last_new_view_) ctx.send(m->signer, last_new_view_);
    // Answered even with nothing to give: the asker stops asking once q-1 replicas answered.
    // The stable checkpoint's proof whenever it is above the asker's: one that executed that
    // far but never saw it stable (CHECKPOINTs lost) can execute nothing beyond its window.
    CatchUp out;
    const Seq above = cfg_.mutations.has(Mutation::ProofAboveExecutedOnly) ? st.n : st.low;
    if (h_ > above && !h_proof_.empty()) {
        out.n = h_;
        out.state = h_state_;
        out.C = h_proof_;
        out.app_data = h_data_;
    }
    if (st.n < last_exec_) add_certs(st, out);
    ctx.send(m->signer, make_message(ctx, std::move(out)));
}

// The certificates of the numbers above the requester's execution and our checkpoint that we
// executed and still hold complete (in the slot's view, or kept from the view it committed in
// when a later view took the slot over); the first gap ends them (it could not execute past).
void Replica::add_certs(const Status& st, CatchUp& out) const {
    const std::uint64_t from = std::max(st.n.v, h_.v) + 1;
    for (std::uint64_t k = from; k <= last_exec_.v; ++k) {
        const Slot& s = log_[k & (log_.size() - 1)];
        if (s.n.v != k) return;
        const bool current = s.committed && s.pp;
        const MessageRef& pm = current ? s.pp : s.committed_cert.pre_prepare;
        if (!pm) return;
        const PrePrepare& pp = *as<PrePrepare>(*pm);
        CommitCert cert{pm, {}};
        for (const auto& c : current ? s.commits : s.committed_cert.commits)
            if (as<Commit>(*c)->d == pp.d && cert.commits.size() < cfg_.quorum.q())
                cert.commits.push_back(c);
        if (cert.commits.size() < cfg_.quorum.q()) return;
        out.certs.push_back(std::move(cert));
    }
}

void Replica::on_catch_up(sim::Context& ctx, const MessageRef& m) {
    if (m->signer == ctx.self()) return;
    if (asking_) answered_.insert(m->signer.v);
    const CatchUp& cu = *as<CatchUp>(*m);
    if (!cu.C.empty() && cu.n > h_) {
        if (!valid_checkpoint_proof(ctx, cu.C, cu.n, cu.state)) {
            refuse(ctx, refused_.catch_ups, "pbft.catch_up_invalid");
            return;
        }
        make_stable(ctx, cu.n, cu.state, cu.C, cu.app_data);
    }
    for (const CommitCert& c : cu.certs) {
        const PrePrepare* pp = c.pre_prepare ? as<PrePrepare>(*c.pre_prepare) : nullptr;
        if (!pp || pp->n <= last_exec_ || !in_window(pp->n) || certified_.count(pp->n)) continue;
        if (!valid_commit_cert(ctx, c)) {
            refuse(ctx, refused_.catch_ups, "pbft.catch_up_invalid");
            continue;
        }
        certified_.emplace(pp->n, c);
    }
    try_execute(ctx);
}

bool Replica::valid_commit_cert(sim::Context& ctx, const CommitCert& c) const {
    const Message& pm = *c.pre_prepare;
    const PrePrepare& pp = *as<PrePrepare>(pm);
    if (pm.kind != kPrePrepare || pm.signer != cfg_.quorum.primary(pp.v) || !authentic(ctx, pm) ||
        !batch_valid(ctx, pp, true))
        return false;
    const auto matches = [&pp](const Message& m) {
        const Commit* c = as<Commit>(m);
        return c && c->v == pp.v && c->n == pp.n && c->d == pp.d;
    };
    const auto signers = distinct_signers(ctx, c.commits, matches);
    return signers && *signers >= cfg_.quorum.q();
}

bool Replica::valid_checkpoint_proof(sim::Context& ctx, const std::vector<MessageRef>& C, Seq n,
                                     Digest state) const {
    const auto matches = [n, state](const Message& m) {
        const Checkpoint* c = as<Checkpoint>(m);
        return c && c->n == n && c->state == state && consistent(*c);
    };
    const auto signers = distinct_signers(ctx, C, matches);
    return signers && *signers >= cfg_.quorum.q();
}

}  // namespace pbft
