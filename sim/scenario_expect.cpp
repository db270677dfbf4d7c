// What a scenario expects of its run ("/expect"); the invariants it may name are
// sim/invariants.hpp's.
#include "sim/invariants.hpp"
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
        Keys invariants;
        for (const InvariantInfo& i : kInvariants) invariants.emplace_back(i.name);
        e.invariant = std::string(invariants[read_choice(*inv, o.at("invariant"), invariants)]);
    }
    e.min_commits = o.integer("min_commits", 0, kU64Max).value_or(0);
}

}  // namespace sim
