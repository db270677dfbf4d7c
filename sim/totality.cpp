#include "sim/totality.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "sim/scenario.hpp"

namespace sim {

TotalityMonitor::TotalityMonitor(std::vector<bool> honest, SimTime from, SimTime bound)
    : honest_(std::move(honest)),
      active_(honest_.size(), true),
      up_since_(honest_.size()),
      from_(from),
      bound_(bound) {
    for (bool h : honest_) honest_count_ += h ? 1 : 0;
    active_honest_ = honest_count_;
}

std::int64_t TotalityMonitor::deadline_after(SimTime t) const {
    return sim::deadline_after(std::max(t, from_), bound_).ns;
}

void TotalityMonitor::on_deliver(std::uint32_t replica, std::uint64_t index, SimTime now) {
    if (replica >= honest_.size() || !honest_[replica]) return;
    auto [it, fresh] = pending_.try_emplace(index);
    Pending& p = it->second;
    if (fresh) {
        p.delivered.assign((honest_.size() + 63) / 64, 0);
        p.first = replica;
        deadlines_.emplace(deadline_after(now), index);
        // Every other honest replica that is up now owes it.
        owing_ += active_honest_ - (active_[replica] ? 1 : 0);
    } else {
        if (has(p, replica)) return;
        if (active_[replica]) --owing_;
    }
    p.delivered[replica / 64] |= std::uint64_t{1} << (replica % 64);
    if (++p.count == honest_count_) {
        pending_.erase(it);
    } else if (pending_.size() > prune_at_) {
        prune();
        prune_at_ = std::max(kPruneAtLeast, 2 * pending_.size());
    }
}

void TotalityMonitor::set_active(std::uint32_t replica, bool active, SimTime now) {
    if (replica >= honest_.size() || !honest_[replica] || active_[replica] == active) return;
    active_[replica] = active;
    std::uint64_t lacking = 0;
    for (const auto& [index, p] : pending_) {
        if (has(p, replica)) continue;
        ++lacking;
        if (active) deadlines_.emplace(deadline_after(now), index);
    }
    if (active) {
        ++active_honest_;
        owing_ += lacking;
        up_since_[replica] = now;
    } else {
        --active_honest_;
        owing_ -= lacking;
    }
}

std::optional<Finding> TotalityMonitor::on_step(SimTime now) {
    while (due(now)) {
        const auto [deadline, index] = *deadlines_.begin();
        deadlines_.erase(deadlines_.begin());
        const auto it = pending_.find(index);
        if (it == pending_.end()) continue;
        const Pending& p = it->second;
        for (std::uint32_t r = 0; r < honest_.size(); ++r) {
            if (!honest_[r] || !active_[r] || has(p, r)) continue;
            // Back up since: its own, later deadline for this index is queued.
            if (deadline_after(up_since_[r]) > deadline) continue;
            return Finding{"totality",
                           fmt::format("replica {} has not delivered index {}, which honest "
                                       "replica {} delivered; it was due at every honest replica "
                                       "by {} (the liveness bound {} after that, or after GST "
                                       "and the last fault)",
                                       r, index, p.first, format_duration(SimTime{deadline}),
                                       format_duration(bound_)),
                           {r, p.first}};
        }
    }
    return std::nullopt;
}

// Forgets the indices that only replicas now down lack (none of them counts in owing_).
void TotalityMonitor::prune() {
    for (auto it = pending_.begin(); it != pending_.end();) {
        bool owed_by_active = false;
        for (std::uint32_t r = 0; r < honest_.size() && !owed_by_active; ++r)
            owed_by_active = honest_[r] && active_[r] && !has(it->second, r);
        it = owed_by_active ? std::next(it) : pending_.erase(it);
    }
}

}  // namespace sim
