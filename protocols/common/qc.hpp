// Quorum certificates and equivocation evidence, for every protocol (PBFT's prepared and
// commit certificates and checkpoint proofs, HotStuff's QCs).
//
// A QC is q distinct valid signatures over one Statement: a compact signer bitmap plus one
// aggregate signature where the scheme allows (simulated signatures aggregate, like BLS), or
// the list of signatures in bitmap order (Ed25519). Evidence is two validly signed, conflicting
// statements from one signer for one slot.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <tuple>
#include <vector>

#include "protocols/common/ids.hpp"
#include "sim/actor.hpp"

namespace proto {

// What replicas vote on. `kind` is protocol-defined (a phase); `slot` is a sequence number or
// a height; `value` is the digest of what is voted for.
struct Statement {
    std::uint8_t kind = 0;
    std::uint64_t view = 0;
    std::uint64_t slot = 0;
    Digest value{};

    Digest digest() const;
    // Same kind, view and slot, different value: signing both is equivocation.
    bool conflicts(const Statement& o) const {
        return kind == o.kind && view == o.view && slot == o.slot && value != o.value;
    }
    auto operator<=>(const Statement&) const = default;
};

struct SignedVote {
    Statement stmt;
    NodeId signer{};
    sim::Signature sig{};
    bool operator==(const SignedVote&) const = default;
};

struct QuorumCert {
    Statement stmt;
    std::vector<std::uint64_t> signers;  // bitmap over replica ids
    std::vector<sim::Signature> sigs;    // one aggregate, or one per signer in id order
    bool aggregated = false;

    std::uint32_t signer_count() const;
    std::vector<NodeId> signer_list() const;
    // Writes the signers in id order to `out`, which holds at least signer_count() ids;
    // returns how many were written. Allocates nothing (verification runs per replica per QC).
    std::size_t signers_into(std::span<NodeId> out) const;
    bool has_signer(NodeId id) const;
    // Bytes on the wire: statement, bitmap, signatures.
    std::uint32_t size_bytes() const;
    bool operator==(const QuorumCert&) const = default;
};

// Signs a vote with the context's own key.
SignedVote sign_vote(sim::Context& ctx, const Statement& stmt);
bool verify_vote(sim::Context& ctx, const SignedVote& v);

// Collects votes for one statement until a quorum of distinct valid signers is reached.
class QcBuilder {
public:
    enum class Added { Ok, Duplicate, WrongStatement, BadSignature };

    QcBuilder(Statement stmt, std::uint32_t quorum) : stmt_(stmt), quorum_(quorum) {}
    Added add(sim::Context& ctx, const SignedVote& v);
    // Adds a vote already checked by the caller (e.g. one's own).
    Added add_trusted(const SignedVote& v);
    bool complete() const { return count_ >= quorum_; }
    std::size_t size() const { return count_; }
    const Statement& statement() const { return stmt_; }
    // Precondition: complete().
    QuorumCert build(sim::Context& ctx) const;

private:
    Statement stmt_;
    std::uint32_t quorum_;
    // Marks `signer` in the bitmap; false if it was there already.
    bool mark(std::uint32_t signer, const sim::Signature& sig);

    // A bitmap over signer ids and each signer's signature at its id: the QC's signer bitmap
    // and its signatures in id order come out of these without sorting.
    std::vector<std::uint64_t> seen_;
    std::vector<sim::Signature> sigs_;
    std::uint32_t count_ = 0;
};

enum class QcCheck { Ok, TooFewSigners, BadSignature, Malformed };
const char* qc_check_name(QcCheck c);
// Checks a QC against the quorum size and the signers' keys.
QcCheck verify_qc(sim::Context& ctx, const QuorumCert& qc, std::uint32_t quorum,
                  std::uint32_t replicas);
// The same, for a caller that already holds qc.stmt.digest().
QcCheck verify_qc(sim::Context& ctx, const QuorumCert& qc, Digest stmt_digest, std::uint32_t quorum,
                  std::uint32_t replicas);
// How many signature verifications verify_qc charges to accept this QC: one for an aggregate,
// one per signature otherwise. For a caller that takes the result from Context's memo.
std::uint32_t verify_qc_cost(const QuorumCert& qc);

struct Evidence {
    SignedVote first, second;
    bool operator==(const Evidence&) const = default;
};
// Both votes valid, same signer, conflicting statements.
bool verify_evidence(sim::Context& ctx, const Evidence& e);

// Remembers each signer's first vote per (kind, view, slot) and turns a conflicting second one
// into evidence. forget_below() drops what is older than a view, so memory stays bounded.
class EquivocationDetector {
public:
    // Precondition: v verified. Returns evidence the first time a conflict is seen.
    std::optional<Evidence> observe(const SignedVote& v);
    void forget_below(std::uint64_t view);

private:
    // Each signer's first vote per (view, kind, slot), sorted by that key and signer, in
    // arrays whose live part starts at head_: views mostly arrive in order, so a new entry is
    // usually appended, and forgotten views leave from the front (the array is compacted when
    // the dead prefix is four times the live part). Memory stays contiguous and bounded.
    // Keys and first votes in parallel arrays: searching and forgetting read only the small keys.
    struct Key {
        std::uint64_t view = 0, slot = 0;
        std::uint32_t signer = 0;
        std::uint8_t kind = 0;
        bool reported = false;
        auto tuple() const { return std::make_tuple(view, kind, slot, signer); }
    };
    std::vector<Key> keys_;
    std::vector<SignedVote> firsts_;
    std::size_t head_ = 0;
    // The last two statements observed: a repeat of one (the leader statement that every vote
    // of a view carries, observed after each vote) changes nothing, so it skips the search.
    struct Recent {
        bool valid = false;
        Statement stmt{};
        NodeId signer{};
    };
    std::array<Recent, 2> recent_{};
    std::size_t recent_next_ = 0;
};

}  // namespace proto
