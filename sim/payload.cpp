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

namespace {

// The 48 bytes past the inline 16, when one is not zero (Ed25519).
std::uint64_t tail_hash(const Signature& sig) {
    const Signature::Bytes bytes = sig.bytes();
    Hasher h(0x5354);
    for (std::size_t i = Signature::kInline; i < bytes.size(); i += 8) {
        std::uint64_t x;
        std::memcpy(&x, bytes.data() + i, 8);
        h.add(x);
    }
    return h.value();
}

}  // namespace

// Fields combined linearly with odd constants (one differing field always changes the sum),
// then one avalanche: a few multiplies per payload, as the fingerprint's own fold.
std::uint64_t signature_sum(const Signature& sig) {
    std::uint64_t w[2];
    std::memcpy(w, sig.head().data(), sizeof w);
    std::uint64_t x = w[0] * 0x9e3779b97f4a7c15ULL + w[1] * 0xc2b2ae3d27d4eb4fULL;
    if (sig.has_tail()) x += tail_hash(sig) * 0x165667b19e3779f9ULL;
    return x;
}

std::uint64_t signature_hash(const Signature& sig) {
    return mix64(signature_sum(sig));
}

std::uint64_t Payload::compute_wire_hash() const {
    std::uint64_t w[2];
    std::memcpy(w, sig.head().data(), sizeof w);
    std::uint64_t x = kind * 0xd6e8feb86659fd93ULL + digest.v * 0xff51afd7ed558ccdULL +
                      signer.v * 0xc4ceb9fe1a85ec53ULL + w[0] * 0x9e3779b97f4a7c15ULL +
                      w[1] * 0xc2b2ae3d27d4eb4fULL +
                      (nests ? nested_wire_hash() : 0) * 0x165667b19e3779f9ULL;
    if (sig.has_tail()) x += tail_hash(sig) * 0x27d4eb2f165667c5ULL;
    x = mix64(x);
    return x == 0 ? 1 : x;
}

}  // namespace sim
