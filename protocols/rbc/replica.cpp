// Bracha's reliable broadcast, §3 of the paper: the three steps, delivery and execution, and the
// retransmission that makes it live over links that lose messages before GST.
#include "protocols/rbc/replica.hpp"

#include <algorithm>
#include <span>

#include "sim/hash.hpp"

namespace rbc {

namespace {

const InstanceId& vote_id(const Message& m) {
    if (const auto* e = as<Echo>(m)) return e->id;
    return std::get<Ready>(m.body).id;
}

Digest vote_value(const Message& m) {
    if (const auto* e = as<Echo>(m)) return e->value;
    return std::get<Ready>(m.body).value;
}

std::uint32_t tally(const std::map<Digest, std::uint32_t>& count, Digest value) {
    auto it = count.find(value);
    return it == count.end() ? 0 : it->second;
}

}  // namespace

Replica::Replica(Config cfg) : cfg_(cfg), last_heard_(cfg.quorum.n) {}

void Replica::on_start(sim::Context& ctx) {
    self_ = ctx.self();
    ctx.set_timer(quiet_period(), kProbeTimer);
}

void Replica::on_recover(sim::Context& ctx) {
    // Timers died with the crash; the state says whether retransmission is still owed.
    timer_on_ = false;
    arm_timer(ctx);
    ctx.set_timer(quiet_period(), kProbeTimer);
    // Peers stopped retransmitting to us while we were silent. Any message says we are back;
    // our latest vote, a repeat to most of them, also asks for what we missed.
    if (last_vote_) ctx.broadcast(last_vote_);
}

sim::SimTime Replica::quiet_period() const {
    return cfg_.retransmit_timeout * (std::int64_t{1} << kQuietDoublings);
}

// Peers quiet for a whole period get our latest vote: after a partition heals, that is how
// each side learns the other is back and resumes retransmitting to it.
void Replica::probe(sim::Context& ctx) {
    ctx.set_timer(quiet_period(), kProbeTimer);
    if (!last_vote_) return;
    for (std::uint32_t p = 0; p < cfg_.quorum.n; ++p)
        if (p != self_.v && ctx.now() - last_heard_[p] > quiet_period())
            ctx.send(NodeId(p), last_vote_);
}

void Replica::on_message(sim::Context& ctx, NodeId from, const sim::Payload& msg) {
    if (proto::is_client_message(msg)) {
        const auto& cm = static_cast<const proto::ClientMessage&>(msg);
        if (std::holds_alternative<proto::Request>(cm.body))
            on_request(ctx, from, ClientMessageRef(&cm));
        return;
    }
    MessageRef m(&static_cast<const Message&>(msg));
    // A peer's bad message is data: whatever fails authentication is dropped.
    if (!authentic(ctx, *m)) return;
    if (from.v < last_heard_.size()) last_heard_[from.v] = ctx.now();
    if (as<Send>(*m)) {
        on_send(ctx, m);
    } else {
        on_vote(ctx, m);
    }
}

Replica::Instance& Replica::instance(const InstanceId& id) {
    return instances_[id];
}

void Replica::on_request(sim::Context& ctx, NodeId from, const ClientMessageRef& req) {
    const auto& r = std::get<proto::Request>(req->body);
    // Only the client's own transmission makes this replica a sender; replicas relay nothing.
    if (from != r.client || from.v < ctx.replica_count() || !proto::authentic(ctx, *req)) return;
    ClientRecord& c = clients_[r.client.v];
    if (r.timestamp <= c.executed) {
        // A retransmission of what we executed: our reply may have been lost.
        if (r.timestamp == c.executed && c.reply) ctx.send(from, c.reply);
        return;
    }
    // Our own instance for it is under way, and retransmission will finish it.
    if (r.timestamp <= c.started) return;
    c.started = r.timestamp;
    const InstanceId id{ctx.self(), ++counter_};
    ++started_;
    MessageRef send = make_message(ctx, Send{id, req});
    ctx.broadcast(send);
    on_send(ctx, send);
}

// PROTOCOLS.md §4.12: what a SEND carries is a request signed by the client it names (a
// replica id names none); anything else gets no ECHO. The first replica to check a request
// does the work, the others charge its cost.
bool Replica::request_valid(sim::Context& ctx, const Send& s) const {
    if (!s.request || cfg_.mutations.has(Mutation::TrustSendRequest)) return true;
    const auto* req = std::get_if<proto::Request>(&s.request->body);
    if (!req || req->client.v < ctx.replica_count()) return false;
    const std::uint64_t key = sim::Hasher(0x52424352).add(s.request->wire_hash()).value();
    if (ctx.verified_before(key)) {
        ctx.charge_verify(1);
        return true;
    }
    if (!proto::authentic(ctx, *s.request)) return false;
    ctx.remember_verified(key);
    return true;
}

void Replica::on_send(sim::Context& ctx, const MessageRef& m) {
    const Send& s = std::get<Send>(m->body);
    if (!request_valid(ctx, s)) return;
    Instance& inst = instance(s.id);
    const Digest value = value_of(s);
    if (inst.sends.contains(value)) return;  // a retransmission
    const bool first = inst.sends.empty() && !inst.echo;
    if (!first) {
        if (inst.echo && vote_value(*inst.echo) != value && !inst.sender_equivocated) {
            inst.sender_equivocated = true;
            ctx.evidence(s.id.sender, "two SENDs for one instance");
        }
        // Keep a second value only if it may be delivered: otherwise a Byzantine sender could
        // make us store any number of them. Peers forward it again when we ask for it.
        if (inst.delivered != value &&
            tally(inst.readies.count, value) < readies_for_ready(cfg_.quorum))
            return;
    }
    inst.sends.try_emplace(value, m);
    // Step 1: ECHO the first value the sender sent us, and only that one.
    if (first) echo(ctx, s.id, inst, value);
    try_commit(ctx, s.id, inst);
    activate(ctx, s.id, inst);
}

Replica::Counted Replica::count(Votes& votes, std::uint32_t author, Digest value) {
    if (votes.by_author.empty()) votes.by_author.resize(cfg_.quorum.n);
    auto& slot = votes.by_author[author];
    if (!slot) {
        slot = value;
        ++votes.count[value];
        return Counted::Fresh;
    }
    if (*slot == value) return Counted::Repeat;
    // Only the first vote counts; a second one for another value is proof of equivocation.
    return votes.conflicting.insert(author).second ? Counted::Conflict : Counted::Ignored;
}

void Replica::on_vote(sim::Context& ctx, const MessageRef& m) {
    const bool is_echo = m->kind == kEcho;
    const InstanceId& id = vote_id(*m);
    const Digest value = vote_value(*m);
    const std::uint32_t author = m->signer.v;
    if (author == ctx.self().v) return;  // our own vote, replayed to us
    Instance& inst = instance(id);
    switch (count(is_echo ? inst.echoes : inst.readies, author, value)) {
        case Counted::Fresh:
            advance(ctx, id, inst, value);
            break;
        case Counted::Repeat:
            answer_repeat(ctx, inst, author, value, !is_echo);
            break;
        case Counted::Conflict:
            ctx.evidence(m->signer,
                         is_echo ? "two ECHOs for one instance" : "two READYs for one instance");
            break;
        case Counted::Ignored:
            break;
    }
}

void Replica::echo(sim::Context& ctx, const InstanceId& id, Instance& inst, Digest value) {
    inst.echo = make_message(ctx, Echo{id, value});
    last_vote_ = inst.echo;
    ctx.broadcast(inst.echo);
    count(inst.echoes, ctx.self().v, value);
    activate(ctx, id, inst);
    advance(ctx, id, inst, value);
}

void Replica::ready(sim::Context& ctx, const InstanceId& id, Instance& inst, Digest value) {
    inst.ready = make_message(ctx, Ready{id, value});
    last_vote_ = inst.ready;
    ctx.broadcast(inst.ready);
    count(inst.readies, ctx.self().v, value);
    activate(ctx, id, inst);
}

void Replica::advance(sim::Context& ctx, const InstanceId& id, Instance& inst, Digest value) {
    const proto::Quorum& q = cfg_.quorum;
    // Steps 2 and 3: READY once, on an echo quorum or on f+1 READYs (one of them honest).
    const bool amplify = !cfg_.mutations.has(Mutation::ReadyNeedsQuorumOnly);
    if (!inst.ready && (tally(inst.echoes.count, value) >= echoes_for_ready(q) ||
                        (amplify && tally(inst.readies.count, value) >= readies_for_ready(q))))
        ready(ctx, id, inst, value);
    if (!inst.delivered && tally(inst.readies.count, value) >= readies_for_delivery(q)) {
        inst.delivered = value;
        try_commit(ctx, id, inst);
    }
}

void Replica::try_commit(sim::Context& ctx, const InstanceId& id, Instance& inst) {
    if (!inst.delivered || inst.committed) return;
    MessageRef send;
    if (*inst.delivered != null_value()) {
        auto it = inst.sends.find(*inst.delivered);
        // Delivered a value we never received: retransmission asks peers for its SEND.
        if (it == inst.sends.end()) return;
        send = it->second;
    }
    inst.committed = true;
    execute(ctx, id, *inst.delivered, send);
}

void Replica::execute(sim::Context& ctx, const InstanceId& id, Digest value,
                      const MessageRef& send) {
    const std::uint64_t index = id.index();
    state_ = Digest(sim::Hasher(0x5253).add(state_.v).add(index).add(value.v).value());
    delivered_.emplace(index, value);
    sim::ExecutedRequest done;
    ClientMessageRef reply;
    if (send) {
        const ClientMessageRef& req = std::get<Send>(send->body).request;
        const auto& r = std::get<proto::Request>(req->body);
        ClientRecord& c = clients_[r.client.v];
        if (r.timestamp > c.executed) {
            // Broadcast orders nothing: one request may be delivered in several instances (a
            // client's retransmission starts more), in a different order at each replica. So
            // the result depends on the request alone, not on where it was delivered.
            const Digest result = proto::execution_result(req->digest, 0, 1);
            done = sim::ExecutedRequest{proto::request_key(r), req->digest, result};
            c.executed = r.timestamp;
            c.started = std::max(c.started, r.timestamp);
            c.reply = proto::make_reply(ctx, proto::Reply{proto::View{0}, r.timestamp, r.client,
                                                          ctx.self(), result, index});
            reply = c.reply;
        }
    }
    std::span<const sim::ExecutedRequest> requests;
    if (reply) requests = std::span<const sim::ExecutedRequest>(&done, 1);
    ctx.commit(sim::CommitRecord{index, 0, value, state_, requests});
    if (reply) ctx.send(std::get<proto::Reply>(reply->body).client, reply);
}

// A peer repeated a vote we already counted: it is missing something and asks again.
void Replica::answer_repeat(sim::Context& ctx, Instance& inst, std::uint32_t peer, Digest value,
                            bool ready_vote) {
    const sim::SimTime now = ctx.now();
    auto it = inst.answered.find(peer);
    // Two replicas answering each other's answers would never stop: at most one answer per
    // half retransmission period, shorter than any gap between a peer's own retransmissions.
    if (it != inst.answered.end() && (now - it->second).ns * 2 < cfg_.retransmit_timeout.ns) return;
    inst.answered[peer] = now;
    send_votes(ctx, inst, NodeId(peer));
    // A READY for a value means the peer may hold a delivery it cannot execute.
    if (!ready_vote) return;
    if (auto s = inst.sends.find(value); s != inst.sends.end()) ctx.send(NodeId(peer), s->second);
}

void Replica::send_votes(sim::Context& ctx, const Instance& inst, NodeId to) {
    if (inst.echo) ctx.send(to, inst.echo);
    if (inst.ready) ctx.send(to, inst.ready);
}

// The SEND worth offering to peers: of the value delivered, else of the value we echoed.
const MessageRef* Replica::offer(const Instance& inst) {
    std::optional<Digest> want = inst.delivered;
    if (!want && inst.echo) want = vote_value(*inst.echo);
    if (!want) return nullptr;
    auto it = inst.sends.find(*want);
    return it == inst.sends.end() ? nullptr : &it->second;
}

// What peer `p` may still lack from us. Each vote goes to peers that have not cast it
// themselves (an ECHO also not to peers already ready, who need no more ECHOs); a peer that
// lacks ours while we have its own asks by repeating, and answer_repeat() serves it. Delivered
// without the value, we ask everyone by repeating our READY.
Replica::Owed Replica::owed(const Instance& inst, std::uint32_t p) const {
    const bool pulling = inst.delivered && !inst.committed;
    const bool echoed = inst.echoes.heard(p), readied = inst.readies.heard(p);
    Owed o;
    o.echo = inst.echo && !echoed && !readied;
    o.ready = inst.ready && (!readied || pulling);
    o.send = !echoed && !readied && offer(inst) != nullptr;
    return o;
}

bool Replica::needs_retransmit(const Instance& inst) const {
    for (std::uint32_t p = 0; p < cfg_.quorum.n; ++p)
        if (p != self_.v && owed(inst, p).any()) return true;
    return false;
}

std::size_t Replica::retransmitting() const {
    return static_cast<std::size_t>(std::count_if(due_.begin(), due_.end(), [&](const auto& d) {
        return needs_retransmit(instances_.at(d.second));
    }));
}

void Replica::retransmit(sim::Context& ctx, const Instance& inst) {
    const sim::SimTime now = ctx.now();
    // A peer silent for a quiet period is crashed, cut off or Byzantine: it gets nothing until
    // it speaks again (probe() makes sure it hears from us), and is served after that.
    const sim::SimTime quiet = quiet_period();
    const MessageRef* send = offer(inst);
    for (std::uint32_t p = 0; p < cfg_.quorum.n; ++p) {
        if (p == self_.v) continue;
        const Owed o = owed(inst, p);
        if (!o.any()) continue;
        if (now - last_heard_[p] > quiet) continue;
        if (o.echo) ctx.send(NodeId(p), inst.echo);
        if (o.ready) ctx.send(NodeId(p), inst.ready);
        if (o.send) ctx.send(NodeId(p), *send);
    }
}

void Replica::activate(sim::Context& ctx, const InstanceId& id, Instance& inst) {
    if (inst.scheduled) return;
    inst.scheduled = true;
    inst.attempts = 0;
    due_.emplace(ctx.now() + cfg_.retransmit_timeout, id);
    arm_timer(ctx);
}

void Replica::arm_timer(sim::Context& ctx) {
    if (due_.empty()) return;
    const sim::SimTime at = std::max(due_.begin()->first, ctx.now());
    if (timer_on_) {
        if (timer_at_ <= at) return;
        ctx.cancel_timer(timer_);
    }
    timer_at_ = at;
    timer_ = ctx.set_timer(at - ctx.now(), kRetransmitTimer);
    timer_on_ = true;
}

void Replica::on_timer(sim::Context& ctx, std::uint64_t tag) {
    if (tag == kProbeTimer) return probe(ctx);
    if (tag != kRetransmitTimer) return;
    timer_on_ = false;
    const sim::SimTime now = ctx.now();
    while (!due_.empty() && due_.begin()->first <= now) {
        const InstanceId id = due_.begin()->second;
        due_.erase(due_.begin());
        Instance& inst = instances_.at(id);
        if (!needs_retransmit(inst)) {
            inst.scheduled = false;
            continue;
        }
        retransmit(ctx, inst);
        ++inst.attempts;
        const auto doublings = std::min(inst.attempts, kMaxBackoffDoublings);
        due_.emplace(now + cfg_.retransmit_timeout * (std::int64_t{1} << doublings), id);
    }
    arm_timer(ctx);
}

}  // namespace rbc
