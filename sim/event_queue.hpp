// The event queue: small plain events ordered by (time, insertion sequence).
// Equal times pop in insertion order, which makes the run deterministic. Pushing and popping
// allocate nothing once the heap has grown to its working size.
#pragma once

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include "sim/types.hpp"

namespace sim {

// GCC and Clang's 128-bit integer; __extension__ keeps -Wpedantic quiet about it.
__extension__ typedef unsigned __int128 EventKey;

// Release: a network rule's hold ends at this time (slot: the rule).
enum class EventKind : std::uint8_t { Deliver, Timer, Ready, FaultBegin, FaultEnd, Start, Release };

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

// The queue: a 4-ary min-heap of (time, seq) keys, plus runs of events that share one time.
//
// Keys and the rest of each event live in two parallel arrays: the sift loops compare only
// 16-byte keys, so a node's four children are one 64-byte line, and move the 8-byte rest along.
//
// Runs: pushes at a time pushed to recently (the last four distinct times; over fixed-delay
// links every send of one instant arrives at one time) go to a FIFO for that time that stands
// in the heap as one entry keyed by its first event. The order is still exactly (time, seq):
// while a run takes its time's pushes, every event of that time pushed meanwhile is in it, so
// none outside sorts between its events; and once the run's entry is the heap's least,
// everything else in the heap sorts after all of the run. A push at a time not seen recently,
// the common case with random delays, pays four comparisons for this.
class EventQueue {
public:
    void push(Event e) {
        e.seq = next_seq_++;
        ++size_;
        for (Recent& r : recent_) {
            if (r.time != e.time_ns) continue;
            if (r.run == kNone) {
                r.run = new_run(e.time_ns);
                heap_push(e.key(), pack_run(r.run));
            }
            runs_[r.run].events.push_back({pack(e), e.seq});
            return;
        }
        recent_[next_recent_] = Recent{e.time_ns, kNone};
        next_recent_ = (next_recent_ + 1) % recent_.size();
        heap_push(e.key(), pack(e));
    }

    Event pop() {
        --size_;
        if (active_run_ == kNone) {
            const EventKey key = keys_.front();
            const std::uint64_t val = vals_.front();
            heap_pop();
            if (!is_run(val)) return unpack(key, val);
            active_run_ = run_of(val);
        }
        Run& run = runs_[active_run_];
        const auto [val, seq] = run.events[run.head++];
        const Event e = unpack(make_key(run.time, seq), val);
        if (run.head == run.events.size()) {
            release_run(active_run_);
            active_run_ = kNone;
        }
        return e;
    }

    // Drops every event `dead(event)` names and restores the heap (Floyd's bottom-up build,
    // O(size)). Keys are unique, so what remains pops in exactly the order it would have.
    template <class Dead>
    void remove_if(Dead dead) {
        for (std::uint32_t id = 0; id < runs_.size(); ++id) {
            Run& run = runs_[id];
            if (!run.live) continue;
            std::size_t kept = run.head;
            for (std::size_t i = run.head; i < run.events.size(); ++i) {
                const auto& [val, seq] = run.events[i];
                if (dead(unpack(make_key(run.time, seq), val))) {
                    --size_;
                    continue;
                }
                run.events[kept++] = run.events[i];
            }
            run.events.resize(kept);
        }
        std::size_t kept = 0;
        for (std::size_t i = 0; i < keys_.size(); ++i) {
            if (is_run(vals_[i])) {
                if (runs_[run_of(vals_[i])].head == runs_[run_of(vals_[i])].events.size()) {
                    release_run(run_of(vals_[i]));
                    continue;
                }
                // A run whose first events went keeps its place: its key is below the rest.
            } else if (dead(unpack(keys_[i], vals_[i]))) {
                --size_;
                continue;
            }
            keys_[kept] = keys_[i];
            vals_[kept] = vals_[i];
            ++kept;
        }
        keys_.resize(kept);
        vals_.resize(kept);
        for (std::size_t i = kept / 4 + 1; i-- > 0;) sift_down(i);
        if (active_run_ != kNone && runs_[active_run_].head == runs_[active_run_].events.size()) {
            release_run(active_run_);
            active_run_ = kNone;
        }
    }

    Event top() const {
        if (active_run_ != kNone) return run_front(active_run_);
        if (is_run(vals_.front())) return run_front(run_of(vals_.front()));
        return unpack(keys_.front(), vals_.front());
    }
    std::int64_t top_time_ns() const {
        if (active_run_ != kNone) return runs_[active_run_].time;
        return static_cast<std::int64_t>(keys_.front() >> 64);
    }
    bool empty() const { return size_ == 0; }
    std::size_t size() const { return size_; }
    void reserve(std::size_t n) {
        keys_.reserve(n);
        vals_.reserve(n);
    }

private:
    static constexpr std::uint32_t kNone = 0xffffffffu;
    static constexpr std::uint64_t kRunKind = 0xff;  // in the kind byte: the entry is a run

    struct Run {
        std::int64_t time = 0;
        std::vector<std::pair<std::uint64_t, std::uint64_t>> events;  // (packed rest, seq)
        std::size_t head = 0;
        bool live = false;
    };

    static EventKey make_key(std::int64_t time_ns, std::uint64_t seq) {
        return (static_cast<EventKey>(static_cast<std::uint64_t>(time_ns)) << 64) | seq;
    }
    static std::uint64_t pack_run(std::uint32_t id) { return (kRunKind << 32) | id; }
    static bool is_run(std::uint64_t val) { return ((val >> 32) & 0xff) == kRunKind; }
    static std::uint32_t run_of(std::uint64_t val) { return static_cast<std::uint32_t>(val); }

    Event run_front(std::uint32_t id) const {
        const Run& run = runs_[id];
        const auto& [val, seq] = run.events[run.head];
        return unpack(make_key(run.time, seq), val);
    }

    std::uint32_t new_run(std::int64_t time_ns) {
        std::uint32_t id;
        if (!free_runs_.empty()) {
            id = free_runs_.back();
            free_runs_.pop_back();
        } else {
            id = static_cast<std::uint32_t>(runs_.size());
            runs_.emplace_back();
        }
        Run& run = runs_[id];
        run.time = time_ns;
        run.events.clear();
        run.head = 0;
        run.live = true;
        return id;
    }
    void release_run(std::uint32_t id) {
        runs_[id].live = false;
        runs_[id].events.clear();
        runs_[id].head = 0;
        free_runs_.push_back(id);
        for (Recent& r : recent_)
            if (r.run == id) r = Recent{};
    }

    void heap_push(EventKey key, std::uint64_t val) {
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

    // Floyd's bottom-up deletion of the least entry: the hole goes down to a leaf along the
    // least children (a fixed number of steps, which the branch predictor learns), then the
    // last entry rises from there, usually not at all.
    void heap_pop() {
        const EventKey last_key = keys_.back();
        const std::uint64_t last_val = vals_.back();
        keys_.pop_back();
        vals_.pop_back();
        const std::size_t n = keys_.size();
        if (n == 0) return;
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
    }

    void sift_down(std::size_t i) {
        const std::size_t n = keys_.size();
        if (i >= n) return;
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
    std::vector<Run> runs_;
    std::vector<std::uint32_t> free_runs_;
    std::uint64_t next_seq_ = 0;
    std::size_t size_ = 0;
    // Times pushed to recently, each with the run that takes its pushes (none yet: the first
    // push at a time goes to the heap alone). Replaced round-robin.
    struct Recent {
        std::int64_t time = -1;
        std::uint32_t run = kNone;
    };
    std::array<Recent, 4> recent_{};
    std::size_t next_recent_ = 0;
    std::uint32_t active_run_ = kNone;  // the run being popped
};

}  // namespace sim
