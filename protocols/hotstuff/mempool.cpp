#include "protocols/hotstuff/mempool.hpp"

#include <algorithm>

#include "sim/hash.hpp"

namespace hotstuff {

std::size_t Mempool::KeyHash::operator()(const sim::RequestKey& k) const noexcept {
    return static_cast<std::size_t>(sim::mix64((std::uint64_t{k.client.v} << 40) ^ k.timestamp));
}

bool Mempool::add(const sim::RequestKey& key, proto::ClientMessageRef m) {
    if (!index_.try_emplace(key, arrivals_).second) return false;
    entries_.emplace_back(arrivals_++, std::move(m));
    ++live_;
    return true;
}

void Mempool::remove(const sim::RequestKey& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return;
    const std::uint64_t arrival = it->second;
    index_.erase(it);
    auto e = std::lower_bound(entries_.begin(), entries_.end(), arrival,
                              [](const auto& entry, std::uint64_t a) { return entry.first < a; });
    e->second = proto::ClientMessageRef();
    --live_;
    while (!entries_.empty() && !entries_.front().second) entries_.pop_front();
    if (entries_.size() > 2 * live_ + 64) compact();
}

void Mempool::compact() {
    std::erase_if(entries_, [](const auto& entry) { return !entry.second; });
}

}  // namespace hotstuff
