// A Context that records what a handler does, so protocol code can be unit-tested without the
// engine: sends, timers, commits and evidence are kept in vectors; keys are real KeyRing keys.
#pragma once

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "sim/actor.hpp"
#include "sim/crypto.hpp"
#include "sim/monitor.hpp"

namespace testing {

class RecordingContext final : public sim::Context {
public:
    RecordingContext(std::uint32_t replicas, std::uint32_t f, bool ed25519 = false)
        : n_(replicas), f_(f), keys_(replicas + 4, ed25519, sim::RandomStream(99)), rng_(7) {}

    const sim::KeyRing& keys() const { return keys_; }
    // Acts as `node` from now on (signing included).
    void act_as(std::uint32_t node) { self_ = sim::NodeId(node); }

    struct Sent {
        sim::NodeId to;
        sim::PayloadRef msg;
    };
    std::vector<Sent> sent;
    std::vector<sim::CommitRecord> commits;
    std::vector<std::pair<std::uint32_t, std::string>> evidence_seen;
    std::vector<std::pair<sim::SimTime, std::uint64_t>> timers;
    sim::SimTime time{};

    sim::SimTime now() const override { return time; }
    sim::NodeId self() const override { return self_; }
    std::uint32_t replica_count() const override { return n_; }
    std::uint32_t fault_threshold() const override { return f_; }
    void send(sim::NodeId to, sim::PayloadRef msg) override { sent.push_back({to, msg}); }
    void broadcast(sim::PayloadRef msg) override {
        for (std::uint32_t r = 0; r < n_; ++r)
            if (r != self_.v) sent.push_back({sim::NodeId(r), msg});
    }
    sim::TimerId set_timer(sim::SimTime after, std::uint64_t tag) override {
        timers.emplace_back(after, tag);
        return timers.size();
    }
    void cancel_timer(sim::TimerId id) override { cancelled.push_back(id); }
    std::vector<sim::TimerId> cancelled;
    sim::Signature sign(sim::Digest d) override { return keys_.sign(self_, d); }
    // Signature checks charged, made or taken from the run-wide memo; the memo is off unless a
    // test turns it on.
    std::uint64_t verifications = 0;
    bool memo = false;
    void charge_verify(std::uint32_t count) override { verifications += count; }
    bool verified_before(std::uint64_t key) const override {
        return memo && memo_keys_.count(key) != 0;
    }
    void remember_verified(std::uint64_t key) override {
        if (memo) memo_keys_.insert(key);
    }
    bool verify(sim::NodeId s, sim::Digest d, const sim::Signature& sig) override {
        ++verifications;
        return keys_.verify(s, d, sig);
    }
    std::optional<sim::Signature> aggregate(std::span<const sim::Signature> s) override {
        return keys_.aggregate(s);
    }
    bool verify_aggregate(std::span<const sim::NodeId> who, sim::Digest d,
                          const sim::Signature& agg) override {
        ++verifications;
        return keys_.verify_aggregate(who, d, agg);
    }
    void certified(std::uint8_t, std::uint64_t, std::uint64_t, sim::Digest,
                   std::uint32_t) override {}
    void invariant_failed(std::string_view invariant, std::string_view) override {
        failures.emplace_back(invariant);
    }
    std::vector<std::string> failures;
    void commit(const sim::CommitRecord& rec) override { commits.push_back(rec); }
    void state_transferred(std::uint64_t, sim::Digest) override {}
    void view_entered(std::uint64_t) override {}
    void suspect(sim::NodeId) override {}
    void evidence(sim::NodeId culprit, std::string_view what) override {
        evidence_seen.emplace_back(culprit.v, std::string(what));
    }
    void issue(sim::RequestKey, sim::Digest) override {}
    // Results a client accepted, and the world a test gives its actors (none unless set).
    std::vector<std::pair<sim::RequestKey, sim::Digest>> accepted;
    void accept(sim::RequestKey key, sim::Digest result, std::uint64_t, std::uint64_t) override {
        accepted.emplace_back(key, result);
    }
    sim::Environment* env = nullptr;
    sim::Environment* environment() override { return env; }
    sim::RandomStream& rng() override { return rng_; }
    void trace(std::string_view) override {}
    bool tracing() const override { return false; }

private:
    std::uint32_t n_, f_;
    sim::NodeId self_{};
    sim::KeyRing keys_;
    sim::RandomStream rng_;
    std::set<std::uint64_t> memo_keys_;
};

// A wire monitor fed by hand on n = 4, f = 1, with a recording context to sign its traffic.
template <class Monitor>
struct MonitorFixture {
    static constexpr std::uint32_t kN = 4, kF = 1;
    RecordingContext ctx{kN, kF};
    Monitor mon;
    explicit MonitorFixture(std::vector<bool> honest = std::vector<bool>(kN, true))
        : mon(sim::MonitorEnv{kN, kF, std::move(honest), &ctx.keys()}) {}
};

}  // namespace testing
