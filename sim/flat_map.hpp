// A hash map in one open-addressed array (linear probing, at most half full, backward-shift
// deletion, so no tombstones): no allocation per entry, for the maps every replica consults on
// every message (blocks by digest, pending requests by key, last reply per client).
//
// Iteration (for_each_unordered) visits entries in slot order, which depends on the hash: a
// caller must sort what it collects before it can reach an output. Pointers from find() stay
// valid until the next insert or erase.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace sim {

template <class K, class V, class Hash>
class FlatMap {
public:
    V* find(const K& key) {
        if (slots_.empty()) return nullptr;
        for (std::size_t i = index(key);; i = next(i)) {
            Slot& s = slots_[i];
            if (!s.used) return nullptr;
            if (s.key == key) return &s.value;
        }
    }
    const V* find(const K& key) const { return const_cast<FlatMap*>(this)->find(key); }
    bool contains(const K& key) const { return find(key) != nullptr; }

    // The value for `key`, default-constructed if it was absent; `.second` says whether it was.
    std::pair<V*, bool> try_emplace(const K& key) {
        if (2 * (size_ + 1) > slots_.size()) grow();
        for (std::size_t i = index(key);; i = next(i)) {
            Slot& s = slots_[i];
            if (!s.used) {
                s.used = true;
                s.key = key;
                s.value = V();
                ++size_;
                return {&s.value, true};
            }
            if (s.key == key) return {&s.value, false};
        }
    }
    V& operator[](const K& key) { return *try_emplace(key).first; }

    // Removes `key` if present; returns whether it was. Later entries of its probe run move
    // back into the hole, so every lookup still ends at the first empty slot.
    bool erase(const K& key) {
        if (slots_.empty()) return false;
        std::size_t hole = index(key);
        for (;; hole = next(hole)) {
            if (!slots_[hole].used) return false;
            if (slots_[hole].key == key) break;
        }
        for (std::size_t i = next(hole);; i = next(i)) {
            Slot& s = slots_[i];
            if (!s.used) break;
            // s may fill the hole if its home is not cyclically in (hole, i].
            const std::size_t home = index(s.key);
            const bool stays = hole <= i ? (hole < home && home <= i) : (hole < home || home <= i);
            if (stays) continue;
            slots_[hole].key = s.key;
            slots_[hole].value = std::move(s.value);
            hole = i;
        }
        slots_[hole].used = false;
        slots_[hole].value = V();  // release what it held
        --size_;
        return true;
    }

    // Calls f(key, value) for every entry, in an order that means nothing (see above).
    template <class F>
    void for_each_unordered(F&& f) const {
        for (const Slot& s : slots_)
            if (s.used) f(s.key, s.value);
    }

    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    void clear() {
        for (Slot& s : slots_)
            if (s.used) s = Slot();
        size_ = 0;
    }

private:
    struct Slot {
        K key{};
        V value{};
        bool used = false;
    };

    std::size_t next(std::size_t i) const { return (i + 1) & (slots_.size() - 1); }
    std::size_t index(const K& key) const { return Hash{}(key) & (slots_.size() - 1); }

    void grow() {
        std::vector<Slot> old = std::move(slots_);
        slots_.clear();
        slots_.resize(old.empty() ? 16 : old.size() * 2);
        for (Slot& o : old) {
            if (!o.used) continue;
            for (std::size_t i = index(o.key);; i = next(i)) {
                if (slots_[i].used) continue;
                slots_[i].used = true;
                slots_[i].key = o.key;
                slots_[i].value = std::move(o.value);
                break;
            }
        }
    }

    std::vector<Slot> slots_;  // a power of two in size, or empty
    std::size_t size_ = 0;
};

}  // namespace sim
