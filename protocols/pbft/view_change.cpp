// PBFT view change, signature version (PROTOCOLS.md §1.5 and the timers of §1.6).
#include <algorithm>

#include <fmt/format.h>

#include "protocols/pbft/replica.hpp"

namespace pbft {

namespace {

// §1.5 "Computing O": for min-s < n <= max-s, the certificate of the highest view, or null.
struct Plan {
    Seq min_s{}, max_s{};
    Digest min_state{};
    std::vector<MessageRef> min_proof;
    std::map<Seq, const PreparedCert*> chosen;  // n -> certificate (absent: null request)
};

Plan plan_from(const std::vector<MessageRef>& V) {
    Plan p;
    for (const auto& m : V) {
        const ViewChange& vc = *as<ViewChange>(*m);
        if (vc.n_ckpt > p.min_s) {
            p.min_s = vc.n_ckpt;
            p.min_state = vc.ckpt_state;
            p.min_proof = vc.C;
        }
    }
    p.max_s = p.min_s;
    for (const auto& m : V) {
        for (const PreparedCert& c : as<ViewChange>(*m)->P) {
            const PrePrepare& pp = *as<PrePrepare>(*c.pre_prepare);
            if (pp.n <= p.min_s) continue;
            p.max_s = std::max(p.max_s, pp.n);
            auto [it, fresh] = p.chosen.emplace(pp.n, &c);
            if (!fresh && as<PrePrepare>(*it->second->pre_prepare)->v < pp.v) it->second = &c;
        }
    }
    return p;
}

PrePrepare o_entry(const Plan& p, View w, Seq n) {
    PrePrepare pp;
    pp.v = w;
    pp.n = n;
    if (auto it = p.chosen.find(n); it != p.chosen.end()) {
        const PrePrepare& old = *as<PrePrepare>(*it->second->pre_prepare);
        pp.d = old.d;
        pp.batch = old.batch;
    } else {
        pp.d = null_digest();
    }
    return pp;
}

}  // namespace

void Replica::start_view_change(sim::Context& ctx, View w) {
    if (w <= view_) return;
    if (ctx.tracing())
        ctx.trace(fmt::format("pbft view-change to {} (from view {}, h {}, executed {})", w.v,
                              view_.v, h_.v, last_exec_.v));
    ctx.suspect(cfg_.quorum.primary(view_));
    view_ = w;
    view_changing_ = true;
    request_running_ = false;
    // The timer of a view left is not this view's (§1.6 rule 2 times the view one waits for).
    if (vc_timer_view_ != View{} && !cfg_.mutations.has(Mutation::KeepOldViewTimers)) {
        ctx.cancel_timer(vc_timer_);
        vc_timer_view_ = View{};
    }
    if (batch_timer_on_) {
        ctx.cancel_timer(batch_timer_);
        batch_timer_on_ = false;
    }
    resend_checkpoints(ctx);
    ViewChange vc;
    vc.v = w;
    vc.n_ckpt = h_;
    vc.ckpt_state = h_state_;
    vc.C = h_proof_;
    for (const Slot& s : log_)
        if (s.n > h_ && s.cert.pre_prepare) vc.P.push_back(s.cert);
    std::sort(vc.P.begin(), vc.P.end(), [](const PreparedCert& a, const PreparedCert& b) {
        return as<PrePrepare>(*a.pre_prepare)->n < as<PrePrepare>(*b.pre_prepare)->n;
    });
    MessageRef m = make_message(ctx, std::move(vc));
    ctx.broadcast(m);
    if (view_changes_[w].insert_or_assign(ctx.self().v, m).second) ++view_change_entries_;
    // A VIEW-CHANGE lost before GST (or sent into a partition) would leave the view change
    // stuck, so it is re-sent until the view starts, as the PBFT implementation does.
    own_view_change_ = m;
    own_view_changes_[w] = m;
    ctx.cancel_timer(resend_timer_);
    resend_timer_ = ctx.set_timer(cfg_.view_change_timeout, kResendViewChange);
    drop_view_changes_below(w);  // the views we have moved past
    arm_view_change_timer(ctx);
    try_new_view(ctx, w);
}

// §1.6 rule 2: with q VIEW-CHANGEs for the view we want, wait T, doubled per failed attempt
// up to 8T. The paper's doubling without end serves a network whose delays grow without end;
// after GST they are bounded, and a timer doubled through a long fault (views that failed
// for want of a stable checkpoint, say) would wait far past any liveness bound once it ends.
void Replica::arm_view_change_timer(sim::Context& ctx) {
    if (!view_changing_ || vc_timer_view_ == view_) return;
    if (view_changes_[view_].size() < cfg_.quorum.q()) return;
    const std::uint32_t cap = cfg_.mutations.has(Mutation::UncappedViewChangeBackoff) ? 20 : 3;
    const proto::SimTime t = cfg_.view_change_timeout * (1LL << std::min(vc_attempts_, cap));
    vc_timer_ = ctx.set_timer(t, kViewChangeTimer);
    vc_timer_view_ = view_;
}

bool Replica::batch_valid(sim::Context& ctx, const PrePrepare& pp, bool carried) const {
    if (pp.d != batch_digest(pp.batch)) return false;
    const bool old = cfg_.mutations.has(Mutation::AcceptReplicaRequests);
    if (old && carried) return true;
    for (const auto& r : pp.batch) {
        const auto* req = std::get_if<proto::Request>(&r->body);
        if (!req || (!old && req->client.v < ctx.replica_count()) || !proto::authentic(ctx, *r))
            return false;
        if (req->data && !app_->admits(ctx, *req, r->digest)) return false;
    }
    return true;
}

bool Replica::valid_cert(sim::Context& ctx, const PreparedCert& c, View below) const {
    if (!c.pre_prepare || c.pre_prepare->kind != kPrePrepare) return false;
    const PrePrepare& pp = *as<PrePrepare>(*c.pre_prepare);
    const NodeId leader = cfg_.quorum.primary(pp.v);
    if (pp.v >= below || c.pre_prepare->signer != leader || !authentic(ctx, *c.pre_prepare) ||
        !batch_valid(ctx, pp, true))
        return false;
    const bool any_digest = cfg_.mutations.has(Mutation::PrepareIgnoresDigest);
    // From distinct backups: the primary's pre-prepare stands for its prepare.
    const auto matches = [&](const Message& m) {
        const Prepare* p = as<Prepare>(m);
        return p && p->v == pp.v && p->n == pp.n && (p->d == pp.d || any_digest) &&
               m.signer != leader;
    };
    const auto backups = distinct_signers(ctx, c.prepares, matches);
    return backups && *backups + 1 >= cfg_.quorum.q();
}

bool Replica::valid_view_change(sim::Context& ctx, const Message& m) const {
    const ViewChange& vc = *as<ViewChange>(m);
    if (vc.n_ckpt.v > 0 && !valid_checkpoint_proof(ctx, vc.C, vc.n_ckpt, vc.ckpt_state))
        return false;
    for (const PreparedCert& c : vc.P) {
        if (!valid_cert(ctx, c, vc.v)) return false;
        const Seq n = as<PrePrepare>(*c.pre_prepare)->n;
        if (n <= vc.n_ckpt || n.v > vc.n_ckpt.v + cfg_.watermark_window) return false;
    }
    return true;
}

void Replica::on_view_change(sim::Context& ctx, const MessageRef& m) {
    const ViewChange& vc = *as<ViewChange>(*m);
    if (last_new_view_ && vc.v <= as<NewView>(*last_new_view_)->v && m->signer != ctx.self() &&
        (vc.v < view_ || !view_changing_)) {
        // The sender is still waiting for a view that has started (or an older one): without
        // this it could wait for ever once the others have moved on (found by a sweep: a
        // NEW-VIEW lost to a one-way partition, and a silent Byzantine replica). The NEW-VIEW
        // of a later view serves too: a replica accepts one for any view above its own. At
        // most one answer per requester per half timeout, as below.
        auto [last, fresh] = new_view_answered_.try_emplace(m->signer.v, ctx.now());
        if (!fresh && ctx.now().ns < last->second.ns + cfg_.view_change_timeout.ns / 2 &&
            !cfg_.mutations.has(Mutation::UnboundedBuffers))
            return refuse(ctx, refused_.new_views, "pbft.new_view_answers");
        last->second = ctx.now();
        ctx.send(m->signer, last_new_view_);
        return;
    }
    if (vc.v < view_ && m->signer != ctx.self()) {
        // The sender still collects VIEW-CHANGEs for a view we left when our timer expired
        // (§1.6 rule 2). The paper's channels deliver our VIEW-CHANGE for it eventually, but we
        // stopped re-sending it when we moved on, so send it again: otherwise, with f silent
        // replicas, the sender holds q-1 for ever and never starts its own timer, while we wait
        // alone in the later view (found by the sweep: a one-way cut hid our VIEW-CHANGE).
        // At most one answer per requester per half timeout (it re-sends once a timeout):
        // otherwise two replicas that both left the view answer each other's answers for ever,
        // and a replaying Byzantine replica gets one message per message it sends.
        auto it = own_view_changes_.find(vc.v);
        if (it == own_view_changes_.end()) return;
        auto [last, fresh] = old_view_change_answered_.try_emplace(m->signer.v, ctx.now());
        if (!fresh && ctx.now().ns < last->second.ns + cfg_.view_change_timeout.ns / 2)
            return refuse(ctx, refused_.view_change_resends, "pbft.view_change_resends");
        last->second = ctx.now();
        ctx.send(m->signer, it->second);
        return;
    }
    if (vc.v < view_ || (vc.v == view_ && !view_changing_ && !new_view_sent_.count(vc.v))) return;
    if (vc.v.v > view_.v + 64 * cfg_.quorum.n &&  // absurdly far ahead: ignore
        !cfg_.mutations.has(Mutation::UnboundedBuffers))
        return refuse(ctx, refused_.view_changes, "pbft.view_changes_far");
    auto& by_sender = view_changes_[vc.v];
    if (by_sender.count(m->signer.v)) return;
    if (!valid_view_change(ctx, *m)) {
        if (ctx.tracing()) ctx.trace(fmt::format("pbft invalid VIEW-CHANGE from {}", m->signer.v));
        return;
    }
    by_sender.emplace(m->signer.v, m);
    ctx.holding("pbft.view_changes", ++view_change_entries_);
    apply_join_rule(ctx);
    if (view_changing_ && vc.v == view_) {
        arm_view_change_timer(ctx);
        try_new_view(ctx, vc.v);
    }
}

// §1.6 rule 3: f+1 VIEW-CHANGEs from others for views above ours make us join the smallest.
// Re-evaluated after each join: the VIEW-CHANGEs already held for still higher views may be
// f+1 again. Nothing else would re-check them (a retransmitted VIEW-CHANGE is a duplicate), so
// a replica that joined view v+1 while the others had moved on to v+2 waited in v+1 for ever,
// holding too few VIEW-CHANGEs for v+1 to start its own timer (found by the sweep: a replica
// recovering with lost state and a silent primary of v+1).
void Replica::apply_join_rule(sim::Context& ctx) {
    while (true) {
        std::map<std::uint32_t, View> lowest_above;  // sender -> its lowest view above ours
        for (auto it = view_changes_.upper_bound(view_); it != view_changes_.end(); ++it)
            for (const auto& [sender, msg] : it->second)
                if (sender != ctx.self().v) lowest_above.try_emplace(sender, it->first);
        if (lowest_above.size() < cfg_.quorum.weak()) return;
        View smallest = lowest_above.begin()->second;
        for (const auto& [sender, v] : lowest_above) smallest = std::min(smallest, v);
        start_view_change(ctx, smallest);  // view_ grows each round, so this ends
    }
}

void Replica::drop_view_changes_below(View w) {
    const auto end = view_changes_.lower_bound(w);
    for (auto it = view_changes_.begin(); it != end; ++it)
        view_change_entries_ -= it->second.size();
    view_changes_.erase(view_changes_.begin(), end);
}

void Replica::try_new_view(sim::Context& ctx, View w) {
    if (cfg_.quorum.primary(w) != ctx.self() || !view_changing_ || view_ != w) return;
    if (new_view_sent_.count(w)) return;
    auto& by_sender = view_changes_[w];
    auto own = by_sender.find(ctx.self().v);
    // q-1 VIEW-CHANGEs from others plus its own (§1.5); sent exactly once per view.
    if (own == by_sender.end() || by_sender.size() < cfg_.quorum.q()) return;
    std::vector<MessageRef> V{own->second};
    for (const auto& [sender, msg] : by_sender)
        if (sender != ctx.self().v && V.size() < cfg_.quorum.q()) V.push_back(msg);
    Plan plan = plan_from(V);
    if (cfg_.mutations.has(Mutation::NewPrimaryIgnoresPSets)) plan.chosen.clear();
    std::vector<MessageRef> O;
    for (std::uint64_t n = plan.min_s.v + 1; n <= plan.max_s.v; ++n)
        O.push_back(make_message(ctx, o_entry(plan, w, Seq(n))));
    new_view_sent_.insert(w);
    MessageRef nv = make_message(ctx, NewView{w, V, O});
    ctx.broadcast(nv);
    last_new_view_ = nv;
    enter_view(ctx, w, V, O);
}

void Replica::on_new_view(sim::Context& ctx, const MessageRef& m) {
    const NewView& nv = *as<NewView>(*m);
    if (nv.v < view_ || (nv.v == view_ && !view_changing_)) return;
    if (m->signer != cfg_.quorum.primary(nv.v)) return;
    // V: q valid VIEW-CHANGEs for this view from distinct replicas, the new primary's included.
    std::vector<std::uint32_t> seen;
    bool has_primary = false;
    for (const auto& vcm : nv.V) {
        const ViewChange* vc = vcm ? as<ViewChange>(*vcm) : nullptr;
        if (!vc || vc->v != nv.v || !authentic(ctx, *vcm) || !valid_view_change(ctx, *vcm)) return;
        if (std::find(seen.begin(), seen.end(), vcm->signer.v) != seen.end()) return;
        seen.push_back(vcm->signer.v);
        has_primary |= vcm->signer == m->signer;
    }
    if (seen.size() < cfg_.quorum.q() || !has_primary) return;
    // Backups recompute O from V and accept only an exact match (§1.5, pitfall 6).
    const bool skip_o_check = cfg_.mutations.has(Mutation::BackupsSkipOCheck);
    const Plan plan = plan_from(nv.V);
    if (nv.O.size() != plan.max_s.v - plan.min_s.v && !skip_o_check) return;
    for (std::size_t k = 0; k < nv.O.size(); ++k) {
        const auto& om = nv.O[k];
        const PrePrepare* pp = om ? as<PrePrepare>(*om) : nullptr;
        if (!pp || om->signer != m->signer || !authentic(ctx, *om) || pp->v != nv.v ||
            !batch_valid(ctx, *pp, true))
            return;
        if (skip_o_check) continue;  // the mutation trusts the new primary's O as sent
        const PrePrepare want = o_entry(plan, nv.v, Seq(plan.min_s.v + 1 + k));
        if (pp->n != want.n || pp->d != want.d) return;
    }
    last_new_view_ = m;
    enter_view(ctx, nv.v, nv.V, nv.O);
}

void Replica::enter_view(sim::Context& ctx, View w, const std::vector<MessageRef>& V,
                         const std::vector<MessageRef>& O) {
    const Plan plan = plan_from(V);
    if (ctx.tracing())
        ctx.trace(fmt::format("pbft enter view {} (min-s {}, max-s {}, |O| {})", w.v, plan.min_s.v,
                              plan.max_s.v, O.size()));
    view_ = w;
    view_changing_ = false;
    // Whatever view its pending timer was for (this one, or one left, e.g. armed on recovery
    // before a NEW-VIEW for a later view came), it must not fire in this one.
    const bool keep_old = cfg_.mutations.has(Mutation::KeepOldViewTimers);
    if (vc_timer_view_ == w || (vc_timer_view_ != View{} && !keep_old)) ctx.cancel_timer(vc_timer_);
    vc_timer_view_ = View{};
    // A replica asking for a view up to w gets this view's NEW-VIEW instead.
    own_view_changes_.erase(own_view_changes_.begin(), own_view_changes_.upper_bound(w));
    // Nothing reads VIEW-CHANGEs for views below this one again; the table holds w..w+64n.
    drop_view_changes_below(w);
    ctx.view_entered(w.v);
    // Nothing is proposed before the view's state is installed: O's pre-prepares, then fresh
    // numbers above max-s (§1.5). make_stable would otherwise order what waits from an older
    // view at numbers O assigns too.
    installing_ = !cfg_.mutations.has(Mutation::ProposeBeforeNewViewInstalled);
    // The checkpoint min-s becomes stable here if it is newer than ours.
    if (plan.min_s > h_) make_stable(ctx, plan.min_s, plan.min_state, plan.min_proof);
    const bool is_primary = cfg_.quorum.primary(w) == ctx.self();
    assigned_.clear();
    pending_.clear();
    for (const auto& om : O) {
        const PrePrepare& pp = *as<PrePrepare>(*om);
        if (!in_window(pp.n)) continue;
        for (const auto& r : pp.batch)
            assigned_.try_emplace(proto::request_key(std::get<proto::Request>(r->body)));
        Slot& s = slot(pp.n);
        accept_pre_prepare(ctx, s, om);
        if (!is_primary) {
            MessageRef prep = make_message(ctx, Prepare{w, pp.n, pp.d});
            ctx.broadcast(prep);
            on_prepare(ctx, prep);
        }
    }
    // Fresh requests get numbers above max-s (§1.5).
    next_seq_ = Seq(std::max(plan.max_s.v, h_.v) + 1);
    installing_ = false;
    // Replay normal-case messages that arrived early for this view.
    std::vector<MessageRef> early;
    early.swap(future_);
    for (const auto& fm : early) {
        const sim::Payload& p = *fm;
        on_message(ctx, fm->signer, p);
    }
    if (is_primary) {
        for (const auto& [key, w] : waiting_)
            if (assigned_.try_emplace(key).second) pending_.push_back(w.req);
        try_propose(ctx, false);
    }
    restart_request_timer(ctx);
}

}  // namespace pbft
