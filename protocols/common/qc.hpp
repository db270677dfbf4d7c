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
#include <span>
#include <tuple>
#include <vector>

#include "protocols/common/ids.hpp"
#include "sim/actor.hpp"
#include "sim/flat_map.hpp"
#include "sim/hash.hpp"

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
// The same, for a caller that already holds stmt.digest() (v.stmt.digest()).
SignedVote sign_vote(sim::Context& ctx, const Statement& stmt, Digest stmt_digest);
bool verify_vote(sim::Context& ctx, const SignedVote& v, Digest stmt_digest);

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
    bool has(NodeId signer) const {
        const std::size_t w = signer.v / 64;
        return w < seen_.size() && ((seen_[w] >> (signer.v % 64)) & 1);
    }
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
    // first_kind: the kind of statement that comes first in a view (a leader's proposal
    // statement, which the votes follow); only how fast observe() is depends on it.
    explicit EquivocationDetector(std::uint8_t first_kind = 0) : first_kind_(first_kind) {}
    // Precondition: v verified. Returns evidence the first time a conflict is seen (valid until
    // the next call), else null.
    const Evidence* observe(const SignedVote& v);
    // Forgets the votes observed so far for views below `view`. Precondition: the views passed
    // never decrease.
    void forget_below(std::uint64_t view);
    // Entries held (forgotten ones included until their room is needed).
    std::size_t size() const { return static_cast<std::size_t>(tail_ - head_); }

private:
    // Each signer's first vote per (view, kind, slot), in a ring sorted by that key and signer
    // from its oldest entry to its newest. Views mostly arrive in order, so a new entry is
    // usually appended. Within a view, kinds are ordered from first_kind up (wrapping around),
    // so that the statements of a view, observed in that order, are appended too.
    //
    // Forgetting is lazy: an entry is dead once a forget_below() after it was observed passed
    // its view (epochs tell), and a dead entry counts as absent. When the ring is full, the
    // dead are dropped: they are the oldest entries (below the floor) unless a vote for an old
    // view came after the last forget_below(), so a binary search finds where they end and the
    // ring's head moves past them without reading them (they were written long ago and are out
    // of cache). Otherwise, and when a signature's tail must be freed, the ring is rebuilt.
    //
    // An entry holds a vote in 48 bytes, not a SignedVote's 64: every replica appends one or
    // more per view. A signature is kept as its first 8 bytes (all of a simulated one) and,
    // when another is not zero (Ed25519, an aggregate), bytes 8 to 63 in tails_ under the
    // entry's tail number.
    std::uint8_t rank(std::uint8_t kind) const {
        return static_cast<std::uint8_t>(kind - first_kind_);
    }
    std::uint8_t first_kind_ = 0;
    static constexpr std::size_t kTailBytes = sim::Signature::kBytes - 8;
    using Tail = std::array<std::uint8_t, kTailBytes>;
    struct Entry {
        std::uint64_t view = 0, slot = 0;
        Digest value{};
        std::uint64_t sig_head = 0;
        std::uint32_t signer = 0;
        std::uint32_t tail = 0;   // 0: the signature's other bytes are zero
        std::uint32_t epoch = 0;  // epoch_ when it was observed
        std::uint8_t rank = 0;    // rank(kind)
        std::uint8_t kind = 0;
        bool reported = false;
        auto tuple() const { return std::make_tuple(view, rank, slot, signer); }
    };
    static_assert(sizeof(Entry) == 48, "a detector entry is meant to take 48 bytes");
    bool dead(const Entry& e) const { return e.epoch < epoch_ && e.view < floor_; }
    Entry make_entry(const SignedVote& v);
    void keep_tail(Entry& e, const sim::Signature& sig);  // bytes 8 to 63 into tails_
    // observe() past the repeats and appends: a search, an insertion, or a conflict.
    [[gnu::noinline]] const Evidence* observe_inside(const SignedVote& v);
    SignedVote vote_of(const Entry& e) const;
    void drop_tail(const Entry& e);
    Entry& at(std::uint64_t pos) { return ring_[pos & (ring_.size() - 1)]; }
    const Entry& at(std::uint64_t pos) const { return ring_[pos & (ring_.size() - 1)]; }
    // The first position in [head_, tail_) whose entry's key is not below `key`.
    template <class Key>
    std::uint64_t lower_bound(const Key& key) const;
    void insert(std::uint64_t pos, const Entry& e);  // at pos, moving the later ones up
    void make_room();                                // called when the ring is full
    void rebuild(std::size_t size);                  // the live entries into a new ring

    std::vector<Entry> ring_;  // a power of two in size
    std::uint64_t head_ = 0, tail_ = 0;
    std::uint64_t floor_ = 0;  // the highest view forget_below() was given
    std::uint32_t epoch_ = 0;  // how many forget_below() calls there were (mod 2^32)
    // Entries observed since the last forget_below() for views below floor_: alive, though
    // below the floor, so the dead are not just the oldest entries.
    std::size_t alive_below_floor_ = 0;
    // The last two statements observed: a repeat of one (the leader statement that every vote
    // of a view carries, observed after each vote) changes nothing, so it skips the search.
    struct Recent {
        bool valid = false;
        Statement stmt{};
        NodeId signer{};
    };
    std::array<Recent, 2> recent_{};
    std::size_t recent_next_ = 0;
    struct TailHash {
        std::size_t operator()(std::uint32_t t) const {
            return static_cast<std::size_t>(sim::mix64(t));
        }
    };
    sim::FlatMap<std::uint32_t, Tail, TailHash> tails_;
    std::uint32_t next_tail_ = 0;
    Evidence evidence_{};  // what observe() returned last
};

}  // namespace proto
