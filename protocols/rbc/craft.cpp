#include "protocols/rbc/craft.hpp"

#include "protocols/rbc/messages.hpp"

namespace rbc {

namespace {

using proto::Field;

const Message* protocol_message(const sim::Payload& m) {
    return proto::is_client_message(m) ? nullptr : static_cast<const Message*>(&m);
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
    if (f == Field::Seq) return std::visit([](const auto& b) { return b.id.counter; }, m->body);
    if (f != Field::Digest || as<Send>(*m)) return std::nullopt;
    return std::visit(
        [](const auto& b) -> std::uint64_t {
            if constexpr (requires { b.value; }) return b.value.v;
            return 0;
        },
        m->body);
}

sim::PayloadRef Craft::with(sim::Context& ctx, const sim::Payload& p, Field f, std::uint64_t value,
                            proto::Seal seal) const {
    const Message* m = protocol_message(p);
    if (!m || !get(p, f)) return {};
    Body body = m->body;
    std::visit(
        [&](auto& b) {
            if (f == Field::Seq) b.id.counter = value;
            if constexpr (requires { b.value; })
                if (f == Field::Digest) b.value = Digest(value);
        },
        body);
    return seal_body(ctx, std::move(body), *m, seal);
}

std::size_t Craft::commands(const sim::Payload& p) const {
    const Message* m = protocol_message(p);
    const Send* s = m ? as<Send>(*m) : nullptr;
    return s && s->request ? 1 : 0;
}

// A SEND carries one request or none: dropping it sends the null value, injecting replaces it.
sim::PayloadRef Craft::with_commands(sim::Context& ctx, const sim::Payload& p,
                                     const proto::CommandEdit& edit, proto::Seal seal) const {
    const Message* m = protocol_message(p);
    const Send* s = m ? as<Send>(*m) : nullptr;
    if (!s) return {};
    Send out = *s;
    using Op = proto::CommandEdit::Op;
    if (edit.op == Op::Drop) {
        out.request = {};
    } else if (edit.op == Op::Inject && edit.inject && proto::is_client_message(*edit.inject)) {
        out.request =
            proto::ClientMessageRef(static_cast<const proto::ClientMessage*>(edit.inject.get()));
    } else {
        return {};  // one request at most: nothing to duplicate
    }
    return seal_body(ctx, std::move(out), *m, seal);
}

}  // namespace rbc
