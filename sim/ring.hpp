// A double-ended queue in one power-of-two array: push at the back, pop at the front, index
// from the front in a mask and an add (std::deque divides by its block size on every index).
// It grows by doubling and never shrinks; what it holds is T, by value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace sim {

template <class T>
class Ring {
public:
    bool empty() const { return size_ == 0; }
    std::size_t size() const { return size_; }
    T& operator[](std::size_t i) { return slots_[(head_ + i) & (slots_.size() - 1)]; }
    const T& operator[](std::size_t i) const { return slots_[(head_ + i) & (slots_.size() - 1)]; }
    T& front() { return (*this)[0]; }
    const T& front() const { return (*this)[0]; }
    T& back() { return (*this)[size_ - 1]; }
    const T& back() const { return (*this)[size_ - 1]; }

    void push_back(T value) {
        if (size_ == slots_.size()) grow();
        (*this)[size_] = std::move(value);
        ++size_;
    }
    void pop_front() {
        front() = T();
        head_ = (head_ + 1) & (slots_.size() - 1);
        --size_;
    }

private:
    void grow() {
        std::vector<T> bigger(slots_.empty() ? 16 : 2 * slots_.size());
        for (std::size_t i = 0; i < size_; ++i) bigger[i] = std::move((*this)[i]);
        slots_ = std::move(bigger);
        head_ = 0;
    }

    std::vector<T> slots_;  // a power of two in size, or empty
    std::size_t head_ = 0, size_ = 0;
};

}  // namespace sim
