#include "protocols/common/mutate.hpp"

#include <algorithm>

#include "protocols/common/client_messages.hpp"
#include "protocols/common/params.hpp"

namespace proto {

namespace {
constexpr Field kRounds[] = {Field::View, Field::Seq, Field::Height};
}

const char* field_name(Field f) {
    switch (f) {
        case Field::View:
            return "view";
        case Field::Seq:
            return "seq";
        case Field::Height:
            return "height";
        case Field::Digest:
            return "digest";
        case Field::Count:
            break;
    }
    return "?";
}

std::vector<std::string> mutate_kind_names() {
    return {"round", "digest", "commands", "recipient", "splice", "relabel", "seeded"};
}

MutateParams parse_mutate(const sim::FaultSpec& f, const sim::ScenarioSpec& spec) {
    for (const auto& g : spec.faults) {
        if (g.type == sim::FaultSpec::Type::Byzantine && g.node == f.node &&
            g.behavior == "mutate" && g.order < f.order)
            throw sim::ScenarioError(f.path + "/behavior", "replica " + std::to_string(f.node) +
                                                               " mutates already at " + g.path +
                                                               "; one mutate entry per replica");
    }
    Params p(f.params, f.path + "/params", {"probability", "kinds"});
    MutateParams m;
    m.ppm = static_cast<std::uint32_t>(p.number("probability", 0.2, 0.0, 1.0) * 1e6 + 0.5);
    const auto names = mutate_kind_names();
    for (std::size_t i : p.names("kinds", names, "mutation kind"))
        m.kinds.push_back(static_cast<MutateParams::Kind>(i));
    if (p.has("kinds") && m.kinds.empty())
        throw sim::ScenarioError(p.at("kinds"),
                                 "an empty list mutates nothing; omit 'kinds' for "
                                 "all of them");
    // By default every kind but relabel and seeded, which are asked for by name (they came
    // later; the default keeps the draws of scenarios written before them).
    using K = MutateParams::Kind;
    if (!p.has("kinds"))
        for (std::size_t i = 0; i < names.size(); ++i)
            if (static_cast<K>(i) != K::Relabel && static_cast<K>(i) != K::Seeded)
                m.kinds.push_back(static_cast<K>(i));
    return m;
}

void Mutator::observe(NodeId from, const sim::PayloadRef& msg, NodeId self) {
    if (!msg || from == self) return;
    if (is_client_message(*msg)) {
        const auto& cm = static_cast<const ClientMessage&>(*msg);
        if (std::holds_alternative<Request>(cm.body)) requests_.push(msg);
        return;
    }
    if (auto d = craft_.get(*msg, Field::Digest)) digests_.push(Digest(*d));
    messages_.push(msg);
}

bool Mutator::applies(Kind k, sim::Context& ctx, NodeId to, const sim::Payload& m) const {
    switch (k) {
        case Kind::Round:
            return std::any_of(std::begin(kRounds), std::end(kRounds),
                               [&](Field f) { return craft_.get(m, f).has_value(); });
        case Kind::Digest:
            return craft_.get(m, Field::Digest).has_value() && digests_.size > 0;
        case Kind::Commands:
        case Kind::Seeded:
            return craft_.commands(m) > 0;
        case Kind::Recipient:
            return to.v < ctx.replica_count() && to != ctx.self() && ctx.replica_count() > 2;
        case Kind::Splice:
            return messages_.size > 0;
        case Kind::Relabel:
            return true;
        case Kind::Count:
            break;
    }
    return false;
}

// One round field of `m` moved by -2, -1, +1 or +2 (not below 0, not past the largest value).
sim::PayloadRef Mutator::move_round(sim::Context& ctx, const sim::Payload& m, Seal seal) {
    std::vector<Field> present;
    for (Field f : kRounds)
        if (craft_.get(m, f)) present.push_back(f);
    if (present.empty()) return {};
    const Field f = present[static_cast<std::size_t>(
        ctx.rng().uniform(0, static_cast<std::int64_t>(present.size()) - 1))];
    const std::uint64_t old = *craft_.get(m, f);
    const std::int64_t steps[] = {-2, -1, 1, 2};
    const std::int64_t d = steps[ctx.rng().uniform(0, 3)];
    if ((d < 0 && old < static_cast<std::uint64_t>(-d)) ||
        (d > 0 && old > UINT64_MAX - static_cast<std::uint64_t>(d)))
        return {};
    return craft_.with(ctx, m, f, old + static_cast<std::uint64_t>(d), seal);
}

sim::PayloadRef Mutator::swap_digest(sim::Context& ctx, const sim::Payload& m) {
    const Digest pick = digests_.items[static_cast<std::size_t>(
        ctx.rng().uniform(0, static_cast<std::int64_t>(digests_.size) - 1))];
    if (craft_.get(m, Field::Digest) == pick.v) return {};
    return craft_.with(ctx, m, Field::Digest, pick.v, Seal::Own);
}

sim::PayloadRef Mutator::edit_commands(sim::Context& ctx, const sim::Payload& m, Seal seal) {
    CommandEdit e;
    const std::size_t n = craft_.commands(m);
    e.op = static_cast<CommandEdit::Op>(ctx.rng().uniform(0, 2));
    e.index = static_cast<std::size_t>(ctx.rng().uniform(0, static_cast<std::int64_t>(n) - 1));
    if (e.op == CommandEdit::Op::Inject) e.inject = injected_request(ctx);
    return craft_.with_commands(ctx, m, e, seal);
}

// A request seen from a client (valid), or one this replica signs itself: for the client a
// seen request names (no client signed it), or as a client under its own replica id.
sim::PayloadRef Mutator::injected_request(sim::Context& ctx) const {
    Request r{0x1badULL, 1, NodeId(ctx.replica_count())};
    if (requests_.size > 0) {
        const sim::PayloadRef& seen = requests_.items[static_cast<std::size_t>(
            ctx.rng().uniform(0, static_cast<std::int64_t>(requests_.size) - 1))];
        r = std::get<Request>(static_cast<const ClientMessage&>(*seen).body);
        if (ctx.rng().uniform(0, 2) == 0) return seen;
        r.op ^= 1;
    }
    if (ctx.rng().uniform(0, 1) == 0) r.client = ctx.self();
    return make_request(ctx, r);
}

std::pair<NodeId, sim::PayloadRef> Mutator::mutate(sim::Context& ctx, NodeId to,
                                                   sim::PayloadRef msg) {
    // The next copy of a broadcast whose round or commands were changed: the same change.
    if (last_out_ && msg.get() == last_in_.get()) return {to, last_out_};
    last_in_ = msg;
    last_out_ = {};
    if (is_client_message(*msg) || !ctx.rng().chance_ppm(p_.ppm)) return {to, std::move(msg)};
    std::vector<Kind> options;
    for (Kind k : p_.kinds)
        if (applies(k, ctx, to, *msg)) options.push_back(k);
    if (options.empty()) return {to, std::move(msg)};
    const Kind k = options[static_cast<std::size_t>(
        ctx.rng().uniform(0, static_cast<std::int64_t>(options.size()) - 1))];
    sim::PayloadRef out;
    switch (k) {
        case Kind::Round:
            out = move_round(ctx, *msg, Seal::Own);
            break;
        case Kind::Digest:
            out = swap_digest(ctx, *msg);
            break;
        case Kind::Commands:
            out = edit_commands(ctx, *msg, Seal::Own);
            break;
        case Kind::Seeded:
            out = edit_commands(ctx, *msg, Seal::Seeded);
            break;
        case Kind::Recipient: {
            // Another replica than the intended one, never itself.
            std::uint32_t r =
                static_cast<std::uint32_t>(ctx.rng().uniform(0, ctx.replica_count() - 3));
            for (std::uint32_t skip : {std::min(to.v, ctx.self().v), std::max(to.v, ctx.self().v)})
                if (r >= skip) ++r;
            ++mutations_;
            return {NodeId(r), std::move(msg)};
        }
        case Kind::Splice: {
            const sim::PayloadRef& seen = messages_.items[static_cast<std::size_t>(
                ctx.rng().uniform(0, static_cast<std::int64_t>(messages_.size) - 1))];
            out = move_round(ctx, *seen, Seal::Splice);
            break;
        }
        case Kind::Relabel:
            out = craft_.relabel(*msg);
            break;
        case Kind::Count:
            break;
    }
    if (!out) return {to, std::move(msg)};
    ++mutations_;
    if (k == Kind::Commands || k == Kind::Seeded || k == Kind::Round) last_out_ = out;
    return {to, std::move(out)};
}

}  // namespace proto
