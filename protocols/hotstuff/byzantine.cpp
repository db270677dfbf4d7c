#include "protocols/hotstuff/byzantine.hpp"

#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "protocols/common/behaviors.hpp"
#include "protocols/common/forwarding_context.hpp"
#include "protocols/common/params.hpp"
#include "protocols/hotstuff/craft.hpp"
#include "sim/hash.hpp"

namespace hotstuff {

std::vector<std::string> behavior_names() {
    return {"silent",      "silent_leader", "equivocate",    "double_vote", "withhold_votes",
            "fork_old_qc", "forged_qc",     "undersized_qc", "twins",       "mutate",
            "script",      "far_future",    "mixed_qc"};
}

Behavior parse_behavior(const sim::FaultSpec& f, const sim::ScenarioSpec& spec) {
    Behavior b;
    b.from = f.at;
    if (f.until) b.until = *f.until;
    b.kind = static_cast<Behavior::Kind>(proto::behavior_index(f, behavior_names(), "HotStuff"));
    const std::string path = f.path + "/params";
    if (b.kind == Behavior::Kind::WithholdVotes) {
        proto::Params p(f.params, path, {"targets"});
        b.targets = p.nodes("targets", spec.nodes);
    } else if (b.kind == Behavior::Kind::SilentLeader) {
        proto::Params p(f.params, path, {"to"});
        b.targets = p.nodes("to", spec.nodes);
    } else if (b.kind == Behavior::Kind::Twins) {
        proto::Params p(f.params, path, {"a", "b", "views"});
        b.a = p.nodes("a", spec.nodes);
        b.b = p.nodes("b", spec.nodes);
        if (p.has("views")) {
            const auto& list = f.params.at("views");
            if (!list.is_array())
                throw sim::ScenarioError(p.at("views"), "expected an array of {view, a, b}");
            for (std::size_t i = 0; i < list.size(); ++i) {
                const std::string at = fmt::format("{}/{}", p.at("views"), i);
                proto::Params q(list[i], at, {"view", "a", "b"});
                Behavior::Phase ph{q.uint("view", 0, 0, 1ULL << 40), q.nodes("a", spec.nodes),
                                   q.nodes("b", spec.nodes)};
                if (!b.phases.empty() && ph.view <= b.phases.back().view)
                    throw sim::ScenarioError(at + "/view", "views must increase");
                b.phases.push_back(std::move(ph));
            }
        }
        if (b.a.empty() && b.b.empty()) {
            // By default the twins split the other replicas in two halves.
            for (std::uint32_t r = 0, k = 0; r < spec.nodes; ++r)
                if (r != f.node) (k++ % 2 == 0 ? b.a : b.b).push_back(r);
        }
    } else if (b.kind == Behavior::Kind::Mutate) {
        b.mutate = proto::parse_mutate(f, spec);
    } else if (b.kind == Behavior::Kind::Script) {
        b.script = parse_script(f, spec);
    } else if (b.kind == Behavior::Kind::FarFuture) {
        b.far = parse_far_future(f);
    } else if (b.kind == Behavior::Kind::MixedQc) {
        b.mixed = parse_mixed_qc(f);
    } else if (b.kind == Behavior::Kind::ForkOldQc) {
        proto::Params p(f.params, path, {"newest"});
        b.fork_newest = p.boolean("newest", false);
    } else {
        proto::Params(f.params, path, {});
    }
    return b;
}

namespace {

using K = Behavior::Kind;

bool contains(const std::vector<std::uint32_t>& v, std::uint32_t x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

BlockRef rebuild(const Block& like, Digest parent, std::uint64_t height, QuorumCert justify,
                 std::vector<ClientMessageRef> cmds) {
    auto [ref, b] = sim::make_payload<Block>();
    b->parent = parent;
    b->height = height;
    b->view = like.view;
    b->justify = std::move(justify);
    b->cmds = std::move(cmds);
    b->proposer = like.proposer;
    b->digest = block_hash(*b);
    b->size_bytes = like.size_bytes;
    return ref;
}

class ByzantineReplica final : public sim::Actor {
public:
    ByzantineReplica(const Config& cfg, std::vector<Behavior> behaviors)
        : behaviors_(std::move(behaviors)) {
        inner_[0] = std::make_unique<Replica>(cfg);
        far_.resize(behaviors_.size());
        for (std::size_t i = 0; i < behaviors_.size(); ++i) {
            const Behavior& b = behaviors_[i];
            if (b.kind == K::Twins) twins_ = &b;
            if (b.kind == K::Mutate && !mutator_)
                mutator_ = std::make_unique<proto::Mutator>(b.mutate, craft_);
            if (b.kind == K::Script && !script_) script_ = std::make_unique<LeaderScript>(b.script);
            if (b.kind == K::FarFuture) far_[i] = std::make_unique<FarFuture>(b.far);
            if (b.kind == K::MixedQc && !mixed_) mixed_ = std::make_unique<MixedQc>(b.mixed);
        }
        if (twins_) inner_[1] = std::make_unique<Replica>(cfg);
    }

    void on_start(sim::Context& ctx) override {
        for (int t = 0; t < twin_count(); ++t) {
            Outbox out(*this, ctx, t);
            inner_[t]->on_start(out);
        }
        arm_ticks(ctx);
    }
    void on_recover(sim::Context& ctx) override {
        for (int t = 0; t < twin_count(); ++t) {
            Outbox out(*this, ctx, t);
            inner_[t]->on_recover(out);
        }
        arm_ticks(ctx);  // timers die with a crash
    }
    void on_message(sim::Context& ctx, NodeId from, const sim::Payload& msg) override {
        remember(ctx, msg);
        if (mutator_) mutator_->observe(from, sim::PayloadRef(&msg), ctx.self());
        if (serve_crafted(ctx, from, msg)) return;
        for (int t = 0; t < twin_count(); ++t) {
            if (!hears(t, from, ctx)) continue;
            Outbox out(*this, ctx, t);
            inner_[t]->on_message(out, from, msg);
        }
    }
    void on_timer(sim::Context& ctx, std::uint64_t tag) override {
        if (tag & kTickBit) return on_tick(ctx, static_cast<std::size_t>(tag & ~kTickBit));
        const int t = (tag & kTwinBit) ? 1 : 0;
        Outbox out(*this, ctx, t);
        inner_[t]->on_timer(out, tag & ~kTwinBit);
    }

private:
    static constexpr std::uint64_t kTwinBit = 1ULL << 62;
    static constexpr std::uint64_t kTickBit = 1ULL << 61;  // a periodic behaviour's, by index

    class Outbox final : public proto::ForwardingContext {
    public:
        Outbox(ByzantineReplica& o, sim::Context& c, int twin)
            : ForwardingContext(c), o_(o), twin_(twin) {}
        void send(NodeId to, sim::PayloadRef msg) override { o_.emit(inner(), twin_, to, msg); }
        void broadcast(sim::PayloadRef msg) override {
            for (std::uint32_t r = 0; r < replica_count(); ++r)
                if (r != self().v) o_.emit(inner(), twin_, NodeId(r), msg);
        }
        sim::TimerId set_timer(sim::SimTime after, std::uint64_t tag) override {
            return inner().set_timer(after, twin_ == 1 ? tag | kTwinBit : tag);
        }

    private:
        ByzantineReplica& o_;
        int twin_;
    };

    int twin_count() const { return twins_ ? 2 : 1; }
    // The replicas twin `t` talks to in the view it is in now.
    const std::vector<std::uint32_t>& side(int t) const {
        const std::uint64_t view = inner_[t]->view();
        const Behavior::Phase* current = nullptr;
        for (const auto& ph : twins_->phases)
            if (ph.view <= view) current = &ph;
        if (current) return t == 0 ? current->a : current->b;
        return t == 0 ? twins_->a : twins_->b;
    }
    bool hears(int twin, NodeId from, sim::Context& ctx) const {
        if (!twins_ || !twins_->active(ctx.now()) || from.v >= ctx.replica_count()) return true;
        return contains(side(twin), from.v);
    }

    void arm_ticks(sim::Context& ctx) {
        const sim::SimTime now = ctx.now();
        for (std::size_t i = 0; i < behaviors_.size(); ++i) {
            const Behavior& b = behaviors_[i];
            if (!far_[i] || b.until <= now) continue;
            ctx.set_timer(std::max(b.from - now, b.far.every), kTickBit | i);
        }
    }
    // A periodic behaviour's messages go straight out, past the other behaviours.
    void on_tick(sim::Context& ctx, std::size_t i) {
        const Behavior& b = behaviors_[i];
        const sim::SimTime now = ctx.now();
        if (b.active(now))
            far_[i]->tick(ctx, inner_[0]->config(), inner_[0]->view(), inner_[0]->high_qc());
        if (b.until - now > b.far.every) ctx.set_timer(b.far.every, kTickBit | i);
    }

    // A FETCH for a block the script proposed in place of the honest one: the honest core
    // never held it, so the behaviour answers (to itself too, when it builds on it next).
    bool serve_crafted(sim::Context& ctx, NodeId from, const sim::Payload& msg) {
        if (!script_ || proto::is_client_message(msg)) return false;
        const auto* f = as<Fetch>(static_cast<const Message&>(msg));
        const BlockRef b = f ? script_->crafted(f->hash) : BlockRef();
        if (!b) return false;
        ctx.send(from, make_message(ctx, BlockReply{b}));
        return true;
    }

    // Keeps recent blocks seen, so fork_old_qc can build on an older QC.
    void remember(sim::Context& ctx, const sim::Payload& msg) {
        if (proto::is_client_message(msg)) return;
        const auto& m = static_cast<const Message&>(msg);
        if (script_) script_->observe(m);
        if (mixed_ && (as<Vote>(m) || as<NewView>(m))) mixed_->observe(ctx, m);
        if (const auto* p = as<Proposal>(m)) {
            recent_[p->block->view % kRecent] = p->block;
        } else if (const auto* v = as<Vote>(m)) {
            // Votes received, for undersized_qc to form a validly signed QC from fewer of them.
            auto& votes = votes_[v->vote.stmt.view % kRecent];
            if (!votes.empty() && votes.front().stmt.view != v->vote.stmt.view) votes.clear();
            votes.push_back(v->vote);
        }
    }

    void emit(sim::Context& ctx, int twin, NodeId to, sim::PayloadRef msg) {
        const sim::SimTime now = ctx.now();
        if (twins_ && twins_->active(now) && to.v < ctx.replica_count() &&
            !contains(side(twin), to.v))
            return;
        const Message* m =
            proto::is_client_message(*msg) ? nullptr : static_cast<const Message*>(msg.get());
        for (const Behavior& b : behaviors_) {
            if (!b.active(now) || !m) continue;
            const Proposal* prop = as<Proposal>(*m);
            const Vote* vote = as<Vote>(*m);
            switch (b.kind) {
                case K::Silent:
                    return;
                case K::SilentLeader:
                    if (prop && !contains(b.targets, to.v)) return;
                    break;
                case K::WithholdVotes:
                    if (vote && (b.targets.empty() || contains(b.targets, to.v))) return;
                    break;
                case K::DoubleVote:
                    if (vote) {
                        proto::Statement other = vote->vote.stmt;
                        other.value = Digest(sim::mix64(other.value.v ^ 0xd0b1e));
                        if (ctx.tracing())
                            ctx.trace(fmt::format("byzantine equivocation: two votes in view {}",
                                                  other.view));
                        ctx.send(to, make_message(
                                         ctx, Vote{proto::sign_vote(ctx, other), vote->proposal}));
                    }
                    break;
                case K::Equivocate:
                    if (prop && to.v % 2 == 1 && !prop->block->cmds.empty())
                        msg = conflicting(ctx, *prop->block);
                    break;
                case K::ForkOldQc:
                    if (prop) msg = on_old_qc(ctx, *prop->block, msg, b.fork_newest);
                    break;
                case K::ForgedQc:
                case K::UndersizedQc:
                    if (prop && !prop->block->justify.signers.empty())
                        msg = bad_qc(ctx, *prop->block, b.kind == K::ForgedQc);
                    break;
                case K::Script:
                    if (vote && script_->replaced(*vote)) msg = script_->vote_instead(ctx, *vote);
                    if (prop) msg = script_->rewrite(ctx, *prop, msg, to);
                    if (!msg) return;
                    break;
                case K::MixedQc:
                    if (prop)
                        msg = mixed_->rewrite(ctx, *prop, msg, inner_[0]->config().votes_needed());
                    break;
                case K::Mutate: {
                    auto [where, what] = mutator_->mutate(ctx, to, std::move(msg));
                    to = where;
                    msg = std::move(what);
                    break;
                }
                case K::Twins:
                case K::FarFuture:  // periodic: sends its own messages, rewrites none
                    break;
            }
            m = static_cast<const Message*>(msg.get());
        }
        ctx.send(to, std::move(msg));
    }

    MessageRef propose(sim::Context& ctx, const BlockRef& b) {
        return make_message(ctx, Proposal{b, proto::sign_vote(ctx, proposal_statement(*b))});
    }

    // The same view and parent, other commands: a second block for this view.
    MessageRef conflicting(sim::Context& ctx, const Block& b) {
        auto& alt = equivocations_[b.view % kRecent];
        if (!alt || as<Proposal>(*alt)->block->view != b.view) {
            if (ctx.tracing())
                ctx.trace(fmt::format("byzantine equivocation: two proposals in view {}", b.view));
            std::vector<ClientMessageRef> cmds(b.cmds.begin(), b.cmds.end() - 1);
            alt = propose(ctx, rebuild(b, b.parent, b.height, b.justify, std::move(cmds)));
        }
        return alt;
    }

    sim::PayloadRef on_old_qc(sim::Context& ctx, const Block& b, sim::PayloadRef original,
                              bool newest) {
        // The oldest (or newest) remembered block at least two views behind this block's
        // justify; the fork is its sibling, on the same parent and QC.
        BlockRef old;
        for (const auto& r : recent_) {
            if (!r || r->view + 2 > b.justify.stmt.view) continue;
            if (!old || (newest ? r->view > old->view : r->view < old->view)) old = r;
        }
        if (!old) return original;
        auto& alt = forks_[b.view % kRecent];
        if (!alt || as<Proposal>(*alt)->block->view != b.view)
            alt = propose(ctx,
                          rebuild(b, old->justify.stmt.value, old->height, old->justify, b.cmds));
        return sim::PayloadRef(alt);
    }

    MessageRef bad_qc(sim::Context& ctx, const Block& b, bool forge) {
        QuorumCert qc = b.justify;
        if (forge) {
            sim::Signature::Bytes bytes = qc.sigs[0].bytes();
            bytes[0] ^= 0x5a;
            qc.sigs[0] = sim::Signature(bytes);
        } else if (auto small = fewer_signers(ctx, qc)) {
            qc = *small;
        } else {
            for (auto& w : qc.signers)
                if (w) {
                    w &= w - 1;  // drop the lowest signer
                    break;
                }
        }
        return propose(ctx, rebuild(b, b.parent, b.height, std::move(qc), b.cmds));
    }

    // A validly signed QC for qc's statement with one signer fewer, from the votes received.
    std::optional<QuorumCert> fewer_signers(sim::Context& ctx, const QuorumCert& qc) const {
        const std::uint32_t want = qc.signer_count() - 1;
        proto::QcBuilder builder(qc.stmt, want);
        for (const auto& v : votes_[qc.stmt.view % kRecent])
            if (builder.size() < want) builder.add(ctx, v);  // checks statement and signature
        if (want == 0 || !builder.complete()) return std::nullopt;
        return builder.build(ctx);
    }

    static constexpr std::size_t kRecent = 16;
    std::unique_ptr<Replica> inner_[2];
    std::vector<Behavior> behaviors_;
    const Behavior* twins_ = nullptr;
    Craft craft_;
    std::unique_ptr<proto::Mutator> mutator_;      // with a mutate behaviour
    std::unique_ptr<LeaderScript> script_;         // with a script behaviour
    std::vector<std::unique_ptr<FarFuture>> far_;  // by behaviour index, for far_future ones
    std::unique_ptr<MixedQc> mixed_;               // with a mixed_qc behaviour
    BlockRef recent_[kRecent];
    MessageRef equivocations_[kRecent];
    MessageRef forks_[kRecent];
    std::vector<proto::SignedVote> votes_[kRecent];  // by view
};

}  // namespace

std::unique_ptr<sim::Actor> make_byzantine(const Config& cfg, std::vector<Behavior> behaviors) {
    return std::make_unique<ByzantineReplica>(cfg, std::move(behaviors));
}

}  // namespace hotstuff
