// The event queue: a 4-ary min-heap of small plain events ordered by (time, insertion sequence).
// Equal times pop in insertion order, which makes the run deterministic. Pushing and popping
// allocate nothing once the heap has grown to its working size.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/types.hpp"

namespace sim {

enum class EventKind : std::uint8_t { Deliver, Timer, Ready, Fault, Start };

struct Event {
    std::int64_t time_ns = 0;
    std::uint64_t seq = 0;
    std::uint32_t target = 0;  // the node the event happens at
    std::uint32_t slot = 0;    // in-flight message, timer record, or fault index
    EventKind kind = EventKind::Deliver;
    std::uint8_t aux = 0;  // fault: 0 begins, 1 ends

    bool before(const Event& o) const {
        return time_ns < o.time_ns || (time_ns == o.time_ns && seq < o.seq);
    }
};

class EventQueue {
public:
    void push(Event e) {
        e.seq = next_seq_++;
        std::size_t i = heap_.size();
        heap_.push_back(e);
        while (i > 0) {
            std::size_t parent = (i - 1) / 4;
            if (!heap_[i].before(heap_[parent])) break;
            std::swap(heap_[i], heap_[parent]);
            i = parent;
        }
    }

    Event pop() {
        Event top = heap_.front();
        Event last = heap_.back();
        heap_.pop_back();
        const std::size_t n = heap_.size();
        if (n == 0) return top;
        std::size_t i = 0;
        for (;;) {
            std::size_t first = 4 * i + 1;
            if (first >= n) break;
            std::size_t best = first;
            std::size_t end = first + 4 < n ? first + 4 : n;
            for (std::size_t c = first + 1; c < end; ++c)
                if (heap_[c].before(heap_[best])) best = c;
            if (!heap_[best].before(last)) break;
            heap_[i] = heap_[best];
            i = best;
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
