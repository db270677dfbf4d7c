#include "protocols/hotstuff/mempool.hpp"

#include <algorithm>

#include "sim/hash.hpp"

namespace hotstuff {

namespace {
constexpr std::size_t kSmallestRing = 8;
}  // namespace

std::size_t Mempool::KeyHash::operator()(const sim::RequestKey& k) const noexcept {
    return static_cast<std::size_t>(sim::mix64((std::uint64_t{k.client.v} << 40) ^ k.timestamp));
}

std::uint64_t Mempool::find(const sim::RequestKey& key) const {
    if (indexed_) {
        const std::uint64_t* a = index_.find(key);
        return a ? *a : tail_;
    }
    for (std::uint64_t a = head_; a < tail_; ++a)
        if (const Entry& e = at(a); e.msg && e.key == key) return a;
    return tail_;
}

void Mempool::build_index() {
    index_.clear();
    for (std::uint64_t a = head_; a < tail_; ++a)
        if (const Entry& e = at(a); e.msg) *index_.try_emplace(e.key).first = a;
}

void Mempool::rebuild(std::size_t size, bool renumber) {
    std::vector<Entry> old = std::move(ring_);
    const std::size_t old_mask = old.size() - 1;
    ring_.assign(size, Entry{});
    const std::uint64_t from = head_, to = tail_;
    if (renumber) head_ = tail_ = 0;
    for (std::uint64_t a = from; a < to; ++a) {
        Entry& e = old[a & old_mask];
        if (renumber) {
            if (e.msg) at(tail_++) = std::move(e);
        } else {
            at(a) = std::move(e);
        }
    }
    if (renumber && indexed_) build_index();
}

bool Mempool::add(const sim::RequestKey& key, proto::ClientMessageRef m) {
    if (find(key) != tail_) return false;
    if (ring_.empty()) {
        ring_.resize(kSmallestRing);
    } else if (tail_ - head_ == ring_.size()) {
        // Full: tombstones out when they are most of it, else twice the room.
        if (2 * live_ < ring_.size()) {
            rebuild(ring_.size(), true);
        } else {
            rebuild(2 * ring_.size(), false);
        }
    }
    if (indexed_) *index_.try_emplace(key).first = tail_;
    at(tail_++) = Entry{key, std::move(m)};
    ++live_;
    if (!indexed_ && live_ > kIndexAbove) {
        indexed_ = true;
        build_index();
    }
    return true;
}

void Mempool::remove(const sim::RequestKey& key) {
    const std::uint64_t a = find(key);
    if (a == tail_) return;
    at(a).msg = proto::ClientMessageRef();
    --live_;
    if (indexed_) {
        index_.erase(key);
        if (live_ <= kIndexAbove / 2) indexed_ = false;  // back to walking
    }
    while (head_ < tail_ && !at(head_).msg) ++head_;
    // After a burst: back to a few cache lines once the pool is a quarter of the ring.
    if (ring_.size() > 4 * kSmallestRing && 4 * (tail_ - head_) < ring_.size())
        rebuild(ring_.size() / 2, false);
}

}  // namespace hotstuff
