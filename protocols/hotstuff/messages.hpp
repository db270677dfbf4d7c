// HotStuff's blocks and messages (PROTOCOLS.md §2). A block is an immutable shared payload
// whose digest is its hash; messages carry blocks and quorum certificates by reference.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "protocols/common/application.hpp"
#include "protocols/common/client_messages.hpp"
#include "protocols/common/qc.hpp"

namespace hotstuff {

using proto::ClientMessageRef;
using proto::Digest;
using proto::NodeId;
using proto::QuorumCert;

// The phases a vote is for: chained HotStuff has one generic phase; basic HotStuff three.
enum Phase : std::uint8_t { kGeneric = 0, kPrepare = 1, kPreCommit = 2, kCommit = 3 };
// The statement a leader signs for its proposal: two of them in one view are equivocation.
inline constexpr std::uint8_t kProposalStatement = 7;

// What a replica needs to look a QC up in its memos: the statement's digest and a hash of the
// QC's whole content (statement, signers, every signature byte, aggregation).
struct QcKey {
    Digest stmt_digest{};
    std::uint64_t content = 0;
    bool operator==(const QcKey&) const = default;
};
QcKey qc_key(const QuorumCert& qc);

struct Block : sim::Payload {
    Block() { nests = true; }  // its digest names the QC and commands by reference
    Digest parent{};
    std::uint64_t height = 0;
    std::uint64_t view = 0;
    QuorumCert justify;  // the QC this block extends (normally for its parent)
    std::vector<ClientMessageRef> cmds;
    NodeId proposer{};

    // digest == block_hash(*this). A sealed block never changes, so the first replica to ask
    // computes the answer and the others reuse it (sim::ContentMemo: an answer computed before
    // the seal, maybe by the block's author before it edited the block, is computed again;
    // `trust_unsealed` takes it anyway, the mutation trust_author_caches).
    bool digest_matches(bool trust_unsealed = false) const {
        const bool* kept = digest_ok_.kept();
        return kept ? *kept : check_digest(trust_unsealed);
    }
    // Whether every command is a request signed by the client it names (a client's id is not a
    // replica's): the first replica to ask checks, and `checked` says whether this call did the
    // signature checks (the others charge their cost). A pure function of the content.
    bool commands_valid(sim::Context& ctx, bool& checked, bool trust_unsealed = false) const;
    // qc_key(justify), computed by the first replica to check this block's QC.
    QcKey justify_key(bool trust_unsealed = false) const {
        const QcKey* kept = justify_key_.kept();
        return kept ? *kept : compute_justify_key(trust_unsealed);
    }
    // proposal_statement(*this).digest(), computed by the first replica to verify a leader
    // statement for this block.
    Digest proposal_digest(bool trust_unsealed = false) const {
        const Digest* kept = proposal_digest_.kept();
        return kept ? *kept : compute_proposal_digest(trust_unsealed);
    }

protected:
    // The justify QC's whole content and the commands with their signatures.
    std::uint64_t nested_wire_hash() const override;
    void on_seal() const override;  // the commands

private:
    bool check_digest(bool trust_unsealed) const;
    QcKey compute_justify_key(bool trust_unsealed) const;
    Digest compute_proposal_digest(bool trust_unsealed) const;

    sim::ContentMemo<bool> digest_ok_, commands_ok_;
    sim::ContentMemo<Digest> proposal_digest_;
    sim::ContentMemo<QcKey> justify_key_;
};
using BlockRef = sim::Ref<Block>;

BlockRef genesis_block();
QuorumCert genesis_qc();
bool is_genesis_qc(const QuorumCert& qc);
Digest block_hash(const Block& b);
BlockRef make_block(BlockRef parent, std::uint64_t view, QuorumCert justify,
                    std::vector<ClientMessageRef> cmds, NodeId proposer);
// The same with the parent named by digest and the height chosen (a Byzantine leader's block
// need not sit at its parent's height + 1); digest and size as make_block computes them.
BlockRef make_block_at(Digest parent, std::uint64_t height, std::uint64_t view, QuorumCert justify,
                       std::vector<ClientMessageRef> cmds, NodeId proposer);

// A proposal: the block and the leader's signed statement (kProposalStatement, view, height,
// hash) for it, which votes carry on so that conflicting proposals meet at the next leader.
struct Proposal {
    BlockRef block;
    proto::SignedVote leader_statement;
    bool operator==(const Proposal&) const = default;
};
struct Vote {
    proto::SignedVote vote;
    proto::SignedVote proposal;  // the leader's statement for the block voted for
    bool operator==(const Vote&) const = default;
};
proto::Statement proposal_statement(const Block& b);
// NEW-VIEW(view, highQC), sent to the leader of `view`. It also carries the sender's last vote
// (and the leader statement it was for): when the leader that should have formed a QC failed,
// the next leader can still form it from these, and the chain keeps its consecutive views.
struct NewView {
    std::uint64_t view = 0;
    QuorumCert high_qc;
    proto::SignedVote last_vote;  // kind 0 and signer 0 with no signature: none
    proto::SignedVote proposal;
    bool operator==(const NewView&) const = default;
};
// Basic HotStuff: the leader's PRE-COMMIT, COMMIT and DECIDE carry the QC of the phase before.
struct PhaseQc {
    Phase phase = kPreCommit;  // kPreCommit, kCommit, or kCommit+1 for DECIDE
    QuorumCert qc;
    bool operator==(const PhaseQc&) const = default;
};
// Block sync: ask a peer for a block one misses; it answers with the block.
struct Fetch {
    Digest hash{};
    bool operator==(const Fetch&) const = default;
};
struct BlockReply {
    BlockRef block;
    bool operator==(const BlockReply&) const = default;
};

// State sync, for a replica too far behind to fetch what it misses (peers keep only a few
// committed heights below their executed block): it asks every replica for its executed block,
// state and per-client progress, and adopts a snapshot once f+1 replicas report it identically
// (one of them is honest, so the snapshot is what was committed and executed).
struct SyncRequest {
    std::uint64_t executed = 0;  // the requester's executed height
    bool operator==(const SyncRequest&) const = default;
};
struct ClientProgress {
    std::uint32_t client = 0;
    std::uint64_t timestamp = 0;  // the client's latest executed request
    Digest result{};              // and what its reply said
    std::uint64_t height = 0, view = 0;
    bool operator==(const ClientProgress&) const = default;
};
struct SyncReply {
    BlockRef block;  // the sender's executed block
    Digest state{};
    std::vector<ClientProgress> clients;  // by client id
    proto::AppData app_data;              // the service's state, where its digest is not all
    bool operator==(const SyncReply&) const = default;
    Digest content_digest() const;  // what f+1 replies must agree on
};

using Body =
    std::variant<Proposal, Vote, NewView, PhaseQc, Fetch, BlockReply, SyncRequest, SyncReply>;

struct Message : sim::Payload {
    // Every message names blocks, QCs or signed votes by reference (nests).
    Message() { nests = true; }
    explicit Message(Body b) : body(std::move(b)) { nests = true; }
    Body body;
    // view and height of the block, vote or QC a message carries; a NEW-VIEW's view.
    sim::Rounds rounds() const override;
    // digest == message_digest(body, signer), and the kind is its body's (a relabelled message
    // keeps a valid signature: the kind is outside it). A message made by make_message knows it
    // holds (no second hash at the n-1 receivers of a broadcast); for one with a foreign digest (a
    // splice) the first replica to ask computes it and the others reuse the answer.
    bool digest_matches() const {
        const bool* kept = digest_ok_.kept();
        return kept ? *kept : check_digest();
    }
    // Sets the digest computed from this very body: digest_matches() holds with no computation.
    void set_body_digest(Digest d) {
        digest = d;
        digest_ok_.made(true);
    }
    // Sets a digest not computed from this body (a splice): digest_matches() compares when asked.
    void set_foreign_digest(Digest d) {
        digest = d;
        digest_ok_.forget();
    }

protected:
    // Blocks (their QCs and commands), QCs and signed votes, every signature byte included,
    // and the body itself when its digest does not name it (a splice).
    std::uint64_t nested_wire_hash() const override;
    void on_seal() const override;  // the blocks it carries

private:
    bool check_digest() const;
    sim::ContentMemo<bool> digest_ok_;
};
using MessageRef = sim::Ref<Message>;

enum Kind : std::uint16_t {
    kProposal = proto::kFirstProtocolKind,
    kVote,
    kNewView,
    kPreCommitMsg,
    kCommitMsg,
    kDecideMsg,
    kFetch,
    kBlock,
    kSyncRequest,
    kSyncReply,
};
std::vector<std::string> kind_names();

// The content digest of a message body signed by `signer` (what its signature covers): the
// kind, the rounds and the digests of the blocks, statements and QCs it carries.
Digest message_digest(const Body& body, NodeId signer);

MessageRef make_message(sim::Context& ctx, Body body);
// A VOTE whose caller holds vote.stmt.digest() already (it signed that digest).
MessageRef make_vote_message(sim::Context& ctx, const Vote& vote, Digest vote_digest);
// `body` under `original`'s signer, digest and signature (a splice: the signature no longer
// covers the body; for Byzantine strategies, so that receivers can be shown to reject it).
MessageRef make_spliced(Body body, const Message& original);
// Whether one message (not the blocks, QCs and statements inside it) may be used: its signer
// is a replica, its digest is its body's, and the signature is the signer's over that digest.
bool authentic(sim::Context& ctx, const Message& m);

template <class T>
const T* as(const Message& m) {
    return std::get_if<T>(&m.body);
}

}  // namespace hotstuff
