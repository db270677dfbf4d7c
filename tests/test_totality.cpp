// Totality of reliable broadcast (sim/totality.hpp): every index one honest replica delivered
// is delivered by every honest replica that is up, within the liveness bound. Client liveness
// does not imply it (f+1 replies suffice), so the checker keeps it apart.
#include <doctest/doctest.h>

#include <fstream>

#include "sim/totality.hpp"
#include "tests/helpers.hpp"

namespace {

using sim::seconds;

// Replicas 0..3, replica 3 Byzantine; owed from 1s with a 10s bound.
sim::TotalityMonitor monitor() {
    return sim::TotalityMonitor({true, true, true, false}, seconds(1), seconds(10));
}

nlohmann::json load(const char* file) {
    std::ifstream in(std::string(BYZSIM_SOURCE_ROOT) + "/scenarios/" + file);
    REQUIRE(in.good());
    return nlohmann::json::parse(in);
}

}  // namespace

TEST_CASE(
    "totality: an index one honest replica delivered is due at every other honest one by "
    "the bound; Byzantine replicas owe nothing") {
    auto m = monitor();
    CHECK(m.settled());
    m.on_deliver(0, 7, seconds(2));
    m.on_deliver(3, 7, seconds(2));  // Byzantine: not counted
    CHECK_FALSE(m.settled());
    m.on_deliver(1, 7, seconds(3));
    m.on_deliver(1, 7, seconds(3));  // again: ignored
    CHECK_FALSE(m.settled());
    CHECK_FALSE(m.due(seconds(12)));  // due at 2s + 10s
    REQUIRE(m.due(seconds(12) + sim::SimTime{1}));
    const auto f = m.on_step(seconds(12) + sim::SimTime{1});
    REQUIRE(f);
    CHECK(f->invariant == "totality");
    CHECK(f->nodes == std::vector<std::uint32_t>{2, 0});
    // Once every honest replica has it, nothing is owed.
    auto done = monitor();
    for (std::uint32_t r : {0u, 1u, 2u}) done.on_deliver(r, 7, seconds(2));
    CHECK(done.settled());
    CHECK_FALSE(done.on_step(seconds(100)));
}

TEST_CASE("totality: a replica owes nothing while down, and everything within the bound once up") {
    auto m = monitor();
    m.set_active(2, false, seconds(1));
    m.on_deliver(0, 7, seconds(2));
    m.on_deliver(1, 7, seconds(2));
    CHECK(m.settled());  // only the crashed replica lacks it
    CHECK_FALSE(m.on_step(seconds(20)));
    m.set_active(2, true, seconds(30));
    CHECK_FALSE(m.settled());
    CHECK_FALSE(m.on_step(seconds(40)));  // due at 30s + 10s
    const auto f = m.on_step(seconds(41));
    REQUIRE(f);
    CHECK(f->nodes.front() == 2);
    auto caught_up = monitor();
    caught_up.on_deliver(0, 7, seconds(2));
    caught_up.set_active(2, false, seconds(3));
    caught_up.set_active(2, true, seconds(4));
    caught_up.on_deliver(1, 7, seconds(5));
    caught_up.on_deliver(2, 7, seconds(13));
    CHECK(caught_up.settled());
    CHECK_FALSE(caught_up.on_step(seconds(100)));
}

TEST_CASE(
    "totality: with ready_needs_quorum_only, clients accept every request while an honest "
    "replica delivers nothing, and the checker reports totality, not liveness") {
    auto doc = load("mutations/rbc-ready_needs_quorum_only.json");
    auto mutated = testing::run(doc);
    REQUIRE(mutated.result->violation);
    CHECK(mutated.result->violation->invariant == "totality");
    CHECK(mutated.result->accepted == 20);
    CHECK(mutated.result->commits_per_node[3] == 0);
    // Honest: a stop "when done" also waits until replica 3 has delivered every value.
    doc["protocol"].erase("mutations");
    auto honest = testing::run(doc);
    REQUIRE_FALSE(honest.result->violation);
    CHECK(honest.result->stop_reason == "all requests done");
    for (std::uint32_t r = 1; r < 4; ++r) CHECK(honest.result->commits_per_node[r] == 20);
    CHECK(honest.result->end_time > seconds(5));  // the SENDs reach replica 3 after the rule
}
