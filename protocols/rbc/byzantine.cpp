#include "protocols/rbc/byzantine.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "protocols/common/behaviors.hpp"
#include "protocols/common/forwarding_context.hpp"
#include "protocols/common/params.hpp"
#include "sim/hash.hpp"

namespace rbc {

std::vector<std::string> behavior_names() {
    return {"silent", "equivocate", "collude", "conflicting_echo", "mutate"};
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
    for (const Behavior& x : behaviors_)
        if (x.kind == Behavior::Kind::Mutate && !mutator_)
            mutator_ = std::make_unique<proto::Mutator>(x.mutate, craft_);
}

ByzantineReplica::~ByzantineReplica() = default;

void ByzantineReplica::on_start(sim::Context& ctx) {
    Outbox out(*this, ctx);
    inner_->on_start(out);
}

void ByzantineReplica::on_recover(sim::Context& ctx) {
    Outbox out(*this, ctx);
    inner_->on_recover(out);
}

void ByzantineReplica::on_message(sim::Context& ctx, NodeId from, const sim::Payload& msg) {
    if (mutator_) mutator_->observe(from, sim::PayloadRef(&msg), ctx.self());
    Outbox out(*this, ctx);
    inner_->on_message(out, from, msg);
}

void ByzantineReplica::on_timer(sim::Context& ctx, std::uint64_t tag) {
    Outbox out(*this, ctx);
    inner_->on_timer(out, tag);
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

const InstanceId* vote_id(const Message& m) {
    if (const auto* e = as<Echo>(m)) return &e->id;
    if (const auto* r = as<Ready>(m)) return &r->id;
    return nullptr;
}

}  // namespace

void ByzantineReplica::emit(sim::Context& ctx, NodeId to, sim::PayloadRef msg) {
    using K = Behavior::Kind;
    for (const Behavior& b : behaviors_) {
        if (!b.active(ctx.now())) continue;
        const Message* m =
            proto::is_client_message(*msg) ? nullptr : static_cast<const Message*>(msg.get());
        const InstanceId* voted = m ? vote_id(*m) : nullptr;
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
        }
    }
    ctx.send(to, std::move(msg));
}

}  // namespace rbc
