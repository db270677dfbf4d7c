// The pending client requests of a HotStuff replica, in arrival order (so no client starves).
//
// Requests are appended as they arrive and leave when a block executes them, usually from the
// front. Storage is a ring in arrival order, with a tombstone for each request that left out
// of order; a request's place in the ring is its arrival number (modulo the ring's size), so
// the ring is rebuilt only when it grows, or when tombstones outnumber live entries. A pool
// mostly holds a request or two per client: the ring stays a few cache lines that are reused
// from one request to the next, and it is searched by walking them. Past kIndexAbove pending
// requests a hash index from request to arrival takes over (flat: no allocation per request).
// Iteration (for_each) is always in arrival order.
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
        for (std::uint64_t a = head_; a < tail_; ++a)
            if (const auto& m = at(a).msg; m && !f(m)) return;
    }

    // With more pending requests than this, lookups go through the hash index.
    static constexpr std::size_t kIndexAbove = 16;

private:
    struct Entry {
        sim::RequestKey key;
        proto::ClientMessageRef msg;  // null: a tombstone
    };
    struct KeyHash {
        std::size_t operator()(const sim::RequestKey& k) const noexcept;
    };
    Entry& at(std::uint64_t arrival) { return ring_[arrival & (ring_.size() - 1)]; }
    const Entry& at(std::uint64_t arrival) const { return ring_[arrival & (ring_.size() - 1)]; }
    // The arrival number of the pending request `key`, or tail_ if it is not pending.
    std::uint64_t find(const sim::RequestKey& key) const;
    // Moves the live entries into a ring of `size` slots (a power of two), renumbering their
    // arrivals from 0 when `renumber` (the index is rebuilt to match).
    void rebuild(std::size_t size, bool renumber);
    void build_index();

    std::vector<Entry> ring_;  // a power of two in size; arrivals [head_, tail_) are in it
    std::uint64_t head_ = 0, tail_ = 0;
    std::size_t live_ = 0;
    bool indexed_ = false;                                         // index_ is in use
    sim::FlatMap<sim::RequestKey, std::uint64_t, KeyHash> index_;  // key -> arrival
};

}  // namespace hotstuff
