#include "protocols/pbft/messages.hpp"

#include "sim/hash.hpp"

namespace pbft {

std::vector<std::string> kind_names() {
    return {"REQUEST",    "REPLY",       "PRE-PREPARE", "PREPARE", "COMMIT",
            "CHECKPOINT", "VIEW-CHANGE", "NEW-VIEW",    "STATUS",  "CATCH-UP"};
}

Digest batch_digest(const std::vector<ClientMessageRef>& batch) {
    sim::Hasher h(0x4241);
    h.add(batch.size());
    for (const auto& r : batch) h.add(r->digest.v);
    return Digest(h.value());
}

Digest null_digest() {
    return batch_digest({});
}

namespace {

// A body's digest signed by `signer`. The normal case's three kinds have a few fixed fields:
// one avalanche each (sim::hash_fields); the others fold their lists.
// Void operators writing `out`: std::visit then compiles to a switch, not an indirect call.
struct DigestOf {
    std::uint64_t signer;
    Digest& out;
    void fields(auto... f) const { out = Digest(sim::hash_fields(0x5042, signer, f...)); }
    sim::Hasher folder(std::uint64_t tag) const { return sim::Hasher(0x5042).add(signer).add(tag); }
    void operator()(const PrePrepare& m) const { fields(1, m.v.v, m.n.v, m.d.v); }
    void operator()(const Prepare& m) const { fields(2, m.v.v, m.n.v, m.d.v); }
    void operator()(const Commit& m) const { fields(3, m.v.v, m.n.v, m.d.v); }
    void operator()(const Checkpoint& m) const {
        sim::Hasher h = folder(4);
        h.add(m.n.v).add(m.state.v).add(m.chain.v).add(m.clients.size());
        for (const ClientEntry& e : m.clients)
            h.add(e.client).add(e.timestamp).add(e.result.v).add(e.index);
        out = Digest(h.value());
    }
    void operator()(const ViewChange& m) const {
        sim::Hasher h = folder(5);
        h.add(m.v.v).add(m.n_ckpt.v).add(m.ckpt_state.v).add(m.C.size()).add(m.P.size());
        for (const auto& c : m.C) h.add(c->digest.v);
        for (const auto& p : m.P) {
            h.add(p.pre_prepare->digest.v).add(p.prepares.size());
            for (const auto& q : p.prepares) h.add(q->digest.v);
        }
        out = Digest(h.value());
    }
    void operator()(const NewView& m) const {
        sim::Hasher h = folder(6);
        h.add(m.v.v).add(m.V.size()).add(m.O.size());
        for (const auto& c : m.V) h.add(c->digest.v);
        for (const auto& c : m.O) h.add(c->digest.v);
        out = Digest(h.value());
    }
    void operator()(const Status& m) const { fields(7, m.v.v, m.n.v, m.low.v); }
    void operator()(const CatchUp& m) const {
        sim::Hasher h = folder(8);
        h.add(m.n.v).add(m.state.v).add(m.C.size()).add(m.certs.size());
        for (const auto& c : m.C) h.add(c ? c->digest.v : 0);
        for (const CommitCert& c : m.certs) {
            h.add(c.pre_prepare ? c.pre_prepare->digest.v : 0).add(c.commits.size());
            for (const auto& q : c.commits) h.add(q ? q->digest.v : 0);
        }
        if (m.app_data) h.add(proto::data_hash(m.app_data));
        out = Digest(h.value());
    }
};

std::uint32_t size_of(const Body& b) {
    constexpr std::uint32_t kHeader = 32, kSig = 64;
    struct Sizer {
        std::uint32_t operator()(const PrePrepare& m) const {
            std::uint32_t s = kHeader + kSig;
            for (const auto& r : m.batch) s += r->size_bytes;
            return s;
        }
        std::uint32_t operator()(const ViewChange& m) const {
            std::uint32_t s = kHeader + kSig;
            for (const auto& c : m.C) s += c->size_bytes;
            for (const auto& p : m.P) {
                s += p.pre_prepare->size_bytes;
                for (const auto& q : p.prepares) s += q->size_bytes;
            }
            return s;
        }
        std::uint32_t operator()(const NewView& m) const {
            std::uint32_t s = kHeader + kSig;
            for (const auto& c : m.V) s += c->size_bytes;
            for (const auto& c : m.O) s += c->size_bytes;
            return s;
        }
        std::uint32_t operator()(const CatchUp& m) const {
            std::uint32_t s = kHeader + kSig + proto::data_size(m.app_data);
            for (const auto& c : m.C) s += c ? c->size_bytes : 0;
            for (const CommitCert& c : m.certs) {
                s += c.pre_prepare ? c.pre_prepare->size_bytes : 0;
                for (const auto& q : c.commits) s += q ? q->size_bytes : 0;
            }
            return s;
        }
        std::uint32_t operator()(const Status&) const { return kHeader + kSig; }
        std::uint32_t operator()(const Prepare&) const { return kHeader + kSig; }
        std::uint32_t operator()(const Commit&) const { return kHeader + kSig; }
        std::uint32_t operator()(const Checkpoint& m) const {
            constexpr std::uint32_t kEntry = 28;  // client, timestamp, result, index
            return kHeader + kSig + 8 + kEntry * static_cast<std::uint32_t>(m.clients.size());
        }
    };
    return std::visit(Sizer{}, b);
}

MessageRef build(Body body, NodeId signer) {
    auto [ref, m] = sim::make_payload<Message>();
    m->kind = static_cast<std::uint16_t>(kPrePrepare + body.index());
    m->nests = m->kind == kPrePrepare || m->kind == kViewChange || m->kind == kNewView ||
               m->kind == kCatchUp;
    m->size_bytes = size_of(body);
    m->signer = signer;
    m->body = std::move(body);
    m->digest_from_body();
    return ref;
}

}  // namespace

Digest service_digest(Digest chain, const std::vector<ClientEntry>& clients) {
    sim::Hasher h(0x5356);
    h.add(chain.v).add(clients.size());
    for (const ClientEntry& e : clients)
        h.add(e.client).add(e.timestamp).add(e.result.v).add(e.index);
    return Digest(h.value());
}

bool consistent(const Checkpoint& c) {
    return c.state == service_digest(c.chain, c.clients);
}

Digest message_digest(const Body& body, NodeId signer) {
    Digest d{};
    std::visit(DigestOf{signer.v, d}, body);
    return d;
}

MessageRef make_message(sim::Context& ctx, Body body) {
    MessageRef ref = build(std::move(body), ctx.self());
    const_cast<Message*>(ref.get())->sig = ctx.sign(ref->digest);
    return ref;
}

MessageRef make_forged(sim::Context& ctx, Body body, NodeId signer) {
    MessageRef ref = build(std::move(body), signer);
    const_cast<Message*>(ref.get())->sig = ctx.sign(ref->digest);
    return ref;
}

MessageRef make_spliced(Body body, const Message& original) {
    MessageRef ref = build(std::move(body), original.signer);
    auto* m = const_cast<Message*>(ref.get());
    m->set_foreign_digest(original.digest);
    m->sig = original.sig;
    return ref;
}

MessageRef read_as_kind(const Message& m) {
    if (const auto* p = as<Prepare>(m); p && m.kind == kCommit)
        return make_spliced(Commit{p->v, p->n, p->d}, m);
    if (const auto* c = as<Commit>(m); c && m.kind == kPrepare)
        return make_spliced(Prepare{c->v, c->n, c->d}, m);
    return {};
}

void Message::digest_from_body() {
    digest = message_digest(body, signer);
    digest_ok_.made(true);  // computed from this very body: it matches
}

bool Message::check_digest() const {
    // The kind is outside what the signature covers: a relabelled message keeps a valid one.
    return digest_ok_.get(*this, false, [this] {
        return digest == message_digest(body, signer) &&
               kind == kPrePrepare + static_cast<std::uint16_t>(body.index());
    });
}

bool signature_valid(sim::Context& ctx, const Message& m) {
    return ctx.verify(m.signer, m.digest, m.sig);
}

bool authentic(sim::Context& ctx, const Message& m) {
    return m.signer.v < ctx.replica_count() && m.digest_matches() && signature_valid(ctx, m);
}

sim::Rounds Message::rounds() const {
    sim::Rounds r;
    std::visit(
        [&r](const auto& b) {
            if constexpr (requires { b.v; }) r.view = b.v.v;
            if constexpr (requires { b.n; }) r.seq = b.n.v;
        },
        body);
    return r;
}

namespace {

// Every payload `m` names by reference, in a fixed order: `group(count)` before each list and
// `one(payload or null)` for each item (a certificate's PRE-PREPARE is a group of its own).
template <class Group, class One>
void for_each_nested(const Message& m, Group&& group, One&& one) {
    const auto all = [&](const auto& refs) {
        group(refs.size());
        for (const auto& r : refs) one(r.get());
    };
    if (const auto* pp = as<PrePrepare>(m)) all(pp->batch);
    if (const auto* vc = as<ViewChange>(m)) {
        all(vc->C);
        for (const PreparedCert& c : vc->P) {
            one(c.pre_prepare.get());
            all(c.prepares);
        }
    }
    if (const auto* nv = as<NewView>(m)) {
        all(nv->V);
        all(nv->O);
    }
    if (const auto* cu = as<CatchUp>(m)) {
        all(cu->C);
        for (const CommitCert& c : cu->certs) {
            one(c.pre_prepare.get());
            all(c.commits);
        }
    }
}

}  // namespace

void Message::on_seal() const {
    for_each_nested(
        *this, [](std::size_t) {},
        [](const sim::Payload* p) {
            if (p) p->seal();
        });
}

std::uint64_t Message::nested_wire_hash() const {
    sim::Hasher h(0x4e57);
    // A body its digest does not name (a splice) reaches the receiver too.
    if (!digest_matches()) h.add(message_digest(body, signer).v);
    for_each_nested(
        *this, [&h](std::size_t count) { h.add(count); },
        [&h](const sim::Payload* p) { h.add(p ? p->wire_hash() : 0); });
    return h.value();
}

}  // namespace pbft
