#include "protocols/rbc/byzantine.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "protocols/common/behaviors.hpp"
#include "protocols/common/forwarding_context.hpp"
#include "protocols/common/params.hpp"
#include "sim/hash.hpp"

namespace rbc {

std::vector<std::string> behavior_names() {
    return {"silent", "equivocate", "collude", "conflicting_echo", "mutate", "readies_to", "craft"};
}

namespace {

std::vector<std::uint32_t> nodes_with(const sim::ScenarioSpec& spec,
                                      std::initializer_list<const char*> behaviors) {
    std::vector<std::uint32_t> out;
    for (const auto& g : spec.faults) {
        if (g.type != sim::FaultSpec::Type::Byzantine) continue;
        for (const char* b : behaviors)
            if (g.behavior == b) out.push_back(g.node);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

bool contains(const std::vector<std::uint32_t>& v, std::uint32_t x) {
    return std::binary_search(v.begin(), v.end(), x);
}

// "to": distinct replicas other than `self`, sorted; absent, `def`.
std::vector<std::uint32_t> read_to(const proto::Params& p, std::uint32_t n, std::uint32_t self,
                                   std::vector<std::uint32_t> def) {
    if (!p.has("to")) return def;
    std::vector<std::uint32_t> to = p.nodes("to", n);
    for (std::size_t i = 0; i < to.size(); ++i) {
        const std::string at = fmt::format("{}/{}", p.at("to"), i);
        if (to[i] == self) throw sim::ScenarioError(at, "a replica sends nothing to itself");
        if (std::find(to.begin(), to.begin() + static_cast<std::ptrdiff_t>(i), to[i]) !=
            to.begin() + static_cast<std::ptrdiff_t>(i))
            throw sim::ScenarioError(at, "listed twice");
    }
    std::sort(to.begin(), to.end());
    return to;
}

// readies_to's default: the first f+1 replicas by id, itself and the Byzantine ones skipped.
std::vector<std::uint32_t> first_honest(const sim::ScenarioSpec& spec, std::uint32_t self) {
    std::vector<std::uint32_t> byzantine;
    for (const auto& g : spec.faults)
        if (g.type == sim::FaultSpec::Type::Byzantine) byzantine.push_back(g.node);
    std::vector<std::uint32_t> out;
    for (std::uint32_t r = 0; r < spec.nodes && out.size() < spec.f + 1; ++r)
        if (r != self && std::find(byzantine.begin(), byzantine.end(), r) == byzantine.end())
            out.push_back(r);
    return out;
}

std::vector<std::uint32_t> all_but(std::uint32_t n, std::uint32_t self) {
    std::vector<std::uint32_t> out;
    for (std::uint32_t r = 0; r < n; ++r)
        if (r != self) out.push_back(r);
    return out;
}

void parse_craft(Behavior& b, const sim::FaultSpec& f, const sim::ScenarioSpec& spec) {
    proto::Params p(f.params, f.path + "/params", {"kind", "instance", "value", "to", "every"});
    const std::string kind = p.string("kind", "echo", {"send", "echo", "ready"});
    using S = Behavior::Sent;
    b.sent = kind == "send" ? S::Send : kind == "ready" ? S::Ready : S::Echo;
    b.other_instance = p.string("instance", "other", {"own", "other"}) == "other";
    b.other_value = p.string("value", "other", {"seen", "other"}) == "other";
    b.to = read_to(p, spec.nodes, f.node, all_but(spec.nodes, f.node));
    b.every = p.duration("every", b.every);
    if (b.every < sim::milliseconds(1) || b.every > sim::seconds(3600))
        throw sim::ScenarioError(p.at("every"), "expected a duration between 1ms and 1h");
}

}  // namespace

Behavior parse_behavior(const sim::FaultSpec& f, const sim::ScenarioSpec& spec) {
    Behavior b;
    b.from = f.at;
    if (f.until) b.until = *f.until;
    b.kind = static_cast<Behavior::Kind>(proto::behavior_index(f, behavior_names(), "RBC"));
    if (b.kind == Behavior::Kind::Mutate) {
        b.mutate = proto::parse_mutate(f, spec);
        return b;
    }
    if (b.kind == Behavior::Kind::Craft) {
        parse_craft(b, f, spec);
        return b;
    }
    if (b.kind == Behavior::Kind::ReadiesTo) {
        proto::Params p(f.params, f.path + "/params", {"to"});
        b.to = read_to(p, spec.nodes, f.node, first_honest(spec, f.node));
        return b;
    }
    proto::Params(f.params, f.path + "/params", {});
    if (b.kind == Behavior::Kind::Equivocate || b.kind == Behavior::Kind::Collude) {
        b.coalition = nodes_with(spec, {"equivocate", "collude"});
        b.equivocators = nodes_with(spec, {"equivocate"});
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
        crafting_ |= x.kind == Behavior::Kind::Craft;
    }
}

ByzantineReplica::~ByzantineReplica() = default;

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

void ByzantineReplica::on_message(sim::Context& ctx, NodeId from, const sim::Payload& msg) {
    if (mutator_) mutator_->observe(from, sim::PayloadRef(&msg), ctx.self());
    if (crafting_ && !proto::is_client_message(msg)) {
        const auto& m = static_cast<const Message&>(msg);
        if (authentic(ctx, m)) observe(ctx.self(), m);
    }
    Outbox out(*this, ctx);
    inner_->on_message(out, from, msg);
}

void ByzantineReplica::on_timer(sim::Context& ctx, std::uint64_t tag) {
    if (tag & kTickTimer) return on_tick(ctx, tag & ~kTickTimer);
    Outbox out(*this, ctx);
    inner_->on_timer(out, tag);
}

void ByzantineReplica::arm_ticks(sim::Context& ctx) {
    const sim::SimTime now = ctx.now();
    for (std::size_t i = 0; i < behaviors_.size(); ++i) {
        const Behavior& b = behaviors_[i];
        if (b.kind != Behavior::Kind::Craft || b.until <= now) continue;
        ctx.set_timer(std::max(b.from - now, b.every), kTickTimer | i);
    }
}

// A craft behaviour's message goes straight out, past the other behaviours.
void ByzantineReplica::on_tick(sim::Context& ctx, std::size_t index) {
    const Behavior& b = behaviors_[index];
    const sim::SimTime now = ctx.now();
    if (b.active(now)) {
        if (const MessageRef m = crafted(ctx, b)) {
            if (ctx.tracing()) {
                const InstanceId id = std::visit([](const auto& x) { return x.id; }, m->body);
                ctx.trace(fmt::format("byzantine craft: {} for instance ({}, {}) to {} replicas",
                                      kind_names()[m->kind], id.sender.v, id.counter, b.to.size()));
            }
            for (const std::uint32_t r : b.to) ctx.send(NodeId(r), m);
        }
    }
    if (b.until - now > b.every) ctx.set_timer(b.every, kTickTimer | index);
}

void ByzantineReplica::observe(NodeId self, const Message& m) {
    const InstanceId id = std::visit([](const auto& x) { return x.id; }, m.body);
    auto [it, fresh] = seen_.try_emplace(id);
    if (fresh) {
        if (id.sender != self) latest_other_ = id;
        seen_order_.push_back(id);
        if (seen_order_.size() > kSeenKept) {
            if (latest_other_ == seen_order_.front()) latest_other_.reset();
            seen_.erase(seen_order_.front());
            seen_order_.pop_front();
        }
    }
    Seen& s = it->second;
    if (const auto* send = as<Send>(m)) {
        if (s.send) return;
        s.send = MessageRef(&m);
        s.value = value_of(*send);
    } else if (!s.value) {
        s.value = as<Echo>(m) ? as<Echo>(m)->value : std::get<Ready>(m.body).value;
    }
}

// craft: the message one tick sends, or none while it lacks the instance or the value.
MessageRef ByzantineReplica::crafted(sim::Context& ctx, const Behavior& b) {
    std::optional<InstanceId> id = latest_other_;
    if (!b.other_instance)
        id = InstanceId{ctx.self(), std::max<std::uint64_t>(1, inner_->instances_started())};
    if (!id) return {};
    const auto it = seen_.find(*id);
    const Seen* seen = it == seen_.end() ? nullptr : &it->second;
    if (b.sent == Behavior::Sent::Send) {
        if (b.other_value) return make_message(ctx, Send{*id, {}});
        if (!seen || !seen->send) return {};
        return make_message(ctx, Send{*id, std::get<Send>(seen->send->body).request});
    }
    Digest value;
    if (b.other_value) {
        // Names no request: the instance and the value seen there, hashed.
        const std::uint64_t known = seen && seen->value ? seen->value->v : 0;
        value = Digest(sim::mix64(id->index() ^ known ^ 0x6f74686572));
    } else if (seen && seen->value) {
        value = *seen->value;
    } else {
        return {};
    }
    if (b.sent == Behavior::Sent::Echo) return make_message(ctx, Echo{*id, value});
    return make_message(ctx, Ready{*id, value});
}

bool ByzantineReplica::second_half(const sim::Context& ctx, const Behavior& b, NodeId to) {
    std::vector<std::uint32_t> outside;
    for (std::uint32_t r = 0; r < ctx.replica_count(); ++r)
        if (!contains(b.coalition, r)) outside.push_back(r);
    const auto half = outside.begin() + static_cast<std::ptrdiff_t>((outside.size() + 1) / 2);
    return std::find(half, outside.end(), to.v) != outside.end();
}

namespace {

// The same vote (ECHO or READY, same instance) for another value, signed by us.
MessageRef revote(sim::Context& ctx, const Message& m, Digest value) {
    if (const auto* e = as<Echo>(m)) return make_message(ctx, Echo{e->id, value});
    return make_message(ctx, Ready{std::get<Ready>(m.body).id, value});
}

const InstanceId* voted_instance(const Message& m) {
    if (const auto* e = as<Echo>(m)) return &e->id;
    if (const auto* r = as<Ready>(m)) return &r->id;
    return nullptr;
}

}  // namespace

void ByzantineReplica::emit(sim::Context& ctx, NodeId to, sim::PayloadRef msg) {
    using K = Behavior::Kind;
    if (crafting_ && !proto::is_client_message(*msg))
        observe(ctx.self(), static_cast<const Message&>(*msg));
    for (const Behavior& b : behaviors_) {
        if (!b.active(ctx.now())) continue;
        const Message* m =
            proto::is_client_message(*msg) ? nullptr : static_cast<const Message*>(msg.get());
        const InstanceId* voted = m ? voted_instance(*m) : nullptr;
        switch (b.kind) {
            case K::Silent:
                return;
            case K::Equivocate:
                if (!m || !second_half(ctx, b, to)) break;
                if (const auto* s = as<Send>(*m); s && s->id.sender == ctx.self() && s->request) {
                    msg = make_message(ctx, Send{s->id, {}});
                } else if (voted && voted->sender == ctx.self()) {
                    msg = revote(ctx, *m, null_value());
                }
                break;
            case K::Collude:
                if (voted && voted->sender != ctx.self() &&
                    contains(b.equivocators, voted->sender.v) && second_half(ctx, b, to))
                    msg = revote(ctx, *m, null_value());
                break;
            case K::ConflictingEcho:
                if (voted) {
                    const Digest v = as<Echo>(*m) ? as<Echo>(*m)->value : as<Ready>(*m)->value;
                    msg = revote(ctx, *m, Digest(sim::mix64(v.v ^ 0xbad)));
                }
                break;
            case K::Mutate: {
                auto [where, what] = mutator_->mutate(ctx, to, std::move(msg));
                to = where;
                msg = std::move(what);
                break;
            }
            case K::ReadiesTo:
                if (to.v < ctx.replica_count() && !contains(b.to, to.v)) return;
                break;
            case K::Craft:
                break;  // adds messages on its ticks, rewrites none
        }
    }
    ctx.send(to, std::move(msg));
}

}  // namespace rbc
