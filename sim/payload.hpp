// Message payloads. A payload is made once, never changed, and shared by every recipient of a
// broadcast through a single-threaded (non-atomic) intrusive reference count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>

#include "sim/types.hpp"

namespace sim {

// The protocol rounds a message names, for network rules that match on them (sim/rules.hpp).
// A protocol fills what its message carries; kNone marks a field it does not have.
struct Rounds {
    static constexpr std::uint64_t kNone = ~std::uint64_t{0};
    std::uint64_t view = kNone, seq = kNone, height = kNone;
};

// The base of every message. `kind` indexes the run's table of message-type names (for stats);
// `digest` is the content digest, set by the maker; `signer`/`sig` authenticate the content.
class Payload {
public:
    Payload() = default;
    Payload(const Payload&) = delete;
    Payload& operator=(const Payload&) = delete;
    virtual ~Payload() = default;

    // Payloads come from per-size free lists: making a message costs no malloc in the steady
    // state (plain new/delete under AddressSanitizer, so it still sees every payload).
    static void* operator new(std::size_t size);
    static void operator delete(void* p, std::size_t size);

    // The protocol rounds this message names (none by default). Asked only while a rule
    // matches on a round, so it costs nothing otherwise.
    virtual Rounds rounds() const { return {}; }

    // A hash of every byte a receiver gets, for the trace fingerprint: kind, digest, signer and
    // signature, and what the digest names only by reference (nested messages' signatures,
    // certificates' signers and signatures, requests' signatures). Two payloads that differ in
    // any of these differ here, even under one digest. Computed once, when first asked.
    std::uint64_t wire_hash() const {
        if (wire_ == 0) wire_ = compute_wire_hash();
        return wire_;
    }

    std::uint16_t kind = 0;
    // Set by a message type whose digest names nested content by reference: only then does
    // the wire hash ask nested_wire_hash (a virtual call saved on every other payload).
    bool nests = false;
    std::uint32_t size_bytes = 0;
    Digest digest{};
    NodeId signer{};

private:
    template <class T>
    friend class Ref;
    mutable std::uint32_t refs_ = 0;  // beside signer: the two fill one 8-byte word

public:
    Signature sig{};

protected:
    // The wire hash of what the digest names by reference only (0: nothing).
    virtual std::uint64_t nested_wire_hash() const { return 0; }

private:
    std::uint64_t compute_wire_hash() const;
    mutable std::uint64_t wire_ = 0;  // 0: not computed yet
};

// A hash of all 64 bytes of a signature.
std::uint64_t signature_hash(const Signature& sig);
// Its linear part, before the avalanche: for a caller that folds it into a sum of its own.
std::uint64_t signature_sum(const Signature& sig);

// An owning handle to an immutable payload of type T (T derives from Payload).
template <class T>
class Ref {
public:
    Ref() = default;
    explicit Ref(const T* p) : p_(p) { acquire(); }
    Ref(const Ref& o) : p_(o.p_) { acquire(); }
    Ref(Ref&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    template <class U>
    Ref(const Ref<U>& o) : p_(o.get()) {  // NOLINT: implicit upcast, like a pointer
        acquire();
    }
    Ref& operator=(Ref o) noexcept {
        std::swap(p_, o.p_);
        return *this;
    }
    ~Ref() { release(); }

    const T* get() const { return p_; }
    const T& operator*() const { return *p_; }
    const T* operator->() const { return p_; }
    explicit operator bool() const { return p_ != nullptr; }
    // Two handles are equal when they hold the same content (payloads are immutable).
    friend bool operator==(const Ref& a, const Ref& b) {
        return a.p_ == b.p_ || (a.p_ && b.p_ && a.p_->digest == b.p_->digest);
    }

private:
    void acquire() {
        if (p_) ++p_->refs_;
    }
    void release() {
        if (p_ && --p_->refs_ == 0) delete p_;
        p_ = nullptr;
    }
    const T* p_ = nullptr;
};

using PayloadRef = Ref<Payload>;

// Makes a payload and returns the owning handle. The caller fills fields before sharing it.
template <class T, class... Args>
std::pair<Ref<T>, T*> make_payload(Args&&... args) {
    T* p = new T(std::forward<Args>(args)...);
    return {Ref<T>(p), p};
}

}  // namespace sim
