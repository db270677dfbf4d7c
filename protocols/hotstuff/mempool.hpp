// The pending client requests of a HotStuff replica, in arrival order (so no client starves).
//
// Requests are appended as they arrive and leave when a block executes them, usually from the
// front. Storage is a deque in arrival order with a tombstone for each request that left out of
// order, compacted when tombstones outnumber live entries; the index by request is a hash map
// that is only looked up (flat: no allocation per request). Iteration (for_each) is always in
// arrival order.
#pragma once

#include <cstdint>
#include <deque>
#include <utility>

#include "protocols/common/client_messages.hpp"
#include "sim/actor.hpp"
#include "sim/flat_map.hpp"

namespace hotstuff {

class Mempool {
public:
    // Adds a request unless one with the same key is pending; returns whether it was added.
    bool add(const sim::RequestKey& key, proto::ClientMessageRef m);
    // Removes the pending request with this key, if any.
    void remove(const sim::RequestKey& key);
    bool empty() const { return live_ == 0; }
    std::size_t size() const { return live_; }

    // Calls f(request) for each pending request, oldest first, until f returns false.
    template <class F>
    void for_each(F&& f) const {
        for (const auto& [arrival, m] : entries_)
            if (m && !f(m)) return;
    }

private:
    struct KeyHash {
        std::size_t operator()(const sim::RequestKey& k) const noexcept;
    };
    void compact();

    std::deque<std::pair<std::uint64_t, proto::ClientMessageRef>> entries_;  // by arrival
    sim::FlatMap<sim::RequestKey, std::uint64_t, KeyHash> index_;            // key -> arrival
    std::uint64_t arrivals_ = 0;
    std::size_t live_ = 0;
};

}  // namespace hotstuff
