#include "protocols/hotstuff/mempool.hpp"

#include <algorithm>

#include "sim/hash.hpp"

namespace hotstuff {

std::size_t Mempool::KeyHash::operator()(const sim::RequestKey& k) const noexcept {
    return static_cast<std::size_t>(sim::mix64((std::uint64_t{k.client.v} << 40) ^ k.timestamp));
}

std::size_t Mempool::position(const sim::RequestKey& key) const {
    if (!indexed_) {
        for (std::size_t i = head_; i < entries_.size(); ++i)
            if (entries_[i].msg && entries_[i].key == key) return i;
        return entries_.size();
    }
    const std::uint64_t* at = index_.find(key);
    if (!at) return entries_.size();
    // Blocks mostly execute the oldest pending request.
    if (entries_[head_].arrival == *at) return head_;
    const auto it =
        std::lower_bound(entries_.begin() + static_cast<std::ptrdiff_t>(head_), entries_.end(), *at,
                         [](const Entry& e, std::uint64_t a) { return e.arrival < a; });
    return static_cast<std::size_t>(it - entries_.begin());
}

bool Mempool::add(const sim::RequestKey& key, proto::ClientMessageRef m) {
    if (indexed_) {
        auto [arrival, fresh] = index_.try_emplace(key);
        if (!fresh) return false;
        *arrival = arrivals_;
    } else if (position(key) != entries_.size()) {
        return false;
    }
    entries_.push_back(Entry{key, arrivals_++, std::move(m)});
    ++live_;
    if (!indexed_ && live_ > kIndexAbove) {
        indexed_ = true;
        for (std::size_t i = head_; i < entries_.size(); ++i)
            if (entries_[i].msg) *index_.try_emplace(entries_[i].key).first = entries_[i].arrival;
    }
    return true;
}

void Mempool::remove(const sim::RequestKey& key) {
    const std::size_t at = position(key);
    if (at == entries_.size()) return;
    entries_[at].msg = proto::ClientMessageRef();
    --live_;
    if (indexed_) {
        index_.erase(key);
        if (live_ <= kIndexAbove / 2) {  // back to walking; the index is cleared for next time
            index_.clear();
            indexed_ = false;
        }
    }
    while (head_ < entries_.size() && !entries_[head_].msg) ++head_;
    if (head_ == entries_.size()) {
        entries_.clear();
        head_ = 0;
    } else if (entries_.size() - head_ > 2 * live_ + 64 || head_ > 64 + entries_.size() / 2) {
        compact();
    }
}

void Mempool::compact() {
    std::erase_if(entries_, [](const Entry& e) { return !e.msg; });
    head_ = 0;
}

}  // namespace hotstuff
