// The knowledge base's check of a decision, one crafted decision per rule it enforces (a
// Byzantine agent can send each), and its state through a snapshot.
#include <doctest/doctest.h>

#include <memory>

#include "protocols/mapek/knowledge.hpp"
#include "tests/helpers.hpp"
#include "tests/recording_context.hpp"

// The whole file in its own namespace: its helpers may share names with other test files'.
namespace mapek_knowledge_tests {

namespace {

using mapek::Decision;
using mapek::Metric;
using mapek::Reading;

// n = 4, f = 1; one workflow; scale_out above 200,000us of latency.
std::shared_ptr<const mapek::Config> config(bool mean = false) {
    mapek::Config c;
    c.n = 4;
    c.f = 1;
    c.workflows.push_back({"checkout", {100'000, 50, 1000, 10}});
    c.actions.push_back({"scale_out", Metric::Latency, 200'000, false, sim::milliseconds(300)});
    c.lies.assign(4, {});
    c.bugs[static_cast<std::size_t>(mapek::Bug::MeanInsteadOfMedian)] = mean;
    return std::make_shared<const mapek::Config>(std::move(c));
}

// A reading of round 10 signed by `signer`'s agent (client n + signer), claiming `node`.
Reading reading(testing::RecordingContext& ctx, std::uint32_t node, std::int64_t value,
                std::uint32_t signer) {
    Reading r{node, 0, Metric::Latency, 10, value, {}};
    ctx.act_as(4 + signer);
    r.sig = ctx.sign(mapek::reading_digest(r));
    ctx.act_as(0);
    return r;
}

// A justified decision of `round`: three readings past the threshold, their median recorded.
Decision justified(testing::RecordingContext& ctx, std::uint64_t round = 10) {
    Decision d{0, Metric::Latency, 0, round, 400'001, 1, {}};
    for (std::uint32_t i = 0; i < 3; ++i) {
        Reading r = reading(ctx, i, 400'000 + i, i);
        r.round = round;
        r.sig = ctx.keys().sign(sim::NodeId(4 + i), mapek::reading_digest(r));
        d.evidence.push_back(r);
    }
    return d;
}

// An outcome of `round`: three readings back at the baseline, their median recorded.
Decision outcome_at(testing::RecordingContext& ctx, std::uint64_t round) {
    Decision clear{0, Metric::Latency, 0, round, 100'001, 2, {}};
    for (std::uint32_t i = 0; i < 3; ++i) {
        Reading r{i, 0, Metric::Latency, round, 100'000 + i, {}};
        r.sig = ctx.keys().sign(sim::NodeId(4 + i), mapek::reading_digest(r));
        clear.evidence.push_back(r);
    }
    clear.outcome = true;
    return clear;
}

proto::Request request(const Decision& d) {
    return proto::Request{mapek::kDecisionOp, 1, sim::NodeId(5), mapek::encode(d)};
}

bool admits(const mapek::KnowledgeBase& kb, testing::RecordingContext& ctx,
            const proto::Request& req) {
    return kb.admits(ctx, req, proto::request_digest(req));
}

}  // namespace

TEST_CASE("mapek knowledge: a justified decision is admitted; each broken rule is refused") {
    testing::RecordingContext ctx(4, 1);
    const auto cfg = config();
    mapek::KnowledgeBase kb(cfg);
    const Decision good = justified(ctx);
    CHECK(admits(kb, ctx, request(good)));
    CHECK_FALSE(mapek::unjustified(*cfg, ctx, good));

    auto refused = [&](Decision d, const char* why) {
        CAPTURE(why);
        CHECK(mapek::unjustified(*cfg, ctx, d) == std::string(why));
        CHECK_FALSE(admits(kb, ctx, request(d)));
    };
    Decision d = good;
    d.evidence.pop_back();
    refused(d, "readings from fewer than 2f+1 nodes");
    d = good;
    d.evidence[2] = reading(ctx, 0, 400'002, 0);
    refused(d, "two readings from one node");
    d = good;
    d.evidence[2] = reading(ctx, 2, 400'002, 1);  // node 1's agent signs as node 2
    refused(d, "a reading its node's agent did not sign");
    d = good;
    d.evidence[2].value = 900'000;  // edited under its signature
    refused(d, "a reading its node's agent did not sign");
    d = good;
    d.evidence[1] = reading(ctx, 1, 100'000, 1);
    d.evidence[2] = reading(ctx, 2, 100'000, 2);
    d.aggregate = 100'000;
    refused(d, "fewer than f+1 readings past the threshold");
    d = good;
    d.evidence[2].round = 11;
    d.evidence[2].sig = reading(ctx, 2, 400'002, 2).sig;
    refused(d, "a reading of another workflow, metric or round");
    d = good;
    d.aggregate = 5'000'000;
    refused(d, "an aggregate its readings do not give");
    for (std::uint32_t w : {1u, 3u}) {  // one workflow: index 0 only
        d = good;
        d.workflow = w;
        refused(d, "no such workflow");
    }
    d = good;
    d.action = 1;
    refused(d, "not the action for this metric");
    // Bytes that are not one decision.
    proto::Request bad = request(good);
    auto bytes = *bad.data;
    bytes.pop_back();
    bad.data = std::make_shared<const std::vector<std::uint8_t>>(bytes);
    CHECK_FALSE(admits(kb, ctx, bad));
    CHECK_FALSE(mapek::decode(bytes));
    // Cut at a reading's end: the count says three readings, the bytes hold two.
    Decision two = good;
    two.evidence.pop_back();
    auto cut = *mapek::encode(good);
    cut.resize(mapek::encode(two)->size());
    CHECK_FALSE(mapek::decode(cut));
    // A reading of a metric the format does not have (4 metrics: 0 to 3) does not decode.
    for (std::size_t metric : {mapek::kMetrics - 1, mapek::kMetrics, std::size_t{255}}) {
        CAPTURE(metric);
        d = good;
        d.evidence[1].metric = static_cast<Metric>(metric);
        CHECK(mapek::decode(*mapek::encode(d)).has_value() == (metric < mapek::kMetrics));
    }
}

TEST_CASE("mapek knowledge: the aggregate is the median; the mean bug lets one liar move it") {
    testing::RecordingContext ctx(4, 1);
    CHECK(mapek::aggregate(*config(), {400, 401, 1'000'000}) == 401);
    CHECK(mapek::aggregate(*config(), {400, 401, 402, 1'000'000}) == 401);
    CHECK(mapek::aggregate(*config(true), {400, 401, 1'000'000}) == 333'600);
}

TEST_CASE("mapek knowledge: one action per anomaly, equivocation and outliers marked") {
    testing::RecordingContext ctx(4, 1);
    auto cfg = config();
    mapek::KnowledgeBase kb(cfg);
    Decision d = justified(ctx);
    CHECK(kb.apply(d) == mapek::Outcome::Executed);
    // Another decision of a round before the action settled (300ms = 3 rounds, plus 3).
    CHECK(kb.apply(justified(ctx, 15)) == mapek::Outcome::Redundant);
    CHECK(kb.apply(justified(ctx, 16)) == mapek::Outcome::Executed);
    // Node 2 signed two values for one (workflow, metric, round): Byzantine.
    Decision twin = d;
    twin.evidence[2] = reading(ctx, 2, 777'777, 2);
    CHECK(kb.mark(2) == mapek::Mark::None);
    kb.apply(twin);
    CHECK(kb.mark(2) == mapek::Mark::Byzantine);
    // Node 3 far from the median three times (suspect_after = 3): suspected; others never.
    for (std::uint64_t round : {40, 50, 60}) {
        Decision o = d;
        o.round = round;
        o.evidence.push_back(Reading{3, 0, Metric::Latency, round, 9'000'000, {}});
        for (auto& r : o.evidence) r.round = round;
        kb.apply(o);
    }
    CHECK(kb.mark(3) == mapek::Mark::Suspected);
    CHECK(kb.mark(0) == mapek::Mark::None);
    CHECK(kb.mark(1) == mapek::Mark::None);
    // A snapshot carries every mark, Byzantine ones included: a replica that restores it holds
    // the same marks and digest.
    kb.seal(1, sim::Digest(42));
    mapek::KnowledgeBase copy(cfg);
    REQUIRE(copy.restore(kb.snapshot()));
    CHECK(copy.digest() == kb.digest());
    for (std::uint32_t node = 0; node < 4; ++node) CHECK(copy.mark(node) == kb.mark(node));
}

TEST_CASE(
    "mapek knowledge: an outcome needs f+1 readings within the threshold and clears the "
    "last action before it, once") {
    testing::RecordingContext ctx(4, 1);
    auto cfg = config();
    mapek::KnowledgeBase kb(cfg);
    CHECK(kb.apply(justified(ctx, 10)) == mapek::Outcome::Executed);
    // Readings of round 14 back at the baseline: an outcome.
    const Decision clear = outcome_at(ctx, 14);
    CHECK_FALSE(mapek::unjustified(*cfg, ctx, clear));
    // The readings of an anomaly do not show it cleared.
    Decision still = justified(ctx, 12);
    still.outcome = true;
    CHECK(mapek::unjustified(*cfg, ctx, still) ==
          std::string("fewer than f+1 readings within the threshold"));
    CHECK(kb.apply(clear) == mapek::Outcome::Cleared);
    REQUIRE(kb.records().size() == 1);
    CHECK(kb.records()[0].cleared == 14);
    CHECK(kb.apply(clear) == mapek::Outcome::Redundant);
    // An outcome of a round before the action clears nothing.
    mapek::KnowledgeBase other(cfg);
    other.apply(justified(ctx, 20));
    CHECK(other.apply(clear) == mapek::Outcome::Redundant);
    CHECK(other.records()[0].cleared == 0);
}

TEST_CASE("mapek knowledge: a snapshot restores the same state; edited data is refused") {
    testing::RecordingContext ctx(4, 1);
    auto cfg = config();
    mapek::KnowledgeBase kb(cfg);
    const proto::Request req = request(justified(ctx));
    kb.execute(req, proto::request_digest(req), 1, 1);
    const sim::Digest state = kb.seal(1, sim::Digest(42));
    const proto::AppSnapshot snap = kb.snapshot();
    CHECK(snap.digest == state);
    mapek::KnowledgeBase other(cfg);
    CHECK(other.digest() != state);
    CHECK(other.restore(snap));
    CHECK(other.digest() == state);
    CHECK(other.executed() == 1);
    auto edited = *snap.data;
    edited[0] ^= 1;
    mapek::KnowledgeBase third(cfg);
    CHECK_FALSE(third.restore({state, std::make_shared<const std::vector<std::uint8_t>>(edited)}));
    CHECK(third.executed() == 0);
}

TEST_CASE(
    "mapek knowledge: a snapshot of a full knowledge base, outcomes and all, restores its "
    "digest") {
    testing::RecordingContext ctx(4, 1);
    auto cfg = config();
    mapek::KnowledgeBase kb(cfg);
    // More actions than the base keeps (the last 64), ten rounds apart: each settles first.
    const std::size_t actions = mapek::KnowledgeBase::kKeptRecords + 6;
    std::uint64_t index = 0;
    auto execute = [&](const Decision& d) {
        const proto::Request req = request(d);
        kb.execute(req, proto::request_digest(req), ++index, 1);
        kb.seal(index, sim::Digest(index));
    };
    for (std::size_t i = 0; i < actions; ++i) execute(justified(ctx, 10 + 10 * i));
    REQUIRE(kb.executed() == actions);
    CHECK(kb.records().size() == mapek::KnowledgeBase::kKeptRecords);
    // The last action's outcome: readings back at the baseline, four rounds on.
    const std::uint64_t round = 10 + 10 * (actions - 1) + 4;
    const sim::Digest before = kb.digest();
    execute(outcome_at(ctx, round));
    REQUIRE(kb.records().back().cleared == round);
    CHECK(kb.digest() != before);
    // A replica that restores the snapshot holds the same state, by the digest it computes
    // from the records it restored.
    mapek::KnowledgeBase other(cfg);
    REQUIRE(other.restore(kb.snapshot()));
    CHECK(other.digest() == kb.digest());
    CHECK(other.records().size() == mapek::KnowledgeBase::kKeptRecords);
    CHECK(other.records().back().cleared == round);
}

TEST_CASE("mapek knowledge: a replica that finds a decision checked pays its readings' checks") {
    // The run-wide memo saves the simulator's work, not virtual time (sim/actor.hpp).
    testing::RecordingContext ctx(4, 1);
    ctx.memo = true;
    const auto cfg = config();
    const proto::Request req = request(justified(ctx));
    std::uint64_t charged[2] = {};
    for (std::uint64_t& c : charged) {
        const mapek::KnowledgeBase kb(cfg);
        ctx.verifications = 0;
        CHECK(admits(kb, ctx, req));
        c = ctx.verifications;
    }
    CHECK(charged[0] == 3);  // f + 1 = 2 needed, all three carried are checked
    CHECK(charged[1] == charged[0]);
}

TEST_CASE("mapek knowledge: the state digest covers the executed batches, as LogChain's does") {
    // Two replicas with the same decisions but another batch at an index hold different
    // states: agreement on digests catches a log that diverged without changing the knowledge.
    testing::RecordingContext ctx(4, 1);
    const auto cfg = config();
    mapek::KnowledgeBase a(cfg), b(cfg), c(cfg);
    for (mapek::KnowledgeBase* kb : {&a, &b, &c}) kb->apply(justified(ctx));
    CHECK(a.seal(1, sim::Digest(42)) == b.seal(1, sim::Digest(42)));
    CHECK(c.seal(1, sim::Digest(43)) != a.digest());
    CHECK(a.seal(2, sim::Digest(44)) != c.seal(2, sim::Digest(44)));
}

}  // namespace mapek_knowledge_tests
