// Dispatch, timers and the log ring of the PBFT replica.
#include "protocols/pbft/replica.hpp"

namespace pbft {

namespace {
// The log ring has a power-of-two size of at least L, so a slot is found with a mask.
std::size_t ring_size(std::uint64_t window) {
    std::size_t size = 1;
    while (size < window) size <<= 1;
    return size;
}
}  // namespace

Replica::Replica(Config cfg)
    : cfg_(cfg), app_(proto::make_application(cfg.app)), log_(ring_size(cfg.watermark_window)) {
    const std::size_t words = (cfg_.quorum.n + 63) / 64;
    for (Slot& s : log_) {
        s.prepared_by.assign(words, 0);
        s.committed_by.assign(words, 0);
    }
}

void Replica::on_start(sim::Context& ctx) {
    ctx.view_entered(view_.v);
}

void Replica::on_restart(sim::Context& ctx) {
    on_start(ctx);
    send_status(ctx);  // it knows nothing: ask what it missed
}

void Replica::on_recover(sim::Context& ctx) {
    // Timers were lost with the crash: rearm what the state says should be running.
    request_timer_on_ = false;
    batch_timer_on_ = false;
    status_timer_on_ = false;
    asking_ = false;
    status_sent_ = proto::SimTime{-1};
    idle_.lost();
    send_status(ctx);  // what the others did while it was down
    restart_request_timer(ctx);
    if (view_changing_) {
        // §1.6 rule 2's timer runs only with q VIEW-CHANGEs for the view held: arm it as
        // arm_view_change_timer would, not unconditionally.
        vc_timer_view_ = View{};
        if (cfg_.mutations.has(Mutation::RecoverArmsViewChangeTimer)) {
            vc_timer_ = ctx.set_timer(cfg_.view_change_timeout, kViewChangeTimer);
            vc_timer_view_ = view_;
        }
        arm_view_change_timer(ctx);
        resend_timer_ = ctx.set_timer(cfg_.view_change_timeout, kResendViewChange);
    }
}

std::size_t Replica::live_slots() const {
    std::size_t k = 0;
    for (const Slot& s : log_) k += s.n.v > h_.v && s.pp ? 1 : 0;
    return k;
}

// The ring position last held a sequence number at or below h: reuse it.
void Replica::reuse(Slot& s, Seq n) {
    s.n = n;
    s.v = View{};
    s.forget_votes();
    s.executed_early = false;
    // Cleared, not replaced: the vector keeps its room for the next sequence number.
    s.cert.pre_prepare = MessageRef();
    s.cert.prepares.clear();
    s.committed_cert.pre_prepare = MessageRef();
    s.committed_cert.commits.clear();
}

// The pre-prepare and votes of the slot's view, not its prepared certificate (§1.5 P).
void Replica::Slot::forget_votes(bool keep_committed_cert) {
    if (keep_committed_cert && committed && pp) {  // a later view took the slot over
        committed_cert.pre_prepare = std::move(pp);
        committed_cert.commits = std::move(commits);
    }
    pp = MessageRef();
    prepares.clear();
    commits.clear();
    std::fill(prepared_by.begin(), prepared_by.end(), 0);
    std::fill(committed_by.begin(), committed_by.end(), 0);
    prepare_match = commit_match = 0;
    prepared = commit_sent = committed = false;
}

void Replica::on_message(sim::Context& ctx, NodeId from, const sim::Payload& msg) {
    if (proto::is_client_message(msg)) {
        const auto& cm = static_cast<const proto::ClientMessage&>(msg);
        if (std::holds_alternative<proto::Request>(cm.body))
            on_request(ctx, from, ClientMessageRef(&cm));
        return;
    }
    MessageRef m(&static_cast<const Message&>(msg));
    // A peer's bad message is data: drop what fails authentication.
    if (!authentic(ctx, *m)) return;
    // A kind other than its body's passes authentication only under trust_stored_digest.
    if (cfg_.mutations.has(Mutation::TrustStoredDigest) &&
        m->kind != kPrePrepare + m->body.index() && !(m = read_as_kind(*m)))
        return;
    switch (m->kind) {
        case kPrePrepare:
            on_pre_prepare(ctx, m);
            break;
        case kPrepare:
            on_prepare(ctx, m);
            break;
        case kCommit:
            on_commit(ctx, m);
            break;
        case kCheckpoint:
            on_checkpoint(ctx, m);
            break;
        case kViewChange:
            on_view_change(ctx, m);
            break;
        case kNewView:
            on_new_view(ctx, m);
            break;
        case kStatus:
            on_status(ctx, m);
            break;
        case kCatchUp:
            on_catch_up(ctx, m);
            break;
        default:
            break;
    }
}

void Replica::on_timer(sim::Context& ctx, std::uint64_t tag) {
    switch (tag) {
        case kRequestTimer:
            request_timer_on_ = false;
            if (!request_running_) break;
            if (ctx.now() < request_deadline_) {
                request_timer_ = ctx.set_timer(request_deadline_ - ctx.now(), kRequestTimer);
                request_timer_on_ = true;
                break;
            }
            // Its request executed meanwhile (a state transfer took it): time the next one.
            if (!waiting_.contains(timed_) && !cfg_.mutations.has(Mutation::OneRequestTimer)) {
                restart_request_timer(ctx);
                break;
            }
            request_running_ = false;
            if (view_changing_ || waiting_.empty()) break;
            send_status(ctx);  // perhaps the others executed it and we missed their messages
            start_view_change(ctx, View(view_.v + 1));
            break;
        case kViewChangeTimer:
            // §1.6 rule 2: no NEW-VIEW in time, so try the next view with a doubled timer.
            if (view_changing_ && vc_timer_view_ == view_) {
                send_status(ctx);
                ++vc_attempts_;
                start_view_change(ctx, View(view_.v + 1));
            }
            break;
        case kResendViewChange:
            if (view_changing_ && own_view_change_ &&
                as<ViewChange>(*own_view_change_)->v == view_) {
                ctx.broadcast(own_view_change_);
                // Alone in a view change, it might wait for ever: ask what the others executed.
                send_status(ctx);
                resend_timer_ = ctx.set_timer(cfg_.view_change_timeout, kResendViewChange);
            }
            break;
        case kStatusTimer:
            status_timer_on_ = false;
            if (ahead_view_ > view_ || ahead_seq_ > last_exec_) send_status(ctx);
            break;
        case kStatusRetry:
            retry_status(ctx);
            break;
        case kIdleTimer:
            if (idle_.fire(ctx, kIdleTimer)) send_status(ctx, true);
            break;
        case kBatchTimer:
            batch_timer_on_ = false;
            try_propose(ctx, true);
            break;
        default:
            break;
    }
}

void Replica::restart_request_timer(sim::Context& ctx) {
    request_running_ = !waiting_.empty() && !view_changing_;
    if (!request_running_) return;
    // §1.6 rule 1 times the request waiting longest (OSDI'99 §4.4: when the request it was
    // for executes, the timer restarts for one still waiting).
    timed_ = oldest_waiting();
    request_deadline_ = ctx.now() + cfg_.request_timeout;
    if (!request_timer_on_) {
        request_timer_ = ctx.set_timer(cfg_.request_timeout, kRequestTimer);
        request_timer_on_ = true;
    }
}

const sim::RequestKey& Replica::oldest_waiting() {
    while (!still_waiting(by_arrival_.front())) by_arrival_.pop_front();
    return by_arrival_.front().second;
}

void Replica::drop_stale_arrivals() {
    std::erase_if(by_arrival_, [this](const auto& a) { return !still_waiting(a); });
}

void Replica::buffer_future(sim::Context& ctx, const MessageRef& m, View v) {
    if (v > view_) note_ahead(ctx, v, Seq{});
    // Bounded, so a Byzantine peer cannot grow it without limit.
    if (future_.size() < 4 * cfg_.watermark_window * cfg_.quorum.n ||
        cfg_.mutations.has(Mutation::UnboundedBuffers)) {
        future_.push_back(m);
        ctx.holding("pbft.future_buffer", future_.size());
    } else {
        refuse(ctx, refused_.future, "pbft.future_buffer");
    }
}

}  // namespace pbft
