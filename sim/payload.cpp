#include "sim/payload.hpp"

#include <cstring>

#include "sim/hash.hpp"

#include <array>
#include <new>

namespace sim {

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kPool = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kPool = false;
#else
constexpr bool kPool = true;
#endif
#else
constexpr bool kPool = true;
#endif

constexpr std::size_t kGranule = 32;
constexpr std::size_t kClasses = 32;  // pooled up to 1 KiB; larger payloads use plain new

// One free list per size class and thread; a freed block stores the next pointer in itself.
thread_local std::array<void*, kClasses> free_heads{};

std::size_t size_class(std::size_t size) {
    return (size + kGranule - 1) / kGranule;
}

}  // namespace

void* Payload::operator new(std::size_t size) {
    const std::size_t c = size_class(size);
    if (!kPool || c >= kClasses) return ::operator new(size);
    void*& head = free_heads[c];
    if (head == nullptr) return ::operator new(c* kGranule);
    void* p = head;
    head = *static_cast<void**>(p);
    return p;
}

void Payload::operator delete(void* p, std::size_t size) {
    const std::size_t c = size_class(size);
    if (!kPool || c >= kClasses) return ::operator delete(p);
    *static_cast<void**>(p) = free_heads[c];
    free_heads[c] = p;
}

std::uint64_t signature_hash(const Signature& sig) {
    Hasher h(0x5349);
    std::uint64_t w[2];
    std::memcpy(w, sig.head().data(), sizeof w);
    h.add(w[0]).add(w[1]);
    if (sig.has_tail()) {
        const Signature::Bytes bytes = sig.bytes();
        for (std::size_t i = Signature::kInline; i < bytes.size(); i += 8) {
            std::uint64_t x;
            std::memcpy(&x, bytes.data() + i, 8);
            h.add(x);
        }
    }
    return h.value();
}

std::uint64_t Payload::compute_wire_hash() const {
    const std::uint64_t w = Hasher(0x5749)
                                .add(kind)
                                .add(digest.v)
                                .add(signer.v)
                                .add(signature_hash(sig))
                                .add(nested_wire_hash())
                                .value();
    return w == 0 ? 1 : w;
}

}  // namespace sim
