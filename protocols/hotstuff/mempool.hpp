// The pending client requests of a HotStuff replica, in arrival order (so no client starves).
//
// Requests are appended as they arrive and leave when a block executes them, usually from the
// front. Storage is one array in arrival order whose live part starts at head_, with a
// tombstone for each request that left out of order; it is compacted when tombstones outnumber
// live entries. A pool mostly holds a request or two per client, so it is searched by walking
// its few entries, which share a cache line or two; past kIndexAbove pending requests a hash
// index by request takes over (flat: no allocation per request). Iteration (for_each) is
// always in arrival order.
#pragma once

#include <cstdint>
#include <vector>

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
        for (std::size_t i = head_; i < entries_.size(); ++i)
            if (entries_[i].msg && !f(entries_[i].msg)) return;
    }

    // With more pending requests than this, lookups go through the hash index.
    static constexpr std::size_t kIndexAbove = 16;

private:
    struct Entry {
        sim::RequestKey key;
        std::uint64_t arrival = 0;
        proto::ClientMessageRef msg;  // null: a tombstone
    };
    struct KeyHash {
        std::size_t operator()(const sim::RequestKey& k) const noexcept;
    };
    // The position of the pending request `key` in entries_, or entries_.size().
    std::size_t position(const sim::RequestKey& key) const;
    void compact();

    std::vector<Entry> entries_;  // by arrival, live from head_
    std::size_t head_ = 0;
    std::size_t live_ = 0;
    std::uint64_t arrivals_ = 0;
    bool indexed_ = false;                                         // index_ is in use
    sim::FlatMap<sim::RequestKey, std::uint64_t, KeyHash> index_;  // key -> arrival
};

}  // namespace hotstuff
