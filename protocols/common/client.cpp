#include "protocols/common/client.hpp"

#include <algorithm>

namespace proto {

void Client::on_start(sim::Context& ctx) {
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
    double gap_ns = ctx.rng().exponential(1e9 / per_client);
    auto gap = SimTime{static_cast<std::int64_t>(gap_ns)};
    SimTime at = issued_ == 0 ? cfg_.workload.start + gap : gap;
    ctx.set_timer(at, kArrival);
}

void Client::arrive(sim::Context& ctx) {
    Request r;
    r.client = ctx.self();
    r.timestamp = ++issued_;
    r.op = ctx.rng().next_u64();
    ctx.issue(request_key(r), request_digest(r));
    queue_.push_back(r);
    if (!outstanding_) send_next(ctx);
    if (cfg_.workload.mode == sim::WorkloadSpec::Mode::Open && issued_ < cfg_.requests)
        schedule_arrival(ctx);
}

void Client::send_next(sim::Context& ctx) {
    if (queue_.empty()) return;
    current_ = queue_.front();
    queue_.pop_front();
    outstanding_ = true;
    tallies_ = 0;
    current_msg_ = make_request(ctx, current_);
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
    if (!queue_.empty()) {
        send_next(ctx);
    } else if (cfg_.workload.mode == sim::WorkloadSpec::Mode::Closed && issued_ < cfg_.requests) {
        if (cfg_.workload.think.ns > 0) {
            ctx.set_timer(cfg_.workload.think, kThink);
        } else {
            arrive(ctx);
        }
    }
}

}  // namespace proto
