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
#include <deque>
#include <optional>
#include <span>
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
    // A small sorted key per (kind, slot, signer); the first vote itself is kept apart, in
    // arrival order, so inserting a key moves a few bytes, not whole votes.
    struct Key {
        std::uint64_t slot = 0;
        std::uint32_t signer = 0;
        std::uint8_t kind = 0;
        bool reported = false;
        std::uint32_t first = 0;  // index into votes
    };
    struct View {
        std::uint64_t view = 0;
        std::vector<Key> keys;  // sorted by (kind, slot, signer)
        std::vector<SignedVote> votes;
    };
    View& view_for(std::uint64_t view);

    // Ascending by view; views mostly arrive in order and leave from the front. Views dropped
    // by forget_below keep their storage in spare_ for the next ones (no allocation per view).
    std::deque<View> views_;
    std::vector<View> spare_;
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
