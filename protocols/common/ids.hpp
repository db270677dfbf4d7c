// Protocol-level ids and quorum arithmetic (PROTOCOLS.md §0).
#pragma once

#include <cstdint>

#include "sim/strong.hpp"
#include "sim/types.hpp"

namespace proto {

using sim::Digest;
using sim::NodeId;
using sim::SimTime;

struct ViewTag {};
struct SeqTag {};
struct HeightTag {};
using View = sim::Strong<ViewTag, std::uint64_t>;
using Seq = sim::Strong<SeqTag, std::uint64_t>;
using Height = sim::Strong<HeightTag, std::uint64_t>;

// Thresholds derived from n and f, never hard-coded (PROTOCOLS.md §0, pitfall 8).
struct Quorum {
    std::uint32_t n = 4;
    std::uint32_t f = 1;
    // Any two quorums intersect in at least f+1 replicas: q = ceil((n+f+1)/2); 2f+1 at n=3f+1.
    constexpr std::uint32_t q() const { return (n + f + 2) / 2; }
    // At least one honest replica among these: f+1.
    constexpr std::uint32_t weak() const { return f + 1; }
    constexpr NodeId primary(View v) const { return NodeId(static_cast<std::uint32_t>(v.v % n)); }
};

}  // namespace proto
