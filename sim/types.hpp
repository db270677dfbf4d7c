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

// A signature: simulated signatures use the first 8 bytes, Ed25519 all 64.
struct Signature {
    std::array<std::uint8_t, 64> bytes{};
    bool operator==(const Signature&) const = default;
};

using TimerId = std::uint64_t;

}  // namespace sim
