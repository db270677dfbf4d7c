#include "protocols/rbc/messages.hpp"

#include "sim/hash.hpp"

namespace rbc {

std::vector<std::string> kind_names() {
    return {"REQUEST", "REPLY", "SEND", "ECHO", "READY"};
}

Digest null_value() {
    return Digest(sim::Hasher(0x524e).add(0).value());
}

Digest value_of(const Send& s) {
    return s.request ? s.request->digest : null_value();
}

namespace {

constexpr std::uint32_t kHeaderBytes = 32;
constexpr std::uint32_t kSignatureBytes = 64;

struct DigestOf {
    sim::Hasher& h;
    void add_id(const InstanceId& id) const { h.add(id.sender.v).add(id.counter); }
    void operator()(const Send& m) const {
        h.add(1);
        add_id(m.id);
        h.add(value_of(m).v);
    }
    void operator()(const Echo& m) const {
        h.add(2);
        add_id(m.id);
        h.add(m.value.v);
    }
    void operator()(const Ready& m) const {
        h.add(3);
        add_id(m.id);
        h.add(m.value.v);
    }
};

std::uint32_t size_of(const Body& b) {
    const auto* s = std::get_if<Send>(&b);
    const std::uint32_t request = s && s->request ? s->request->size_bytes : 0;
    return kHeaderBytes + kSignatureBytes + request;
}

}  // namespace

Digest message_digest(const Body& body, NodeId signer) {
    sim::Hasher h(0x5242);
    h.add(signer.v);
    std::visit(DigestOf{h}, body);
    return Digest(h.value());
}

MessageRef make_message(sim::Context& ctx, Body body) {
    auto [ref, m] = sim::make_payload<Message>();
    m->kind = static_cast<std::uint16_t>(kSend + body.index());
    m->nests = m->kind == kSend;  // a SEND's digest names its request by reference
    m->digest = message_digest(body, ctx.self());
    m->size_bytes = size_of(body);
    m->signer = ctx.self();
    m->body = std::move(body);
    m->sig = ctx.sign(m->digest);
    return ref;
}

MessageRef make_spliced(Body body, const Message& original) {
    auto [ref, m] = sim::make_payload<Message>();
    m->kind = static_cast<std::uint16_t>(kSend + body.index());
    m->nests = true;  // the wire hash covers the body its digest does not name
    m->digest = original.digest;
    m->size_bytes = size_of(body);
    m->signer = original.signer;
    m->body = std::move(body);
    m->sig = original.sig;
    return ref;
}

namespace {
const InstanceId& id_of(const Body& b) {
    return std::visit([](const auto& m) -> const InstanceId& { return m.id; }, b);
}
}  // namespace

bool authentic(sim::Context& ctx, const Message& m) {
    const InstanceId& id = id_of(m.body);
    const std::uint32_t n = ctx.replica_count();
    if (id.sender.v >= n || m.signer.v >= n || id.counter > kMaxCounter) return false;
    if (m.kind != kSend + m.body.index()) return false;
    if (m.digest != message_digest(m.body, m.signer)) return false;
    if (const auto* s = as<Send>(m)) {
        if (m.signer != id.sender) return false;
        if (s->request && (s->request->kind != proto::kRequestKind ||
                           !std::holds_alternative<proto::Request>(s->request->body) ||
                           !proto::authentic(ctx, *s->request)))
            return false;
    }
    return ctx.verify(m.signer, m.digest, m.sig);
}

sim::Rounds Message::rounds() const {
    sim::Rounds r;
    std::visit([&r](const auto& b) { r.seq = b.id.counter; }, body);
    return r;
}

void Message::on_seal() const {
    const auto* s = as<Send>(*this);
    if (s && s->request) s->request->seal();
}

std::uint64_t Message::nested_wire_hash() const {
    const auto* s = as<Send>(*this);
    // A body its digest does not name (a splice) reaches the receiver too.
    const std::uint64_t body =
        digest == message_digest(this->body, signer) ? 0 : message_digest(this->body, signer).v;
    return sim::mix64((s && s->request ? s->request->wire_hash() : 0) ^ body);
}

}  // namespace rbc
