// HotStuff under each Byzantine behaviour with f faulty replicas: no violation over 200 seeds,
// evidence for every equivocation, and never evidence against an honest replica (the checker
// reports that as "false_evidence").
#include <doctest/doctest.h>

#include <set>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include "protocols/hotstuff/byzantine.hpp"
#include "tests/helpers.hpp"

namespace {

nlohmann::json adversarial(std::uint64_t seed, const std::string& behavior, std::uint32_t node) {
    auto doc = testing::hotstuff_base(4, 12, 2);
    doc["seed"] = seed;
    doc["protocol"]["view_timeout"] = "100ms";
    doc["workload"]["retry_timeout"] = "300ms";
    doc["network"] = {{"delay", {{"dist", "uniform"}, {"min", "1ms"}, {"max", "10ms"}}},
                      {"loss", 0.01},
                      {"reorder", true},
                      {"gst", {{"at", "1s"}, {"delta", "10ms"}}}};
    doc["faults"] = {{{"type", "byzantine"}, {"node", node}, {"behavior", behavior}}};
    return doc;
}

}  // namespace

TEST_CASE("hotstuff: f Byzantine replicas of each behaviour violate nothing over 200 seeds") {
    for (const auto& behavior : hotstuff::behavior_names()) {
        // A script needs its steps: tests/test_hotstuff_script.cpp, scenarios/hotstuff/.
        if (behavior == "script") continue;
        std::uint64_t accepted = 0, with_evidence = 0;
        for (std::uint64_t seed = 1; seed <= 200; ++seed) {
            const auto node = static_cast<std::uint32_t>(seed % 4);
            auto r = testing::run(adversarial(seed, behavior, node));
            const auto& res = *r.result;
            if (res.violation)
                FAIL(fmt::format("{} at node {} seed {}: {} — {}", behavior, node, seed,
                                 res.violation->invariant, res.violation->detail));
            CHECK_MESSAGE(res.accepted == 12, behavior, " seed ", seed, " node ", node);
            accepted += res.accepted;
            with_evidence += res.evidence > 0 ? 1 : 0;
            // Evidence only ever names the Byzantine replica.
            for (std::uint32_t i = 0; i < 4; ++i)
                if (i != node) CHECK(res.states[i] != sim::NodeState::Byzantine);
        }
        CHECK(accepted == 200 * 12);
        // Equivocating behaviours are caught in most runs (a run can end before the faulty
        // replica leads a view). Twins equivocate only when both lead or vote in one view with
        // different blocks and those statements meet at one replica, which is rarer.
        if (behavior == "double_vote" || behavior == "equivocate") {
            CHECK_MESSAGE(with_evidence > 100, behavior, ": evidence in ", with_evidence,
                          " of 200 runs");
        }
    }
}

TEST_CASE("hotstuff: a double vote is proven with evidence against exactly the double voter") {
    auto doc = testing::hotstuff_base(4, 10, 1);
    doc["faults"] = {{{"type", "byzantine"}, {"node", 2}, {"behavior", "double_vote"}}};
    auto r = testing::run(doc);
    REQUIRE_FALSE(r.result->violation);
    CHECK(r.result->evidence > 0);
    CHECK(r.result->states[2] == sim::NodeState::Byzantine);
    for (std::uint32_t i : {0u, 1u, 3u}) CHECK(r.result->states[i] == sim::NodeState::Active);
}

TEST_CASE("hotstuff: forged and undersized QCs are rejected, so the faulty leader's views fail") {
    for (const char* behavior : {"forged_qc", "undersized_qc"}) {
        CAPTURE(behavior);
        auto doc = testing::hotstuff_base(4, 10, 1);
        doc["protocol"]["view_timeout"] = "50ms";
        doc["faults"] = {{{"type", "byzantine"}, {"node", 1}, {"behavior", behavior}}};
        auto r = testing::run(doc);
        REQUIRE_FALSE(r.result->violation);
        CHECK(r.result->accepted == 10);
        CHECK(testing::sent(*r.result, "NEW-VIEW") > 0);  // its proposals led to timeouts
    }
}

TEST_CASE("hotstuff: f+1 twins at n=4 split the honest replicas and the checker finds it") {
    auto doc = testing::hotstuff_base(4, 20, 2);
    doc["allow_unsafe_f"] = true;
    doc["protocol"]["clients_send_to"] = "all";
    doc["protocol"]["view_timeout"] = "100ms";
    // NEW-VIEWs to the leader only: neither side's timers follow the other's.
    doc["protocol"]["view_sync"] = "leader";
    doc["faults"] = {{{"type", "byzantine"},
                      {"node", 0},
                      {"behavior", "twins"},
                      {"params", {{"a", {1, 2}}, {"b", {1, 3}}}}},
                     {{"type", "byzantine"},
                      {"node", 1},
                      {"behavior", "twins"},
                      {"params", {{"a", {0, 2}}, {"b", {0, 3}}}}},
                     {{"type", "one_way"}, {"from", {2}}, {"to", {3}}, {"at", "0s"}},
                     {{"type", "one_way"}, {"from", {3}}, {"to", {2}}, {"at", "0s"}}};
    auto r = testing::run(doc);
    REQUIRE(r.result->violation);
    // H1 catches it first: two honest replicas accept QCs for different blocks of one view.
    CHECK(r.result->violation->invariant == "one_certificate_per_view");
    // With only one of them Byzantine, the same network cannot be broken.
    doc["faults"].erase(1);
    doc.erase("allow_unsafe_f");
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
        doc["seed"] = seed;
        auto safe = testing::run(doc);
        CHECK_FALSE(safe.result->violation);
    }
}

TEST_CASE("hotstuff: twins whose sides change per view (Twins schedules) break nothing") {
    const nlohmann::json views = {{{"view", 6}, {"a", {1}}, {"b", {2, 3}}},
                                  {{"view", 14}, {"a", {1, 2, 3}}, {"b", nlohmann::json::array()}}};
    for (std::uint64_t seed = 1; seed <= 100; ++seed) {
        auto doc = adversarial(seed, "twins", 0);
        doc["faults"][0]["params"] = {{"a", {1, 2}}, {"b", {3}}, {"views", views}};
        auto r = testing::run(doc);
        REQUIRE_FALSE(r.result->violation);
        CHECK(r.result->accepted == 12);
        for (std::uint32_t i : {1u, 2u, 3u})
            CHECK(r.result->states[i] != sim::NodeState::Byzantine);
    }

    auto bad = adversarial(1, "twins", 0);
    bad["faults"][0]["params"] = {{"views", {{{"view", 6}}, {{"view", 3}}}}};
    CHECK_THROWS_WITH_AS(protocols::validate(sim::parse_scenario(bad)),
                         "/faults/0/params/views/1/view: views must increase", sim::ScenarioError);
}

namespace {

// The views named by trace notes that contain `marker` ("... in view V"), of `node` or of any
// node but it.
std::set<std::uint64_t> noted_views(const std::string& trace, const std::string& marker,
                                    std::uint32_t node, bool of_node) {
    std::set<std::uint64_t> views;
    std::istringstream lines(trace);
    const std::string who = fmt::format("\"node\":{},", node);
    for (std::string line; std::getline(lines, line);) {
        const std::size_t at = line.find(marker);
        if (at == std::string::npos || (line.find(who) != std::string::npos) != of_node) continue;
        const std::size_t v = line.find("in view ", at);
        if (v != std::string::npos) views.insert(std::stoull(line.substr(v + 8)));
    }
    return views;
}

}  // namespace

TEST_CASE("hotstuff: every equivocation is proven by an honest replica, in its own view") {
    // A reliable network (no loss, no partition) and a run that goes on after the last request:
    // every view in which the Byzantine replica signed two conflicting statements must appear in
    // an honest replica's evidence, and no evidence names a view it did not equivocate in.
    for (const char* behavior : {"equivocate", "double_vote"}) {
        std::uint64_t equivocations = 0;
        for (std::uint64_t seed = 1; seed <= 40; ++seed) {
            const auto node = static_cast<std::uint32_t>(seed % 4);
            auto doc = adversarial(seed, behavior, node);
            doc["network"] = {{"delay", {{"dist", "uniform"}, {"min", "1ms"}, {"max", "6ms"}}}};
            doc["stop"] = {{"at", "5s"}, {"when_done", false}};
            std::ostringstream trace;
            sim::SimOptions opts;
            opts.trace = &trace;
            auto r = testing::run(doc, opts);
            REQUIRE_FALSE(r.result->violation);
            const auto signed_twice =
                noted_views(trace.str(), "byzantine equivocation:", node, true);
            const auto proven =
                noted_views(trace.str(), fmt::format("evidence against {}:", node), node, false);
            CAPTURE(behavior);
            CAPTURE(seed);
            for (std::uint64_t v : signed_twice) CHECK_MESSAGE(proven.count(v), "view ", v);
            for (std::uint64_t v : proven) CHECK_MESSAGE(signed_twice.count(v), "view ", v);
            equivocations += signed_twice.size();
        }
        CHECK_MESSAGE(equivocations > 40, behavior, ": only ", equivocations, " equivocations");
    }
}
