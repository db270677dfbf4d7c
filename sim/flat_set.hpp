// A set of 64-bit keys in one open-addressed array (linear probing, at most half full): no
// allocation per insert and one cache line per lookup, for the memo sets that every replica
// consults on every message. Membership only: it offers no iteration, so its layout can never
// reach an output.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "sim/hash.hpp"

namespace sim {

class U64Set {
public:
    bool contains(std::uint64_t key) const {
        if (key == kEmpty) return has_empty_;
        if (slots_.empty()) return false;
        for (std::size_t i = index(key);; i = (i + 1) & mask()) {
            if (slots_[i] == key) return true;
            if (slots_[i] == kEmpty) return false;
        }
    }

    // True if the key was not there before.
    bool insert(std::uint64_t key) {
        if (key == kEmpty) {
            if (has_empty_) return false;
            has_empty_ = true;
            ++size_;
            return true;
        }
        if (2 * (size_ + 1) > slots_.size()) grow();
        for (std::size_t i = index(key);; i = (i + 1) & mask()) {
            if (slots_[i] == key) return false;
            if (slots_[i] == kEmpty) {
                slots_[i] = key;
                ++size_;
                return true;
            }
        }
    }

    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    // Keeps the capacity, so a set cleared at a size bound does not allocate again.
    void clear() {
        if (size_ == 0) return;
        std::fill(slots_.begin(), slots_.end(), kEmpty);
        has_empty_ = false;
        size_ = 0;
    }

private:
    static constexpr std::uint64_t kEmpty = 0;

    std::size_t mask() const { return slots_.size() - 1; }
    std::size_t index(std::uint64_t key) const { return mix64(key) & mask(); }

    void grow() {
        std::vector<std::uint64_t> old = std::move(slots_);
        slots_.assign(old.empty() ? 16 : old.size() * 2, kEmpty);
        for (std::uint64_t k : old)
            if (k != kEmpty)
                for (std::size_t i = index(k);; i = (i + 1) & mask())
                    if (slots_[i] == kEmpty) {
                        slots_[i] = k;
                        break;
                    }
    }

    std::vector<std::uint64_t> slots_;  // a power of two in size, or empty
    std::size_t size_ = 0;
    bool has_empty_ = false;
};

}  // namespace sim
