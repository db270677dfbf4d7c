// PBFT's messages (PROTOCOLS.md §1.2), one plain aggregate each, in one variant. The sender `i`
// is the payload's signer. Certificates are lists of shared references to signed messages.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "protocols/common/application.hpp"
#include "protocols/common/client_messages.hpp"
#include "protocols/common/ids.hpp"

namespace pbft {

using proto::ClientMessageRef;
using proto::Digest;
using proto::NodeId;
using proto::Seq;
using proto::View;

struct Message;
using MessageRef = sim::Ref<Message>;

// PRE-PREPARE(v, n, d) with the batch of requests piggybacked; an empty batch is the null request.
struct PrePrepare {
    View v{};
    Seq n{};
    Digest d{};
    std::vector<ClientMessageRef> batch;
    bool operator==(const PrePrepare&) const = default;
};
struct Prepare {
    View v{};
    Seq n{};
    Digest d{};
    bool operator==(const Prepare&) const = default;
};
struct Commit {
    View v{};
    Seq n{};
    Digest d{};
    bool operator==(const Commit&) const = default;
};
// One client's entry in the reply cache (§1.3 step 10): its newest executed request and the
// result, enough to answer a retransmission. Not the view of the reply: replicas execute a slot
// in whatever view they are in, so that differs between honest replicas.
struct ClientEntry {
    std::uint32_t client = 0;
    std::uint64_t timestamp = 0;
    Digest result{};
    std::uint64_t index = 0;
    bool operator==(const ClientEntry&) const = default;
};
// CHECKPOINT(n, d, i). The service state at n is the executed history (`chain`) and the reply
// cache (`clients`, by client id); d = service_digest(chain, clients) names both, so a replica
// that adopts a stable checkpoint also takes the reply cache that goes with it (§1.4: the
// cache is part of the state).
struct Checkpoint {
    Seq n{};
    Digest state{};
    Digest chain{};
    std::vector<ClientEntry> clients;
    bool operator==(const Checkpoint&) const = default;
};
// A prepared certificate: the pre-prepare and q-1 matching PREPAREs from distinct backups.
struct PreparedCert {
    MessageRef pre_prepare;
    std::vector<MessageRef> prepares;
    bool operator==(const PreparedCert&) const = default;
};
// VIEW-CHANGE(v+1, n, C, P, i) (§1.5).
struct ViewChange {
    View v{};
    Seq n_ckpt{};
    Digest ckpt_state{};
    std::vector<MessageRef> C;  // q matching CHECKPOINTs for n_ckpt (empty for n_ckpt = 0)
    std::vector<PreparedCert> P;
    bool operator==(const ViewChange&) const = default;
};
// NEW-VIEW(v+1, V, O) (§1.5).
struct NewView {
    View v{};
    std::vector<MessageRef> V;
    std::vector<MessageRef> O;
    bool operator==(const NewView&) const = default;
};

// STATUS(v, n, h, i): a replica that may have fallen behind tells the others its view, the last
// sequence number it executed and its low watermark, so they send what it misses (the BFT
// library's status messages, Castro's thesis §5.2; PROTOCOLS.md §4.13).
struct Status {
    View v{};
    Seq n{};    // last executed
    Seq low{};  // low watermark
    bool operator==(const Status&) const = default;
};
// A commit certificate: a PRE-PREPARE and q matching COMMITs of its view from distinct replicas.
// q COMMITs mean f+1 honest replicas prepared it, so every later view orders the same digest at
// n (§1.5's O): a replica may execute it whatever view it is in.
struct CommitCert {
    MessageRef pre_prepare;
    std::vector<MessageRef> commits;
    bool operator==(const CommitCert&) const = default;
};
// CATCH-UP(n, d, C, certs, i), the answer to a STATUS: the sender's stable checkpoint with its
// proof C when the requester executed less (n = 0 and C empty otherwise), and commit
// certificates for the numbers above both that the sender executed.
struct CatchUp {
    Seq n{};
    Digest state{};
    std::vector<MessageRef> C;
    std::vector<CommitCert> certs;
    proto::AppData app_data;  // the service's state at n, where its digest is not all of it
    bool operator==(const CatchUp&) const = default;
};

using Body =
    std::variant<PrePrepare, Prepare, Commit, Checkpoint, ViewChange, NewView, Status, CatchUp>;

struct Message : sim::Payload {
    Body body;
    // view: v of ordering, VIEW-CHANGE and NEW-VIEW messages; seq: n of ordering and
    // CHECKPOINT messages.
    sim::Rounds rounds() const override;
    // digest == message_digest(body, signer), and the kind is its body's. A sealed message
    // never changes, so the first replica to ask computes it and the others reuse the answer.
    bool digest_matches() const {
        const bool* kept = digest_ok_.kept();
        return kept ? *kept : check_digest();
    }
    // Sets digest = message_digest(body, signer), so digest_matches() holds with no second
    // computation (the one way honest code makes a digest).
    void digest_from_body();
    // Sets a digest not computed from this body (a splice): digest_matches() computes and
    // compares when asked.
    void set_foreign_digest(Digest d) {
        digest = d;
        digest_ok_.forget();
        nests = true;  // the wire hash then covers the body the digest does not name
    }

protected:
    // Nested messages and piggybacked requests, with their signatures.
    std::uint64_t nested_wire_hash() const override;
    void on_seal() const override;  // the nested messages and requests

private:
    bool check_digest() const;
    sim::ContentMemo<bool> digest_ok_;  // kept once sealed (sim::ContentMemo)
};

// Kind-table positions: REQUEST, REPLY, then the variant's alternatives in order.
enum Kind : std::uint16_t {
    kPrePrepare = proto::kFirstProtocolKind,
    kPrepare,
    kCommit,
    kCheckpoint,
    kViewChange,
    kNewView,
    kStatus,
    kCatchUp,
};
inline constexpr std::uint16_t kKinds = 8;  // protocol kinds, kPrePrepare..kCatchUp
std::vector<std::string> kind_names();

// The digest of a batch; the empty batch is the null request's digest d_null.
Digest batch_digest(const std::vector<ClientMessageRef>& batch);
Digest null_digest();
// The digest a CHECKPOINT names: the executed history and the reply cache together.
Digest service_digest(Digest chain, const std::vector<ClientEntry>& clients);
// Whether a CHECKPOINT's digest is that of the state it carries.
bool consistent(const Checkpoint& c);
// The content digest of a message body signed by `signer`.
Digest message_digest(const Body& body, NodeId signer);

// Makes a message signed by the context's own node.
MessageRef make_message(sim::Context& ctx, Body body);
// Makes a message claiming `signer` but signed with the context's own key (for Byzantine
// strategies that forge: honest receivers must reject it).
MessageRef make_forged(sim::Context& ctx, Body body, NodeId signer);

// `body` under `original`'s signer, digest and signature (a splice: the signature no longer
// covers the body; for Byzantine strategies, so that receivers can be shown to reject it).
MessageRef make_spliced(Body body, const Message& original);

// The seeded bug trust_stored_digest reads a body as its kind says, as a parser of the wire
// would: a PREPARE labelled COMMIT is its signer's COMMIT for (v, n, d), and the other way
// round. Null where the body does not read as that kind (such a message is dropped).
MessageRef read_as_kind(const Message& m);

// Whether one message (not the certificates inside it) may be used: its signer is a replica,
// its digest is its body's, and the signature is the signer's over that digest.
bool authentic(sim::Context& ctx, const Message& m);
// The signature over the stored digest alone (the seeded bug trust_stored_digest: a body
// altered under a valid signature passes).
bool signature_valid(sim::Context& ctx, const Message& m);

template <class T>
const T* as(const Message& m) {
    return std::get_if<T>(&m.body);
}

}  // namespace pbft
