// Randomize's leader_schedules (Twins-style leader schedules): what a seed draws, and what it
// writes into the concrete scenario (chained HotStuff's `leaders` and a `script` fault).
#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "helpers.hpp"
#include "protocols/registry.hpp"

using nlohmann::json;

namespace {

json schedules_doc(const json& section) {
    json doc = testing::hotstuff_base(4, 20, 2);
    doc["randomize"] = {{"leader_schedules", section}};
    return doc;
}

// The view of a step's "qc:V".
std::uint64_t qc_view(const json& step) {
    return std::stoull(step.at("parent").get<std::string>().substr(3));
}

}  // namespace

TEST_CASE(
    "leader schedules: each seed draws leaders, and the Byzantine leader's forks in its views") {
    const json section = {{"views", {6, 12}}, {"nodes", {1, 2}}, {"share", 0.5},
                          {"fork", 0.7},      {"back", 3},       {"partial", 0.5}};
    const sim::ScenarioSpec spec = testing::spec_from(schedules_doc(section));
    protocols::validate(spec);
    std::set<std::uint32_t> byzantine;
    std::set<std::size_t> lengths;
    std::size_t forks = 0, partial = 0, honest_views = 0, led = 0, views = 0;
    for (std::uint64_t seed = 1; seed <= 60; ++seed) {
        CAPTURE(seed);
        const json doc = protocols::concrete_document(spec, seed);
        CHECK(doc == protocols::concrete_document(spec, seed));
        protocols::validate(sim::parse_scenario(doc));
        const std::vector<std::uint32_t> leaders = doc["protocol"]["leaders"];
        lengths.insert(leaders.size());
        CHECK(leaders.size() >= 6);
        CHECK(leaders.size() <= 12);
        const json& faults = doc["faults"];
        REQUIRE(faults.size() <= 1);
        // The drawn replica is the one that leads most views drawn by `share`.
        if (faults.empty()) continue;
        const std::uint32_t node = faults[0]["node"];
        byzantine.insert(node);
        CHECK(faults[0]["behavior"] == "script");
        std::set<std::uint64_t> stepped;
        for (const json& step : faults[0]["params"]["script"]) {
            const std::uint64_t v = step["view"];
            stepped.insert(v);
            CHECK(v >= 1);
            REQUIRE(v < leaders.size());
            CHECK(leaders[v] == node);
            if (step.contains("parent")) {
                ++forks;
                CHECK(qc_view(step) < v);
                CHECK(qc_view(step) + 3 >= v);
            }
            if (step.contains("to")) {
                ++partial;
                const std::vector<std::uint32_t> to = step["to"];
                CHECK_FALSE(to.empty());
                CHECK(std::is_sorted(to.begin(), to.end()));
                CHECK(std::find(to.begin(), to.end(), node) == to.end());
            }
            CHECK((step.contains("parent") || step.contains("to")));
        }
        for (std::uint64_t v = 1; v < leaders.size(); ++v) {
            ++views;
            if (leaders[v] != node) continue;
            ++led;
            honest_views += stepped.count(v) ? 0 : 1;
        }
    }
    CHECK(byzantine == std::set<std::uint32_t>{1, 2});
    CHECK(lengths.size() > 3);
    // share 0.5, then one in four of the rest: about 5/8 of the views.
    CHECK(led * 100 > views * 50);
    CHECK(led * 100 < views * 75);
    // fork 0.7 and partial 0.5 of the views it leads; both off in about 15% of them.
    CHECK(forks * 100 > led * 55);
    CHECK(forks * 100 < led * 85);
    CHECK(partial * 100 > led * 35);
    CHECK(partial * 100 < led * 65);
    CHECK(honest_views > 0);
}

TEST_CASE(
    "leader schedules: share 1 gives the Byzantine replica every view, fork 1 a fork in each") {
    const sim::ScenarioSpec spec = testing::spec_from(schedules_doc(
        {{"views", 8}, {"nodes", {3}}, {"share", 1}, {"fork", 1}, {"back", 1}, {"partial", 0}}));
    const json doc = protocols::concrete_document(spec, 5);
    CHECK(doc["protocol"]["leaders"] == json(std::vector<std::uint32_t>(8, 3)));
    const json& script = doc["faults"][0]["params"]["script"];
    REQUIRE(script.size() == 7);
    for (std::uint64_t v = 1; v <= 7; ++v) {
        CHECK(script[v - 1]["view"] == v);
        CHECK(script[v - 1]["parent"] == "qc:" + std::to_string(v - 1));
        CHECK_FALSE(script[v - 1].contains("to"));
    }
}
