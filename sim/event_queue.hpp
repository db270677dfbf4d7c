// The event queue: a 4-ary min-heap of small plain events ordered by (time, insertion sequence).
// Equal times pop in insertion order, which makes the run deterministic. Pushing and popping
// allocate nothing once the heap has grown to its working size.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/types.hpp"

namespace sim {

// GCC and Clang's 128-bit integer; __extension__ keeps -Wpedantic quiet about it.
__extension__ typedef unsigned __int128 EventKey;

enum class EventKind : std::uint8_t { Deliver, Timer, Ready, FaultBegin, FaultEnd, Start };

// 24 bytes, so four children of a heap node span a cache line and a half.
struct Event {
    std::int64_t time_ns = 0;
    std::uint64_t seq = 0;
    std::uint32_t target : 24 = 0;  // the node the event happens at
    std::uint32_t kind_bits : 8 = 0;
    std::uint32_t slot = 0;  // in-flight message, timer record, or fault index

    static Event make(std::int64_t time_ns, std::uint32_t target, std::uint32_t slot,
                      EventKind kind) {
        Event e;
        e.time_ns = time_ns;
        e.target = target & 0xffffffu;
        e.kind_bits = static_cast<std::uint32_t>(kind);
        e.slot = slot;
        return e;
    }
    EventKind kind() const { return static_cast<EventKind>(kind_bits); }

    // (time, seq) as one 128-bit key: one compare, no branch on equal times.
    bool before(const Event& o) const { return key() < o.key(); }
    EventKey key() const {
        return (static_cast<EventKey>(static_cast<std::uint64_t>(time_ns)) << 64) | seq;
    }
};

// Keys and the rest of each event live in two parallel arrays: the sift loops compare only
// 16-byte keys, so a node's four children are one 64-byte line, and move the 8-byte rest along.
class EventQueue {
public:
    void push(Event e) {
        e.seq = next_seq_++;
        const EventKey key = e.key();
        const std::uint64_t val = pack(e);
        std::size_t i = keys_.size();
        keys_.emplace_back();
        vals_.emplace_back();
        while (i > 0) {
            const std::size_t parent = (i - 1) / 4;
            if (!(key < keys_[parent])) break;
            keys_[i] = keys_[parent];
            vals_[i] = vals_[parent];
            i = parent;
        }
        keys_[i] = key;
        vals_[i] = val;
    }

    // Floyd's bottom-up deletion: the hole goes down to a leaf along the least children (a
    // fixed number of steps, which the branch predictor learns), then the last event rises
    // from there, usually not at all.
    Event pop() {
        const Event top = unpack(keys_.front(), vals_.front());
        const EventKey last_key = keys_.back();
        const std::uint64_t last_val = vals_.back();
        keys_.pop_back();
        vals_.pop_back();
        const std::size_t n = keys_.size();
        if (n == 0) return top;
        std::size_t i = 0;
        for (;;) {
            const std::size_t first = 4 * i + 1;
            if (first >= n) break;
            std::size_t best = first;
            if (first + 3 < n) {
                const std::size_t a = keys_[first + 1] < keys_[first] ? first + 1 : first;
                const std::size_t b = keys_[first + 3] < keys_[first + 2] ? first + 3 : first + 2;
                best = keys_[b] < keys_[a] ? b : a;
            } else {
                for (std::size_t c = first + 1; c < n; ++c)
                    if (keys_[c] < keys_[best]) best = c;
            }
            keys_[i] = keys_[best];
            vals_[i] = vals_[best];
            i = best;
        }
        while (i > 0) {
            const std::size_t parent = (i - 1) / 4;
            if (!(last_key < keys_[parent])) break;
            keys_[i] = keys_[parent];
            vals_[i] = vals_[parent];
            i = parent;
        }
        keys_[i] = last_key;
        vals_[i] = last_val;
        return top;
    }

    // Drops every event `dead(event)` names and restores the heap (Floyd's bottom-up build,
    // O(size)). Keys are unique, so what remains pops in exactly the order it would have.
    template <class Dead>
    void remove_if(Dead dead) {
        std::size_t kept = 0;
        for (std::size_t i = 0; i < keys_.size(); ++i) {
            if (dead(unpack(keys_[i], vals_[i]))) continue;
            keys_[kept] = keys_[i];
            vals_[kept] = vals_[i];
            ++kept;
        }
        keys_.resize(kept);
        vals_.resize(kept);
        for (std::size_t i = kept / 4 + 1; i-- > 0;) sift_down(i);
    }

    Event top() const { return unpack(keys_.front(), vals_.front()); }
    std::int64_t top_time_ns() const { return static_cast<std::int64_t>(keys_.front() >> 64); }
    bool empty() const { return keys_.empty(); }
    std::size_t size() const { return keys_.size(); }
    void reserve(std::size_t n) {
        keys_.reserve(n);
        vals_.reserve(n);
    }

private:
    void sift_down(std::size_t i) {
        const std::size_t n = keys_.size();
        const EventKey key = keys_[i];
        const std::uint64_t val = vals_[i];
        for (;;) {
            const std::size_t first = 4 * i + 1;
            if (first >= n) break;
            std::size_t best = first;
            for (std::size_t c = first + 1; c < first + 4 && c < n; ++c)
                if (keys_[c] < keys_[best]) best = c;
            if (!(keys_[best] < key)) break;
            keys_[i] = keys_[best];
            vals_[i] = vals_[best];
            i = best;
        }
        keys_[i] = key;
        vals_[i] = val;
    }

    static std::uint64_t pack(const Event& e) {
        return (static_cast<std::uint64_t>(e.target) << 40) |
               (static_cast<std::uint64_t>(e.kind_bits) << 32) | e.slot;
    }
    static Event unpack(EventKey key, std::uint64_t val) {
        Event e;
        e.time_ns = static_cast<std::int64_t>(static_cast<std::uint64_t>(key >> 64));
        e.seq = static_cast<std::uint64_t>(key);
        e.target = static_cast<std::uint32_t>(val >> 40) & 0xffffffu;
        e.kind_bits = static_cast<std::uint32_t>(val >> 32) & 0xffu;
        e.slot = static_cast<std::uint32_t>(val);
        return e;
    }

    std::vector<EventKey> keys_;
    std::vector<std::uint64_t> vals_;
    std::uint64_t next_seq_ = 0;
};

}  // namespace sim
