// Bracha's reliable broadcast: its thresholds, its message count and latency per instance, and
// its three properties (agreement, totality, validity) under loss and Byzantine replicas; with
// f+1 colluders (allow_unsafe_f) the checker must report the agreement violation.
#include <doctest/doctest.h>

#include <map>
#include <set>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include "protocols/rbc/byzantine.hpp"
#include "protocols/rbc/messages.hpp"
#include "protocols/rbc/replica.hpp"
#include "tests/helpers.hpp"

// The whole file in its own namespace: its helpers may share names with other test files'.
namespace rbc_tests {

using testing::run;
using testing::sent;

namespace {

constexpr std::int64_t kD = 1'000'000;  // one message delay: 1ms

// A fault-free RBC scenario with fixed delay d = 1ms, one closed-loop client.
nlohmann::json rbc_base(std::uint32_t n, std::uint64_t requests) {
    return {{"name", "test"},
            {"nodes", n},
            {"protocol", {{"name", "rbc"}}},
            {"network", {{"delay", "1ms"}}},
            {"workload", {{"clients", 1}, {"requests", requests}}},
            {"stop", {{"at", "60s"}}}};
}

// The honest replica behind node i, Byzantine wrapper or not.
const rbc::Replica& replica(const sim::Simulator& s, std::uint32_t i) {
    const sim::Actor& a = s.actor(i);
    if (const auto* b = dynamic_cast<const rbc::ByzantineReplica*>(&a)) return b->inner();
    return static_cast<const rbc::Replica&>(a);
}
const rbc::Replica& replica(const testing::Run& r, std::uint32_t i) {
    return replica(*r.sim, i);
}

std::vector<std::uint32_t> honest_nodes(const testing::Run& r) {
    std::vector<std::uint32_t> out;
    for (std::uint32_t i = 0; i < r.sim->replicas(); ++i)
        if (r.result->states[i] != sim::NodeState::Byzantine) out.push_back(i);
    return out;
}

// Every index any honest replica delivered, with the values honest replicas delivered for it.
std::map<std::uint64_t, std::set<sim::Digest>> honest_deliveries(const testing::Run& r) {
    std::map<std::uint64_t, std::set<sim::Digest>> out;
    for (std::uint32_t i : honest_nodes(r))
        for (const auto& [index, value] : replica(r, i).delivered()) out[index].insert(value);
    return out;
}

// A Byzantine fault entry without parameters.
nlohmann::json byzantine(std::uint32_t node, const char* behavior) {
    return {{"type", "byzantine"}, {"node", node}, {"behavior", behavior}};
}

// Random delays, reordering, duplication and loss until GST at 2s.
nlohmann::json lossy_network(double loss) {
    return {{"delay", {{"dist", "uniform"}, {"min", "1ms"}, {"max", "10ms"}}},
            {"loss", loss},
            {"duplicate", 0.01},
            {"reorder", true},
            {"gst", {{"at", "2s"}, {"delta", "10ms"}}}};
}

sim::ScenarioError refusal(const nlohmann::json& doc) {
    try {
        protocols::validate(testing::spec_from(doc));
    } catch (const sim::ScenarioError& e) {
        return e;
    }
    return sim::ScenarioError("<accepted>", "");
}

}  // namespace

TEST_CASE("rbc: the thresholds follow n and f, and are Bracha's 2f+1 and f+1 at n = 3f+1") {
    for (std::uint32_t f = 0; f <= 5; ++f) {
        const proto::Quorum q{3 * f + 1, f};
        CHECK(rbc::echoes_for_ready(q) == 2 * f + 1);
        CHECK(rbc::readies_for_ready(q) == f + 1);
        CHECK(rbc::readies_for_delivery(q) == 2 * f + 1);
    }
    // ceil((n+f+1)/2) above 3f+1: two echo quorums still share f+1 replicas.
    CHECK(rbc::echoes_for_ready(proto::Quorum{5, 1}) == 4);
    CHECK(rbc::echoes_for_ready(proto::Quorum{6, 1}) == 4);
    CHECK(rbc::echoes_for_ready(proto::Quorum{8, 2}) == 6);
    for (std::uint32_t n = 1; n <= 40; ++n) {
        for (std::uint32_t f = 0; 3 * f < n; ++f) {
            const proto::Quorum q{n, f};
            const std::uint32_t e = rbc::echoes_for_ready(q);
            CHECK(2 * e >= n + f + 1);       // two echo quorums overlap in an honest replica
            CHECK(2 * (e - 1) < n + f + 1);  // and it is the smallest such size
            CHECK(n - f >= e);               // the honest replicas alone reach it
            CHECK(n - f >= rbc::readies_for_delivery(q));
        }
    }
}

TEST_CASE(
    "rbc: one instance without faults costs (n-1)(2n+1) messages and delivers 3 delays "
    "after its SEND") {
    for (std::uint32_t n : {4u, 7u, 10u}) {
        CAPTURE(n);
        std::ostringstream trace;
        auto s = protocols::build(testing::spec_from(rbc_base(n, 1)), {.trace = &trace});
        const auto& res = s->run();
        REQUIRE_FALSE(res.violation);
        CHECK(res.accepted == 1);
        const std::uint64_t m = n;
        CHECK(sent(res, "REQUEST") == 1);
        CHECK(sent(res, "SEND") == m - 1);
        CHECK(sent(res, "ECHO") == m * (m - 1));
        CHECK(sent(res, "READY") == m * (m - 1));
        CHECK(sent(res, "REPLY") == m);
        std::uint64_t protocol = 0, total = 0;
        for (std::size_t k = 0; k < res.kind_names.size(); ++k) {
            total += res.total_for_kind(k).sent;
            if (k >= proto::kFirstProtocolKind) protocol += res.total_for_kind(k).sent;
        }
        CHECK(protocol == (m - 1) * (2 * m + 1));
        CHECK(total == (m - 1) * (2 * m + 1) + 1 + m);
        CHECK(res.local_messages == 0);
        // REQUEST at 0, SEND at d, ECHO at 2d, READY at 3d: every replica delivers at 4d, and
        // the client has f+1 replies at 5d.
        REQUIRE(res.latencies_ns.size() == 1);
        CHECK(res.latencies_ns[0] == 5 * kD);
        std::istringstream lines(trace.str());
        std::string line;
        std::uint32_t commits = 0;
        while (std::getline(lines, line)) {
            auto ev = nlohmann::json::parse(line);
            if (!ev.contains("note") ||
                ev["note"].get<std::string>().rfind("commit index=", 0) != 0)
                continue;
            ++commits;
            CHECK(ev["t"].get<std::int64_t>() == 4 * kD);
        }
        CHECK(commits == n);
        for (std::uint32_t i = 0; i < n; ++i) {
            CHECK(res.commits_per_node[i] == 1);
            CHECK(replica(*s, i).delivered().size() == 1);
        }
    }
}

TEST_CASE("rbc: each of a closed-loop client's requests is one instance of 5 message delays") {
    auto r = run(rbc_base(4, 20));
    const auto& res = *r.result;
    REQUIRE_FALSE(res.violation);
    CHECK(res.accepted == 20);
    for (auto l : res.latencies_ns) CHECK(l == 5 * kD);
    CHECK(sent(res, "SEND") == 20 * 3);
    CHECK(sent(res, "ECHO") == 20 * 12);
    CHECK(sent(res, "READY") == 20 * 12);
    for (std::uint32_t i = 0; i < 4; ++i) {
        CHECK(replica(r, i).delivered().size() == 20);
        CHECK(replica(r, i).retransmitting() == 0);
    }
    CHECK(replica(r, 0).instances_started() == 20);
}

TEST_CASE(
    "rbc: a silent sender's client retries to all, and each honest replica sends the "
    "request in an instance of its own but executes it once") {
    auto doc = rbc_base(4, 1);
    doc["workload"]["retry_timeout"] = "500ms";
    doc["faults"] = nlohmann::json::array({byzantine(0, "silent")});
    auto r = run(doc);
    const auto& res = *r.result;
    REQUIRE_FALSE(res.violation);
    CHECK(res.accepted == 1);
    // The retransmission reaches every replica at 500ms + d; three instances then run in
    // parallel, delivered at 500ms + 4d.
    REQUIRE(res.latencies_ns.size() == 1);
    CHECK(res.latencies_ns[0] == 500 * kD + 5 * kD);
    CHECK(sent(res, "REQUEST") == 1 + 4);
    CHECK(sent(res, "SEND") == 3 * 3);
    CHECK(sent(res, "ECHO") == 3 * 3 * 3);
    CHECK(sent(res, "READY") == 3 * 3 * 3);
    CHECK(sent(res, "REPLY") == 3);  // one execution per honest replica
    for (std::uint32_t i = 1; i < 4; ++i) {
        CHECK(replica(r, i).instances_started() == 1);
        CHECK(replica(r, i).delivered().size() == 3);
        CHECK(res.commits_per_node[i] == 3);
    }
}

TEST_CASE(
    "rbc: with a conflicting echoer and loss before GST, whatever one honest replica "
    "delivers, every honest replica delivers (totality)") {
    std::uint64_t instances = 0;
    for (std::uint64_t seed = 1; seed <= 30; ++seed) {
        CAPTURE(seed);
        const std::uint32_t n = seed % 2 ? 4 : 7;
        auto doc = rbc_base(n, 20);
        doc["seed"] = seed;
        doc["network"] = lossy_network(0.1);
        doc["workload"]["clients"] = 2;
        doc["workload"]["retry_timeout"] = "300ms";
        doc["stop"] = {{"at", "15s"}, {"when_done", false}};
        doc["faults"] = nlohmann::json::array(
            {byzantine(static_cast<std::uint32_t>(seed % n), "conflicting_echo")});
        if (n == 7) doc["faults"].push_back(byzantine((seed + 3) % n, "conflicting_echo"));
        auto r = run(doc);
        const auto& res = *r.result;
        if (res.violation) FAIL(res.violation->invariant, ": ", res.violation->detail);
        CHECK(res.accepted == 20);
        const auto honest = honest_nodes(r);
        REQUIRE(honest.size() == n - (n == 7 ? 2 : 1));
        const auto& first = replica(r, honest[0]).delivered();
        CHECK(first.size() >= 20);
        for (std::uint32_t i : honest) {
            CHECK(replica(r, i).delivered() == first);
            // Every honest replica heard every peer's READY: retransmission has stopped.
            CHECK(replica(r, i).retransmitting() == 0);
        }
        instances += first.size();
    }
    CHECK(instances > 30 * 20);  // retransmitted requests made some extra instances
}

TEST_CASE(
    "rbc: an equivocating sender never makes honest replicas deliver two values for one "
    "instance over 200 seeds") {
    std::uint64_t evidence = 0;
    for (std::uint64_t seed = 1; seed <= 200; ++seed) {
        CAPTURE(seed);
        const std::uint32_t n = seed % 2 ? 4 : 7;
        auto doc = rbc_base(n, 10);
        doc["seed"] = seed;
        doc["network"] = lossy_network(0.02);
        doc["workload"]["clients"] = 2;
        doc["workload"]["retry_timeout"] = "200ms";
        doc["faults"] = nlohmann::json::array(
            {byzantine(0, "equivocate")});  // node 0: every client's first target
        auto r = run(doc);
        const auto& res = *r.result;
        if (res.violation) {
            FAIL(fmt::format("n={} seed {}: {} — {}", n, seed, res.violation->invariant,
                             res.violation->detail));
        }
        CHECK(res.accepted == 10);
        for (const auto& entry : honest_deliveries(r)) {
            // Either value may win (the null one when loss hid the request from enough
            // replicas), but only one per instance.
            CHECK_MESSAGE(entry.second.size() == 1, "index ", entry.first);
        }
        for (std::uint32_t i : honest_nodes(r))
            CHECK(res.commits_per_node[i] == replica(r, i).delivered().size());
        evidence += res.evidence;
    }
    CHECK(evidence > 0);  // some honest replica saw both SENDs and proved the equivocation
}

TEST_CASE(
    "rbc: f+1 colluders at n=4 (an equivocating sender and an accomplice voting for "
    "both values) break agreement and the checker says so") {
    // Honest replicas 1 and 2 are split: 1 gets the request, 2 the null value. Each sees an
    // echo quorum (3 = its own vote and the two colluders') and then 3 READYs for its value.
    auto doc = rbc_base(4, 5);
    doc["f"] = 1;
    doc["allow_unsafe_f"] = true;
    doc["faults"] = nlohmann::json::array({byzantine(0, "equivocate"), byzantine(3, "collude")});
    auto r = run(doc);
    REQUIRE(r.result->violation);
    CHECK(r.result->violation->invariant == "agreement");
    CHECK(r.result->stop_reason == "violation");
    CHECK(r.result->violation->time.ns == 4 * kD);
}

TEST_CASE("rbc: one colluder without an equivocator breaks nothing") {
    auto doc = rbc_base(4, 5);
    doc["faults"] = nlohmann::json::array({byzantine(3, "collude")});
    auto r = run(doc);
    CHECK_FALSE(r.result->violation);
    CHECK(r.result->accepted == 5);
}

TEST_CASE("rbc: a replica that crashes and recovers with its state delivers every instance") {
    auto doc = rbc_base(4, 30);
    doc["workload"]["clients"] = 2;
    doc["stop"] = {{"at", "10s"}, {"when_done", false}};
    doc["faults"] = {{{"type", "crash"}, {"node", 2}, {"at", "10ms"}},
                     {{"type", "recover"}, {"node", 2}, {"at", "3s"}}};
    auto r = run(doc);
    REQUIRE_FALSE(r.result->violation);
    CHECK(r.result->accepted == 30);
    CHECK(replica(r, 2).delivered() == replica(r, 0).delivered());
    CHECK(replica(r, 2).delivered().size() == 30);
    for (std::uint32_t i = 0; i < 4; ++i) CHECK(replica(r, i).retransmitting() == 0);
}

TEST_CASE(
    "rbc: a replica cut off while every request completes delivers them all once the "
    "partition heals") {
    auto doc = rbc_base(4, 30);
    doc["workload"]["clients"] = 2;
    doc["stop"] = {{"at", "20s"}, {"when_done", false}};
    doc["faults"] = {{{"type", "partition"}, {"groups", {{3}}}, {"at", "20ms"}, {"until", "8s"}}};
    auto r = run(doc);
    REQUIRE_FALSE(r.result->violation);
    CHECK(r.result->accepted == 30);
    CHECK(replica(r, 3).delivered() == replica(r, 0).delivered());
    CHECK(replica(r, 3).delivered().size() == 30);
    for (std::uint32_t i = 0; i < 4; ++i) CHECK(replica(r, i).retransmitting() == 0);
}

TEST_CASE(
    "rbc: unknown behaviours and parameters, and recovery without state, are refused "
    "with their paths") {
    auto doc = rbc_base(4, 1);
    doc["faults"] = nlohmann::json::array({byzantine(1, "lie")});
    auto e = refusal(doc);
    CHECK(e.path() == "/faults/0/behavior");
    CHECK(e.reason().find("conflicting_echo") != std::string::npos);

    doc = rbc_base(4, 1);
    doc["faults"] = {{{"type", "byzantine"},
                      {"node", 1},
                      {"behavior", "equivocate"},
                      {"params", {{"collude", true}}}}};
    CHECK(refusal(doc).path() == "/faults/0/params/collude");

    doc = rbc_base(4, 1);
    doc["protocol"]["batch_size"] = 4;
    CHECK(refusal(doc).path() == "/protocol/batch_size");
    doc["protocol"] = {{"name", "rbc"}, {"retransmit_timeout", "0s"}};
    CHECK(refusal(doc).path() == "/protocol/retransmit_timeout");

    doc = rbc_base(4, 1);
    doc["faults"] = {{{"type", "crash"}, {"node", 1}, {"at", "1s"}},
                     {{"type", "recover"}, {"node", 1}, {"at", "2s"}, {"state", "lost"}}};
    CHECK(refusal(doc).path() == "/faults/1/state");
    doc["faults"][1]["state"] = "kept";
    CHECK(refusal(doc).path() == "<accepted>");
}

}  // namespace rbc_tests
