// A fast, portable, non-cryptographic 64-bit hash for digests and the trace fingerprint.
// The same inputs give the same value on every compiler and optimisation level.
#pragma once

#include <cstdint>
#include <string_view>

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

// Folds values into a running hash; order matters.
class Hasher {
public:
    constexpr explicit Hasher(std::uint64_t seed = 0x9e3779b97f4a7c15ULL) : h_(seed) {}
    constexpr Hasher& add(std::uint64_t v) {
        h_ = mix64(h_ ^ (v + 0x9e3779b97f4a7c15ULL + (h_ << 6) + (h_ >> 2)));
        return *this;
    }
    constexpr Hasher& add(std::string_view s) {
        add(s.size());
        std::uint64_t w = 0;
        int k = 0;
        for (char c : s) {
            w = (w << 8) | static_cast<unsigned char>(c);
            if (++k == 8) {
                add(w);
                w = 0;
                k = 0;
            }
        }
        return add(w);
    }
    constexpr std::uint64_t value() const { return h_; }

private:
    std::uint64_t h_;
};

}  // namespace sim
