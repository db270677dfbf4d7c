#include "protocols/hotstuff/byzantine_far.hpp"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include "protocols/common/params.hpp"
#include "protocols/hotstuff/replica.hpp"
#include "sim/hash.hpp"

namespace hotstuff {

namespace {

constexpr std::uint64_t kLargestView = std::numeric_limits<std::uint64_t>::max();

// A block on `qc` in `view`, signed by this replica as its leader.
MessageRef proposal_on(sim::Context& ctx, const QuorumCert& qc, std::uint64_t view,
                       std::vector<ClientMessageRef> cmds, NodeId proposer) {
    const BlockRef b =
        make_block_at(qc.stmt.value, qc.stmt.slot + 1, view, qc, std::move(cmds), proposer);
    return make_message(ctx, Proposal{b, proto::sign_vote(ctx, proposal_statement(*b))});
}

// Another view than the QC's for a block of `block_view`: the next one while it stays below the
// block's view (a QC newer than it is, which safeNode's liveness rule would trust), else the
// one before.
std::uint64_t other_view(std::uint64_t view, std::uint64_t block_view) {
    if (view < block_view && block_view - view > 1) return view + 1;
    return view > 0 ? view - 1 : 1;
}

std::uint8_t other_kind(std::uint8_t kind) {
    if (kind == kCommit) return kPrepare;
    return static_cast<std::uint8_t>(kind + 1);
}

Digest other_block(Digest d) {
    return Digest(sim::mix64(d.v ^ kMixedOtherBlock));
}

}  // namespace

FarFutureParams parse_far_future(const sim::FaultSpec& f) {
    proto::Params p(f.params, f.path + "/params", {"every", "views_ahead", "max_view", "propose"});
    FarFutureParams out;
    out.every = p.duration("every", out.every);
    if (out.every < sim::milliseconds(1) || out.every > sim::seconds(3600))
        throw sim::ScenarioError(p.at("every"), "expected a duration between 1ms and 1h");
    out.views_ahead = p.uint("views_ahead", out.views_ahead, 1, 1ULL << 62);
    out.max_view = p.boolean("max_view", out.max_view);
    out.propose = p.boolean("propose", out.propose);
    return out;
}

MixedQcParams parse_mixed_qc(const sim::FaultSpec& f) {
    proto::Params p(f.params, f.path + "/params", {"mix"});
    const std::string mix = p.string(
        "mix", "all", {"all", "blocks", "views", "phases", "relabel_block", "relabel_view"});
    static const std::map<std::string, Mix> kinds = {{"blocks", Mix::Blocks},
                                                     {"views", Mix::Views},
                                                     {"phases", Mix::Phases},
                                                     {"relabel_block", Mix::RelabelBlock},
                                                     {"relabel_view", Mix::RelabelView}};
    MixedQcParams out;
    if (mix == "all") {
        out.mixes = {Mix::Blocks, Mix::Views, Mix::Phases, Mix::RelabelBlock, Mix::RelabelView};
    } else {
        out.mixes = {kinds.at(mix)};
    }
    return out;
}

// --- far_future ---

std::uint64_t FarFuture::target(std::uint64_t own) const {
    if (p_.max_view && ticks_ % 4 == 3) return kLargestView - (ticks_ / 4) % 2;
    const std::uint64_t offset = p_.views_ahead + ticks_ % p_.views_ahead;  // below 2^63
    return own > kLargestView - offset ? kLargestView : own + offset;
}

std::optional<std::uint64_t> FarFuture::led_view(const Config& cfg, std::uint32_t self,
                                                 std::uint64_t view, std::uint64_t own) {
    const std::uint64_t n = cfg.quorum.n;
    const std::uint64_t back = (view % n + n - self % n) % n;
    if (view < back) return std::nullopt;
    const std::uint64_t led = view - back;
    if (led <= own || led < cfg.leaders.size()) return std::nullopt;
    return led;
}

void FarFuture::tick(sim::Context& ctx, const Config& cfg, std::uint64_t own,
                     const QuorumCert& high_qc) {
    const std::uint64_t view = target(own);
    ++ticks_;
    const proto::Statement s{cfg.basic ? kPrepare : kGeneric, view, high_qc.stmt.slot + 1,
                             Digest(sim::mix64(view ^ kFarVoteBlock))};
    ctx.broadcast(make_message(ctx, Vote{proto::sign_vote(ctx, s), {}}));
    ctx.broadcast(make_message(ctx, NewView{view, high_qc, {}, {}}));
    const auto led = p_.propose ? led_view(cfg, ctx.self().v, view, own) : std::nullopt;
    if (led) ctx.broadcast(proposal_on(ctx, high_qc, *led, {}, ctx.self()));
    if (ctx.tracing())
        ctx.trace(fmt::format("byzantine far_future: VOTE and NEW-VIEW for view {}{}", view,
                              led ? fmt::format(", PROPOSAL in view {}", *led) : ""));
}

// --- mixed_qc ---

void MixedQc::observe(sim::Context& ctx, const Message& m) {
    const proto::SignedVote* v = nullptr;
    if (const auto* vote = as<Vote>(m)) v = &vote->vote;
    if (const auto* nv = as<NewView>(m)) v = &nv->last_vote;
    if (!v || v->signer != m.signer || v->signer == ctx.self() || !proto::verify_vote(ctx, *v))
        return;
    pool_.push_back(*v);
    if (pool_.size() > kPool) pool_.pop_front();
}

std::vector<proto::SignedVote> MixedQc::odd_votes(sim::Context& ctx, const proto::Statement& s,
                                                  Mix mix, std::uint64_t block_view) const {
    std::vector<proto::SignedVote> out;
    for (auto it = pool_.rbegin(); it != pool_.rend() && out.empty(); ++it) {
        const proto::Statement& o = it->stmt;
        const bool same_block = o.value == s.value, same_view = o.view == s.view;
        const bool same_kind = o.kind == s.kind;
        if ((mix == Mix::Blocks && same_kind && !same_block) ||
            (mix == Mix::Views && same_kind && same_block && !same_view) ||
            (mix == Mix::Phases && same_block && same_view && !same_kind))
            out.push_back(*it);
    }
    proto::Statement own = s;
    if (mix == Mix::Blocks) own.value = other_block(s.value);
    if (mix == Mix::Views) own.view = other_view(s.view, block_view);
    if (mix == Mix::Phases) own.kind = other_kind(s.kind);
    out.push_back(proto::sign_vote(ctx, own));
    return out;
}

std::optional<QuorumCert> MixedQc::assemble(sim::Context& ctx, const proto::Statement& s,
                                            const proto::SignedVote& odd,
                                            std::uint32_t quorum) const {
    // Signatures over s, by signer: the votes it holds and its own; the odd signer's aside.
    std::map<std::uint32_t, sim::Signature> on_s;
    for (const proto::SignedVote& v : pool_)
        if (v.stmt == s) on_s.insert_or_assign(v.signer.v, v.sig);
    on_s.insert_or_assign(ctx.self().v, ctx.sign(s.digest()));
    on_s.erase(odd.signer.v);
    if (quorum == 0 || on_s.size() + 1 < quorum) return std::nullopt;
    std::map<std::uint32_t, sim::Signature> chosen{{odd.signer.v, odd.sig}};
    for (const auto& [signer, sig] : on_s)
        if (chosen.size() < quorum) chosen.emplace(signer, sig);
    QuorumCert out;
    out.stmt = s;
    out.signers.assign((ctx.replica_count() + 63) / 64, 0);
    std::vector<sim::Signature> sigs;
    for (const auto& [signer, sig] : chosen) {
        out.signers[signer / 64] |= 1ULL << (signer % 64);
        sigs.push_back(sig);
    }
    if (auto agg = ctx.aggregate(sigs)) {
        out.sigs = {*agg};
        out.aggregated = true;
    } else {
        out.sigs = std::move(sigs);
    }
    return out;
}

std::optional<QuorumCert> MixedQc::craft(sim::Context& ctx, const QuorumCert& qc, Mix mix,
                                         std::uint64_t block_view, std::uint32_t quorum) const {
    if (mix == Mix::RelabelBlock || mix == Mix::RelabelView) {
        QuorumCert out = qc;
        if (mix == Mix::RelabelBlock) out.stmt.value = other_block(qc.stmt.value);
        if (mix == Mix::RelabelView) out.stmt.view = other_view(qc.stmt.view, block_view);
        return out;
    }
    for (const proto::SignedVote& odd : odd_votes(ctx, qc.stmt, mix, block_view))
        if (auto out = assemble(ctx, qc.stmt, odd, quorum)) return out;
    return std::nullopt;
}

sim::PayloadRef MixedQc::rewrite(sim::Context& ctx, const Proposal& m,
                                 const sim::PayloadRef& original, std::uint32_t quorum) {
    if (!m.block || is_genesis_qc(m.block->justify) || p_.mixes.empty()) return original;
    const Block& honest = *m.block;
    auto [it, fresh] = crafted_.try_emplace(honest.view);
    if (fresh) {
        const Mix mix = p_.mixes[next_mix_++ % p_.mixes.size()];
        if (auto qc = craft(ctx, honest.justify, mix, honest.view, quorum)) {
            it->second = proposal_on(ctx, *qc, honest.view, honest.cmds, honest.proposer);
        } else if (ctx.tracing()) {
            ctx.trace(
                fmt::format("byzantine mixed_qc: too few votes for a QC in view {}", honest.view));
        }
    }
    const sim::PayloadRef out = it->second ? sim::PayloadRef(it->second) : original;
    if (crafted_.size() > 64) crafted_.erase(crafted_.begin());
    return out;
}

}  // namespace hotstuff
