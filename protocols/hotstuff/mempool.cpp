#include "protocols/hotstuff/mempool.hpp"

#include <algorithm>

#include "sim/hash.hpp"

namespace hotstuff {

std::size_t Mempool::KeyHash::operator()(const sim::RequestKey& k) const noexcept {
    return static_cast<std::size_t>(sim::mix64((std::uint64_t{k.client.v} << 40) ^ k.timestamp));
}

bool Mempool::add(const sim::RequestKey& key, proto::ClientMessageRef m) {
    auto [arrival, fresh] = index_.try_emplace(key);
    if (!fresh) return false;
    *arrival = arrivals_;
    entries_.emplace_back(arrivals_++, std::move(m));
    ++live_;
    return true;
}

void Mempool::remove(const sim::RequestKey& key) {
    const std::uint64_t* at = index_.find(key);
    if (!at) return;
    const std::uint64_t arrival = *at;
    index_.erase(key);
    // Blocks mostly execute the oldest pending request.
    auto e =
        entries_.front().first == arrival
            ? entries_.begin()
            : std::lower_bound(entries_.begin(), entries_.end(), arrival,
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
