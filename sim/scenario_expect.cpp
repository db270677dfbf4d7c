// What a scenario expects of its run ("/expect"), and the invariants it may name: the
// checker's, the protocols' wire monitors' and the MAPE-K loop monitor's.
#include "sim/json_read.hpp"
#include "sim/scenario_read.hpp"

namespace sim {

using namespace jsonr;

void read_expect(const json& v, ExpectSpec& e) {
    const Fields o(v, "/expect", {"outcome", "invariant", "min_commits"});
    e.present = true;
    e.safe = read_choice(o.need("outcome"), o.at("outcome"), {"safe", "violation"}) == 0;
    if (const json* inv = o.find("invariant")) {
        if (e.safe) fail(o.at("invariant"), "'invariant' applies only with outcome \"violation\"");
        const Keys invariants = {"agreement",
                                 "validity",
                                 "integrity",
                                 "client_safety",
                                 "liveness",
                                 "false_evidence",
                                 "quorum",
                                 "one_certificate_per_view",
                                 "committed_chain_extends",
                                 "three_chain",
                                 "safe_node",
                                 "catch_up",
                                 "vote_once",
                                 "totality",
                                 "sign_once",
                                 "prepared_once",
                                 "committed_kept",
                                 "committed_local",
                                 "view_change_timer",
                                 "mapek_justified",
                                 "mapek_false_action",
                                 "mapek_aggregate",
                                 "mapek_uncommitted",
                                 "mapek_detection",
                                 "mapek_liveness"};
        e.invariant = std::string(invariants[read_choice(*inv, o.at("invariant"), invariants)]);
    }
    e.min_commits = o.integer("min_commits", 0, kU64Max).value_or(0);
}

}  // namespace sim
