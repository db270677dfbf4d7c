// The randomize section, one-seed runs, sweep.csv rows and shrinking.
#include <doctest/doctest.h>

#include <fstream>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "helpers.hpp"
#include "protocols/registry.hpp"
#include "reports/report.hpp"
#include "sim/randomize.hpp"
#include "tools/shrink.hpp"
#include "tools/sweep.hpp"

using nlohmann::json;

namespace {

json swarm_doc() {
    json doc = testing::pbft_base(4, 50);
    doc["stop"]["at"] = "20s";
    doc["randomize"] = {
        {"byzantine", {{"count", {0, 1}}, {"behaviors", {"silent", "equivocate"}}}},
        {"crashes",
         {{"count", {0, 1}},
          {"at", {"0s", "1s"}},
          {"duration", {"10ms", "500ms"}},
          {"state", {"kept", "lost"}}}},
        {"partitions", {{"count", {0, 2}}, {"at", {"0s", "1s"}}, {"duration", {"10ms", "300ms"}}}},
        {"network",
         {{"delay", {{"min", "1ms"}, {"max", "5ms"}}},
          {"loss", {0, 0.05}},
          {"reorder", {false, true}},
          {"gst", {"0s", "1s"}}}},
        {"workload", {{"requests", {1, 40}}, {"clients", {1, 3}}}}};
    return doc;
}

std::string refusal_path(const json& doc) {
    try {
        protocols::validate(sim::parse_scenario(doc));
    } catch (const sim::ScenarioError& e) {
        return e.path();
    }
    return "(accepted)";
}

}  // namespace

TEST_CASE("randomize: a seed draws one concrete, valid scenario, the same every time") {
    const sim::ScenarioSpec spec = sim::parse_scenario(swarm_doc());
    REQUIRE(spec.randomize);
    const json a = protocols::concrete_document(spec, 7);
    CHECK(a == protocols::concrete_document(spec, 7));
    CHECK_FALSE(a.contains("randomize"));
    CHECK(a["seed"] == 7);
    const sim::ScenarioSpec s = sim::parse_scenario(a);
    CHECK_FALSE(s.randomize);
    CHECK(s.seed == 7);
    // Different seeds draw different scenarios (not only different timings).
    std::set<std::string> docs;
    for (std::uint64_t seed = 1; seed <= 20; ++seed)
        docs.insert(protocols::concrete_document(spec, seed).dump());
    CHECK(docs.size() == 20);
}

// Windows drawn near the largest duration: a start plus a length would overflow, so each
// window must end at the run's end instead, and every seed draw a scenario that parses.
TEST_CASE("randomize: windows near the duration limit end at the run's end") {
    const json doc = json::parse(R"({"name": "t", "nodes": 4, "workload": {"requests": 2},
        "stop": {"at": "1000000s", "when_done": false},
        "randomize": {"swarm": false,
          "crashes": {"count": 1, "at": ["999964s", "999999s"],
                      "duration": ["1s", "1000000s"]},
          "rules": {"count": 1, "at": ["999964s", "999999s"],
                    "duration": ["1s", "1000000s"]},
          "partitions": {"count": 1, "at": ["999964s", "999999s"],
                         "duration": ["1s", "1000000s"]}}})");
    const sim::ScenarioSpec spec = sim::parse_scenario(doc);
    for (std::uint64_t seed = 1; seed <= 30; ++seed) {
        CAPTURE(seed);
        const sim::ScenarioSpec s = sim::parse_scenario(protocols::concrete_document(spec, seed));
        REQUIRE(s.faults.size() >= 3);
        for (const sim::FaultSpec& f : s.faults) {
            CHECK(f.at <= s.stop.at);
            if (f.until) CHECK(*f.until <= s.stop.at);
        }
        // Deadlines past the last fault would overflow too: the checker must not see one.
        if (seed <= 5) {
            const auto sim = protocols::build(s);
            const sim::RunResult& r = sim->run();
            CHECK_FALSE(r.violation);
            CHECK(r.accepted == 2);
        }
    }
}

TEST_CASE("randomize: swarm switches each fault class on for some seeds and off for others") {
    const sim::ScenarioSpec spec = sim::parse_scenario(swarm_doc());
    int byzantine = 0, crashes = 0, partitions = 0, lossy = 0, lost_state_with_byzantine = 0;
    const int seeds = 200;
    for (int seed = 1; seed <= seeds; ++seed) {
        const sim::ScenarioSpec s = protocols::concrete_scenario(spec, seed);
        int byz = 0, crash = 0, part = 0, lost = 0;
        for (const sim::FaultSpec& f : s.faults) {
            byz += f.type == sim::FaultSpec::Type::Byzantine;
            crash += f.type == sim::FaultSpec::Type::Crash;
            part += f.type == sim::FaultSpec::Type::Partition ||
                    f.type == sim::FaultSpec::Type::OneWay ||
                    f.type == sim::FaultSpec::Type::Isolate;
            lost += f.type == sim::FaultSpec::Type::Recover && f.lose_state;
        }
        CHECK(byz <= 1);  // at most f
        CHECK(s.workload.requests >= 1);
        CHECK(s.workload.requests <= 40);
        CHECK(s.network.defaults.loss_ppm <= 50'000);
        byzantine += byz > 0;
        crashes += crash > 0;
        partitions += part > 0;
        lossy += s.network.defaults.loss_ppm > 0;
        lost_state_with_byzantine += lost > 0 && byz > 0;
    }
    // Each class on for roughly half the seeds: far from never and from always.
    for (int on : {byzantine, crashes, partitions, lossy}) {
        CHECK(on > seeds / 4);
        CHECK(on < seeds * 3 / 4);
    }
    // A restart without state is a fault too: never on top of f Byzantine replicas.
    CHECK(lost_state_with_byzantine == 0);
}

TEST_CASE("randomize: a bad section is refused at its JSON path") {
    json doc = swarm_doc();
    doc["randomize"]["byzantine"]["count"] = json::array({0, 2});
    CHECK(refusal_path(doc) == "/randomize/byzantine/count");  // 2 > f = 1
    doc["allow_unsafe_f"] = true;
    CHECK(refusal_path(doc) == "(accepted)");

    doc = swarm_doc();
    doc["randomize"]["byzantine"]["behaviors"][1] = "no_such_behaviour";
    CHECK(refusal_path(doc) == "/randomize/byzantine/behaviors/1");

    doc = swarm_doc();
    doc["randomize"]["crashes"]["at"] = json::array({"0s", "30s"});
    CHECK(refusal_path(doc) == "/randomize/crashes/at");  // beyond stop.at

    doc = swarm_doc();
    doc["randomize"]["network"]["loss"] = json::array({0.5, 0.1});
    CHECK(refusal_path(doc) == "/randomize/network/loss/1");

    doc = swarm_doc();
    doc["randomize"]["partitions"]["kinds"] = json::array({"split", "sideways"});
    CHECK(refusal_path(doc) == "/randomize/partitions/kinds/1");

    doc = swarm_doc();
    doc["randomize"]["wobble"] = true;
    CHECK(refusal_path(doc) == "/randomize/wobble");

    doc = swarm_doc();
    doc["randomize"]["byzantine"]["nodes"] = json::array({1, 7});
    CHECK(refusal_path(doc) == "/randomize/byzantine/nodes/1");
}

TEST_CASE("sweep rows: a CSV line reads back to the same row; torn lines are refused") {
    tools::SeedRow r;
    r.seed = 42;
    r.outcome = "violation";
    r.invariant = "agreement";
    r.events = 1234;
    r.commits = 17;
    r.virtual_time_ns = 987654321;
    r.fingerprint = "0123456789abcdef";
    const std::string line = tools::sweep_csv_line(r);
    CHECK(line == "42,violation,agreement,1234,17,987654321,0123456789abcdef\n");
    const auto back = tools::parse_sweep_csv_line(line.substr(0, line.size() - 1));
    REQUIRE(back);
    CHECK(tools::sweep_csv_line(*back) == line);
    CHECK_FALSE(tools::parse_sweep_csv_line("42,violation,agreement,1234,17,9876"));
    CHECK_FALSE(tools::parse_sweep_csv_line("42,maybe,,1,1,1,0123456789abcdef"));
    CHECK(tools::parse_seed_range("5..9") == std::pair<std::uint64_t, std::uint64_t>{5, 9});
    CHECK(tools::parse_seed_range("3") == std::pair<std::uint64_t, std::uint64_t>{3, 3});
    CHECK_THROWS(tools::parse_seed_range("9..5"));
    CHECK_THROWS(tools::parse_seed_range("x..5"));
}

TEST_CASE("run_seed: a failing seed yields the drawn scenario, which replays exactly") {
    json doc = testing::pbft_base(4, 10);
    doc["f"] = 1;
    doc["allow_unsafe_f"] = true;
    doc["faults"] = {{{"type", "byzantine"},
                      {"node", 0},
                      {"behavior", "equivocate"},
                      {"params", {{"collude", true}}}},
                     {{"type", "byzantine"}, {"node", 3}, {"behavior", "collude"}}};
    doc["randomize"] = {{"network", {{"delay", {{"min", "1ms"}, {"max", "4ms"}}}}}};
    const sim::ScenarioSpec spec = sim::parse_scenario(doc);
    json drawn;
    std::string detail;
    // The primary equivocates with an accomplice: P1 breaks whatever the delays.
    const tools::SeedRow row = tools::run_seed(spec, 3, true, &drawn, &detail);
    CHECK(row.outcome == "violation");
    CHECK(row.invariant == "prepared_once");
    CHECK_FALSE(detail.empty());
    REQUIRE(drawn.is_object());
    CHECK(drawn["expect"]["invariant"] == "prepared_once");
    const tools::RunOutcome again = tools::run_concrete(sim::parse_scenario(drawn));
    REQUIRE(again.violation);
    CHECK(reports::fingerprint_hex(again.fingerprint) == row.fingerprint);
}

TEST_CASE("shrink: a failure keeps its invariant and loses what it does not need") {
    // A collusion that breaks P1 (prepared_once), buried in faults that play no part in it.
    json doc = testing::pbft_base(4, 30);
    doc["f"] = 1;
    doc["allow_unsafe_f"] = true;
    doc["network"] = {{"delay", {{"dist", "uniform"}, {"min", "1ms"}, {"max", "3ms"}}},
                      {"duplicate", 0.01}};
    doc["workload"]["clients"] = 3;
    doc["faults"] = {
        {{"type", "byzantine"},
         {"node", 0},
         {"behavior", "equivocate"},
         {"params", {{"collude", true}}}},
        {{"type", "byzantine"}, {"node", 3}, {"behavior", "collude"}},
        {{"type", "crash"}, {"node", 2}, {"at", "5s"}},
        {{"type", "recover"}, {"node", 2}, {"at", "6s"}},
        {{"type", "isolate"}, {"node", 1}, {"at", "7s"}, {"until", "8s"}},
    };
    tools::ShrinkOptions o;
    o.verbose = false;
    const tools::ShrinkResult r = tools::shrink_document(doc, o);
    CHECK(r.invariant == "prepared_once");
    CHECK(r.after.total() < r.before.total());
    CHECK(r.after.faults == 2);  // the two colluders
    CHECK(r.after.requests < 30);
    CHECK(r.after.clients == 1);
    CHECK(r.after.network_settings == 0);
    CHECK(r.minimal["expect"]["invariant"] == "prepared_once");
    const tools::RunOutcome replay = tools::run_concrete(sim::parse_scenario(r.minimal));
    REQUIRE(replay.violation);
    CHECK(replay.violation->invariant == "prepared_once");
    CHECK(replay.fingerprint == r.fingerprint);
    // Shrinking is deterministic.
    CHECK(tools::shrink_document(doc, o).minimal == r.minimal);
    // A scenario that does not fail is refused.
    CHECK_THROWS_AS(tools::shrink_document(testing::pbft_base(4, 3), o), std::runtime_error);
}

TEST_CASE("shrink: a fault entry the other steps keep can go under another seed") {
    std::ifstream in(std::string(BYZSIM_SOURCE_ROOT) + "/tests/data/shrink-reseed.json");
    REQUIRE(in.good());
    const json doc = json::parse(in);
    tools::ShrinkOptions o;
    o.verbose = false;
    o.reseeds = 0;
    const tools::ShrinkResult kept = tools::shrink_document(doc, o);
    CHECK(kept.after.faults == 4);
    CHECK(kept.minimal["seed"] == 1457);
    o.reseeds = 256;
    const tools::ShrinkResult r = tools::shrink_document(doc, o);
    CHECK(r.invariant == kept.invariant);
    CHECK(r.after.faults <= 3);
    CHECK(r.minimal["seed"] != 1457);
    const tools::RunOutcome replay = tools::run_concrete(sim::parse_scenario(r.minimal));
    REQUIRE(replay.violation);
    CHECK(replay.violation->invariant == r.invariant);
    CHECK(replay.fingerprint == r.fingerprint);
}

TEST_CASE("shrink: a crash and its recover entry become one crash entry with until and state") {
    std::ifstream in(std::string(BYZSIM_SOURCE_ROOT) +
                     "/scenarios/mutations/hotstuff-forget_lock_after_restart.json");
    REQUIRE(in.good());
    const json doc = json::parse(in);
    REQUIRE(doc["faults"].size() == 3);
    tools::ShrinkOptions o;
    o.verbose = false;
    const tools::ShrinkResult r = tools::shrink_document(doc, o);
    CHECK(r.invariant == "safe_node");
    CHECK(r.after.faults == 2);
    const json& crash = r.minimal["faults"][1];
    CHECK(crash["type"] == "crash");
    CHECK(crash["state"] == "kept");
    CHECK(crash.contains("until"));
    const tools::RunOutcome replay = tools::run_concrete(sim::parse_scenario(r.minimal));
    REQUIRE(replay.violation);
    CHECK(replay.fingerprint == r.fingerprint);
}

TEST_CASE("randomize: a combination of behaviours goes to one drawn replica, each part valid") {
    json doc = swarm_doc();
    const json combination =
        json::array({{{"behavior", "equivocate"}, {"params", {{"collude", true}}}},
                     "lying_view_change",
                     {{"behavior", "drop"}, {"at", {"5ms", "6ms"}}, {"duration", "90ms"}}});
    doc["randomize"]["byzantine"] = {{"count", 1}, {"behaviors", json::array({combination})}};
    const sim::ScenarioSpec spec = sim::parse_scenario(doc);
    protocols::validate(spec);
    for (std::uint64_t seed = 1; seed <= 10; ++seed) {
        const sim::ScenarioSpec s = protocols::concrete_scenario(spec, seed);
        std::set<std::uint32_t> nodes;
        std::vector<std::string> kinds;
        for (const sim::FaultSpec& f : s.faults) {
            if (f.type != sim::FaultSpec::Type::Byzantine) continue;
            nodes.insert(f.node);
            kinds.push_back(f.behavior);
            // Only the part with its own window has one.
            CHECK(f.until.has_value() == (f.behavior == "drop"));
            if (f.behavior == "drop") {
                CHECK(f.at.ns >= 5'000'000);
                CHECK(f.at.ns <= 6'000'000);
                CHECK(f.until->ns - f.at.ns == 90'000'000);
            }
        }
        CHECK(nodes.size() == 1);
        CHECK(kinds == std::vector<std::string>{"equivocate", "lying_view_change", "drop"});
    }

    doc["randomize"]["byzantine"]["behaviors"][0][1] = "no_such_behaviour";
    CHECK(refusal_path(doc) == "/randomize/byzantine/behaviors/0/1");
    doc["randomize"]["byzantine"]["behaviors"][0][1] = {{"behavior", "drop"}, {"at", "1ms"}};
    CHECK(refusal_path(doc) == "/randomize/byzantine/behaviors/0/1/duration");
    doc["randomize"]["byzantine"]["behaviors"][0] = json::array();
    CHECK(refusal_path(doc) == "/randomize/byzantine/behaviors/0");
}

TEST_CASE("randomize: the workload's mode and an open loop's rate are drawn from their ranges") {
    json doc = swarm_doc();
    doc["randomize"]["workload"] = {
        {"requests", {5, 9}}, {"modes", json::array({"closed", "open"})}, {"rate", {2, 50}}};
    const sim::ScenarioSpec spec = sim::parse_scenario(doc);
    protocols::validate(spec);
    std::set<sim::WorkloadSpec::Mode> modes;
    std::set<std::uint64_t> requests;
    for (std::uint64_t seed = 1; seed <= 40; ++seed) {
        const sim::ScenarioSpec s = protocols::concrete_scenario(spec, seed);
        modes.insert(s.workload.mode);
        requests.insert(s.workload.requests);
        if (s.workload.mode != sim::WorkloadSpec::Mode::Open) continue;
        CHECK(s.workload.rate_per_s >= 2);
        CHECK(s.workload.rate_per_s <= 50);
    }
    CHECK(modes.size() == 2);
    CHECK(*requests.begin() >= 5);
    CHECK(*requests.rbegin() <= 9);
    // The counts' draws come first, from the same stream: adding modes leaves them as they were.
    json counts_only = doc;
    counts_only["randomize"]["workload"].erase("modes");
    counts_only["randomize"]["workload"].erase("rate");
    const sim::ScenarioSpec plain = sim::parse_scenario(counts_only);
    for (std::uint64_t seed = 1; seed <= 10; ++seed)
        CHECK(protocols::concrete_scenario(plain, seed).workload.requests ==
              protocols::concrete_scenario(spec, seed).workload.requests);
}

TEST_CASE("randomize: a closed loop's think time is drawn from its range, an open loop has none") {
    json doc = swarm_doc();
    doc["randomize"]["workload"] = {{"modes", json::array({"closed", "open"})},
                                    {"rate", {2, 50}},
                                    {"think", {"10ms", "400ms"}}};
    const sim::ScenarioSpec spec = sim::parse_scenario(doc);
    protocols::validate(spec);
    std::set<std::int64_t> thinks;
    for (std::uint64_t seed = 1; seed <= 40; ++seed) {
        const sim::ScenarioSpec s = protocols::concrete_scenario(spec, seed);
        if (s.workload.mode == sim::WorkloadSpec::Mode::Open) {
            CHECK(s.workload.think.ns == 0);
            continue;
        }
        CHECK(s.workload.think >= sim::milliseconds(10));
        CHECK(s.workload.think <= sim::milliseconds(400));
        thinks.insert(s.workload.think.ns);
    }
    CHECK(thinks.size() > 5);
    // Without modes, the scenario's own (closed) mode draws a think time too.
    doc["randomize"]["workload"].erase("modes");
    const sim::ScenarioSpec closed = sim::parse_scenario(doc);
    CHECK(protocols::concrete_scenario(closed, 3).workload.think >= sim::milliseconds(10));
}
