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

class EventQueue {
public:
    void push(Event e) {
        e.seq = next_seq_++;
        // Sift a hole up from the end, then drop the event into it.
        std::size_t i = heap_.size();
        heap_.emplace_back();
        while (i > 0) {
            const std::size_t parent = (i - 1) / 4;
            if (!e.before(heap_[parent])) break;
            heap_[i] = heap_[parent];
            i = parent;
        }
        heap_[i] = e;
    }

    // Floyd's bottom-up deletion: the hole goes down to a leaf along the least children
    // (a fixed number of steps, so the branch predictor learns the loop), then the last event
    // rises from there, which is usually no step at all.
    Event pop() {
        const Event top = heap_.front();
        const Event last = heap_.back();
        heap_.pop_back();
        const std::size_t n = heap_.size();
        if (n == 0) return top;
        std::size_t i = 0;
        for (;;) {
            const std::size_t first = 4 * i + 1;
            if (first >= n) break;
            std::size_t best = first;
            if (first + 3 < n) {
                const std::size_t a = heap_[first + 1].before(heap_[first]) ? first + 1 : first;
                const std::size_t b =
                    heap_[first + 3].before(heap_[first + 2]) ? first + 3 : first + 2;
                best = heap_[b].before(heap_[a]) ? b : a;
            } else {
                for (std::size_t c = first + 1; c < n; ++c)
                    if (heap_[c].before(heap_[best])) best = c;
            }
            heap_[i] = heap_[best];
            i = best;
        }
        while (i > 0) {
            const std::size_t parent = (i - 1) / 4;
            if (!last.before(heap_[parent])) break;
            heap_[i] = heap_[parent];
            i = parent;
        }
        heap_[i] = last;
        return top;
    }

    const Event& top() const { return heap_.front(); }
    bool empty() const { return heap_.empty(); }
    std::size_t size() const { return heap_.size(); }
    void reserve(std::size_t n) { heap_.reserve(n); }

private:
    std::vector<Event> heap_;
    std::uint64_t next_seq_ = 0;
};

}  // namespace sim
