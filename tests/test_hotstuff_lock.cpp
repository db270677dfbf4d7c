// Chained HotStuff's lock moves by views, as its votes do (protocols/hotstuff/chained.cpp states
// the argument). scenarios/regressions/hotstuff-lock-by-height.json is the leader schedule that
// breaks a lock moved by height: a fork lower but newer than the lock leaves the lock where it
// was, and the replica votes for a block its view-rule lock forbids. tests/test_mutations.cpp
// holds the file to `safe`, and to the wire monitor's safe_node with the mutation; this shows
// what the vote leads to when no monitor stops the run.
#include <doctest/doctest.h>

#include <fstream>
#include <string>

#include "tests/helpers.hpp"

namespace {

nlohmann::json regression() {
    std::ifstream in(std::string(BYZSIM_SOURCE_ROOT) +
                     "/scenarios/regressions/hotstuff-lock-by-height.json");
    REQUIRE(in.good());
    nlohmann::json doc = nlohmann::json::parse(in);
    doc.erase("expect");
    return doc;
}

nlohmann::json with_lock_by_height(nlohmann::json doc) {
    doc["protocol"]["mutations"] = nlohmann::json::array({"lock_by_height"});
    return doc;
}

}  // namespace

// The run with no wire monitor: only the checker's generic invariants watch it.
sim::RunResult run_unmonitored(const nlohmann::json& doc, testing::Run& r) {
    r.sim = protocols::build(testing::spec_from(doc), sim::SimOptions{});
    r.sim->set_wire_monitor([](const sim::MonitorEnv&) { return nullptr; });
    return r.sim->run();
}

TEST_CASE("hotstuff lock: without the wire monitor, the checker sees two logs disagree") {
    testing::Run honest, mutated;
    const sim::RunResult safe = run_unmonitored(regression(), honest);
    CHECK_FALSE(safe.violation);
    CHECK(safe.stop_reason == "all requests done");
    // Idle syncs off too: with them replica 1 takes the fork's state from replica 3 and the
    // Byzantine one before it commits, and its own committed_chain_extends check fires first.
    nlohmann::json doc = with_lock_by_height(regression());
    doc["protocol"]["mutations"].push_back("no_idle_sync");
    const sim::RunResult broken = run_unmonitored(doc, mutated);
    REQUIRE(broken.violation);
    // Replica 3 executed the view-3 block at height 1; replicas 1 and 2 commit the view-1 block
    // there once three consecutive views certify the view-10 block above it.
    CHECK(broken.violation->invariant == "agreement");
    // With idle syncs, replica 1 takes the fork's state; the next block it commits does not
    // extend what it executed, and its own check says so first.
    testing::Run synced;
    const sim::RunResult forked = run_unmonitored(with_lock_by_height(regression()), synced);
    REQUIRE(forked.violation);
    CHECK(forked.violation->invariant == "committed_chain_extends");
}
