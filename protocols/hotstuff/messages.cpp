#include "protocols/hotstuff/messages.hpp"

#include "sim/hash.hpp"

namespace hotstuff {

std::vector<std::string> kind_names() {
    return {"REQUEST", "REPLY",  "PROPOSAL", "VOTE",  "NEW-VIEW",     "PRE-COMMIT",
            "COMMIT",  "DECIDE", "FETCH",    "BLOCK", "SYNC-REQUEST", "SYNC-REPLY"};
}

Digest block_hash(const Block& b) {
    sim::Hasher h(0x424c);
    h.add(b.parent.v).add(b.height).add(b.view).add(b.justify.stmt.digest().v).add(b.proposer.v);
    h.add(b.cmds.size());
    for (const auto& c : b.cmds) h.add(c->digest.v);
    return Digest(h.value());
}

bool Block::check_digest(bool trust_unsealed) const {
    return digest_ok_.get(*this, trust_unsealed, [this] { return digest == block_hash(*this); });
}

bool Block::commands_valid(sim::Context& ctx, bool& checked, bool trust_unsealed) const {
    checked = false;
    return commands_ok_.get(*this, trust_unsealed, [&] {
        checked = true;
        for (const ClientMessageRef& c : cmds) {
            const auto* req = std::get_if<proto::Request>(&c->body);
            if (!req || req->client.v < ctx.replica_count() || !proto::authentic(ctx, *c))
                return false;
        }
        return true;
    });
}

QcKey Block::compute_justify_key(bool trust_unsealed) const {
    return justify_key_.get(*this, trust_unsealed, [this] { return qc_key(justify); });
}

Digest Block::compute_proposal_digest(bool trust_unsealed) const {
    return proposal_digest_.get(*this, trust_unsealed,
                                [this] { return proposal_statement(*this).digest(); });
}

void Block::on_seal() const {
    for (const ClientMessageRef& c : cmds) c->seal();
}

QcKey qc_key(const QuorumCert& qc) {
    QcKey k;
    k.stmt_digest = qc.stmt.digest();
    sim::Hasher h(k.stmt_digest.v);
    for (auto w : qc.signers) h.add(w);
    h.add(qc.signers.size()).add(qc.sigs.size()).add(qc.aggregated);
    for (const auto& s : qc.sigs) {
        const sim::Signature::Bytes bytes = s.bytes();
        for (std::size_t i = 0; i < bytes.size(); i += 8) {
            std::uint64_t x = 0;
            for (std::size_t b = 0; b < 8; ++b) x = (x << 8) | bytes[i + b];
            h.add(x);
        }
    }
    k.content = h.value();
    return k;
}

BlockRef genesis_block() {
    static const BlockRef g = [] {
        auto [ref, b] = sim::make_payload<Block>();
        b->digest = Digest(0x6e6e6573697347ULL);
        b->size_bytes = 64;
        return ref;
    }();
    return g;
}

QuorumCert genesis_qc() {
    QuorumCert qc;
    qc.stmt = proto::Statement{kGeneric, 0, 0, genesis_block()->digest};
    return qc;
}

bool is_genesis_qc(const QuorumCert& qc) {
    static const proto::Statement genesis = genesis_qc().stmt;
    return qc.signers.empty() && qc.sigs.empty() && qc.stmt == genesis;
}

proto::Statement proposal_statement(const Block& b) {
    return proto::Statement{kProposalStatement, b.view, b.height, b.digest};
}

BlockRef make_block(BlockRef parent, std::uint64_t view, QuorumCert justify,
                    std::vector<ClientMessageRef> cmds, NodeId proposer) {
    return make_block_at(parent->digest, parent->height + 1, view, std::move(justify),
                         std::move(cmds), proposer);
}

BlockRef make_block_at(Digest parent, std::uint64_t height, std::uint64_t view, QuorumCert justify,
                       std::vector<ClientMessageRef> cmds, NodeId proposer) {
    auto [ref, b] = sim::make_payload<Block>();
    b->parent = parent;
    b->height = height;
    b->view = view;
    b->justify = std::move(justify);
    b->cmds = std::move(cmds);
    b->proposer = proposer;
    b->digest = block_hash(*b);
    std::uint32_t size = 64 + b->justify.size_bytes();
    for (const auto& c : b->cmds) size += c->size_bytes;
    b->size_bytes = size;
    return ref;
}

namespace {

// A body's kind, size and digest (signed by `signer`): a few fixed fields per kind, so one
// avalanche (sim::hash_fields) each.
struct Describe {
    std::uint64_t signer;
    std::uint16_t& kind;
    std::uint32_t& size;
    Digest& digest;
    const Digest* vote_digest = nullptr;  // m.vote.stmt.digest() of a Vote, when known
    // Void, not returning the digest: std::visit then compiles to a switch, not an indirect call.
    void of(auto... fields) const { digest = Digest(sim::hash_fields(0x4853, signer, fields...)); }
    void operator()(const Proposal& m) const {
        kind = kProposal;
        size += m.block->size_bytes + 25 + 64;
        of(1, m.block->digest.v);
    }
    void operator()(const Vote& m) const {
        kind = kVote;
        size += 2 * (25 + 64);
        of(2, (vote_digest ? *vote_digest : m.vote.stmt.digest()).v, m.vote.signer.v);
    }
    void operator()(const NewView& m) const {
        kind = kNewView;
        size += 8 + m.high_qc.size_bytes() + 2 * (25 + 64);
        of(3, m.view, m.high_qc.stmt.digest().v, m.last_vote.stmt.digest().v);
    }
    void operator()(const PhaseQc& m) const {
        kind = m.phase == kPreCommit ? kPreCommitMsg : m.phase == kCommit ? kCommitMsg : kDecideMsg;
        size += 1 + m.qc.size_bytes();
        of(4, m.phase, m.qc.stmt.digest().v);
    }
    void operator()(const Fetch& m) const {
        kind = kFetch;
        size += 8;
        of(5, m.hash.v);
    }
    void operator()(const BlockReply& m) const {
        kind = kBlock;
        size += m.block->size_bytes;
        of(6, m.block->digest.v);
    }
    void operator()(const SyncRequest& m) const {
        kind = kSyncRequest;
        size += 8;
        of(7, m.executed);
    }
    void operator()(const SyncReply& m) const {
        kind = kSyncReply;
        size += m.block->size_bytes + 8 + static_cast<std::uint32_t>(m.clients.size()) * 36 +
                proto::data_size(m.app_data);
        of(8, m.content_digest().v);
    }
};

}  // namespace

Digest SyncReply::content_digest() const {
    sim::Hasher h(0x53594e43);
    h.add(block->digest.v).add(state.v).add(clients.size());
    for (const ClientProgress& c : clients)
        h.add(c.client).add(c.timestamp).add(c.result.v).add(c.height).add(c.view);
    if (app_data) h.add(proto::data_hash(app_data));
    return Digest(h.value());
}

namespace {

// Fills in m's kind and size, and returns the digest of its body signed by `signer`.
Digest describe(Message& m, NodeId signer, const Digest* vote_digest) {
    std::uint32_t size = 32 + 64;
    Digest d{};
    std::visit(Describe{signer.v, m.kind, size, d, vote_digest}, m.body);
    m.size_bytes = size;
    return d;
}

MessageRef make(sim::Context& ctx, Body body, const Digest* vote_digest) {
    auto [ref, m] = sim::make_payload<Message>(std::move(body));
    m->signer = ctx.self();
    m->set_body_digest(describe(*m, m->signer, vote_digest));
    m->sig = ctx.sign(m->digest);
    return ref;
}

}  // namespace

Digest message_digest(const Body& body, NodeId signer) {
    std::uint16_t kind = 0;
    std::uint32_t size = 0;
    Digest d{};
    std::visit(Describe{signer.v, kind, size, d, nullptr}, body);
    return d;
}

MessageRef make_message(sim::Context& ctx, Body body) {
    return make(ctx, std::move(body), nullptr);
}

MessageRef make_vote_message(sim::Context& ctx, const Vote& vote, Digest vote_digest) {
    return make(ctx, vote, &vote_digest);
}

MessageRef make_spliced(Body body, const Message& original) {
    auto [ref, m] = sim::make_payload<Message>(std::move(body));
    describe(*m, original.signer, nullptr);  // kind and size of the altered body
    m->signer = original.signer;
    m->set_foreign_digest(original.digest);
    m->sig = original.sig;
    return ref;
}

bool Message::check_digest() const {
    // The kind is outside what the signature covers: a relabelled message keeps a valid one.
    return digest_ok_.get(*this, false, [this] {
        std::uint16_t body_kind = 0;
        std::uint32_t size = 0;
        Digest d{};
        std::visit(Describe{signer.v, body_kind, size, d, nullptr}, body);
        return digest == d && kind == body_kind;
    });
}

void Message::on_seal() const {
    std::visit(
        [](const auto& b) {
            if constexpr (requires { b.block; })
                if (b.block) b.block->seal();
        },
        body);
}

bool authentic(sim::Context& ctx, const Message& m) {
    return m.signer.v < ctx.replica_count() && m.digest_matches() &&
           ctx.verify(m.signer, m.digest, m.sig);
}

sim::Rounds Message::rounds() const {
    sim::Rounds r;
    const auto of_block = [&r](const BlockRef& b) {
        if (!b) return;
        r.view = b->view;
        r.height = b->height;
    };
    const auto of_statement = [&r](const proto::Statement& s) {
        r.view = s.view;
        r.height = s.slot;
    };
    if (const auto* p = as<Proposal>(*this)) of_block(p->block);
    if (const auto* v = as<Vote>(*this)) of_statement(v->vote.stmt);
    if (const auto* nv = as<NewView>(*this)) r.view = nv->view;
    if (const auto* q = as<PhaseQc>(*this)) of_statement(q->qc.stmt);
    if (const auto* b = as<BlockReply>(*this)) of_block(b->block);
    if (const auto* s = as<SyncReply>(*this)) of_block(s->block);
    return r;
}

namespace {

// The statement's fields and the signature's bytes combined linearly with odd constants (one
// differing field changes the sum), then one avalanche: cheaper than the statement's own
// digest, which it needs not equal.
std::uint64_t vote_wire(const proto::SignedVote& v) {
    const proto::Statement& s = v.stmt;
    return sim::hash_fields(0x5657, s.kind, s.view, s.slot, s.value.v, v.signer.v,
                            sim::signature_sum(v.sig));
}

std::uint64_t block_wire(const BlockRef& b) {
    return b ? b->wire_hash() : 0;
}

}  // namespace

std::uint64_t Block::nested_wire_hash() const {
    sim::Hasher h(justify_key().content);
    h.add(cmds.size());
    for (const auto& c : cmds) h.add(c->wire_hash());
    return h.value();
}

// Per kind, what its digest names by reference in one avalanche (the tags as in Describe); a
// body its digest does not name (a splice) reaches the receiver too.
std::uint64_t Message::nested_wire_hash() const {
    constexpr std::uint64_t kSeed = 0x4857;
    std::uint64_t h = 0;
    if (const auto* p = as<Proposal>(*this)) {
        h = sim::hash_fields(kSeed, 1, block_wire(p->block), vote_wire(p->leader_statement));
    } else if (const auto* v = as<Vote>(*this)) {
        h = sim::hash_fields(kSeed, 2, vote_wire(v->vote), vote_wire(v->proposal));
    } else if (const auto* nv = as<NewView>(*this)) {
        h = sim::hash_fields(kSeed, 3, qc_key(nv->high_qc).content, vote_wire(nv->last_vote),
                             vote_wire(nv->proposal));
    } else if (const auto* q = as<PhaseQc>(*this)) {
        h = sim::hash_fields(kSeed, 4, qc_key(q->qc).content);
    } else if (const auto* b = as<BlockReply>(*this)) {
        h = sim::hash_fields(kSeed, 6, block_wire(b->block));
    } else if (const auto* r = as<SyncReply>(*this)) {
        h = sim::hash_fields(kSeed, 8, block_wire(r->block));
    }
    if (!digest_matches()) h = sim::hash_fields(kSeed, h, message_digest(body, signer).v);
    return h;
}

}  // namespace hotstuff
