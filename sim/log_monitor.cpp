#include "sim/log_monitor.hpp"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include "sim/hash.hpp"
#include "sim/scenario.hpp"

namespace sim {

namespace {

// What a replica executed at one index: the requests and the results it gave, in order.
// Each request's fields combined linearly with odd constants, then one avalanche per request.
std::uint64_t requests_hash(const CommitRecord& rec) {
    std::uint64_t h = 0x4c4f47 + rec.requests.size();
    for (const ExecutedRequest& r : rec.requests) {
        h = mix64(h * 0x9e3779b97f4a7c15ULL + r.key.client.v * 0xc2b2ae3d27d4eb4fULL +
                  r.key.timestamp * 0x165667b19e3779f9ULL + r.digest.v * 0xd6e8feb86659fd93ULL +
                  r.result.v * 0xff51afd7ed558ccdULL);
    }
    return h;
}

std::uint64_t chain_step(std::uint64_t chain, std::uint64_t index, Digest digest,
                         std::uint64_t requests) {
    return mix64(chain * 0x9e3779b97f4a7c15ULL + index * 0xc2b2ae3d27d4eb4fULL +
                 digest.v * 0x165667b19e3779f9ULL + requests * 0xc4ceb9fe1a85ec53ULL);
}

constexpr std::size_t kPruneAtLeast = 4096;
// Indices kept below the slowest running replica: a stable checkpoint it may transfer to trails
// what others executed by a checkpoint interval or so.
constexpr std::uint64_t kMargin = 4096;
// Catch-up deadlines are rounded up to 1/64 of the bound, so at most ~64 wait at once.
constexpr std::int64_t kDeadlineSteps = 64;

}  // namespace

LogMonitor::LogMonitor(std::vector<bool> honest, bool owed, SimTime from, SimTime bound)
    : replicas_(honest.size()), owed_(owed), from_(from), bound_(bound) {
    for (std::size_t r = 0; r < honest.size(); ++r) replicas_[r].honest = honest[r];
}

std::optional<Finding> LogMonitor::compare(std::uint32_t replica, const CommitRecord& rec,
                                           std::uint64_t requests, const Ref& ref) const {
    const std::uint64_t i = rec.index;
    if (rec.digest != ref.digest) {
        return Finding{"agreement",
                       fmt::format("replica {} executed index {} with digest {:016x}, "
                                   "replica {} with {:016x}",
                                   replica, i, rec.digest.v, ref.first, ref.digest.v),
                       {ref.first, replica}};
    }
    if (requests != ref.requests) {
        return Finding{"integrity",
                       fmt::format("replica {} executed other requests at index {} than "
                                   "replica {} did, from the same slot content: a request "
                                   "executed twice, or skipped",
                                   replica, i, ref.first),
                       {ref.first, replica}};
    }
    if (replicas_[replica].chain != ref.chain) {
        return Finding{"agreement",
                       fmt::format("replica {}'s log up to index {} differs from replica {}'s "
                                   "(an earlier index differs)",
                                   replica, i, ref.first),
                       {ref.first, replica}};
    }
    if (rec.state != ref.state) {
        return Finding{"agreement",
                       fmt::format("replica {} reached state {:016x} at index {}, replica {} "
                                   "{:016x}",
                                   replica, rec.state.v, i, ref.first, ref.state.v),
                       {ref.first, replica}};
    }
    return std::nullopt;
}

// The first honest execution of an index: the agreed log grows, and the service must not
// execute any request a second time along it.
std::optional<Finding> LogMonitor::extend(std::uint32_t replica, const CommitRecord& rec,
                                          std::uint64_t requests, SimTime now) {
    for (const ExecutedRequest& r : rec.requests) {
        const std::uint32_t c = r.key.client.v;
        if (service_ts_.size() <= c) service_ts_.resize(c + 1, 0);
        if (r.key.timestamp <= service_ts_[c]) {
            return Finding{"integrity",
                           fmt::format("the service executed request (client {}, t {}) "
                                       "again at index {} (replica {}); client {}'s newest "
                                       "executed request was t {}",
                                       c, r.key.timestamp, rec.index, replica, c, service_ts_[c]),
                           {replica}};
        }
        service_ts_[c] = r.key.timestamp;
    }
    refs_.push_back({replicas_[replica].chain, requests, rec.digest, rec.state, replica});
    if (owed_) add_deadline(now, rec.index);
    if (refs_.size() >= prune_at_) prune();
    return std::nullopt;
}

std::optional<Finding> LogMonitor::on_commit(std::uint32_t replica, const CommitRecord& rec,
                                             SimTime now) {
    if (replica >= replicas_.size() || !replicas_[replica].honest) return std::nullopt;
    Replica& p = replicas_[replica];
    if (rec.index != p.index + 1) return out_of_order(replica, rec);
    const std::uint64_t requests = requests_hash(rec);
    p.chain = chain_step(p.chain, rec.index, rec.digest, requests);
    p.index = rec.index;
    if (const Ref* ref = ref_at(rec.index)) {
        // The usual case: the same log up to here (the chain covers every earlier index, the
        // digest and the requests) and the same state. Only a difference needs a diagnosis.
        if (p.chain == ref->chain && rec.state == ref->state) return std::nullopt;
        if (p.unverified && rec.digest == ref->digest && requests == ref->requests &&
            rec.state == ref->state) {
            p.chain = ref->chain;
            p.unverified = false;
            return std::nullopt;
        }
        return compare(replica, rec, requests, *ref);
    }
    if (rec.index < refs_base_) {  // forgotten here: checked once it reaches what is kept
        p.unverified = true;
        return std::nullopt;
    }
    return extend(replica, rec, requests, now);
}

std::optional<Finding> LogMonitor::out_of_order(std::uint32_t replica,
                                                const CommitRecord& rec) const {
    const Replica& p = replicas_[replica];
    const bool again = rec.index <= p.index;
    return Finding{again ? "integrity" : "agreement",
                   again
                       ? fmt::format("replica {} executed index {} again (it had reached {})",
                                     replica, rec.index, p.index)
                       : fmt::format("replica {} executed index {} right after index {}, skipping "
                                     "{} without a state transfer",
                                     replica, rec.index, p.index, rec.index - p.index - 1),
                   {replica}};
}

std::optional<Finding> LogMonitor::on_state_transfer(std::uint32_t replica, std::uint64_t index,
                                                     Digest state) {
    if (replica >= replicas_.size() || !replicas_[replica].honest) return std::nullopt;
    Replica& p = replicas_[replica];
    if (index <= p.index) {
        return Finding{"integrity",
                       fmt::format("replica {} took a state transfer back to index {} from "
                                   "index {}",
                                   replica, index, p.index),
                       {replica}};
    }
    if (index < refs_base_) {  // below what is kept: checked from the first kept index on
        p.index = index;
        p.unverified = true;
        return std::nullopt;
    }
    const Ref* ref = ref_at(index);
    if (!ref) {
        return Finding{"agreement",
                       fmt::format("replica {} adopted a state at index {} that no honest "
                                   "replica has reached",
                                   replica, index),
                       {replica}};
    }
    if (ref->state != state) {
        return Finding{"agreement",
                       fmt::format("replica {} adopted state {:016x} at index {}; honest "
                                   "replica {} reached {:016x} there",
                                   replica, state.v, index, ref->first, ref->state.v),
                       {ref->first, replica}};
    }
    p.index = index;
    p.chain = ref->chain;
    p.unverified = false;
    return std::nullopt;
}

void LogMonitor::on_state_lost(std::uint32_t replica) {
    if (replica >= replicas_.size()) return;
    replicas_[replica].index = 0;
    replicas_[replica].chain = 0;
}

void LogMonitor::set_active(std::uint32_t replica, bool active, SimTime now) {
    if (replica >= replicas_.size()) return;
    replicas_[replica].active = active;
    // Deadlines that passed while it was down were not its; what the others reached is.
    if (active && owed_ && !refs_.empty()) add_deadline(now, refs_base_ + refs_.size() - 1);
}

// Every honest replica must reach `index` by the bound after `now` (or after GST and the last
// fault). Deadlines only grow with `now`, so the deque stays in time order.
void LogMonitor::add_deadline(SimTime now, std::uint64_t index) {
    const std::int64_t step = std::max<std::int64_t>(1, bound_.ns / kDeadlineSteps);
    std::int64_t d = deadline_after(std::max(now, from_), bound_).ns;
    // Rounded up to the next step; at most d + step, so only near the largest time it stays.
    if (d <= std::numeric_limits<std::int64_t>::max() - step) d = (d / step + 1) * step;
    if (!deadlines_.empty() && deadlines_.back().deadline_ns == d) {
        deadlines_.back().index = std::max(deadlines_.back().index, index);
    } else {
        deadlines_.push_back({d, index});
    }
}

bool LogMonitor::settled() const {
    if (deadlines_.empty()) return true;
    const std::uint64_t owed = deadlines_.back().index;  // indexes only grow along the deque
    for (const Replica& p : replicas_)
        if (p.honest && p.active && p.index < owed) return false;
    return true;
}

std::optional<Finding> LogMonitor::catch_up_due(SimTime now) {
    while (!deadlines_.empty() && deadlines_.front().deadline_ns < now.ns) {
        const Deadline d = deadlines_.front();
        deadlines_.pop_front();
        for (std::uint32_t r = 0; r < replicas_.size(); ++r) {
            const Replica& p = replicas_[r];
            if (!p.honest || !p.active || p.index >= d.index) continue;
            return Finding{"catch_up",
                           fmt::format("replica {} has executed only up to index {}; index {}, "
                                       "which an honest replica executed, was due at every "
                                       "honest replica by {} (the liveness bound {} after it, "
                                       "or after GST and the last fault)",
                                       r, p.index, d.index, format_duration(SimTime{d.deadline_ns}),
                                       format_duration(bound_)),
                           {r}};
        }
    }
    return std::nullopt;
}

// Forgets the agreed log more than kMargin below every running honest replica's position. A
// replica down for longer, or one that transfers state to below what is kept, is checked again
// from the first kept index on (unverified), so memory stays flat however long one is away.
void LogMonitor::prune() {
    std::uint64_t low = UINT64_MAX;
    for (const Replica& p : replicas_)
        if (p.honest && p.active) low = std::min(low, p.index);
    low = low == UINT64_MAX || low < kMargin ? 0 : low - kMargin;
    while (!refs_.empty() && refs_base_ < low) {
        refs_.pop_front();
        ++refs_base_;
    }
    prune_at_ = std::max(kPruneAtLeast, 2 * refs_.size());
}

}  // namespace sim
