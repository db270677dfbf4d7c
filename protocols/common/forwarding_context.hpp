// A Context that passes every call through to another one. Byzantine wrappers derive from it
// and override only what they rewrite (usually send and broadcast), so a strategy sees exactly
// the interface an honest replica sees and gains nothing else.
#pragma once

#include "sim/actor.hpp"

namespace proto {

class ForwardingContext : public sim::Context {
public:
    explicit ForwardingContext(sim::Context& inner) : c_(inner) {}

    sim::SimTime now() const override { return c_.now(); }
    sim::NodeId self() const override { return c_.self(); }
    std::uint32_t replica_count() const override { return c_.replica_count(); }
    std::uint32_t fault_threshold() const override { return c_.fault_threshold(); }
    void send(sim::NodeId to, sim::PayloadRef msg) override { c_.send(to, std::move(msg)); }
    void broadcast(sim::PayloadRef msg) override { c_.broadcast(std::move(msg)); }
    sim::TimerId set_timer(sim::SimTime after, std::uint64_t tag) override {
        return c_.set_timer(after, tag);
    }
    void cancel_timer(sim::TimerId id) override { c_.cancel_timer(id); }
    sim::Signature sign(sim::Digest d) override { return c_.sign(d); }
    bool verify(sim::NodeId s, sim::Digest d, const sim::Signature& sig) override {
        return c_.verify(s, d, sig);
    }
    std::optional<sim::Signature> aggregate(std::span<const sim::Signature> s) override {
        return c_.aggregate(s);
    }
    bool verify_aggregate(std::span<const sim::NodeId> who, sim::Digest d,
                          const sim::Signature& agg) override {
        return c_.verify_aggregate(who, d, agg);
    }
    void charge_verify(std::uint32_t count) override { c_.charge_verify(count); }
    bool verified_before(std::uint64_t key) const override { return c_.verified_before(key); }
    void remember_verified(std::uint64_t key) override { c_.remember_verified(key); }
    void certified(std::uint8_t kind, std::uint64_t view, std::uint64_t slot, sim::Digest value,
                   std::uint32_t signers) override {
        c_.certified(kind, view, slot, value, signers);
    }
    void invariant_failed(std::string_view invariant, std::string_view detail) override {
        c_.invariant_failed(invariant, detail);
    }
    void commit(const sim::CommitRecord& rec) override { c_.commit(rec); }
    void state_transferred(std::uint64_t i, sim::Digest s) override { c_.state_transferred(i, s); }
    void view_entered(std::uint64_t v) override { c_.view_entered(v); }
    void suspect(sim::NodeId n) override { c_.suspect(n); }
    void evidence(sim::NodeId culprit, std::string_view what) override {
        c_.evidence(culprit, what);
    }
    void issue(sim::RequestKey k, sim::Digest d) override { c_.issue(k, d); }
    void accept(sim::RequestKey k, sim::Digest r, std::uint64_t v, std::uint64_t i) override {
        c_.accept(k, r, v, i);
    }
    sim::RandomStream& rng() override { return c_.rng(); }
    void trace(std::string_view line) override { c_.trace(line); }
    bool tracing() const override { return c_.tracing(); }

protected:
    sim::Context& inner() { return c_; }

private:
    sim::Context& c_;
};

}  // namespace proto
