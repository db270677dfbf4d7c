#include "sim/crypto.hpp"

#include <bit>
#include <cstring>
#include <stdexcept>

#include <sodium.h>

#include "sim/hash.hpp"

namespace sim {

namespace {
std::uint64_t sim_tag(std::uint64_t secret, Digest d) {
    return mix64(secret ^ mix64(d.v));
}

std::array<std::uint8_t, 8> le_bytes(std::uint64_t v) {
    std::array<std::uint8_t, 8> b{};
    for (int i = 0; i < 8; ++i) b[i] = static_cast<std::uint8_t>(v >> (8 * i));
    return b;
}
}  // namespace

KeyRing::KeyRing(std::uint32_t nodes, bool ed25519, RandomStream rng) : ed25519_(ed25519) {
    secret_.resize(nodes);
    for (auto& s : secret_) s = rng.next_u64() | 1;
    if (!ed25519_) return;
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
    ed_secret_.resize(nodes);
    ed_public_.resize(nodes);
    for (std::uint32_t i = 0; i < nodes; ++i) {
        // Keys come from the seed tree, so a replay has the same keys and signatures.
        std::array<std::uint8_t, crypto_sign_SEEDBYTES> seed{};
        for (std::size_t k = 0; k < seed.size(); k += 8) {
            auto b = le_bytes(rng.next_u64());
            std::memcpy(seed.data() + k, b.data(), 8);
        }
        crypto_sign_seed_keypair(ed_public_[i].data(), ed_secret_[i].data(), seed.data());
    }
}

Signature::Signature(const Bytes& bytes) {
    std::memcpy(head_.data(), bytes.data(), kInline);
    Tail tail;
    std::memcpy(tail.bytes.data(), bytes.data() + kInline, tail.bytes.size());
    if (tail.bytes != decltype(tail.bytes){}) tail_ = new Tail(tail);
}

Signature::Bytes Signature::bytes() const {
    Bytes b{};
    std::memcpy(b.data(), head_.data(), kInline);
    if (tail_) std::memcpy(b.data() + kInline, tail_->bytes.data(), tail_->bytes.size());
    return b;
}

Signature KeyRing::sign(NodeId signer, Digest d) const {
    if (!ed25519_) {
        Signature::Head head{};
        auto b = le_bytes(sim_tag(secret_[signer.v], d));
        std::memcpy(head.data(), b.data(), 8);
        return Signature(head);
    }
    Signature::Bytes bytes{};
    auto msg = le_bytes(d.v);
    crypto_sign_detached(bytes.data(), nullptr, msg.data(), msg.size(),
                         ed_secret_[signer.v].data());
    return Signature(bytes);
}

bool KeyRing::verify(NodeId signer, Digest d, const Signature& sig) const {
    if (signer.v >= secret_.size()) return false;
    if (!ed25519_) {
        // The tag's little-endian bytes, compared as one word on a little-endian machine.
        const std::uint64_t tag = sim_tag(secret_[signer.v], d);
        if constexpr (std::endian::native == std::endian::little) {
            std::uint64_t have;
            std::memcpy(&have, sig.head().data(), 8);
            return have == tag;
        }
        auto b = le_bytes(tag);
        return std::memcmp(sig.head().data(), b.data(), 8) == 0;
    }
    const Signature::Bytes bytes = sig.bytes();
    auto msg = le_bytes(d.v);
    return crypto_sign_verify_detached(bytes.data(), msg.data(), msg.size(),
                                       ed_public_[signer.v].data()) == 0;
}

namespace {
std::uint64_t tag_of(const Signature& s) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | s.head()[static_cast<std::size_t>(i)];
    return v;
}
}  // namespace

std::optional<Signature> KeyRing::aggregate(std::span<const Signature> sigs) const {
    if (ed25519_) return std::nullopt;
    std::uint64_t acc = 0;
    for (const Signature& s : sigs) acc ^= tag_of(s);
    Signature::Head out{};
    auto b = le_bytes(acc);
    std::memcpy(out.data(), b.data(), 8);
    auto n = le_bytes(sigs.size());
    std::memcpy(out.data() + 8, n.data(), 8);
    return Signature(out);
}

bool KeyRing::verify_aggregate(std::span<const NodeId> signers, Digest d,
                               const Signature& agg) const {
    if (ed25519_) return false;
    // sim_tag(secret, d) for each signer, with the digest's half of it computed once.
    const std::uint64_t mixed = mix64(d.v);
    const std::size_t keys = secret_.size();
    std::uint64_t acc = 0;
    for (NodeId s : signers) {
        if (s.v >= keys) return false;
        acc ^= mix64(secret_[s.v] ^ mixed);
    }
    Signature::Head want{};
    auto b = le_bytes(acc);
    std::memcpy(want.data(), b.data(), 8);
    auto n = le_bytes(signers.size());
    std::memcpy(want.data() + 8, n.data(), 8);
    return want == agg.head();
}

}  // namespace sim
