// The engine's vocabulary: node ids, virtual time, digests and signatures.
#pragma once

#include <array>
#include <cstdint>
#include <limits>

#include "sim/strong.hpp"

namespace sim {

struct NodeTag {};
// Every actor has a NodeId: replicas are 0..n-1, clients follow at n..n+c-1.
using NodeId = Strong<NodeTag, std::uint32_t>;

// Virtual time in integer nanoseconds since the start of the run. Never a wall clock.
struct SimTime {
    std::int64_t ns = 0;
    constexpr auto operator<=>(const SimTime&) const = default;
    constexpr SimTime operator+(SimTime o) const { return {ns + o.ns}; }
    constexpr SimTime operator-(SimTime o) const { return {ns - o.ns}; }
    constexpr SimTime& operator+=(SimTime o) {
        ns += o.ns;
        return *this;
    }
    constexpr SimTime operator*(std::int64_t k) const { return {ns * k}; }
    static constexpr SimTime max() { return {std::numeric_limits<std::int64_t>::max()}; }
};
// The longest duration a scenario may give (1,000,000 s, 11.6 days); parse_duration refuses
// longer ones. Why no sum of times in a run can overflow 2^63-1 ns (9.2e18):
// - every event is at most the stop time (<= kMaxDuration) when it runs, and schedules at
//   `now` plus: a path's link delays (at most 1,023 hops, each <= kMaxDuration or a random
//   tail capped at an hour: <= 1.03e18 in all), a handler's CPU time (saturating below:
//   its counts of signatures are not bounded by the format) or a timer (deadline_after);
// - a randomized window's start plus length is cut at the stop time;
// - open-loop gaps are capped at kMaxDuration (rates are at least one per kMaxDuration).
inline constexpr SimTime kMaxDuration{1'000'000'000'000'000};

// a + b for a deadline, both never negative: the largest time where the sum would overflow.
constexpr SimTime deadline_after(SimTime a, SimTime b) {
    return b.ns > std::numeric_limits<std::int64_t>::max() - a.ns ? SimTime::max() : a + b;
}
constexpr SimTime nanoseconds(std::int64_t v) {
    return {v};
}
constexpr SimTime microseconds(std::int64_t v) {
    return {v * 1000};
}
constexpr SimTime milliseconds(std::int64_t v) {
    return {v * 1000 * 1000};
}
constexpr SimTime seconds(std::int64_t v) {
    return {v * 1000 * 1000 * 1000};
}

struct DigestTag {};
// A 64-bit content digest, computed once when a message is made (see hash.hpp).
using Digest = Strong<DigestTag, std::uint64_t>;

// A signature's 64 bytes (Ed25519's size). A simulated signature uses the first 8 (an aggregate
// the first 16) and leaves the rest zero, so the first 16 are held inline and the other 48 only
// when one of them is not zero (Ed25519), in an immutable block the copies share. Signatures are
// copied into every message, vote and certificate: held as 64 bytes, they made a vote and its
// message three times the size they need.
class Signature {
public:
    static constexpr std::size_t kBytes = 64;
    static constexpr std::size_t kInline = 16;
    using Bytes = std::array<std::uint8_t, kBytes>;
    using Head = std::array<std::uint8_t, kInline>;

    Signature() = default;
    explicit Signature(const Head& head) : head_(head) {}
    explicit Signature(const Bytes& bytes);
    Signature(const Signature& o) : head_(o.head_), tail_(o.tail_) {
        if (tail_) ++tail_->refs;
    }
    // A moved-from signature is empty (all 64 bytes zero).
    Signature(Signature&& o) noexcept : head_(o.head_), tail_(o.tail_) {
        o.head_ = {};
        o.tail_ = nullptr;
    }
    Signature& operator=(const Signature& o) {
        Tail* tail = o.tail_;  // before release(): o may be *this
        if (tail) ++tail->refs;
        release();
        head_ = o.head_;
        tail_ = tail;
        return *this;
    }
    Signature& operator=(Signature&& o) noexcept {
        if (this != &o) {
            release();
            head_ = o.head_;
            tail_ = o.tail_;
            o.head_ = {};
            o.tail_ = nullptr;
        }
        return *this;
    }
    ~Signature() { release(); }

    // The first 16 bytes; all of a simulated signature.
    const Head& head() const { return head_; }
    // Whether a byte past the first 16 is not zero.
    bool has_tail() const { return tail_ != nullptr; }
    Bytes bytes() const;
    bool operator==(const Signature& o) const {
        return head_ == o.head_ &&
               (tail_ == o.tail_ || (tail_ && o.tail_ && tail_->bytes == o.tail_->bytes));
    }

private:
    // Not shared between threads: every run owns its signatures.
    struct Tail {
        std::uint32_t refs = 1;
        std::array<std::uint8_t, kBytes - kInline> bytes{};
    };
    void release() {
        if (tail_ && --tail_->refs == 0) delete tail_;
        tail_ = nullptr;
    }
    Head head_{};
    Tail* tail_ = nullptr;
};

using TimerId = std::uint64_t;

}  // namespace sim
