// Little-endian encoding of integers and signatures, the same on every build: a decision's
// bytes and the knowledge base's snapshots.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "sim/types.hpp"

namespace mapek {

// 128-bit integers for products that would overflow 64 bits (GCC's and Clang's extension).
__extension__ typedef __int128 Wide;

class Writer {
public:
    template <class T>
    void put(T v) {
        const auto u = static_cast<std::uint64_t>(v);
        std::uint8_t bytes[sizeof(T)];
        for (std::size_t i = 0; i < sizeof(T); ++i)
            bytes[i] = static_cast<std::uint8_t>(u >> (8 * i));
        out_.insert(out_.end(), bytes, bytes + sizeof(T));
    }
    void put(const sim::Signature& s) {
        const sim::Signature::Bytes b = s.bytes();
        out_.insert(out_.end(), b.begin(), b.end());
    }
    void reserve(std::size_t bytes) { out_.reserve(bytes); }
    std::vector<std::uint8_t> take() { return std::move(out_); }

private:
    std::vector<std::uint8_t> out_;
};

class Reader {
public:
    explicit Reader(const std::vector<std::uint8_t>& in) : in_(in) {}
    template <class T>
    bool get(T& v) {
        if (in_.size() - pos_ < sizeof(T)) return false;
        std::uint64_t u = 0;
        for (std::size_t i = 0; i < sizeof(T); ++i)
            u |= static_cast<std::uint64_t>(in_[pos_ + i]) << (8 * i);
        pos_ += sizeof(T);
        v = static_cast<T>(u);
        return true;
    }
    bool get(sim::Signature& s) {
        if (in_.size() - pos_ < sim::Signature::kBytes) return false;
        sim::Signature::Bytes b{};
        std::memcpy(b.data(), in_.data() + pos_, b.size());
        pos_ += b.size();
        s = sim::Signature(b);
        return true;
    }
    bool done() const { return pos_ == in_.size(); }

private:
    const std::vector<std::uint8_t>& in_;
    std::size_t pos_ = 0;
};

}  // namespace mapek
