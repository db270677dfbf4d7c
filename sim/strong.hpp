// Strong integer types: a NodeId cannot be passed where a View is expected.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>

namespace sim {

// A tagged wrapper around an integer. Comparison is defined; arithmetic is not, except where a
// type opts in below (time). `.v` is the raw value, for indexing and serialisation.
template <class Tag, class Rep>
struct Strong {
    Rep v{};
    constexpr Strong() = default;
    constexpr explicit Strong(Rep value) : v(value) {}
    constexpr auto operator<=>(const Strong&) const = default;
};

}  // namespace sim

template <class Tag, class Rep>
struct std::hash<sim::Strong<Tag, Rep>> {
    std::size_t operator()(const sim::Strong<Tag, Rep>& s) const noexcept {
        return std::hash<Rep>{}(s.v);
    }
};
