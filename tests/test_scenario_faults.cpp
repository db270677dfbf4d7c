// Scenario parsing: the network's and the fault timeline's contradictions, each refused with
// its JSON path.
#include <doctest/doctest.h>

#include <string>

#include "sim/scenario.hpp"
#include "tests/scenario_doc.hpp"

using nlohmann::json;
using sim::milliseconds;
using sim::seconds;
using testing::doc_with;
using testing::refusal;

TEST_CASE("scenario: a bad delay distribution is refused with its path") {
    const auto delay = [](const json& d) { return doc_with({{"network", {{"delay", d}}}}); };
    CHECK(sim::parse_scenario(delay("5ms")).network.defaults.delay.value == milliseconds(5));
    const sim::DelaySpec ln = sim::parse_scenario(delay({{"dist", "lognormal"}, {"median", "2ms"}}))
                                  .network.defaults.delay;
    CHECK(ln.dist == sim::DelaySpec::Dist::Lognormal);
    CHECK(ln.sigma == 0.5);
    CHECK_REFUSED(delay({{"dist", "gauss"}}), "/network/delay/dist",
                  "unknown value \"gauss\"; expected one of: fixed, uniform");
    CHECK_REFUSED(delay({{"min", "1ms"}}), "/network/delay/dist", "missing required key 'dist'");
    CHECK_REFUSED(delay({{"dist", "uniform"}, {"min", "2ms"}, {"max", "1ms"}}),
                  "/network/delay/max", "max = 1ms is less than min = 2ms");
    CHECK_REFUSED(delay({{"dist", "uniform"}, {"min", "2ms"}}), "/network/delay/max", "missing");
    CHECK_REFUSED(delay({{"dist", "fixed"}, {"value", "1ms"}, {"mean", "1ms"}}),
                  "/network/delay/mean", "unknown key 'mean'; expected one of: dist, value");
    CHECK_REFUSED(delay({{"dist", "lognormal"}, {"median", "2ms"}, {"sigma", 0}}),
                  "/network/delay/sigma", "a number > 0");
    CHECK_REFUSED(delay({{"dist", "exponential"}, {"mean", "0s"}}), "/network/delay/mean", "> 0");
    CHECK_REFUSED(delay({{"dist", "normal"}, {"mean", "1ms"}, {"stddev", 1}}),
                  "/network/delay/stddev", "needs a unit");
    CHECK_REFUSED(delay(true), "/network/delay", "an object with \"dist\"");
}

TEST_CASE("scenario: a link or fault naming a nonexistent replica is refused") {
    CHECK_REFUSED(doc_with({{"network", {{"links", {{{"from", 0}, {"to", 4}}}}}}}),
                  "/network/links/0/to", "there is no replica 4; replicas are 0..3");
    CHECK_REFUSED(doc_with({{"network", {{"links", {{{"from", 2}, {"to", 2}}}}}}}),
                  "/network/links/0/to", "two different replicas");
    CHECK_REFUSED(doc_with({{"faults", {{{"type", "crash"}, {"at", "1s"}, {"node", -1}}}}}),
                  "/faults/0/node", "there is no replica -1");
    CHECK_REFUSED(
        doc_with(
            {{"faults", {{{"type", "one_way"}, {"at", "1s"}, {"from", {0}}, {"to", {1, 9}}}}}}),
        "/faults/0/to/1", "there is no replica 9");
}

TEST_CASE("scenario: duplicate or disconnected links are refused") {
    const auto links = [](const json& l) { return doc_with({{"network", {{"links", l}}}}); };
    const json ring = {
        {{"from", 0}, {"to", 1}}, {{"from", 1}, {"to", 2}}, {{"from", 2}, {"to", 3}}};
    CHECK(sim::parse_scenario(links(ring)).network.links.size() == 3);
    CHECK_REFUSED(links({{{"from", 0}, {"to", 1}}, {{"from", 2}, {"to", 3}}}), "/network/links",
                  "do not connect replica 0 to replica(s) 2, 3");
    json dup = ring;
    dup.push_back({{"from", 1}, {"to", 0}, {"bidirectional", false}});
    CHECK_REFUSED(links(dup), "/network/links/3", "duplicate link");
    json one_way = ring;
    one_way[0]["bidirectional"] = false;
    one_way.push_back({{"from", 1}, {"to", 0}, {"bidirectional", false}});
    CHECK(sim::parse_scenario(links(one_way)).network.links.size() == 4);
    CHECK_REFUSED(links(json::array()), "/network/links", "non-empty array");
}

TEST_CASE("scenario: more byzantine replicas than f are refused unless allow_unsafe_f") {
    const auto byz = [](std::uint32_t node) {
        return json{{"type", "byzantine"}, {"node", node}, {"behavior", "equivocate"}};
    };
    CHECK(sim::parse_scenario(doc_with({{"faults", {byz(1), byz(1)}}})).faults.size() == 2);
    CHECK_REFUSED(doc_with({{"faults", {byz(1), byz(1), byz(2)}}}), "/faults/2/node",
                  "more than f = 1; set allow_unsafe_f");
    CHECK(sim::parse_scenario(doc_with({{"faults", {byz(1), byz(2)}}, {"allow_unsafe_f", true}}))
              .faults.size() == 2);
    CHECK_REFUSED(doc_with({{"faults", {{{"type", "byzantine"}, {"node", 0}, {"behavior", ""}}}}}),
                  "/faults/0/behavior", "non-empty string");
    CHECK_REFUSED(
        doc_with({{"faults",
                   {{{"type", "byzantine"}, {"node", 0}, {"behavior", "b"}, {"params", {1}}}}}}),
        "/faults/0/params", "expected an object");
}

TEST_CASE("scenario: a fault window with until at or before at is refused") {
    const auto iso = [](const char* at, const char* until) {
        return doc_with(
            {{"faults", {{{"type", "isolate"}, {"node", 0}, {"at", at}, {"until", until}}}}});
    };
    CHECK_REFUSED(iso("2s", "2s"), "/faults/0/until", "until = 2s must be after at = 2s");
    CHECK_REFUSED(iso("2s", "1s"), "/faults/0/until", "must be after");
    CHECK(sim::parse_scenario(iso("2s", "2.001s")).faults.at(0).until == milliseconds(2001));
}

TEST_CASE("scenario: crash and recover must alternate along the sorted timeline") {
    const auto ev = [](const char* type, const char* at) {
        return json{{"type", type}, {"node", 2}, {"at", at}};
    };
    CHECK_REFUSED(doc_with({{"faults", {ev("recover", "1s")}}}), "/faults/0", "not crashed");
    // Sorted by time, the recover at 1s comes before the crash at 3s.
    CHECK_REFUSED(doc_with({{"faults", {ev("crash", "3s"), ev("recover", "1s")}}}), "/faults/1",
                  "cannot recover replica 2 at 1s");
    CHECK_REFUSED(doc_with({{"faults", {ev("crash", "1s"), ev("crash", "2s")}}}), "/faults/1",
                  "crashed already");
    const json ok =
        doc_with({{"faults", {ev("recover", "2s"), ev("crash", "1s"), ev("crash", "3s")}}});
    CHECK(sim::parse_scenario(ok).faults.size() == 3);
}

TEST_CASE("scenario: a crash with until is the crash and its recovery, on the timeline") {
    using T = sim::FaultSpec::Type;
    const auto crash = [](json extra) {
        json c = {{"type", "crash"}, {"node", 2}, {"at", "1s"}};
        c.update(extra);
        return c;
    };
    const json isolate = {{"type", "isolate"}, {"node", 0}, {"at", "1500ms"}};
    const sim::ScenarioSpec s = sim::parse_scenario(
        doc_with({{"faults", {crash({{"until", "2s"}, {"state", "lost"}}), isolate}}}));
    REQUIRE(s.faults.size() == 3);
    CHECK((s.faults[0].type == T::Crash && s.faults[0].at == seconds(1)));
    CHECK((!s.faults[0].until && !s.faults[0].lose_state));
    CHECK(s.faults[1].type == T::Isolate);
    CHECK((s.faults[2].type == T::Recover && s.faults[2].node == 2 && s.faults[2].lose_state));
    CHECK((s.faults[2].at == seconds(2) && s.faults[2].path == "/faults/0/until"));
    // The state is kept unless said otherwise; a state needs an until.
    CHECK(!sim::parse_scenario(doc_with({{"faults", {crash({{"until", "2s"}})}}}))
               .faults.at(1)
               .lose_state);
    CHECK_REFUSED(doc_with({{"faults", {crash({{"state", "kept"}})}}}), "/faults/0/state",
                  "give the crash an until");
    CHECK_REFUSED(doc_with({{"faults", {crash({{"until", "2s"}, {"state", "gone"}})}}}),
                  "/faults/0/state", "expected one of: kept, lost");
    // Its restart is checked against the rest of the timeline like a recover entry.
    const json early = {{"type", "recover"}, {"node", 2}, {"at", "1500ms"}};
    CHECK_REFUSED(doc_with({{"faults", {crash({{"until", "2s"}}), early}}}), "/faults/0/until",
                  "cannot recover replica 2 at 2s");
}

TEST_CASE("scenario: bad partitions and link faults are refused") {
    const auto part = [](const json& groups) {
        return doc_with({{"faults", {{{"type", "partition"}, {"at", "1s"}, {"groups", groups}}}}});
    };
    CHECK_REFUSED(part({{0, 1}, {1, 2}}), "/faults/0/groups/1/0", "already in group 0");
    CHECK_REFUSED(part({{0, 0}}), "/faults/0/groups/0/1", "listed twice");
    CHECK_REFUSED(part(json::array({json::array()})), "/faults/0/groups/0", "non-empty array");
    CHECK_REFUSED(part(json::array()), "/faults/0/groups", "non-empty array");
    const auto link = [](const json& extra) {
        json f = {{"type", "link"}, {"at", "1s"}, {"from", 0}, {"to", 1}};
        f.merge_patch(extra);
        return doc_with({{"faults", {f}}});
    };
    CHECK_REFUSED(link(json::object()), "/faults/0", "must set at least one of");
    CHECK_REFUSED(link({{"loss", 2}}), "/faults/0/loss", "between 0 and 1");
    CHECK(sim::parse_scenario(link({{"reorder", true}})).faults.at(0).link->reorder);
    CHECK_REFUSED(doc_with({{"faults", {{{"type", "flood"}, {"at", "1s"}}}}}), "/faults/0/type",
                  "unknown value \"flood\"; expected one of: crash, recover");
}

TEST_CASE("scenario: times that never happen before stop.at are refused") {
    CHECK_REFUSED(doc_with({{"stop", {{"at", "1s"}}}, {"workload", {{"start", "1s"}}}}),
                  "/workload/start", "never starts");
    CHECK_REFUSED(doc_with({{"stop", {{"at", "1s"}}}, {"network", {{"gst", {{"at", "2s"}}}}}}),
                  "/network/gst/at", "GST never happens");
    CHECK_REFUSED(doc_with({{"faults", {{{"type", "crash"}, {"node", 0}, {"at", "61s"}}}}}),
                  "/faults/0/at", "never happens: at = 61s is after stop.at = 1m");
    CHECK_REFUSED(
        doc_with(
            {{"stop", {{"at", "1s"}}},
             {"faults", {{{"type", "byzantine"}, {"node", 0}, {"behavior", "b"}, {"at", "5s"}}}}}),
        "/faults/0/at", "never happens");
}

TEST_CASE("scenario: expect is read and its contradictions refused") {
    const sim::ScenarioSpec s = sim::parse_scenario(doc_with({{"expect", {{"outcome", "safe"}}}}));
    CHECK(s.expect.present);
    CHECK(s.expect.safe);
    CHECK_REFUSED(doc_with({{"expect", {{"outcome", "safe"}, {"invariant", "agreement"}}}}),
                  "/expect/invariant", "only with outcome \"violation\"");
    CHECK_REFUSED(doc_with({{"expect", {{"outcome", "violation"}, {"invariant", "progress"}}}}),
                  "/expect/invariant", "expected one of: agreement, validity");
}
