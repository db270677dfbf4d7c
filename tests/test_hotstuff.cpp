// HotStuff against PROTOCOLS.md §2.7: message counts per view and commit latencies, chained and
// basic; the pacemaker under leader failures.
#include <doctest/doctest.h>

#include <map>

#include "protocols/hotstuff/replica.hpp"
#include "tests/helpers.hpp"

using testing::sent;

namespace {
constexpr std::int64_t kD = 1'000'000;  // one message delay: 1ms

sim::SimOptions with_commit_log() {
    sim::SimOptions o;
    o.keep_commit_log = true;
    return o;
}
}  // namespace

TEST_CASE("hotstuff: chained steady state costs 2(n-1) messages a view; b_v commits at 6d/7d") {
    for (std::uint32_t n : {4u, 7u}) {
        CAPTURE(n);
        // Clients send to every replica and blocks carry one command, so with 64 clients
        // every leader always has a command to propose: no bubbles in the pipeline.
        auto doc = testing::hotstuff_base(n, 400, 64);
        doc["protocol"]["clients_send_to"] = "all";
        doc["protocol"]["batch_size"] = 1;
        auto r = testing::run(doc, with_commit_log());
        const auto& res = *r.result;
        REQUIRE_FALSE(res.violation);
        CHECK(res.accepted == 400);
        const std::uint64_t proposals = sent(res, "PROPOSAL") / (n - 1);
        CHECK(sent(res, "PROPOSAL") == proposals * (n - 1));
        CHECK(sent(res, "VOTE") == proposals * (n - 1));
        CHECK(sent(res, "NEW-VIEW") == 0);
        // Commands stop after the last request; three more blocks commit the last one.
        for (std::uint32_t i = 0; i < n; ++i) CHECK(res.commits_per_node[i] == proposals - 3);
        // The first requests reach leader(1) at d, so view v is proposed at d + 2d(v-1).
        for (const auto& c : res.commit_log) {
            const std::int64_t proposed = kD + 2 * kD * static_cast<std::int64_t>(c.view - 1);
            const bool leader_of_v3 = c.node == (c.view + 3) % n;
            CHECK(c.time.ns - proposed == (leader_of_v3 ? 6 : 7) * kD);
        }
    }
}

TEST_CASE("hotstuff: basic costs 8(n-1) messages a decision and decides every 8d") {
    for (std::uint32_t n : {4u, 7u}) {
        CAPTURE(n);
        auto r = testing::run(testing::hotstuff_base(n, 20, 1, "basic"), with_commit_log());
        const auto& res = *r.result;
        REQUIRE_FALSE(res.violation);
        CHECK(res.accepted == 20);
        const std::uint64_t decisions = res.commits_per_node[0];
        CHECK(decisions == 20);
        std::uint64_t protocol = 0;
        for (const char* k : {"PROPOSAL", "VOTE", "NEW-VIEW", "PRE-COMMIT", "COMMIT", "DECIDE"})
            protocol += sent(res, k);
        // Every view: NEW-VIEW, PREPARE, vote, PRE-COMMIT, vote, COMMIT, vote, DECIDE; plus the
        // NEW-VIEW that opens the view after the last decision.
        CHECK(protocol == 8 * (n - 1) * decisions + (n - 1));
        CHECK(sent(res, "DECIDE") == (n - 1) * decisions);
        // The leader decides at 6d after its proposal, the others at 7d.
        std::map<std::uint64_t, std::int64_t> leader_time, other_time;
        for (const auto& c : res.commit_log)
            (c.node == c.view % n ? leader_time : other_time)[c.index] = c.time.ns;
        for (const auto& [h, t] : other_time) CHECK(t - leader_time[h] == kD);
    }
}

TEST_CASE("hotstuff: basic with continuous load decides exactly every 8 message delays") {
    auto doc = testing::hotstuff_base(4, 60, 16, "basic");
    doc["protocol"]["clients_send_to"] = "all";
    doc["protocol"]["batch_size"] = 1;
    auto r = testing::run(doc, with_commit_log());
    REQUIRE_FALSE(r.result->violation);
    // Each view's leader decides first; its decisions are 8d apart.
    std::map<std::uint64_t, std::int64_t> first;
    for (const auto& c : r.result->commit_log) {
        auto [it, fresh] = first.emplace(c.index, c.time.ns);
        if (!fresh) it->second = std::min(it->second, c.time.ns);
    }
    REQUIRE(first.size() >= 50);
    std::int64_t prev = -1;
    for (const auto& [h, t] : first) {
        if (prev >= 0) CHECK(t - prev == 8 * kD);
        prev = t;
    }
}

TEST_CASE("hotstuff: a crashed leader makes the pacemaker move on and commits resume") {
    auto doc = testing::hotstuff_base(4, 40, 2);
    doc["protocol"]["view_timeout"] = "100ms";
    doc["faults"] = {{{"type", "crash"}, {"node", 2}, {"at", "5ms"}}};
    auto r = testing::run(doc);
    REQUIRE_FALSE(r.result->violation);
    CHECK(r.result->accepted == 40);
    CHECK(sent(*r.result, "NEW-VIEW") > 0);
}

TEST_CASE("hotstuff: f consecutive faulty leaders still commit after GST") {
    auto doc = testing::hotstuff_base(7, 40, 2);
    doc["protocol"]["view_timeout"] = "100ms";
    doc["network"] = {{"delay", {{"dist", "uniform"}, {"min", "1ms"}, {"max", "20ms"}}},
                      {"loss", 0.05},
                      {"gst", {{"at", "2s"}, {"delta", "20ms"}}}};
    doc["faults"] = {{{"type", "byzantine"}, {"node", 3}, {"behavior", "silent"}},
                     {{"type", "byzantine"}, {"node", 4}, {"behavior", "silent"}}};
    auto r = testing::run(doc);
    REQUIRE_FALSE(r.result->violation);
    CHECK(r.result->accepted == 40);
}

TEST_CASE("hotstuff: leaders order requests by arrival, so no client starves under load") {
    // With one command a block and more clients than views in a round trip, ordering the
    // mempool by client id once left the highest client waiting forever.
    auto doc = testing::hotstuff_base(4, 5000, 16);
    doc["protocol"]["clients_send_to"] = "all";
    doc["protocol"]["batch_size"] = 1;
    doc["invariants"] = {{"liveness_bound", "2s"}};
    auto r = testing::run(doc);
    REQUIRE_FALSE(r.result->violation);
    CHECK(r.result->accepted == 5000);
}
