// A map of bounded memory for monitors that must remember recent history only: two
// generations of at most kGeneration entries each; when the newer fills up, the older is
// dropped. An entry is remembered for at least kGeneration insertions after it.
#pragma once

#include <cstddef>
#include <utility>

#include "sim/flat_map.hpp"

namespace sim {

template <class K, class V, class Hash, std::size_t kGeneration = 1 << 10>
class AgedMap {
public:
    const V* find(const K& k) const {
        if (const V* v = now_.find(k)) return v;
        return before_.find(k);
    }
    void put(const K& k, const V& v) {
        if (now_.size() >= kGeneration) {
            before_ = std::move(now_);
            now_ = {};
        }
        *now_.try_emplace(k).first = v;
    }

private:
    FlatMap<K, V, Hash> now_, before_;
};

}  // namespace sim
