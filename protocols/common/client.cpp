#include "protocols/common/client.hpp"

#include <algorithm>

#include "sim/hash.hpp"

namespace proto {

std::uint64_t op_word(std::string_view op) {
    return sim::Hasher(0x4f50).add(op).value();
}

void Client::on_start(sim::Context& ctx) {
    if (!cfg_.schedule.empty()) {
        ctx.set_timer(std::max(cfg_.schedule.front().at - ctx.now(), SimTime{}), kScheduled);
    }
    if (cfg_.requests == 0) return;
    if (cfg_.workload.mode == sim::WorkloadSpec::Mode::Closed) {
        ctx.set_timer(cfg_.workload.start, kArrival);
    } else {
        schedule_arrival(ctx);
    }
}

// Open loop: Poisson arrivals at this client's share of the rate.
void Client::schedule_arrival(sim::Context& ctx) {
    double per_client = cfg_.workload.rate_per_s / cfg_.clients;
    // Each client's mean gap is at most clients x kMaxDuration; a draw is kept below it.
    const double gap_ns = std::min(ctx.rng().exponential(1e9 / per_client),
                                   static_cast<double>(sim::kMaxDuration.ns));
    auto gap = SimTime{static_cast<std::int64_t>(gap_ns)};
    SimTime at = issued_ == 0 ? cfg_.workload.start + gap : gap;
    ctx.set_timer(at, kArrival);
}

void Client::arrive(sim::Context& ctx) {
    ++issued_;
    issue(ctx, ctx.rng().next_u64(), false);
    if (cfg_.workload.mode == sim::WorkloadSpec::Mode::Open && issued_ < cfg_.requests)
        schedule_arrival(ctx);
}

// Timestamps rise in issue order, and the queue is sent in that order, so replicas (which
// execute a client's requests in timestamp order) never wait for one sent later.
void Client::issue(sim::Context& ctx, std::uint64_t op, bool scheduled) {
    Request r;
    r.client = ctx.self();
    r.timestamp = ++timestamp_;
    r.op = op;
    ctx.issue(request_key(r), request_digest(r));
    queue_.push_back({r, scheduled});
    if (!outstanding_) send_next(ctx);
}

// Every entry due now (several may share one time), then a timer for the next one.
void Client::arrive_scheduled(sim::Context& ctx) {
    const auto& s = cfg_.schedule;
    while (next_scheduled_ < s.size() && s[next_scheduled_].at <= ctx.now())
        issue(ctx, s[next_scheduled_++].op, true);
    if (next_scheduled_ < s.size()) ctx.set_timer(s[next_scheduled_].at - ctx.now(), kScheduled);
}

void Client::send_next(sim::Context& ctx) {
    if (queue_.empty()) return;
    current_ = queue_.front().request;
    current_scheduled_ = queue_.front().scheduled;
    queue_.pop_front();
    outstanding_ = true;
    tallies_ = 0;
    current_msg_ = make_request(ctx, current_);
    ctx.request_sent(request_key(current_));
    if (cfg_.send_to_all) {
        ctx.broadcast(current_msg_);
    } else {
        ctx.send(cfg_.target(view_), current_msg_);
    }
    retry_deadline_ = ctx.now() + cfg_.workload.retry_timeout;
    if (!retry_pending_) {
        ctx.set_timer(cfg_.workload.retry_timeout, kRetry);
        retry_pending_ = true;
    }
}

void Client::on_timer(sim::Context& ctx, std::uint64_t tag) {
    switch (tag) {
        case kArrival:
        case kThink:
            arrive(ctx);
            break;
        case kScheduled:
            arrive_scheduled(ctx);
            break;
        case kRetry:
            retry_pending_ = false;
            if (!outstanding_) return;
            if (ctx.now() >= retry_deadline_) {
                // Retransmission goes to every replica (§1.3 step 11).
                ctx.broadcast(current_msg_);
                retry_deadline_ = ctx.now() + cfg_.workload.retry_timeout;
            }
            ctx.set_timer(retry_deadline_ - ctx.now(), kRetry);
            retry_pending_ = true;
            break;
        default:
            break;
    }
}

Client::Tally& Client::tally(Digest result) {
    for (std::size_t i = 0; i < tallies_; ++i)
        if (replies_[i].result == result) return replies_[i];
    if (tallies_ == replies_.size()) replies_.emplace_back();
    Tally& t = replies_[tallies_++];
    t.result = result;
    std::fill(t.replicas.begin(), t.replicas.end(), 0);
    t.count = 0;
    return t;
}

void Client::on_message(sim::Context& ctx, NodeId from, const sim::Payload& msg) {
    if (!is_client_message(msg)) return;
    const auto& m = static_cast<const ClientMessage&>(msg);
    const auto* rep = std::get_if<Reply>(&m.body);
    if (!rep || !outstanding_ || rep->timestamp != current_.timestamp ||
        rep->client != ctx.self() || rep->replica != from || from.v >= ctx.replica_count())
        return;
    if (!authentic(ctx, m)) return;
    Tally& who = tally(rep->result);
    const std::size_t word = from.v / 64;
    const std::uint64_t bit = 1ULL << (from.v % 64);
    if (who.replicas.size() <= word) who.replicas.resize(word + 1, 0);
    if (who.replicas[word] & bit) return;
    who.replicas[word] |= bit;
    if (++who.count < ctx.fault_threshold() + 1) return;
    // f+1 matching replies from distinct replicas: at least one is honest.
    view_ = std::max(view_, rep->view);
    outstanding_ = false;
    ctx.accept(request_key(current_), rep->result, rep->view.v, rep->index);
    // The closed loop's chain continues from its own requests only: a scheduled request's
    // accept starting it too would run two chains at once.
    if (cfg_.workload.mode == sim::WorkloadSpec::Mode::Closed && !current_scheduled_ &&
        issued_ < cfg_.requests) {
        if (cfg_.workload.think.ns > 0) {
            ctx.set_timer(cfg_.workload.think, kThink);
        } else {
            arrive(ctx);
        }
    }
    if (!outstanding_) send_next(ctx);
}

}  // namespace proto
