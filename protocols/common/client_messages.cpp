#include "protocols/common/client_messages.hpp"

#include "sim/hash.hpp"

namespace proto {

Digest request_digest(const Request& r) {
    const std::uint64_t d = sim::hash_fields(0x5245, r.client.v, r.timestamp, r.op);
    if (!r.data) return Digest(d);
    const std::string_view bytes(reinterpret_cast<const char*>(r.data->data()), r.data->size());
    return Digest(sim::hash_bytes(d, bytes));
}

sim::RequestKey request_key(const Request& r) {
    return {r.client, r.timestamp};
}

namespace {
Digest reply_digest(const Reply& r) {
    return Digest(sim::hash_fields(0x5250, r.view.v, r.timestamp, r.client.v, r.replica.v,
                                   r.result.v, r.index));
}
}  // namespace

ClientMessageRef make_request(sim::Context& ctx, const Request& r) {
    auto [ref, m] = sim::make_payload<ClientMessage>();
    m->body = r;
    m->kind = kRequestKind;
    m->size_bytes = 48 + 64 + (r.data ? static_cast<std::uint32_t>(r.data->size()) : 0);
    m->digest = request_digest(r);
    m->signer = ctx.self();
    m->sig = ctx.sign(m->digest);
    return ref;
}

ClientMessageRef make_reply(sim::Context& ctx, const Reply& r) {
    auto [ref, m] = sim::make_payload<ClientMessage>();
    m->body = r;
    m->kind = kReplyKind;
    m->size_bytes = 56 + 64;
    m->digest = reply_digest(r);
    m->signer = ctx.self();
    m->sig = ctx.sign(m->digest);
    return ref;
}

bool ClientMessage::digest_matches() const {
    return digest_ok_.get(*this, false, [this] {
        const auto* req = std::get_if<Request>(&body);
        return digest == (req ? request_digest(*req) : reply_digest(std::get<Reply>(body)));
    });
}

bool authentic(sim::Context& ctx, const ClientMessage& m) {
    if (const auto* req = std::get_if<Request>(&m.body)) {
        if (m.signer != req->client) return false;
    } else if (m.signer != std::get<Reply>(m.body).replica) {
        return false;
    }
    return m.digest_matches() && ctx.verify(m.signer, m.digest, m.sig);
}

Digest execution_result(Digest request, std::uint64_t index, std::uint32_t position) {
    return Digest(sim::hash_fields(0x5253, request.v, index, position));
}

sim::Rounds ClientMessage::rounds() const {
    sim::Rounds r;
    if (const auto* rep = std::get_if<Reply>(&body)) r.view = rep->view.v;
    return r;
}

}  // namespace proto
