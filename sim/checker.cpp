#include "sim/checker.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace sim {

namespace {
constexpr std::uint64_t kOutcomeWindow = 64;
}

Checker::Checker(CheckerConfig cfg)
    : cfg_(std::move(cfg)),
      last_index_(cfg_.replicas, 0),
      active_(cfg_.replicas, true),
      amnesiac_(cfg_.replicas, false) {
    cfg_.byzantine.resize(cfg_.replicas, false);
    for (bool b : cfg_.byzantine) honest_count_ += b ? 0 : 1;
    set_compare_states(cfg_.compare_states);
}

void Checker::fail(std::string invariant, std::string detail, SimTime now, std::uint64_t event,
                   std::vector<std::uint32_t> nodes) {
    if (violation_) return;
    violation_ = Violation{std::move(invariant), std::move(detail), now, event, std::move(nodes)};
}

void Checker::set_compare_states(bool on) {
    cfg_.compare_states = on;
    std::vector<bool> honest(cfg_.replicas);
    for (std::uint32_t r = 0; r < cfg_.replicas; ++r) honest[r] = !cfg_.byzantine[r];
    totality_.reset();
    log_.reset();
    if (!on) {
        if (cfg_.liveness_expected)
            totality_ = std::make_unique<TotalityMonitor>(std::move(honest), cfg_.liveness_from,
                                                          cfg_.liveness_bound);
        return;
    }
    log_ = std::make_unique<LogMonitor>(std::move(honest), cfg_.liveness_expected,
                                        cfg_.liveness_from, cfg_.liveness_bound);
}

void Checker::set_wire_monitor(std::unique_ptr<WireMonitor> m) {
    wire_ = std::move(m);
    wire_kinds_ = wire_ ? wire_->kinds() : 0;
}

bool Checker::check_slot(NodeId replica, const CommitRecord& rec, SimTime now,
                         std::uint64_t event) {
    auto [it, fresh] = slots_.try_emplace(rec.index, Slot{rec.digest, rec.state, replica.v, 0, {}});
    Slot& slot = it->second;
    if (!fresh && slot.digest != rec.digest) {
        fail(
            "agreement",
            fmt::format("replica {} executed index {} with digest {:016x}, replica {} with {:016x}",
                        replica.v, rec.index, rec.digest.v, slot.first, slot.digest.v),
            now, event, {slot.first, replica.v});
        return false;
    }
    // Counts are of distinct replicas: one executing an index twice is caught, not counted.
    const std::size_t word = replica.v / 64;
    const std::uint64_t bit = std::uint64_t{1} << (replica.v % 64);
    if (slot.seen.size() <= word) slot.seen.resize(word + 1, 0);
    if (slot.seen[word] & bit) {
        fail("integrity", fmt::format("replica {} executed index {} twice", replica.v, rec.index),
             now, event, {replica.v});
        return false;
    }
    slot.seen[word] |= bit;
    if (++slot.count >= honest_count_) slots_.erase(it);
    if (slots_.size() > 4096) prune();
    return true;
}

void Checker::on_commit(NodeId replica, const CommitRecord& rec, SimTime now, std::uint64_t event) {
    if (!honest(replica) || violation_) return;
    // S1 agreement: on the whole log where there is one, else one digest per index.
    if (log_) {
        report(log_->on_commit(replica.v, rec, now), now, event);
        if (violation_) return;
    } else if (!check_slot(replica, rec, now, event)) {
        return;
    } else if (totality_) {
        totality_->on_deliver(replica.v, rec.index, now);
    }
    if (wire_) {
        report(wire_->on_commit(replica.v, rec), now, event);
        if (violation_) return;
    }
    last_index_[replica.v] = std::max(last_index_[replica.v], rec.index);
    for (const ExecutedRequest& r : rec.requests) {
        // S2 validity: only what a client issued, exactly as it issued it.
        const auto c = r.key.client.v;
        static const std::vector<Digest> kNone;
        const std::vector<Digest>& issued = c < issued_.size() ? issued_[c] : kNone;
        if (r.key.timestamp == 0 || r.key.timestamp > issued.size() ||
            issued[r.key.timestamp - 1] != r.digest) {
            fail("validity",
                 fmt::format("replica {} executed request (client {}, t {}) that no client issued",
                             replica.v, c, r.key.timestamp),
                 now, event, {replica.v});
            return;
        }
        // S3 integrity: per client, each replica executes strictly newer timestamps only.
        // c < issued_.size(): the validity check above passed.
        if (last_ts_.size() <= replica.v) last_ts_.resize(replica.v + 1);
        std::vector<std::uint64_t>& per_client = last_ts_[replica.v];
        if (per_client.size() <= c) per_client.resize(issued_.size(), 0);
        auto& last = per_client[c];
        if (r.key.timestamp <= last) {
            fail("integrity",
                 fmt::format("replica {} executed request (client {}, t {}) again (last t {})",
                             replica.v, c, r.key.timestamp, last),
                 now, event, {replica.v});
            return;
        }
        last = r.key.timestamp;
        Outcome& o = outcome(r.key);
        if (!o.honest) {
            o.honest = r.result;
            o.executor = replica.v;
            if (o.accepted && *o.accepted != r.result) {
                fail("client_safety",
                     fmt::format("client {} accepted a result for t {} that honest replica {} "
                                 "did not produce",
                                 c, r.key.timestamp, replica.v),
                     now, event, {replica.v});
                return;
            }
        }
    }
}

// Drops slot records that every active honest replica has passed.
void Checker::prune() {
    std::uint64_t low = UINT64_MAX;
    for (std::uint32_t r = 0; r < cfg_.replicas; ++r)
        if (!cfg_.byzantine[r] && active_[r]) low = std::min(low, last_index_[r]);
    slots_.erase(slots_.begin(), slots_.lower_bound(low == UINT64_MAX ? 0 : low));
}

void Checker::on_state_transfer(NodeId replica, std::uint64_t index, Digest state, SimTime now,
                                std::uint64_t event) {
    if (!honest(replica) || violation_) return;
    last_index_[replica.v] = std::max(last_index_[replica.v], index);
    if (log_) report(log_->on_state_transfer(replica.v, index, state), now, event);
}

void Checker::on_state_lost(NodeId replica) {
    if (!honest(replica)) return;
    amnesiac_[replica.v] = true;
    last_index_[replica.v] = 0;
    if (log_) log_->on_state_lost(replica.v);
    if (wire_) wire_->on_state_lost(replica.v);
    // From its new state it may execute again what it executed before.
    const std::size_t word = replica.v / 64;
    for (auto& [index, slot] : slots_) {
        if (word >= slot.seen.size()) continue;
        const std::uint64_t bit = std::uint64_t{1} << (replica.v % 64);
        if (slot.seen[word] & bit) --slot.count;
        slot.seen[word] &= ~bit;
    }
    if (replica.v < last_ts_.size()) last_ts_[replica.v].clear();
}

void Checker::set_active(NodeId replica, bool active, SimTime now) {
    if (replica.v < cfg_.replicas) active_[replica.v] = active;
    if (log_) log_->set_active(replica.v, active, now);
    if (totality_) totality_->set_active(replica.v, active, now);
}

void Checker::on_evidence(NodeId reporter, NodeId culprit, std::string_view what, SimTime now,
                          std::uint64_t event) {
    if (!honest(culprit) || !honest(reporter) || amnesiac_[culprit.v]) return;
    fail("false_evidence",
         fmt::format("replica {} holds evidence against honest replica {}: {}", reporter.v,
                     culprit.v, what),
         now, event, {reporter.v, culprit.v});
}

void Checker::on_certified(NodeId replica, std::uint8_t kind, std::uint64_t view,
                           std::uint64_t slot, Digest value, std::uint32_t signers, SimTime now,
                           std::uint64_t event) {
    if (!honest(replica) || violation_) return;
    const std::uint32_t quorum = cfg_.replicas - std::min(cfg_.f, cfg_.replicas);
    if (signers < quorum) {
        fail("quorum",
             fmt::format("replica {} accepted a certificate for view {} with {} signers, {} needed",
                         replica.v, view, signers, quorum),
             now, event, {replica.v});
        return;
    }
    const std::pair<std::uint64_t, std::uint8_t> key{view, kind};
    if (last_certified_ && last_certified_->first == key && last_certified_->second == value)
        return;
    auto [it, fresh] = certified_.try_emplace(key, Certified{value, slot, replica.v});
    if (!fresh && it->second.value != value) {
        fail("one_certificate_per_view",
             fmt::format(
                 "view {} has certificates for {:016x} (replica {}) and {:016x} (replica {})", view,
                 it->second.value.v, it->second.replica, value.v, replica.v),
             now, event, {it->second.replica, replica.v});
        return;
    }
    last_certified_.emplace(key, value);
    // Views far below this one cannot conflict any more with what honest replicas accept.
    if (certified_.size() > 4096) {
        if (certified_.begin()->first == key) last_certified_.reset();
        certified_.erase(certified_.begin());
    }
}

void Checker::on_invariant_failed(NodeId replica, std::string_view invariant,
                                  std::string_view detail, SimTime now, std::uint64_t event) {
    if (!honest(replica)) return;
    fail(std::string(invariant), fmt::format("replica {}: {}", replica.v, detail), now, event,
         {replica.v});
}

void Checker::on_holding(NodeId replica, std::string_view table, std::uint64_t size, SimTime now,
                         std::uint64_t event) {
    if (held_bound_ == 0 || size <= held_bound_ || violation_ || !honest(replica)) return;
    fail("bounded_state",
         fmt::format("replica {} holds {} entries in {}, above the protocol's bound of {} for a "
                     "table its peers fill",
                     replica.v, size, table, held_bound_),
         now, event, {replica.v});
}

void Checker::on_issue(RequestKey key, Digest digest) {
    auto c = key.client.v;
    if (issued_.size() <= c) issued_.resize(c + 1);
    auto& v = issued_[c];
    if (v.size() < key.timestamp) v.resize(key.timestamp);
    v[key.timestamp - 1] = digest;
}

// Liveness is owed from the client's first send, not from the request's arrival at the client:
// a client has one request outstanding, and what waits behind it is the client's overload.
void Checker::on_request_sent(RequestKey key, SimTime now) {
    if (!cfg_.liveness_expected || deadline_of_.contains(key)) return;
    std::int64_t deadline =
        deadline_after(std::max(now, cfg_.liveness_from), cfg_.liveness_bound).ns;
    deadlines_.emplace(deadline, key);
    deadline_of_[key] = deadline;
}

Checker::Outcome& Checker::outcome(const RequestKey& key) {
    if (last_outcome_ == outcomes_.end() || last_outcome_->first != key)
        last_outcome_ = outcomes_.try_emplace(key).first;
    return last_outcome_->second;
}

void Checker::on_accept(RequestKey key, Digest result, SimTime now, std::uint64_t event) {
    if (auto d = deadline_of_.find(key); d != deadline_of_.end()) {
        deadlines_.erase({d->second, key});
        deadline_of_.erase(d);
    }
    Outcome& o = outcome(key);
    o.accepted = result;
    if (o.honest && *o.honest != result) {
        fail("client_safety",
             fmt::format("client {} accepted result {:016x} for t {}; honest replica {} produced "
                         "{:016x}",
                         key.client.v, result.v, key.timestamp, o.executor, o.honest->v),
             now, event, {key.client.v});
        return;
    }
    if (key.timestamp > kOutcomeWindow) {
        // Keep unmatched accepted results: finish() reports them.
        auto lo = outcomes_.lower_bound(RequestKey{key.client, 0});
        auto hi = outcomes_.lower_bound(RequestKey{key.client, key.timestamp - kOutcomeWindow});
        last_outcome_ = outcomes_.end();
        for (auto it = lo; it != hi;) it = it->second.honest ? outcomes_.erase(it) : std::next(it);
    }
}

void Checker::liveness_missed(SimTime now, std::uint64_t event) {
    const auto& [deadline, key] = *deadlines_.begin();
    fail("liveness",
         fmt::format("request (client {}, t {}) not accepted by {} (bound {} ns after it was "
                     "first sent or after GST and the last fault)",
                     key.client.v, key.timestamp, deadline, cfg_.liveness_bound.ns),
         now, event, {key.client.v});
}

void Checker::finish(SimTime now, std::uint64_t event, bool quiescent) {
    // A deadline that passed before the end, with no event after it to notice (on_step).
    on_step(now, event);
    if (log_ && quiescent && !violation_) report(log_->on_step(SimTime::max()), now, event);
    if (totality_ && quiescent && !violation_)
        report(totality_->on_step(SimTime::max()), now, event);
    if (violation_) return;
    for (const auto& [key, o] : outcomes_) {
        if (o.accepted && !o.honest) {
            fail("client_safety",
                 fmt::format("client {} accepted a result for t {} that no honest replica "
                             "produced",
                             key.client.v, key.timestamp),
                 now, event, {key.client.v});
            return;
        }
    }
}

}  // namespace sim
