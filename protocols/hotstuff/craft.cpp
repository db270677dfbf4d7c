#include "protocols/hotstuff/craft.hpp"

#include <type_traits>

#include "protocols/hotstuff/messages.hpp"

namespace hotstuff {

namespace {

using proto::Field;
using proto::Seal;

const Message* protocol_message(const sim::Payload& m) {
    return proto::is_client_message(m) ? nullptr : static_cast<const Message*>(&m);
}

template <class T, class U>
using Slot = std::conditional_t<std::is_const_v<T>, const U*, U*>;

// Where field `f` lives in a statement (const or not), or null.
template <class S>
Slot<S, std::uint64_t> statement_slot(S& s, Field f) {
    if (f == Field::View) return &s.view;
    if (f == Field::Height) return &s.slot;
    if (f == Field::Digest) return &s.value.v;
    return nullptr;
}

// Where field `f` lives in a body alternative other than a PROPOSAL (whose fields are its
// block's: a shared block is rebuilt, not edited), or null.
template <class B>
Slot<B, std::uint64_t> slot_of(B& b, Field f) {
    using T = std::remove_const_t<B>;
    if constexpr (std::is_same_v<T, Vote>) return statement_slot(b.vote.stmt, f);
    if constexpr (std::is_same_v<T, PhaseQc>) return statement_slot(b.qc.stmt, f);
    if constexpr (std::is_same_v<T, NewView>)
        if (f == Field::View) return &b.view;
    return nullptr;
}

// `like` with another view, height or commands, and its hash recomputed as make_block does;
// the parent stays (so the height need not be the parent's + 1).
BlockRef rebuild(const Block& like, std::uint64_t view, std::uint64_t height,
                 std::vector<ClientMessageRef> cmds, NodeId proposer) {
    return make_block_at(like.parent, height, view, like.justify, std::move(cmds), proposer);
}

// A PROPOSAL of `block` in place of `original`: an Own seal signs a leader statement for it
// and the message; a Splice keeps the original's leader statement and signature.
sim::PayloadRef propose(sim::Context& ctx, BlockRef block, const Message& original, Seal seal) {
    if (seal != Seal::Own)
        return make_spliced(Proposal{std::move(block), as<Proposal>(original)->leader_statement},
                            original);
    const proto::SignedVote stmt =
        proto::sign_vote(ctx, proposal_statement(*block), block->proposal_digest());
    return make_message(ctx, Proposal{std::move(block), stmt});
}

// A copy of `b` under its own digest, asked every answer a receiver keeps (sim::ContentMemo)
// while its content is still b's, then given `cmds`: the digest no longer names the content,
// and only a receiver that trusts answers computed before the block was sent misses it.
BlockRef seeded(sim::Context& ctx, const Block& b, std::vector<ClientMessageRef> cmds) {
    auto [ref, w] = sim::make_payload<Block>();
    w->parent = b.parent;
    w->height = b.height;
    w->view = b.view;
    w->justify = b.justify;
    w->cmds = b.cmds;
    w->proposer = b.proposer;
    w->digest = b.digest;
    w->size_bytes = b.size_bytes;
    bool checked = false;
    (void)w->digest_matches();
    (void)w->commands_valid(ctx, checked);
    (void)w->justify_key();
    (void)w->proposal_digest();
    w->cmds = std::move(cmds);
    return ref;
}

NodeId proposer_for(sim::Context& ctx, const Block& b, Seal seal) {
    return seal == Seal::Own ? ctx.self() : b.proposer;
}

}  // namespace

std::optional<std::uint64_t> Craft::get(const sim::Payload& p, Field f) const {
    const Message* m = protocol_message(p);
    if (!m) return std::nullopt;
    if (const auto* prop = as<Proposal>(*m)) {
        if (!prop->block) return std::nullopt;
        if (f == Field::View) return prop->block->view;
        if (f == Field::Height) return prop->block->height;
        return std::nullopt;
    }
    const std::uint64_t* at =
        std::visit([f](const auto& b) -> const std::uint64_t* { return slot_of(b, f); }, m->body);
    return at ? std::optional<std::uint64_t>(*at) : std::nullopt;
}

sim::PayloadRef Craft::with(sim::Context& ctx, const sim::Payload& p, Field f, std::uint64_t value,
                            Seal seal) const {
    const Message* m = protocol_message(p);
    if (!m || !get(p, f)) return {};
    if (const auto* prop = as<Proposal>(*m)) {
        const Block& b = *prop->block;
        const std::uint64_t view = f == Field::View ? value : b.view;
        const std::uint64_t height = f == Field::Height ? value : b.height;
        return propose(ctx, rebuild(b, view, height, b.cmds, proposer_for(ctx, b, seal)), *m, seal);
    }
    Body body = m->body;
    *std::visit([f](auto& b) -> std::uint64_t* { return slot_of(b, f); }, body) = value;
    if (seal != Seal::Own) return make_spliced(std::move(body), *m);
    if (auto* v = std::get_if<Vote>(&body)) {
        // Our own vote for the altered statement (the leader's statement it carries stays).
        const Digest d = v->vote.stmt.digest();
        v->vote = proto::sign_vote(ctx, v->vote.stmt, d);
        return make_vote_message(ctx, *v, d);
    }
    return make_message(ctx, std::move(body));
}

std::size_t Craft::commands(const sim::Payload& p) const {
    const Message* m = protocol_message(p);
    const Proposal* prop = m ? as<Proposal>(*m) : nullptr;
    return prop && prop->block ? prop->block->cmds.size() : 0;
}

// The block is rebuilt with the edited commands under either seal, so an Own-sealed proposal
// is well formed and a replica's only defence is what the block holds.
sim::PayloadRef Craft::with_commands(sim::Context& ctx, const sim::Payload& p,
                                     const proto::CommandEdit& edit, Seal seal) const {
    const Message* m = protocol_message(p);
    const Proposal* prop = m ? as<Proposal>(*m) : nullptr;
    if (!prop || !prop->block) return {};
    const Block& b = *prop->block;
    std::vector<ClientMessageRef> cmds = b.cmds;
    using Op = proto::CommandEdit::Op;
    if (edit.op == Op::Inject) {
        if (!edit.inject || !proto::is_client_message(*edit.inject)) return {};
        cmds.push_back(
            ClientMessageRef(static_cast<const proto::ClientMessage*>(edit.inject.get())));
    } else {
        if (edit.index >= cmds.size()) return {};
        const auto at = cmds.begin() + static_cast<std::ptrdiff_t>(edit.index);
        if (edit.op == Op::Drop) {
            cmds.erase(at);
        } else {
            cmds.insert(at, *at);
        }
    }
    if (seal == Seal::Seeded) return propose(ctx, seeded(ctx, b, std::move(cmds)), *m, seal);
    return propose(ctx, rebuild(b, b.view, b.height, std::move(cmds), proposer_for(ctx, b, seal)),
                   *m, seal);
}

// The same body, signer, digest and signature under the next of the protocol's 10 kinds.
sim::PayloadRef Craft::relabel(const sim::Payload& p) const {
    const Message* m = protocol_message(p);
    if (!m) return {};
    MessageRef out = make_spliced(m->body, *m);
    auto* w = const_cast<Message*>(out.get());
    w->kind = static_cast<std::uint16_t>(kProposal + (m->kind - kProposal + 1) % 10);
    return out;
}

}  // namespace hotstuff
