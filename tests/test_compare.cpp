// `byzsim compare`: side by side, the numbers agree with PROTOCOLS.md §1.7 and §2.7 in the
// fault-free fixed-delay case.
#include <doctest/doctest.h>

#include "tools/compare.hpp"

TEST_CASE("compare: PBFT costs 2n(n-1) and chained HotStuff 2(n-1) messages a decision") {
    const nlohmann::json scenario = {{"name", "cmp"},
                                     {"nodes", 4},
                                     {"network", {{"delay", "1ms"}}},
                                     {"workload", {{"clients", 1}, {"requests", 30}}}};
    const auto rows = tools::compare(scenario, {"pbft", "hotstuff"}, {4, 7, 16});
    REQUIRE(rows.size() == 6);
    for (const auto& r : rows) {
        CAPTURE(r.protocol);
        CAPTURE(r.n);
        CHECK(r.outcome == "safe");
        CHECK(r.requests == 30);
        const std::uint64_t n = r.n;
        if (r.protocol == "pbft") {
            // One request per decision, no checkpoint within 30 requests.
            CHECK(r.decisions == 30);
            CHECK(r.messages == 2 * n * (n - 1) * r.decisions);
            CHECK(r.latency_p50_ms == doctest::Approx(5.0));
        } else {
            // Proposal plus n-1 votes a view; the last three blocks stay uncommitted.
            CHECK(r.messages == 2 * (n - 1) * (r.decisions + 3));
            CHECK(r.bytes > 0);
        }
    }
    // HotStuff's traffic is linear in n, PBFT's quadratic.
    CHECK(rows[2].messages_per_decision / rows[0].messages_per_decision >
          rows[5].messages_per_decision / rows[3].messages_per_decision * 3);
}
