// A fast, portable, non-cryptographic 64-bit hash for digests and the trace fingerprint.
// The same inputs give the same value on every compiler and optimisation level.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>

namespace sim {

// The splitmix64 finaliser: a bijective avalanche on 64 bits.
constexpr std::uint64_t mix64(std::uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

// A hash map's hasher for 64-bit keys that are counters or packed fields, not yet spread.
struct U64Hash {
    std::size_t operator()(std::uint64_t k) const { return static_cast<std::size_t>(mix64(k)); }
};

// A digest of a few fixed fields: each times its own odd constant, summed with the seed, then
// one avalanche. One differing field always changes the sum; it costs one mix64 where a Hasher
// pays one per field. At most 8 fields.
template <class... T>
constexpr std::uint64_t hash_fields(std::uint64_t seed, T... fields) {
    static_assert(sizeof...(T) <= 8, "hash_fields takes at most 8 fields");
    constexpr std::uint64_t k[8] = {
        0x9e3779b97f4a7c15ULL, 0xc2b2ae3d27d4eb4fULL, 0x165667b19e3779f9ULL, 0xd6e8feb86659fd93ULL,
        0xff51afd7ed558ccdULL, 0xc4ceb9fe1a85ec53ULL, 0x27d4eb2f165667c5ULL, 0x94d049bb133111ebULL};
    std::uint64_t x = seed * 0xbf58476d1ce4e5b9ULL;
    std::size_t i = 0;
    ((x += static_cast<std::uint64_t>(fields) * k[i++]), ...);
    return mix64(x);
}

// Eight bytes as one big-endian word (one load and a byte swap where the compiler sees it).
constexpr std::uint64_t big_endian_word(const char* p) {
    if (!std::is_constant_evaluated()) {
        std::uint64_t w = 0;
        std::memcpy(&w, p, sizeof w);
        if constexpr (std::endian::native == std::endian::little) return __builtin_bswap64(w);
        if constexpr (std::endian::native == std::endian::big) return w;
    }
    std::uint64_t w = 0;
    for (std::size_t k = 0; k < 8; ++k) w = (w << 8) | static_cast<unsigned char>(p[k]);
    return w;
}

// Folds values into a running hash; order matters.
class Hasher {
public:
    constexpr explicit Hasher(std::uint64_t seed = 0x9e3779b97f4a7c15ULL) : h_(seed) {}
    constexpr Hasher& add(std::uint64_t v) {
        h_ = mix64(h_ ^ (v + 0x9e3779b97f4a7c15ULL + (h_ << 6) + (h_ >> 2)));
        return *this;
    }
    // Each whole 8 bytes as one big-endian word, then the rest (a zero word when none).
    constexpr Hasher& add(std::string_view s) {
        add(s.size());
        std::size_t i = 0;
        for (; i + 8 <= s.size(); i += 8) add(big_endian_word(s.data() + i));
        std::uint64_t w = 0;
        for (; i < s.size(); ++i) w = (w << 8) | static_cast<unsigned char>(s[i]);
        return add(w);
    }
    constexpr std::uint64_t value() const { return h_; }

private:
    std::uint64_t h_;
};

// A byte string's hash for long strings (a command's data): its whole 8-byte words (big-endian)
// go round-robin into four lanes, each a chain of mix64 of its own, so that a processor runs the
// four side by side; the lanes, the last partial word (zero when none) and the length are then
// folded in order. A differing word changes its lane for good: mix64 is a bijection.
constexpr std::uint64_t hash_bytes(std::uint64_t seed, std::string_view s) {
    std::uint64_t lane[4] = {seed ^ 0x9e3779b97f4a7c15ULL, seed ^ 0xc2b2ae3d27d4eb4fULL,
                             seed ^ 0x165667b19e3779f9ULL, seed ^ 0xd6e8feb86659fd93ULL};
    std::size_t i = 0;
    for (; i + 32 <= s.size(); i += 32)
        for (std::size_t l = 0; l < 4; ++l)
            lane[l] = mix64(lane[l] ^ big_endian_word(s.data() + i + 8 * l));
    for (std::size_t l = 0; i + 8 <= s.size(); i += 8, ++l)
        lane[l] = mix64(lane[l] ^ big_endian_word(s.data() + i));
    std::uint64_t tail = 0;
    for (; i < s.size(); ++i) tail = (tail << 8) | static_cast<unsigned char>(s[i]);
    return Hasher(seed)
        .add(lane[0])
        .add(lane[1])
        .add(lane[2])
        .add(lane[3])
        .add(tail)
        .add(s.size())
        .value();
}

}  // namespace sim
