#include "protocols/pbft/craft.hpp"

#include <type_traits>

#include "protocols/pbft/messages.hpp"

namespace pbft {

namespace {

using proto::Field;

const Message* protocol_message(const sim::Payload& m) {
    return proto::is_client_message(m) ? nullptr : static_cast<const Message*>(&m);
}

// Where field `f` lives in a body (const or not), or null.
template <class B>
auto slot_of(B& b, Field f)
    -> std::conditional_t<std::is_const_v<B>, const std::uint64_t*, std::uint64_t*> {
    if constexpr (requires { b.v; })
        if (f == Field::View) return &b.v.v;
    if constexpr (requires { b.n; })
        if (f == Field::Seq) return &b.n.v;
    if constexpr (requires { b.d; })
        if (f == Field::Digest) return &b.d.v;
    if constexpr (requires { b.state; })
        if (f == Field::Digest) return &b.state.v;
    return nullptr;
}

MessageRef seal_body(sim::Context& ctx, Body body, const Message& original, proto::Seal seal) {
    // Receivers keep no answer computed before a message is sent: Seeded is a Splice here.
    if (seal != proto::Seal::Own) return make_spliced(std::move(body), original);
    return make_message(ctx, std::move(body));
}

}  // namespace

std::optional<std::uint64_t> Craft::get(const sim::Payload& p, Field f) const {
    const Message* m = protocol_message(p);
    if (!m) return std::nullopt;
    const std::uint64_t* at =
        std::visit([f](const auto& b) -> const std::uint64_t* { return slot_of(b, f); }, m->body);
    return at ? std::optional<std::uint64_t>(*at) : std::nullopt;
}

sim::PayloadRef Craft::with(sim::Context& ctx, const sim::Payload& p, Field f, std::uint64_t value,
                            proto::Seal seal) const {
    const Message* m = protocol_message(p);
    if (!m) return {};
    Body body = m->body;
    std::uint64_t* at = std::visit([f](auto& b) -> std::uint64_t* { return slot_of(b, f); }, body);
    if (!at) return {};
    *at = value;
    return seal_body(ctx, std::move(body), *m, seal);
}

std::size_t Craft::commands(const sim::Payload& p) const {
    const Message* m = protocol_message(p);
    const PrePrepare* pp = m ? as<PrePrepare>(*m) : nullptr;
    return pp ? pp->batch.size() : 0;
}

// An Own seal names the edited batch by its digest, so the PRE-PREPARE is well formed and a
// backup's only defence is what the batch holds (a request twice, or one no client sent).
sim::PayloadRef Craft::with_commands(sim::Context& ctx, const sim::Payload& p,
                                     const proto::CommandEdit& edit, proto::Seal seal) const {
    const Message* m = protocol_message(p);
    const PrePrepare* pp = m ? as<PrePrepare>(*m) : nullptr;
    if (!pp) return {};
    PrePrepare out = *pp;
    using Op = proto::CommandEdit::Op;
    if (edit.op == Op::Inject) {
        if (!edit.inject || !proto::is_client_message(*edit.inject)) return {};
        out.batch.push_back(
            proto::ClientMessageRef(static_cast<const proto::ClientMessage*>(edit.inject.get())));
    } else {
        if (edit.index >= out.batch.size()) return {};
        const auto at = out.batch.begin() + static_cast<std::ptrdiff_t>(edit.index);
        if (edit.op == Op::Drop) {
            out.batch.erase(at);
        } else {
            out.batch.insert(at, *at);
        }
    }
    if (seal == proto::Seal::Own) out.d = batch_digest(out.batch);
    return seal_body(ctx, std::move(out), *m, seal);
}

// The same body, signer, digest and signature under the next of the protocol's kinds.
sim::PayloadRef Craft::relabel(const sim::Payload& p) const {
    const Message* m = protocol_message(p);
    if (!m) return {};
    MessageRef out = make_spliced(m->body, *m);
    auto* w = const_cast<Message*>(out.get());
    w->kind = static_cast<std::uint16_t>(kPrePrepare + (m->kind - kPrePrepare + 1) % kKinds);
    return out;
}

}  // namespace pbft
