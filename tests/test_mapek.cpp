// The MAPE-K loop end to end: it closes (an action brings the metric back, when the model says),
// its monitor fires on hand-built breaks and not on honest runs, and the coordinations compare.
#include <doctest/doctest.h>

#include <fstream>

#include "protocols/mapek/factory.hpp"
#include "protocols/mapek/monitor.hpp"
#include "protocols/mapek/world.hpp"
#include "tests/helpers.hpp"
#include "tests/mapek_fixtures.hpp"
#include "tests/recording_context.hpp"
#include "tools/compare_loops.hpp"

// The whole file in its own namespace: its helpers may share names with other test files'.
namespace mapek_tests {

namespace {

nlohmann::json load(const std::string& file) {
    std::ifstream in(std::string(BYZSIM_SOURCE_ROOT) + "/scenarios/mapek/" + file);
    REQUIRE(in.good());
    return nlohmann::json::parse(in);
}

nlohmann::json anomaly(const sim::RunResult& r, std::size_t i) {
    return r.system()["anomalies"][i];
}

}  // namespace

TEST_CASE(
    "mapek: the loop closes: the spike's latency is back below the threshold after the "
    "scale-out lands, and not before") {
    auto run = testing::run(load("latency_spike.json"));
    const sim::RunResult& r = *run.result;
    REQUIRE_FALSE(r.violation);
    const auto& a = anomaly(r, 0);
    REQUIRE(a["decided_ns"].is_number());
    const std::int64_t decided = a["decided_ns"].get<std::int64_t>();
    // The action executes as its decision commits; its effect lands 300ms (its delay) later.
    CHECK(a["mitigated_ns"].get<std::int64_t>() == decided + 300'000'000);
    // A decision takes the spike's first round (1s), its readings, and one PBFT commit (a few
    // 1-5ms delays).
    CHECK(decided > 1'000'000'000);
    CHECK(decided < 1'050'000'000);
    const auto& world = dynamic_cast<const mapek::World&>(*run.sim->environment());
    const std::int64_t period = 100'000'000;
    const std::uint64_t landed = static_cast<std::uint64_t>((decided + 300'000'000) / period);
    // Rounds from the spike to the effect: 4x the 100ms baseline, past 200ms; after: under.
    for (std::uint64_t round = 10; round <= landed; ++round) {
        CAPTURE(round);
        CHECK(world.truth(0, mapek::Metric::Latency, round) > 200'000);
    }
    for (std::uint64_t round = landed + 1; round < 80; ++round) {
        CAPTURE(round);
        CHECK(world.truth(0, mapek::Metric::Latency, round) < 200'000);
    }
    CHECK(r.system()["false_actions"] == 0);
    CHECK(r.system()["actions"] == 1);
    CHECK(r.system()["knowledge"]["divergent_nodes"] == 0);
    // mapek.csv: one row per decision committed (every agent is honest: each was accepted).
    const std::string csv = r.system_csv().at("mapek.csv");
    CHECK(std::count(csv.begin(), csv.end(), '\n') == 1 + static_cast<std::ptrdiff_t>(r.accepted));
    // The knowledge base holds the action and its outcome as the loop measured it: the first
    // round whose readings were back under the threshold, the one after the effect landed.
    const nlohmann::json actions = r.system()["knowledge"]["actions"];
    REQUIRE(actions.size() == 1);
    CHECK(actions[0]["cleared_round"] == landed + 1);
    CHECK(actions[0]["round"] == 10);
}

TEST_CASE(
    "mapek: local and leader coordination with one liar act falsely or not at all; bft "
    "does neither") {
    const auto liar = tools::compare_loops(load("compare_liar.json"), {"bft", "local", "leader"});
    REQUIRE(liar.size() == 3);
    CHECK(liar[0].outcome == "safe");
    CHECK(liar[0].false_actions == 0);
    CHECK(liar[0].suppressed == 0);
    CHECK(liar[1].false_actions > 0);
    CHECK(liar[2].false_actions > 0);
    const auto hider = tools::compare_loops(load("hiding_leader.json"), {"bft", "local", "leader"});
    CHECK(hider[0].suppressed == 0);
    CHECK(hider[0].mitigated == 1);
    CHECK(hider[2].suppressed == 1);
    CHECK(hider[2].mitigated == 0);
    // The leader acts alone: its knowledge holds the action, the n-1 others' do not.
    const auto spike = tools::compare_loops(load("latency_spike.json"), {"bft", "leader"});
    CHECK(spike[0].divergent == 0);
    CHECK(spike[1].actions == 1);
    CHECK(spike[1].divergent == 3);
    const std::string table = tools::loops_table(hider);
    CHECK(table.find("leader") != std::string::npos);
}

TEST_CASE("mapek: each lie alone keeps the loop safe, and the liar is the only node marked") {
    for (const char* lie :
         {"inflate", "deflate", "fake_anomaly", "hide_anomaly", "equivocate_readings",
          "replay_evidence", "delay_readings", "unjustified_plan"}) {
        for (const char* consensus : {"pbft", "hotstuff"}) {
            CAPTURE(lie);
            CAPTURE(consensus);
            nlohmann::json doc = load("latency_spike.json");
            doc["mapek"]["consensus"] = consensus;
            doc["protocol"] = {{"name", consensus}};
            doc["faults"] = {{{"type", "byzantine"}, {"node", 0}, {"behavior", lie}}};
            auto run = testing::run(doc);
            REQUIRE_FALSE(run.result->violation);
            const nlohmann::json m = run.result->system();
            CHECK(m["false_actions"] == 0);
            CHECK(m["suppressed_anomalies"] == 0);
            CHECK(anomaly(*run.result, 0)["mitigated_ns"].is_number());
            for (const auto& marked : m["detection"]["marked"]) CHECK(marked["node"] == 0);
            // What honest agents submit is justified (FORMAT.md: readings from 2f+1 nodes, f+1
            // of them past the threshold, or within it for an outcome): the replicas refuse
            // only the decisions of a liar that plans.
            const bool plans =
                std::string(lie) == "unjustified_plan" || std::string(lie) == "replay_evidence";
            if (!plans) {
                const std::string refused = consensus + std::string(".inadmissible_request");
                CHECK(run.result->refused.count(refused) == 0);
            }
        }
    }
}

TEST_CASE(
    "mapek monitor: each invariant fires on a hand-built break, and not on the honest "
    "version") {
    testing::RecordingContext ctx(4, 1);
    const auto cfg = testing::spike_config(sim::seconds(20));
    // The truth: 400,000 from round 10 (1s) on, 100,000 before.
    auto truth = [](std::uint32_t, mapek::Metric, std::uint64_t round) -> std::int64_t {
        return round >= 10 ? 400'000 : 100'000;
    };
    mapek::LoopMonitor m(cfg, truth, sim::SimTime{}, true);
    m.set_run({true, true, true, false}, &ctx.keys());
    auto reading = [&](std::uint32_t node, std::uint64_t round, std::int64_t v) {
        mapek::Reading r{node, 0, mapek::Metric::Latency, round, v, {}};
        r.sig = ctx.keys().sign(sim::NodeId(4 + node), mapek::reading_digest(r));
        return r;
    };
    mapek::Decision d{0, mapek::Metric::Latency, 0, 12, 400'001, 0, {}};
    for (std::uint32_t i = 0; i < 3; ++i) d.evidence.push_back(reading(i, 12, 400'000 + i));
    const sim::SimTime t{1'300'000'000};
    CHECK_FALSE(m.on_action(d, true, t));
    CHECK_FALSE(m.on_recorded(d));
    CHECK(m.on_action(d, false, t)->invariant == "mapek_uncommitted");
    mapek::Decision thin = d;
    thin.evidence.resize(1);
    CHECK(m.on_action(thin, true, t)->invariant == "mapek_justified");
    mapek::Decision forged = d;
    forged.evidence[1].sig = forged.evidence[0].sig;  // node 0's signature on node 1's reading
    forged.evidence[2].node = 0;                      // and node 0 counted twice
    CHECK(m.on_action(forged, true, t)->invariant == "mapek_justified");
    mapek::Decision early = d;
    early.round = 5;  // truth 100,000: no honest reading passes 200,000
    CHECK(m.on_action(early, true, t)->invariant == "mapek_false_action");
    mapek::Decision moved = d;
    moved.aggregate = 900'000;
    CHECK(m.on_recorded(moved)->invariant == "mapek_aggregate");
    CHECK(m.on_mark(1, false)->invariant == "mapek_detection");
    CHECK_FALSE(m.on_mark(3, true));

    // Liveness: observed at 1s (round 10), no action: found once the 3s bound is past.
    mapek::LoopMonitor idle(cfg, truth, sim::SimTime{}, true);
    idle.set_run({true, true, true, true}, &ctx.keys());
    CHECK_FALSE(idle.on_step(sim::seconds(4)));
    const auto f = idle.on_step(sim::SimTime{4'000'000'001});
    REQUIRE(f);
    CHECK(f->invariant == "mapek_liveness");
    mapek::LoopMonitor acted(cfg, truth, sim::SimTime{}, true);
    acted.set_run({true, true, true, true}, &ctx.keys());
    CHECK_FALSE(acted.on_step(sim::seconds(2)));
    CHECK_FALSE(acted.on_action(d, true, sim::seconds(2)));
    CHECK_FALSE(acted.on_step(sim::seconds(10)));
}

TEST_CASE("mapek world: the report counts the honest nodes whose knowledge diverged") {
    // Index 1 executes with one state at replicas 0 to 2 and another at the Byzantine replica 3
    // (not counted); index 2 with state 4 at replicas 0 and 2 and 5 at replica 1: one honest
    // node diverges, whether the loop agrees or each node acts alone; then replica 2 at an
    // index far past the others.
    testing::RecordingContext ctx(4, 1);
    for (const auto coordination : {mapek::Coordination::Bft, mapek::Coordination::Local}) {
        CAPTURE(static_cast<int>(coordination));
        mapek::Config c;
        c.n = 4;
        c.f = 1;
        c.coordination = coordination;
        c.workflows.push_back({"checkout", {100'000, 50, 1000, 10}});
        c.lies.assign(4, {});
        mapek::World w(std::make_shared<const mapek::Config>(std::move(c)), 1, sim::SimTime{},
                       false, {false, false, false, true});
        w.set_run({true, true, true, false}, &ctx.keys());
        const auto knowledge = [&w] { return w.report()["knowledge"]["divergent_nodes"]; };
        const auto commit = [&w](std::uint32_t replica, std::uint64_t index, std::uint64_t state) {
            w.on_commit(sim::SimTime{}, replica,
                        {index, 0, sim::Digest(9), sim::Digest(state), {}});
        };
        for (std::uint32_t r = 0; r < 3; ++r) commit(r, 1, 1);
        commit(3, 1, 3);
        CHECK(knowledge() == 0);
        commit(0, 2, 4);
        commit(2, 2, 4);
        commit(1, 2, 5);
        CHECK(knowledge() == 1);
        // An index far past the others (a state transfer across a long gap) is compared too.
        commit(0, 1'000'000, 6);
        commit(2, 1'000'000, 7);
        CHECK(knowledge() == 2);
    }
}

TEST_CASE("mapek config: every key of the loop's section and of its lies reaches the loop") {
    // Each value differs from its default (scenarios/FORMAT.md, "mapek"), so a key that is read
    // and dropped, or never read, shows.
    const nlohmann::json doc = {{"name", "t"},
                                {"nodes", 4},
                                {"system", "mapek"},
                                {"mapek",
                                 {{"consensus", "hotstuff"},
                                  {"coordination", "leader"},
                                  {"leader", 2},
                                  {"sample_period", "200ms"},
                                  {"retry_timeout", "700ms"},
                                  {"variation", 0.1},
                                  {"noise", 0.05},
                                  {"suspect_after", 7},
                                  {"liveness_bound", "5s"},
                                  {"workflows",
                                   {{{"name", "w"},
                                     {"latency", 1},
                                     {"error_rate", 2},
                                     {"throughput", 3},
                                     {"queue_depth", 4}}}},
                                  {"actions",
                                   {{{"name", "a"},
                                     {"metric", "error_rate"},
                                     {"threshold", 9},
                                     {"below", true},
                                     {"delay", "50ms"}}}},
                                  {"anomalies",
                                   {{{"workflow", "w"},
                                     {"type", "flap"},
                                     {"metric", "error_rate"},
                                     {"at", "1s"},
                                     {"until", "2s"},
                                     {"magnitude", 5},
                                     {"period", "300ms"}}}}}},
                                {"faults",
                                 {{{"type", "byzantine"},
                                   {"node", 1},
                                   {"behavior", "inflate"},
                                   {"at", "3s"},
                                   {"until", "4s"},
                                   {"params", {{"factor", 2.5}}}},
                                  {{"type", "byzantine"},
                                   {"node", 1},
                                   {"behavior", "delay_readings"},
                                   {"params", {{"delay", "30ms"}}}}}},
                                {"stop", {{"at", "10s"}}}};
    const auto sys = mapek::assemble(testing::spec_from(doc));
    const mapek::Config& c = *sys.cfg;
    CHECK(c.consensus == "hotstuff");
    CHECK(c.coordination == mapek::Coordination::Leader);
    CHECK(c.leader == 2);
    CHECK(c.sample_period == sim::milliseconds(200));
    CHECK(c.retry_timeout == sim::milliseconds(700));
    CHECK(c.variation == 0.1);
    CHECK(c.noise == 0.05);
    CHECK(c.suspect_after == 7);
    CHECK(c.liveness_bound == sim::seconds(5));
    REQUIRE(c.workflows.size() == 1);
    CHECK(c.workflows[0].baseline == std::array<std::int64_t, mapek::kMetrics>{1, 2, 3, 4});
    REQUIRE(c.actions.size() == 1);
    CHECK(c.actions[0].metric == mapek::Metric::ErrorRate);
    CHECK(c.actions[0].threshold == 9);
    CHECK(c.actions[0].below);
    CHECK(c.actions[0].delay == sim::milliseconds(50));
    REQUIRE(c.anomalies.size() == 1);
    const mapek::AnomalySpec& a = c.anomalies[0];
    CHECK(a.type == mapek::AnomalyType::Flap);
    CHECK(a.metric == mapek::Metric::ErrorRate);
    CHECK(a.at == sim::seconds(1));
    CHECK(a.until == sim::seconds(2));
    CHECK(a.magnitude == 5.0);
    CHECK(a.period == sim::milliseconds(300));
    REQUIRE(c.lies[1].size() == 2);  // in the order of their start times
    CHECK(c.lies[1][0].kind == mapek::Lie::Kind::Delay);
    CHECK(c.lies[1][0].delay == sim::milliseconds(30));
    CHECK(c.lies[1][1].kind == mapek::Lie::Kind::Inflate);
    CHECK(c.lies[1][1].factor == 2.5);
    CHECK(c.lies[1][1].at == sim::seconds(3));
    CHECK(c.lies[1][1].until == sim::seconds(4));
    CHECK(c.lies[0].empty());
}

TEST_CASE("mapek world: a flap multiplies the metric in every other period, the first one on") {
    // FORMAT.md: flap is `magnitude` in every other `period` from `at`. Latency 100,000 (2%
    // wander), 4x from 1s in periods of 500ms: rounds 10-14 on, 15-19 off, 20-24 on.
    mapek::Config c = *testing::spike_config(sim::seconds(20));
    c.anomalies[0].type = mapek::AnomalyType::Flap;
    c.anomalies[0].period = sim::milliseconds(500);
    const mapek::World w(std::make_shared<const mapek::Config>(std::move(c)), 1, sim::SimTime{},
                         false, std::vector<bool>(4, false));
    for (std::uint64_t round = 5; round < 30; ++round) {
        CAPTURE(round);
        const bool on = round >= 10 && (round - 10) / 5 % 2 == 0;
        const std::int64_t v = w.truth(0, mapek::Metric::Latency, round);
        CHECK(v >= (on ? 392'000 : 98'000));
        CHECK(v <= (on ? 408'000 : 102'000));
    }
}

TEST_CASE("mapek monitor: an action on one workflow leaves another's anomaly unanswered") {
    // Both workflows spike from 1s; only w0 gets an action. Liveness for w1 is owed by 4s.
    mapek::Config c = *testing::spike_config(sim::seconds(20));
    c.workflows.push_back({"search", {100'000, 50, 1000, 10}});
    mapek::AnomalySpec second = c.anomalies[0];
    second.workflow = 1;
    c.anomalies.push_back(second);
    const auto cfg = std::make_shared<const mapek::Config>(std::move(c));
    testing::RecordingContext ctx(4, 1);
    auto truth = [](std::uint32_t, mapek::Metric, std::uint64_t round) -> std::int64_t {
        return round >= 10 ? 400'000 : 100'000;
    };
    mapek::LoopMonitor m(cfg, truth, sim::SimTime{}, true);
    m.set_run({true, true, true, true}, &ctx.keys());
    const mapek::Decision d = testing::spiked_decision(ctx, 12);
    CHECK_FALSE(m.on_action(d, true, sim::milliseconds(1300)));
    CHECK_FALSE(m.on_step(sim::seconds(4)));
    const auto f = m.on_step(sim::SimTime{4'000'000'001});
    REQUIRE(f);
    CHECK(f->invariant == "mapek_liveness");
}

TEST_CASE("mapek world: an action mitigates an anomaly only if its effect lands while it lasts") {
    // The spike lasts from 1s to 2s; scale_out lands 300ms after its decision commits. Committed
    // at 1.5s it mitigates the spike at 1.8s; committed at 1.9s it lands at 2.2s, too late.
    testing::RecordingContext ctx(4, 1);
    for (const std::int64_t commit_ms : {1500, 1900}) {
        CAPTURE(commit_ms);
        mapek::World w(testing::spike_config(sim::seconds(2)), 1, sim::SimTime{}, false,
                       std::vector<bool>(4, false));
        w.set_run({true, true, true, true}, &ctx.keys());
        const auto data = mapek::encode(testing::spiked_decision(ctx, 12));
        const sim::ExecutedRequest done{{sim::NodeId(4), 1}, {}, {}, data.get()};
        for (std::uint32_t replica = 0; replica < 4; ++replica)
            w.on_commit(sim::milliseconds(commit_ms), replica,
                        {1, 0, sim::Digest(1), sim::Digest(2), {&done, 1}});
        w.on_step(sim::seconds(3));
        const auto mitigated = w.report()["anomalies"][0]["mitigated_ns"];
        if (commit_ms == 1500) {
            CHECK(mitigated == sim::milliseconds(1800).ns);
        } else {
            CHECK(mitigated.is_null());
        }
    }
}

}  // namespace mapek_tests
