// Per-node keys and signatures, in two modes with identical protocol behaviour:
// - simulated: a signature is a keyed 64-bit hash of (secret key, digest). Only the engine holds
//   the keys and signs on a node's behalf, so a node can sign only as itself: unforgeable by
//   construction, and verification is a table lookup and a compare;
// - ed25519: real Ed25519 (libsodium) over the 8-byte digest, to measure its cost.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "sim/random.hpp"
#include "sim/types.hpp"

namespace sim {

class KeyRing {
public:
    KeyRing(std::uint32_t nodes, bool ed25519, RandomStream rng);

    Signature sign(NodeId signer, Digest d) const;
    bool verify(NodeId signer, Digest d, const Signature& sig) const;
    // Simulated mode only: the aggregate is the XOR of the 8-byte tags, tagged with the count.
    std::optional<Signature> aggregate(std::span<const Signature> sigs) const;
    bool verify_aggregate(std::span<const NodeId> signers, Digest d, const Signature& agg) const;
    bool ed25519() const { return ed25519_; }

private:
    bool ed25519_;
    std::vector<std::uint64_t> secret_;                    // simulated mode
    std::vector<std::array<std::uint8_t, 64>> ed_secret_;  // libsodium secret keys
    std::vector<std::array<std::uint8_t, 32>> ed_public_;
};

}  // namespace sim
