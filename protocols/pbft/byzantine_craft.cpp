#include "protocols/pbft/byzantine_craft.hpp"

#include <algorithm>
#include <string>

#include <fmt/format.h>

#include "protocols/common/params.hpp"
#include "protocols/pbft/byzantine.hpp"
#include "protocols/pbft/craft.hpp"
#include "sim/hash.hpp"

namespace pbft {

namespace {

using K = Behavior::Kind;

sim::SimTime read_every(const proto::Params& p, sim::SimTime def) {
    const sim::SimTime t = p.duration("every", def);
    if (t < sim::milliseconds(1) || t > sim::seconds(3600))
        throw sim::ScenarioError(p.at("every"), "expected a duration between 1ms and 1h");
    return t;
}

// "client": "self" (its own replica id) or a node index below replicas + clients.
std::optional<std::uint32_t> read_client(const proto::Params& p, const nlohmann::json& params,
                                         std::uint32_t nodes) {
    if (!p.has("client") || params.at("client") == "self") return std::nullopt;
    const auto& v = params.at("client");
    if (!v.is_number_integer() || v.get<std::int64_t>() < 0 || v.get<std::uint64_t>() >= nodes)
        throw sim::ScenarioError(p.at("client"),
                                 fmt::format("expected \"self\" or a node index below {}", nodes));
    return v.get<std::uint32_t>();
}

}  // namespace

bool crafted(const Behavior& b) {
    return b.kind >= K::PrePrepare && b.kind <= K::FalseCatchUp;
}

bool periodic(const Behavior& b) {
    return b.kind == K::StaleViewChange || b.kind == K::BogusCheckpoint ||
           b.kind == K::ClientRequest || b.kind == K::FarFuture;
}

sim::SimTime tick_period(const Behavior& b) {
    return b.kind == K::FarFuture ? sim::milliseconds(10) : b.every;
}

void parse_crafted(Behavior& b, const sim::FaultSpec& f, const sim::ScenarioSpec& spec) {
    const std::string path = f.path + "/params";
    switch (b.kind) {
        case K::PrePrepare: {
            proto::Params p(f.params, path, {"seq_offset", "digest", "to", "twice"});
            b.seq_offset = p.uint("seq_offset", 1, 0, 1'000'000'000);
            const std::string d = p.string("digest", "batch", {"batch", "other", "null"});
            using D = Behavior::PpDigest;
            b.pp_digest = d == "other" ? D::Other : d == "null" ? D::Null : D::Batch;
            b.targets = p.nodes("to", spec.nodes);
            b.twice = p.boolean("twice", false);
            break;
        }
        case K::StaleViewChange: {
            proto::Params p(f.params, path, {"every", "prepared"});
            b.every = read_every(p, sim::milliseconds(500));
            const std::string s = p.string("prepared", "none", {"none", "stale", "forged"});
            using P = Behavior::Prepared;
            b.prepared = s == "stale" ? P::Stale : s == "forged" ? P::Forged : P::None;
            break;
        }
        case K::BogusCheckpoint: {
            proto::Params p(f.params, path, {"every", "count"});
            b.every = read_every(p, sim::milliseconds(100));
            b.count = static_cast<std::uint32_t>(p.uint("count", 4, 1, 1000));
            break;
        }
        case K::ClientRequest: {
            proto::Params p(f.params, path, {"every", "client"});
            b.every = read_every(p, sim::milliseconds(200));
            b.client = read_client(p, f.params, spec.nodes + spec.workload.clients);
            break;
        }
        case K::WrongReply: {
            proto::Params p(f.params, path, {"probability"});
            b.lie_ppm =
                static_cast<std::uint32_t>(p.number("probability", 1.0, 0.0, 1.0) * 1e6 + 0.5);
            break;
        }
        case K::FalseCatchUp:
            proto::Params(f.params, path, {});
            break;
        case K::FarFuture: {
            proto::Params p(f.params, path, {"views_ahead", "rate"});
            b.views_ahead = p.uint("views_ahead", 1000, 1, 1'000'000);
            b.rate = static_cast<std::uint32_t>(p.uint("rate", 200, 1, 100'000));
            break;
        }
        default:
            break;
    }
}

// --- what the adversary saw ---

void Observed::see(sim::Context& ctx, const Replica& inner, const Message& m) {
    if (m.kind != kPrePrepare && m.kind != kPrepare && m.kind != kCheckpoint) return;
    if (!pbft::authentic(ctx, m)) return;
    const MessageRef ref(&m);
    if (m.kind == kCheckpoint) return see_checkpoint(inner, ref);
    const proto::Quorum& quorum = inner.config().quorum;
    Key key;
    if (const auto* pp = as<PrePrepare>(m)) {
        if (m.signer != quorum.primary(pp->v) || pp->d != batch_digest(pp->batch)) return;
        if (!pp->batch.empty()) request_ = pp->batch.back();
        key = {pp->n.v, pp->v.v};
        if (pp->n <= proof_.n || complete_.count(key)) return;
        PreparedCert& c = partial_[key];
        if (c.pre_prepare) return;
        c.pre_prepare = ref;
    } else {
        const Prepare& p = *as<Prepare>(m);
        key = {p.n.v, p.v.v};
        if (m.signer == quorum.primary(p.v) || p.n <= proof_.n || complete_.count(key)) return;
        PreparedCert& c = partial_[key];
        for (const auto& q : c.prepares)
            if (q->signer == m.signer) return;
        c.prepares.push_back(ref);
    }
    PreparedCert& c = partial_[key];
    if (c.pre_prepare) {
        const Digest d = as<PrePrepare>(*c.pre_prepare)->d;
        PreparedCert cert{c.pre_prepare, {}};
        for (const auto& p : c.prepares)
            if (as<Prepare>(*p)->d == d && cert.prepares.size() + 1 < quorum.q())
                cert.prepares.push_back(p);
        if (cert.prepares.size() + 1 >= quorum.q()) {
            complete_.emplace(key, std::move(cert));
            partial_.erase(key);
        }
    }
    prune();
}

void Observed::see_checkpoint(const Replica& inner, const MessageRef& m) {
    const Checkpoint& c = *as<Checkpoint>(*m);
    if (!consistent(c) || c.n <= proof_.n) return;
    auto& votes = checkpoints_[{c.n.v, c.state.v}];
    for (const auto& v : votes)
        if (v->signer == m->signer) return;
    votes.push_back(m);
    if (votes.size() >= inner.config().quorum.q()) proof_ = Proof{c.n, c.state, votes};
    prune();
}

void Observed::prune() {
    const Key above{proof_.n.v + 1, 0};
    partial_.erase(partial_.begin(), partial_.lower_bound(above));
    complete_.erase(complete_.begin(), complete_.lower_bound(above));
    checkpoints_.erase(checkpoints_.begin(), checkpoints_.lower_bound(above));
    while (partial_.size() > kCap) partial_.erase(partial_.begin());
    while (complete_.size() > kCap) complete_.erase(complete_.begin());
    while (checkpoints_.size() > kCap) checkpoints_.erase(checkpoints_.begin());
}

// Keys are (n, v) in order, so the first certificate of each number is its oldest view's.
std::vector<PreparedCert> Observed::oldest_certs(std::uint64_t window, View below) const {
    std::vector<PreparedCert> out;
    std::uint64_t last = 0;
    for (const auto& [key, cert] : complete_) {
        if (key.first > proof_.n.v + window || key.second >= below.v) continue;
        if (!out.empty() && key.first == last) continue;
        out.push_back(cert);
        last = key.first;
    }
    return out;
}

// --- the crafter ---

void Crafter::observe(sim::Context& ctx, const Replica& inner, const sim::Payload& m) {
    if (!proto::is_client_message(m)) {
        const auto& pm = static_cast<const Message&>(m);
        if (const auto* st = as<Status>(pm); st && pbft::authentic(ctx, pm))
            asker_n_[pm.signer.v] = st->n;  // one entry per replica
        return seen_.see(ctx, inner, pm);
    }
    const auto& cm = static_cast<const proto::ClientMessage&>(m);
    if (std::holds_alternative<proto::Request>(cm.body) && proto::authentic(ctx, cm))
        seen_.see_request(ClientMessageRef(&cm));
}

bool Crafter::apply(sim::Context& ctx, const Replica& inner, const Behavior& b, NodeId to,
                    sim::PayloadRef& msg) {
    const Message* m =
        proto::is_client_message(*msg) ? nullptr : static_cast<const Message*>(msg.get());
    const bool pre_prepare = m && as<PrePrepare>(*m);
    switch (b.kind) {
        case K::PrePrepare:
            if (!pre_prepare || (!b.targets.empty() && std::find(b.targets.begin(), b.targets.end(),
                                                                 to.v) == b.targets.end()))
                return true;
            for (const auto& out : pre_prepares(ctx, b, *m)) ctx.send(to, out);
            return false;
        case K::ClientRequest:
            if (pre_prepare)
                if (auto out = with_injected(ctx, *m)) msg = std::move(out);
            return true;
        case K::WrongReply:
            msg = wrong_reply(ctx, b, std::move(msg));
            return true;
        case K::FalseCatchUp:
            if (m && as<CatchUp>(*m)) msg = false_catch_up(ctx, inner, to, *m);
            return true;
        default:
            return true;  // the periodic behaviours add messages and rewrite none
    }
}

void Crafter::tick(sim::Context& ctx, const Replica& inner, const Behavior& b) {
    switch (b.kind) {
        case K::StaleViewChange:
            ctx.broadcast(view_change(ctx, inner, b));
            break;
        case K::BogusCheckpoint:
            bogus_checkpoints(ctx, inner, b);
            break;
        case K::ClientRequest:
            client_request(ctx, inner, b);
            break;
        case K::FarFuture:
            far_future(ctx, inner, b);
            break;
        default:
            break;
    }
}

// preprepare: what each recipient in "to" gets instead of the honest PRE-PREPARE, made once
// per honest (v, n) and shared by every recipient.
const std::vector<MessageRef>& Crafter::pre_prepares(sim::Context& ctx, const Behavior& b,
                                                     const Message& honest) {
    const PrePrepare& pp = *as<PrePrepare>(honest);
    const Key key{pp.v.v, pp.n.v};
    if (auto it = crafted_pp_.find(key); it != crafted_pp_.end()) return it->second;
    if (crafted_pp_.size() >= 64) crafted_pp_.erase(crafted_pp_.begin());
    PrePrepare out{pp.v, Seq(pp.n.v + b.seq_offset), pp.d, pp.batch};
    if (b.pp_digest == Behavior::PpDigest::Other) {
        out.d = Digest(sim::mix64(pp.d.v ^ 0x6f74686572));  // names no batch
    } else if (b.pp_digest == Behavior::PpDigest::Null) {
        out.batch.clear();
        out.d = null_digest();
    }
    std::vector<MessageRef>& sent = crafted_pp_[key];
    sent.push_back(make_message(ctx, out));
    if (b.twice) {
        out.n = Seq(out.n.v + 1);
        sent.push_back(make_message(ctx, std::move(out)));
    }
    return sent;
}

// client_request as primary: the next PRE-PREPARE also orders one request it signed as a
// client (its digest recomputed, so the message is well formed).
sim::PayloadRef Crafter::with_injected(sim::Context& ctx, const Message& honest) {
    const PrePrepare& pp = *as<PrePrepare>(honest);
    const Key key{pp.v.v, pp.n.v};
    if (auto it = injected_.find(key); it != injected_.end()) return it->second;
    if (to_inject_.empty()) return {};
    const proto::CommandEdit edit{proto::CommandEdit::Op::Inject, 0, to_inject_.front()};
    to_inject_.pop_front();
    sim::PayloadRef out = Craft().with_commands(ctx, honest, edit, proto::Seal::Own);
    if (injected_.size() >= 64) injected_.erase(injected_.begin());
    injected_.emplace(key, MessageRef(static_cast<const Message*>(out.get())));
    return out;
}

sim::PayloadRef Crafter::wrong_reply(sim::Context& ctx, const Behavior& b, sim::PayloadRef msg) {
    if (!proto::is_client_message(*msg)) return msg;
    const auto* r = std::get_if<proto::Reply>(&static_cast<const proto::ClientMessage&>(*msg).body);
    if (!r) return msg;
    if (b.lie_ppm < 1'000'000 && !ctx.rng().chance_ppm(b.lie_ppm)) return msg;
    proto::Reply lie = *r;
    lie.result = Digest(sim::mix64(r->result.v ^ 0x77726f6e67));
    return proto::make_reply(ctx, lie);
}

// stale_view_change: a VIEW-CHANGE for the view after its own, with the newest checkpoint it
// can prove and the chosen P set.
MessageRef Crafter::view_change(sim::Context& ctx, const Replica& inner, const Behavior& b) {
    const View w(inner.view().v + 1);
    const Observed::Proof& proof = seen_.proof();
    ViewChange vc{w, proof.n, proof.state, proof.C, {}};
    if (b.prepared == Behavior::Prepared::Stale)
        vc.P = seen_.oldest_certs(inner.config().watermark_window, w);
    if (b.prepared == Behavior::Prepared::Forged)
        vc.P.push_back(forged_cert(ctx, inner, View(w.v - 1), Seq(proof.n.v + 1)));
    return make_message(ctx, std::move(vc));
}

// A prepared certificate for (w, n) and the last request it saw (or the null request): the
// PRE-PREPARE claims w's primary and the PREPAREs q-1 of w's backups, itself first; all under
// its own key, so only what it signed as itself is genuine.
PreparedCert Crafter::forged_cert(sim::Context& ctx, const Replica& inner, View w, Seq n) const {
    const proto::Quorum& quorum = inner.config().quorum;
    const NodeId leader = quorum.primary(w), self = ctx.self();
    PrePrepare pp{w, n, {}, {}};
    if (seen_.request()) pp.batch.push_back(seen_.request());
    pp.d = batch_digest(pp.batch);
    const Prepare vote{w, n, pp.d};
    PreparedCert c;
    c.pre_prepare = leader == self ? make_message(ctx, pp) : make_forged(ctx, pp, leader);
    std::vector<std::uint32_t> backups;
    if (self != leader) backups.push_back(self.v);
    for (std::uint32_t r = 0; r < quorum.n && backups.size() + 1 < quorum.q(); ++r)
        if (r != leader.v && r != self.v) backups.push_back(r);
    for (const std::uint32_t r : backups)
        c.prepares.push_back(r == self.v ? make_message(ctx, vote)
                                         : make_forged(ctx, vote, NodeId(r)));
    return c;
}

// bogus_checkpoint: well-formed CHECKPOINTs (the digest names the random state they carry),
// alternately at a checkpoint number in its window and at a number up to 8 windows above it.
void Crafter::bogus_checkpoints(sim::Context& ctx, const Replica& inner, const Behavior& b) {
    const std::uint64_t h = inner.low_watermark().v;
    const std::int64_t L = static_cast<std::int64_t>(inner.config().watermark_window);
    const std::int64_t K = static_cast<std::int64_t>(inner.config().checkpoint_interval);
    for (std::uint32_t i = 0; i < b.count; ++i) {
        const std::int64_t above = i % 2 == 0
                                       ? K * ctx.rng().uniform(1, std::max<std::int64_t>(1, L / K))
                                       : L + ctx.rng().uniform(1, 8 * L);
        Checkpoint c{
            Seq(h + static_cast<std::uint64_t>(above)), {}, Digest(ctx.rng().next_u64()), {}};
        c.state = service_digest(c.chain, c.clients);
        ctx.broadcast(make_message(ctx, std::move(c)));
    }
}

// client_request: a REQUEST as a client, to every replica; as primary, queued for its next
// PRE-PREPARE. Another node's id is claimed under its own signature.
void Crafter::client_request(sim::Context& ctx, const Replica& inner, const Behavior& b) {
    const NodeId self = ctx.self();
    const NodeId client(b.client.value_or(self.v));
    ++timestamp_;
    const proto::Request r{sim::mix64(self.v ^ (timestamp_ << 8)), timestamp_, client};
    ClientMessageRef req = proto::make_request(ctx, r);
    if (client != self) const_cast<proto::ClientMessage*>(req.get())->signer = client;
    ctx.broadcast(req);
    const bool primary = inner.config().quorum.primary(inner.view()) == self;
    if (primary && !inner.view_changing() && to_inject_.size() < 64) to_inject_.push_back(req);
}

// far_future: rate/100 messages per 10ms tick, in turn PRE-PREPARE, PREPARE, COMMIT (a view up
// to views_ahead above its own, its own included, and a number above its window) and
// VIEW-CHANGE (a view 1 to views_ahead above its own, no checkpoint, no P set).
void Crafter::far_future(sim::Context& ctx, const Replica& inner, const Behavior& b) {
    flood_budget_ += b.rate;
    const std::uint64_t count = flood_budget_ / 100;
    flood_budget_ %= 100;
    const std::uint64_t L = inner.config().watermark_window, h = inner.low_watermark().v;
    const auto ahead = static_cast<std::int64_t>(b.views_ahead);
    for (std::uint64_t i = 0; i < count; ++i) {
        const std::uint64_t kind = flood_sent_++ % 4;
        const View v(inner.view().v +
                     static_cast<std::uint64_t>(ctx.rng().uniform(kind == 3 ? 1 : 0, ahead)));
        const Seq n(h + L + static_cast<std::uint64_t>(ctx.rng().uniform(1, ahead)) * L);
        const Digest d(ctx.rng().next_u64());
        Body body;
        if (kind == 0) body = PrePrepare{v, n, null_digest(), {}};
        if (kind == 1) body = Prepare{v, n, d};
        if (kind == 2) body = Commit{v, n, d};
        if (kind == 3) body = ViewChange{v, Seq{}, Digest{}, {}, {}};
        ctx.broadcast(make_message(ctx, std::move(body)));
    }
}

}  // namespace pbft
