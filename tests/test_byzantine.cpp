// PBFT under each Byzantine behaviour: with f faulty replicas nothing may break; with f+1
// colluding equivocators (allow_unsafe_f) the checker must report the agreement violation.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <fstream>
#include <map>

#include "protocols/pbft/byzantine.hpp"
#include "tests/helpers.hpp"

namespace {

nlohmann::json adversarial(std::uint64_t seed, const std::string& behavior, std::uint32_t node) {
    auto doc = testing::pbft_base(4, 20);
    doc["seed"] = seed;
    doc["workload"]["clients"] = 2;
    doc["workload"]["retry_timeout"] = "200ms";
    doc["protocol"]["request_timeout"] = "300ms";
    doc["protocol"]["view_change_timeout"] = "300ms";
    doc["protocol"]["checkpoint_interval"] = 5;
    doc["network"] = {{"delay", {{"dist", "uniform"}, {"min", "1ms"}, {"max", "10ms"}}},
                      {"loss", 0.01},
                      {"duplicate", 0.01},
                      {"reorder", true},
                      {"gst", {{"at", "2s"}, {"delta", "10ms"}}}};
    nlohmann::json params = nlohmann::json::object();
    if (behavior == "drop" || behavior == "delay") params["targets"] = {(node + 1) % 4, 4};
    // Half the equivocators also splice the votes they get onto their other digest.
    if (behavior == "equivocate" && seed % 2 == 0) params["splice"] = true;
    // The sweep's script (scenarios/sweeps/pbft.json): a step in each of the views 0 to 7.
    if (behavior == "script")
        params["script"] = nlohmann::json::parse(R"([
            {"view": 0, "seq": 3}, {"view": 1, "requests": "duplicate"},
            {"view": 2, "requests": "other"}, {"view": 3, "requests": "none"},
            {"view": 4, "seq": 100000}, {"view": 5, "requests": "duplicate", "to": [2, 3]},
            {"view": 6, "to": [0, 1]}, {"view": 7, "seq": 1, "requests": "other"}])");
    doc["faults"] = {
        {{"type", "byzantine"}, {"node", node}, {"behavior", behavior}, {"params", params}}};
    return doc;
}

}  // namespace

TEST_CASE("pbft: f Byzantine replicas of each behaviour violate nothing over 200 seeds") {
    for (const auto& behavior : pbft::behavior_names()) {
        std::uint64_t accepted = 0;
        for (std::uint64_t seed = 1; seed <= 200; ++seed) {
            // The primary (node 0) is Byzantine in a quarter of the seeds.
            const auto node = static_cast<std::uint32_t>(seed % 4);
            auto r = testing::run(adversarial(seed, behavior, node));
            const auto& res = *r.result;
            if (res.violation) {
                FAIL(fmt::format("{} at node {} seed {}: {} — {}", behavior, node, seed,
                                 res.violation->invariant, res.violation->detail));
            }
            CHECK_MESSAGE(res.accepted == 20, behavior, " seed ", seed, " node ", node);
            accepted += res.accepted;
        }
        CHECK(accepted == 200 * 20);
    }
}

TEST_CASE("pbft: f+1 colluding equivocators at n=4 prepare two digests at one (v, n)") {
    auto doc = testing::pbft_base(4, 5);
    doc["f"] = 1;
    doc["allow_unsafe_f"] = true;
    doc["faults"] = {{{"type", "byzantine"},
                      {"node", 0},
                      {"behavior", "equivocate"},
                      {"params", {{"collude", true}}}},
                     {{"type", "byzantine"}, {"node", 3}, {"behavior", "collude"}}};
    auto r = testing::run(doc);
    // Two honest replicas commit different digests for one (view, seq): P1 breaks (the wire
    // monitor), before their executions diverge.
    REQUIRE(r.result->violation);
    CHECK(r.result->violation->invariant == "prepared_once");
    CHECK(r.result->stop_reason == "violation");
}

TEST_CASE("pbft: one equivocating primary alone cannot break agreement") {
    auto doc = testing::pbft_base(4, 5);
    doc["faults"] = {{{"type", "byzantine"},
                      {"node", 0},
                      {"behavior", "equivocate"},
                      {"params", {{"collude", true}}}}};
    doc["protocol"]["request_timeout"] = "100ms";
    auto r = testing::run(doc);
    CHECK_FALSE(r.result->violation);
    CHECK(r.result->accepted == 5);
}

TEST_CASE("pbft: a crash behaviour with an end time leaves the replica's timers alive after it") {
    // Replica 3 is down (as a Byzantine crash) while the others order every request; when the
    // window ends its honest core recovers (its timers died with the crash): it asks what it
    // missed and executes it, though nothing more arrives on its own.
    auto doc = testing::pbft_base(4, 20);
    doc["stop"] = {{"at", "5s"}, {"when_done", false}};
    doc["faults"] = {
        {{"type", "byzantine"}, {"node", 3}, {"behavior", "crash"}, {"at", "0s"}, {"until", "1s"}}};
    const auto r = testing::run(doc);
    REQUIRE_FALSE(r.result->violation);
    CHECK(r.result->commits_per_node[0] == 20);
    CHECK(r.result->commits_per_node[3] == 20);
}

TEST_CASE("pbft censor: the censoring primary orders every client's requests but the censored") {
    // scenarios/pbft/censoring_primary.json: primary 0 censors client 4 (of clients 4, 5, 6).
    std::ifstream in(BYZSIM_SOURCE_ROOT "/scenarios/pbft/censoring_primary.json");
    const auto r = testing::run(nlohmann::json::parse(in));
    REQUIRE_FALSE(r.result->violation);
    std::map<std::uint32_t, std::uint64_t> in_view0;  // per client, requests accepted in view 0
    for (const sim::RequestRow& row : r.result->requests)
        if (row.view == 0) ++in_view0[row.client];
    CHECK(in_view0[4] == 0);
    CHECK(in_view0[5] > 0);
    CHECK(in_view0[6] > 0);
}

TEST_CASE("pbft equivocate: with splice the primary passes one half's votes on to the other") {
    // The same run with and without splice: a spliced vote is one the primary got from the
    // half that has one digest, sent on under its author's signature to each replica of the
    // other half (at most two here). It sends more PREPAREs and COMMITs, never more than twice
    // the votes it got, and nothing breaks: no spliced vote passes for its author's.
    std::uint64_t votes_sent[2] = {}, votes_got = 0;
    for (const bool splice : {false, true}) {
        auto doc = adversarial(2, "equivocate", 0);
        doc["faults"][0]["params"]["splice"] = splice;
        const auto r = testing::run(doc);
        REQUIRE_FALSE(r.result->violation);
        CHECK(r.result->accepted == 20);
        const auto& res = *r.result;
        const std::size_t kinds = res.kind_names.size();
        for (std::size_t k = 0; k < kinds; ++k) {
            if (res.kind_names[k] != "PREPARE" && res.kind_names[k] != "COMMIT") continue;
            votes_sent[splice] += res.counters[k].sent;  // node 0's row
            if (splice)
                for (std::uint32_t node = 1; node < 4; ++node)
                    votes_got += res.counters[node * kinds + k].sent / 3;
        }
    }
    CHECK(votes_sent[1] > votes_sent[0]);
    CHECK(votes_sent[1] - votes_sent[0] <= 2 * votes_got);
}
