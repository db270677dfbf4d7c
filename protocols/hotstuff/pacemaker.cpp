#include "protocols/hotstuff/pacemaker.hpp"

#include <algorithm>
#include <functional>

namespace hotstuff {

proto::NodeId Pacemaker::compute_leader(std::uint64_t view) const {
    if (view < leaders_.size()) return proto::NodeId(leaders_[view]);
    return proto::NodeId(static_cast<std::uint32_t>(view % quorum_.n));
}

void Pacemaker::arm(sim::Context& ctx, std::uint64_t tag, std::uint64_t view,
                    std::uint64_t qc_view) {
    const std::uint64_t misses = view > qc_view ? view - qc_view - 1 : 0;
    length_ = base_ * (1LL << std::min<std::uint64_t>(misses, max_doublings_));
    armed_ = true;
    set_deadline(ctx, tag);
}

void Pacemaker::restart(sim::Context& ctx, std::uint64_t tag) {
    if (armed_) set_deadline(ctx, tag);
}

void Pacemaker::set_deadline(sim::Context& ctx, std::uint64_t tag) {
    deadline_ = ctx.now() + length_;
    if (pending_ && pending_at_ <= deadline_) return;  // it fires first, and sets itself again
    if (pending_) ctx.cancel_timer(timer_);
    timer_ = ctx.set_timer(length_, tag);
    pending_ = true;
    pending_at_ = deadline_;
}

bool Pacemaker::fire(sim::Context& ctx, std::uint64_t tag) {
    pending_ = false;
    if (!armed_) return false;
    if (ctx.now() < deadline_) {
        timer_ = ctx.set_timer(deadline_ - ctx.now(), tag);
        pending_ = true;
        pending_at_ = deadline_;
        return false;
    }
    armed_ = false;
    return true;
}

std::size_t Pacemaker::new_view_from(std::uint64_t view, std::uint32_t from) {
    auto& r = reported_[from];
    r = std::max(r, view);
    if (!within(view, floor_, window_)) {
        ++refused_;
        return 0;
    }
    if (view < floor_) return 0;  // a view we left: its leader needs it no more from us
    auto& s = new_views_[view];
    s.insert(from);
    return s.size();
}

std::optional<std::uint64_t> Pacemaker::join(std::uint64_t current) const {
    std::vector<std::uint64_t> above;
    for (const auto& [sender, view] : reported_)
        if (view > current) above.push_back(view);
    if (above.size() < quorum_.weak()) return std::nullopt;
    std::sort(above.begin(), above.end(), std::greater<>());
    return above[quorum_.weak() - 1];
}

void Pacemaker::forget_below(std::uint64_t view) {
    floor_ = std::max(floor_, view);
    new_views_.erase(new_views_.begin(), new_views_.lower_bound(view));
}

}  // namespace hotstuff
