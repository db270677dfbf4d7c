// What a run may ask for: the replica counts each protocol states it supports (each one runs
// every request to completion, the others are refused at /nodes), and the cost estimate a run
// is checked against before it starts (protocols/cost.hpp): close to what fault-free runs
// spend, bounded by the stop time, and refused at the path that dominates.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include <fmt/format.h>

#include "helpers.hpp"
#include "protocols/cost.hpp"

using nlohmann::json;
using testing::run;
using testing::spec_from;

namespace {

json fault_free(const char* protocol, std::uint32_t n, const char* variant = "chained") {
    json doc = testing::hotstuff_base(n, 300, 4, variant);
    doc["protocol"] = {{"name", protocol}};
    if (std::string(protocol) == "hotstuff") doc["protocol"]["variant"] = variant;
    doc["network"] = {{"delay", {{"dist", "uniform"}, {"min", "1ms"}, {"max", "5ms"}}}};
    return doc;
}

std::string refused_at(const json& doc, const protocols::Budget& b) {
    try {
        protocols::check_budget(protocols::estimate_cost(spec_from(doc)), b);
    } catch (const sim::ScenarioError& e) {
        return e.path();
    }
    return "<accepted>";
}

}  // namespace

TEST_CASE("replica counts: every n a protocol supports completes its requests; below, /nodes") {
    const std::pair<const char*, std::uint32_t> lowest[] = {
        {"pbft", 1}, {"hotstuff", 2}, {"rbc", 1}};
    for (const auto& entry : lowest) {
        const char* protocol = entry.first;
        const std::uint32_t from = entry.second;
        CHECK(protocols::replica_counts(protocol).find(fmt::format("n >= {}", from)) == 0);
        for (std::uint32_t n = 1; n <= 5; ++n) {
            json doc = fault_free(protocol, n);
            doc["workload"]["requests"] = 20;
            CAPTURE(protocol);
            CAPTURE(n);
            if (n < from) {
                CHECK_THROWS_WITH_AS(protocols::validate(spec_from(doc)),
                                     doctest::Contains("/nodes"), sim::ScenarioError);
                continue;
            }
            const auto r = run(doc);
            CHECK(!r.result->violation);
            CHECK(r.result->accepted == 20);
        }
    }
}

TEST_CASE("cost: a fault-free run spends what the estimate says, within a factor of 1.6") {
    const std::pair<const char*, const char*> kinds[] = {
        {"pbft", ""}, {"hotstuff", "chained"}, {"hotstuff", "basic"}, {"rbc", ""}};
    for (const auto& kind : kinds) {
        const char* protocol = kind.first;
        const char* variant = kind.second;
        for (const std::uint32_t n : {4u, 7u, 10u}) {
            const json doc = fault_free(protocol, n, variant);
            const protocols::CostEstimate e = protocols::estimate_cost(spec_from(doc));
            const auto r = run(doc);
            CAPTURE(protocol);
            CAPTURE(variant);
            CAPTURE(n);
            CHECK(r.result->accepted == 300);
            CHECK(e.requests == 300);
            CHECK(r.result->events <= e.events);
            CHECK(static_cast<double>(e.events) <= 1.6 * static_cast<double>(r.result->events));
        }
    }
}

TEST_CASE("cost: the stop time bounds the requests a workload can issue") {
    json open = testing::pbft_base(4, 1'000'000'000);
    open["workload"]["mode"] = "open";
    open["workload"]["rate"] = 100;
    open["stop"]["at"] = "10s";
    CHECK(protocols::estimate_cost(spec_from(open)).requests == 1000);

    // Closed loop, d = 10ms: a request and its reply take 20ms at least, per client.
    json closed = testing::pbft_base(4, 1'000'000'000);
    closed["network"]["delay"] = "10ms";
    closed["workload"]["clients"] = 2;
    closed["stop"]["at"] = "1s";
    const protocols::CostEstimate e = protocols::estimate_cost(spec_from(closed));
    CHECK(e.requests == 2 * (1000 / 20 + 1));
    CHECK(e.events_path == "/stop/at");
    const auto r = run(closed);
    CHECK(r.result->accepted > 0);
    CHECK(r.result->accepted <= e.requests);
    CHECK(r.result->events <= e.events);
}

TEST_CASE("cost: a scenario over the budget is refused at the path that dominates") {
    json billion = testing::pbft_base(4, 1'000'000'000);
    billion["workload"]["clients"] = 100;
    billion["stop"]["at"] = "1000000s";
    CHECK(refused_at(billion, {}) == "/workload/requests");
    // A cut run is not refused for its events; its memory is counted up to the cut.
    protocols::Budget cut;
    cut.cut = true;
    cut.events = 100'000;
    CHECK(refused_at(billion, cut) == "<accepted>");
    cut.events = 100'000'000'000;
    CHECK(refused_at(billion, cut) == "/workload/requests");

    json wide = testing::pbft_base(1024, 1);
    CHECK(refused_at(wide, {}) == "<accepted>");
    protocols::Budget small;
    small.bytes = 256u << 20;  // 1024² messages in flight need more
    CHECK(refused_at(wide, small) == "/nodes");
    wide["workload"]["requests"] = 1000;
    CHECK(refused_at(wide, {}) == "/workload/requests");
}

TEST_CASE("cost: MAPE-K's sampling is counted; no shipped scenario is over the default budget") {
    namespace fs = std::filesystem;
    int mapek = 0, all = 0;
    for (const auto& entry : fs::recursive_directory_iterator(BYZSIM_SOURCE_ROOT "/scenarios")) {
        const fs::path p = entry.path();
        if (p.extension() != ".json" || p.filename() == "schema.json" ||
            p.parent_path().filename() == "schema")
            continue;
        sim::ScenarioSpec spec = sim::load_scenario(p.string());
        if (spec.randomize) spec = protocols::concrete_scenario(spec, spec.seed);
        const protocols::CostEstimate e = protocols::estimate_cost(spec);
        CAPTURE(p.string());
        CHECK_NOTHROW(protocols::check_budget(e, {}));
        ++all;
        if (spec.system != "mapek") continue;
        ++mapek;
        CHECK(e.timed_events > 0);
        CHECK(e.requests == 0);  // its agents, not a workload, issue the requests
        CHECK(e.stored_bytes == 0);
        CHECK(run(spec.source).result->events <= e.events);
    }
    CHECK(all > 100);
    CHECK(mapek >= 10);
}
