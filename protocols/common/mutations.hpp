// Seeded bugs ("/protocol/mutations" in a scenario): a protocol lists its known bug classes in
// an enum and keeps the enabled ones in a MutationSet inside its replica Config. Each mutation
// is one small conditional in the honest code; with the set empty, behaviour is unchanged.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "protocols/common/params.hpp"

namespace proto {

// A set of values of enum `E` (at most 32), tested with one shift and mask.
template <class E>
class MutationSet {
public:
    constexpr bool has(E m) const { return (bits_ >> static_cast<unsigned>(m)) & 1U; }
    constexpr void add(E m) { bits_ |= 1U << static_cast<unsigned>(m); }
    constexpr bool empty() const { return bits_ == 0; }

private:
    std::uint32_t bits_ = 0;
};

// Reads "mutations" from a protocol's parameters: an array of names from `names`, which is in
// enum order. Throws sim::ScenarioError at "/protocol/mutations/i" for an unknown name.
template <class E>
MutationSet<E> parse_mutations(const Params& p, const std::vector<std::string>& names) {
    MutationSet<E> set;
    for (std::size_t i : p.names("mutations", names, "mutation")) set.add(static_cast<E>(i));
    return set;
}

}  // namespace proto
