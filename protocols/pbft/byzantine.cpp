#include "protocols/pbft/byzantine.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "protocols/common/behaviors.hpp"
#include "protocols/common/forwarding_context.hpp"
#include "protocols/common/params.hpp"
#include "sim/hash.hpp"

namespace pbft {

std::vector<std::string> behavior_names() {
    return {"silent",
            "crash",
            "equivocate",
            "collude",
            "conflicting_votes",
            "forge_sender",
            "drop",
            "delay",
            "replay",
            "lying_view_change",
            "null_new_view",
            "mutate",
            "preprepare",
            "stale_view_change",
            "bogus_checkpoint",
            "client_request",
            "wrong_reply",
            "far_future",
            "false_catch_up",
            "script",
            "censor"};
}

namespace {

// censor's "clients": distinct client ids (n and up), by default the first client.
std::vector<std::uint32_t> parse_censored(const sim::FaultSpec& f, const sim::ScenarioSpec& spec) {
    proto::Params p(f.params, f.path + "/params", {"clients"});
    if (!p.has("clients")) return {spec.nodes};
    const nlohmann::json& v = f.params.at("clients");
    if (!v.is_array() || v.empty())
        throw sim::ScenarioError(p.at("clients"), "expected a non-empty array of client ids");
    const std::uint64_t lo = spec.nodes, hi = spec.nodes + spec.workload.clients - 1;
    std::vector<std::uint32_t> out;
    for (std::size_t i = 0; i < v.size(); ++i) {
        const auto& e = v[i];
        const bool in_range = e.is_number_integer() && e.get<std::int64_t>() >= 0 &&
                              e.get<std::uint64_t>() >= lo && e.get<std::uint64_t>() <= hi;
        if (!in_range || std::find(out.begin(), out.end(), e.get<std::uint32_t>()) != out.end())
            throw sim::ScenarioError(
                fmt::format("{}/{}", p.at("clients"), i),
                fmt::format("expected a distinct client id from {} to {} (replicas are 0 to {})",
                            lo, hi, lo - 1));
        out.push_back(e.get<std::uint32_t>());
    }
    return out;
}

// The replicas that equivocate or collude: they share what they sign.
std::vector<std::uint32_t> coalition(const sim::ScenarioSpec& spec) {
    std::vector<std::uint32_t> c;
    for (const auto& g : spec.faults)
        if (g.type == sim::FaultSpec::Type::Byzantine &&
            (g.behavior == "equivocate" || g.behavior == "collude"))
            c.push_back(g.node);
    std::sort(c.begin(), c.end());
    c.erase(std::unique(c.begin(), c.end()), c.end());
    return c;
}

}  // namespace

Behavior parse_behavior(const sim::FaultSpec& f, const sim::ScenarioSpec& spec) {
    Behavior b;
    b.from = f.at;
    if (f.until) b.until = *f.until;
    using K = Behavior::Kind;
    const std::string params = f.path + "/params";
    b.kind = static_cast<K>(proto::behavior_index(f, behavior_names(), "PBFT"));
    switch (b.kind) {
        case K::Equivocate: {
            proto::Params p(f.params, params, {"collude", "splice"});
            b.collude = p.boolean("collude", false);
            b.splice = p.boolean("splice", false);
            b.colluders = coalition(spec);
            break;
        }
        case K::Collude:
            proto::Params(f.params, params, {});
            b.colluders = coalition(spec);
            break;
        case K::ForgeSender: {
            proto::Params p(f.params, params, {"victim"});
            b.victim = static_cast<std::uint32_t>(
                p.uint("victim", (f.node + 1) % spec.nodes, 0, spec.nodes - 1));
            if (b.victim == f.node)
                throw sim::ScenarioError(p.at("victim"), "the victim must be another replica");
            break;
        }
        case K::Drop: {
            proto::Params p(f.params, params, {"targets"});
            b.targets = p.nodes("targets", spec.nodes + spec.workload.clients);
            break;
        }
        case K::Delay: {
            proto::Params p(f.params, params, {"targets", "delay"});
            b.targets = p.nodes("targets", spec.nodes + spec.workload.clients);
            b.delay = p.duration("delay", b.delay);
            break;
        }
        case K::Replay: {
            proto::Params p(f.params, params, {"probability"});
            b.replay_ppm =
                static_cast<std::uint32_t>(p.number("probability", 0.2, 0.0, 1.0) * 1e6 + 0.5);
            break;
        }
        case K::Mutate:
            b.mutate = proto::parse_mutate(f, spec);
            break;
        case K::Script:
            b.script = parse_script(f, spec);
            break;
        case K::Censor:
            b.censored = parse_censored(f, spec);
            break;
        default:
            if (crafted(b)) {
                parse_crafted(b, f, spec);
            } else {
                proto::Params(f.params, params, {});
            }
            break;
    }
    return b;
}

// The Context the honest replica sees: everything passes through to the engine except sends,
// which go through the strategies.
class ByzantineReplica::Outbox final : public proto::ForwardingContext {
public:
    Outbox(ByzantineReplica& owner, sim::Context& real) : ForwardingContext(real), o_(owner) {}

    void send(NodeId to, sim::PayloadRef msg) override { o_.emit(inner(), to, std::move(msg)); }
    void broadcast(sim::PayloadRef msg) override {
        for (std::uint32_t r = 0; r < replica_count(); ++r)
            if (r != self().v) o_.emit(inner(), NodeId(r), msg);
    }

private:
    ByzantineReplica& o_;
};

ByzantineReplica::ByzantineReplica(std::unique_ptr<Replica> inner, std::vector<Behavior> b)
    : inner_(std::move(inner)), behaviors_(std::move(b)) {
    for (const Behavior& x : behaviors_) {
        if (x.kind == Behavior::Kind::Mutate && !mutator_)
            mutator_ = std::make_unique<proto::Mutator>(x.mutate, craft_);
        if (crafted(x) && !crafter_) crafter_ = std::make_unique<Crafter>();
        if (x.kind == Behavior::Kind::Script && !script_)
            script_ = std::make_unique<PrimaryScript>(x.script);
        // Only stale_view_change needs what the replica saw (checkpoint proofs, certificates).
        // and false_catch_up, what each asker last said it executed.
        observing_ |=
            x.kind == Behavior::Kind::StaleViewChange || x.kind == Behavior::Kind::FalseCatchUp;
    }
}

ByzantineReplica::~ByzantineReplica() = default;

bool ByzantineReplica::crashed(sim::SimTime now) const {
    return std::any_of(behaviors_.begin(), behaviors_.end(), [&](const Behavior& b) {
        return b.kind == Behavior::Kind::Crash && b.active(now);
    });
}

void ByzantineReplica::on_start(sim::Context& ctx) {
    Outbox out(*this, ctx);
    inner_->on_start(out);
    arm_ticks(ctx);
}

void ByzantineReplica::on_recover(sim::Context& ctx) {
    Outbox out(*this, ctx);
    inner_->on_recover(out);
    arm_ticks(ctx);
}

void ByzantineReplica::on_restart(sim::Context& ctx) {
    Outbox out(*this, ctx);
    inner_->on_restart(out);
    arm_ticks(ctx);
}

void ByzantineReplica::arm_ticks(sim::Context& ctx) {
    const sim::SimTime now = ctx.now();
    for (const Behavior& b : behaviors_)
        if (b.kind == Behavior::Kind::Crash && b.until != sim::SimTime::max() && b.until > now)
            ctx.set_timer(b.until - now, kRecoverTimer);
    for (std::size_t i = 0; i < behaviors_.size(); ++i) {
        const Behavior& b = behaviors_[i];
        if (!periodic(b) || b.until <= now) continue;
        const sim::SimTime first = std::max(b.from - now, tick_period(b));
        ctx.set_timer(first, kTickTimer | i);
    }
}

// A periodic behaviour's messages go straight out, past the other behaviours.
void ByzantineReplica::on_tick(sim::Context& ctx, std::size_t index) {
    const Behavior& b = behaviors_[index];
    const sim::SimTime now = ctx.now();
    if (b.active(now) && !crashed(now)) crafter_->tick(ctx, *inner_, b);
    const sim::SimTime period = tick_period(b);
    if (b.until - now > period) ctx.set_timer(period, kTickTimer | index);
}

void ByzantineReplica::on_message(sim::Context& ctx, NodeId from, const sim::Payload& msg) {
    if (crashed(ctx.now())) return;
    if (mutator_) mutator_->observe(from, sim::PayloadRef(&msg), ctx.self());
    if (observing_) crafter_->observe(ctx, *inner_, msg);
    for (const Behavior& b : behaviors_)
        if (b.kind == Behavior::Kind::Equivocate && b.splice && b.active(ctx.now()))
            splice_votes(ctx, b, msg);
    if (censors(ctx.now(), msg)) return;
    Outbox out(*this, ctx);
    inner_->on_message(out, from, msg);
}

// censor: the censored clients' requests never reach the replica.
bool ByzantineReplica::censors(sim::SimTime now, const sim::Payload& msg) const {
    if (!proto::is_client_message(msg)) return false;
    const auto* req =
        std::get_if<proto::Request>(&static_cast<const proto::ClientMessage&>(msg).body);
    if (!req) return false;
    return std::any_of(behaviors_.begin(), behaviors_.end(), [&](const Behavior& b) {
        return b.kind == Behavior::Kind::Censor && b.active(now) &&
               std::find(b.censored.begin(), b.censored.end(), req->client.v) != b.censored.end();
    });
}

void ByzantineReplica::on_timer(sim::Context& ctx, std::uint64_t tag) {
    if (tag == kRecoverTimer) {
        if (crashed(ctx.now())) return;  // another crash window still runs
        Outbox out(*this, ctx);
        inner_->on_recover(out);
        return;
    }
    if ((tag & kTickTimer) && !(tag & kOwnTimer)) return on_tick(ctx, tag & ~kTickTimer);
    if (tag & kOwnTimer) {
        auto it = delayed_.find(tag & ~kOwnTimer);
        if (it == delayed_.end()) return;
        ctx.send(NodeId(it->second.first), std::move(it->second.second));
        delayed_.erase(it);
        return;
    }
    if (crashed(ctx.now())) return;
    Outbox out(*this, ctx);
    inner_->on_timer(out, tag);
}

// The honest replicas outside the coalition, second half: they get the conflicting view.
std::vector<std::uint32_t> ByzantineReplica::split_b(sim::Context& ctx, const Behavior& b) const {
    std::vector<std::uint32_t> honest;
    for (std::uint32_t r = 0; r < ctx.replica_count(); ++r)
        if (std::find(b.colluders.begin(), b.colluders.end(), r) == b.colluders.end())
            honest.push_back(r);
    return {honest.begin() + static_cast<std::ptrdiff_t>((honest.size() + 1) / 2), honest.end()};
}

// The NEW-VIEW with every O entry replaced by the null request, then a COMMIT for each, so the
// backups that accept it (without recomputing O) can commit the nulls.
const std::vector<MessageRef>& ByzantineReplica::null_new_view(sim::Context& ctx,
                                                               const NewView& nv) {
    auto& out = null_new_view_[nv.v.v];
    if (!out.empty()) return out;
    NewView lie{nv.v, nv.V, {}};
    std::vector<MessageRef> commits;
    for (const auto& om : nv.O) {
        const Seq n = as<PrePrepare>(*om)->n;
        lie.O.push_back(make_message(ctx, PrePrepare{nv.v, n, null_digest(), {}}));
        commits.push_back(make_message(ctx, Commit{nv.v, n, null_digest()}));
    }
    out.push_back(make_message(ctx, std::move(lie)));
    out.insert(out.end(), commits.begin(), commits.end());
    return out;
}

MessageRef ByzantineReplica::rewrite_digest(sim::Context& ctx, const Message& m, Digest d) {
    if (const auto* p = as<Prepare>(m)) return make_message(ctx, Prepare{p->v, p->n, d});
    const auto* c = as<Commit>(m);
    return make_message(ctx, Commit{c->v, c->n, d});
}

namespace {
// What a forger claims the victim said: its own message, with votes for an altered digest.
Body forged_body(const Message& m) {
    if (const auto* p = as<Prepare>(m)) return Prepare{p->v, p->n, Digest(p->d.v ^ 0xf0f0)};
    if (const auto* c = as<Commit>(m)) return Commit{c->v, c->n, Digest(c->d.v ^ 0xf0f0)};
    return m.body;
}
}  // namespace

// equivocate and collude: the conflicting PRE-PREPARE, PREPAREs and COMMITs for the second half.
sim::PayloadRef ByzantineReplica::conflict(sim::Context& ctx, const Behavior& b, NodeId to,
                                           sim::PayloadRef msg) {
    using K = Behavior::Kind;
    const Message* m =
        proto::is_client_message(*msg) ? nullptr : static_cast<const Message*>(msg.get());
    const auto group_b = split_b(ctx, b);
    if (!m || std::find(group_b.begin(), group_b.end(), to.v) == group_b.end()) return msg;
    if (const auto* pp = as<PrePrepare>(*m); pp && b.kind == K::Equivocate) {
        if (pp->d == null_digest()) return msg;
        auto& alt = conflicting_[{pp->v.v, pp->n.v}];
        if (!alt) alt = make_message(ctx, PrePrepare{pp->v, pp->n, null_digest(), {}});
        return alt;
    }
    if ((as<Commit>(*m) && (b.collude || b.kind == K::Collude)) ||
        (as<Prepare>(*m) && b.kind == K::Collude))
        return rewrite_digest(ctx, *m, null_digest());
    return msg;
}

// equivocate with splice: a vote of the first half for (v, n), where the second half got the
// conflicting PRE-PREPARE, goes on to the second half for that one's digest under its author's
// signature. Votes are spliced once per receipt, so this sends no more than it receives.
void ByzantineReplica::splice_votes(sim::Context& ctx, const Behavior& b, const sim::Payload& msg) {
    if (proto::is_client_message(msg)) return;
    const auto& m = static_cast<const Message&>(msg);
    const auto* p = as<Prepare>(m);
    const auto* c = as<Commit>(m);
    if (!p && !c) return;
    const View v = p ? p->v : c->v;
    const Seq n = p ? p->n : c->n;
    const auto it = conflicting_.find({v.v, n.v});
    if (it == conflicting_.end()) return;
    const Digest alt = as<PrePrepare>(*it->second)->d;
    if ((p ? p->d : c->d) == alt) return;
    const auto group_b = split_b(ctx, b);
    if (std::find(group_b.begin(), group_b.end(), m.signer.v) != group_b.end()) return;
    const MessageRef out =
        p ? make_spliced(Prepare{v, n, alt}, m) : make_spliced(Commit{v, n, alt}, m);
    for (const std::uint32_t to : group_b) ctx.send(NodeId(to), out);
}

// conflicting_votes: votes for a digest never received, replies with a bogus result.
sim::PayloadRef ByzantineReplica::conflicting_vote(sim::Context& ctx, sim::PayloadRef msg) {
    if (!proto::is_client_message(*msg)) {
        const auto& m = static_cast<const Message&>(*msg);
        if (as<Prepare>(m) || as<Commit>(m))
            return rewrite_digest(ctx, m, Digest(sim::mix64(m.digest.v ^ 0xbad)));
        return msg;
    }
    const auto& cm = static_cast<const proto::ClientMessage&>(*msg);
    if (const auto* r = std::get_if<proto::Reply>(&cm.body)) {
        proto::Reply lie = *r;
        lie.result = Digest(sim::mix64(r->result.v ^ 0xbad));
        return proto::make_reply(ctx, lie);
    }
    return msg;
}

// replay: now and then an old message again; the buffer keeps 256, replaced at random.
void ByzantineReplica::replay(sim::Context& ctx, const Behavior& b, NodeId to,
                              const sim::PayloadRef& msg) {
    if (!sent_.empty() && ctx.rng().chance_ppm(b.replay_ppm)) {
        const auto& old = sent_[ctx.rng().uniform(0, sent_.size() - 1)];
        ctx.send(to, old.second);
    }
    if (sent_.size() < 256) {
        sent_.emplace_back(to.v, msg);
    } else {
        sent_[ctx.rng().uniform(0, 255)] = {to.v, msg};
    }
}

// One behaviour on one outgoing message: false when it took the message (nothing more to send).
bool ByzantineReplica::apply(sim::Context& ctx, const Behavior& b, NodeId& to,
                             sim::PayloadRef& msg) {
    using K = Behavior::Kind;
    const Message* m =
        proto::is_client_message(*msg) ? nullptr : static_cast<const Message*>(msg.get());
    const bool targeted =
        b.targets.empty() || std::find(b.targets.begin(), b.targets.end(), to.v) != b.targets.end();
    switch (b.kind) {
        case K::Silent:
        case K::Crash:
            return false;
        case K::Drop:
            return !targeted;
        case K::Delay:
            if (!targeted) return true;
            delayed_.emplace(next_delayed_, std::make_pair(to.v, msg));
            ctx.set_timer(b.delay, kOwnTimer | next_delayed_++);
            return false;
        case K::Equivocate:
        case K::Collude:
            msg = conflict(ctx, b, to, std::move(msg));
            return true;
        case K::ConflictingVotes:
            msg = conflicting_vote(ctx, std::move(msg));
            return true;
        case K::ForgeSender:
            if (m && !as<NewView>(*m) && !as<ViewChange>(*m))
                ctx.send(to, make_forged(ctx, forged_body(*m), NodeId(b.victim)));
            return true;
        case K::Replay:
            replay(ctx, b, to, msg);
            return true;
        case K::LyingViewChange:
            if (const auto* vc = m ? as<ViewChange>(*m) : nullptr; vc && !vc->P.empty()) {
                ViewChange lie = *vc;
                lie.P.clear();
                msg = make_message(ctx, std::move(lie));
            }
            return true;
        case K::Mutate: {
            auto [where, what] = mutator_->mutate(ctx, to, std::move(msg));
            to = where;
            msg = std::move(what);
            return true;
        }
        case K::NullNewView:
            if (const auto* nv = m ? as<NewView>(*m) : nullptr; nv && !nv->O.empty()) {
                for (const auto& out : null_new_view(ctx, *nv)) ctx.send(to, out);
                return false;
            }
            return true;
        case K::Script:
            if (const auto* pp = m ? as<PrePrepare>(*m) : nullptr) {
                msg = script_->rewrite(ctx, *pp, msg, to);
                return static_cast<bool>(msg);
            }
            return true;
        case K::Censor:  // acts on what the replica receives (censors())
            return true;
        default:
            return crafter_->apply(ctx, *inner_, b, to, msg);
    }
}

void ByzantineReplica::emit(sim::Context& ctx, NodeId to, sim::PayloadRef msg) {
    const sim::SimTime now = ctx.now();
    if (observing_) crafter_->observe(ctx, *inner_, *msg);
    for (const Behavior& b : behaviors_)
        if (b.active(now) && !apply(ctx, b, to, msg)) return;
    ctx.send(to, std::move(msg));
}

}  // namespace pbft
