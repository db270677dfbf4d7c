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
    // any of these differ here, even under one digest. Kept once the payload is sealed.
    std::uint64_t wire_hash() const {
        if (!sealed_) return compute_wire_hash();
        if (wire_ == 0) wire_ = compute_wire_hash();
        return wire_;
    }

    // The simulator seals a payload when a node first sends it: from then on its content is
    // what every receiver gets. Until then its author may still edit it, so an answer computed
    // from its content before the seal (a digest check, a certificate's key, the wire hash) is
    // not kept for others to trust (ContentMemo). Seals the payloads it nests too.
    void seal() const {
        if (sealed_) return;
        sealed_ = true;
        on_seal();
    }
    bool sealed() const { return sealed_; }

    std::uint16_t kind = 0;
    // Set by a message type whose digest names nested content by reference: only then does
    // the wire hash ask nested_wire_hash (a virtual call saved on every other payload).
    bool nests = false;

private:
    mutable bool sealed_ = false;  // beside nests and kind: no room taken

public:
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
    // Seals the payloads this one holds by reference (none by default).
    virtual void on_seal() const {}

private:
    std::uint64_t compute_wire_hash() const;
    mutable std::uint64_t wire_ = 0;  // 0: not computed yet
};

// An answer computed from a payload's content, kept for later askers (every receiver of a
// broadcast asks the same question of one shared payload). An answer computed once the payload
// is sealed is kept for everyone. One computed before may come from its author, asked before it
// edited the content (seeded): it is kept only for a caller that trusts the author (a seeded
// bug, HotStuff's trust_author_caches), and the first other caller after the seal computes the
// answer from the content as sent. Where the two agree (always, but for a seeded payload) that
// answer is kept for everyone; where they differ, the others compute it each time they ask.
template <class T>
class ContentMemo {
public:
    template <class Compute>
    T get(const Payload& holder, bool trust_author, Compute&& compute) const {
        if (state_ == kSealed || (state_ == kAuthor && trust_author)) return value_;
        T fresh = compute();
        if (!holder.sealed()) {
            value_ = fresh;
            state_ = kAuthor;
        } else if (state_ == kNone || fresh == value_) {
            value_ = fresh;
            state_ = kSealed;
        }
        return fresh;
    }
    // The answer kept for everyone, if any: the inline fast path of a caller.
    const T* kept() const { return state_ == kSealed ? &value_ : nullptr; }
    // The maker's own answer, computed from the content it was just given, before anyone else
    // holds the payload (so nobody has edited it since): kept as a sealed one.
    void made(T value) {
        value_ = std::move(value);
        state_ = kSealed;
    }
    void forget() { state_ = kNone; }

private:
    enum : std::uint8_t { kNone, kAuthor, kSealed };
    mutable T value_{};
    mutable std::uint8_t state_ = kNone;
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
