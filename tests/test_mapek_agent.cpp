// One MAPE-K agent driven by hand (protocols/mapek/agent.cpp, agent_plan.cpp) on a recording
// context, with the world it samples: what it sends to the other agents, when it submits a
// decision, and which replies it takes as the decision's commit. Node k's agent is node n + k.
#include <doctest/doctest.h>

#include <algorithm>
#include <optional>

#include "protocols/common/client_messages.hpp"
#include "protocols/mapek/agent.hpp"
#include "protocols/mapek/messages.hpp"
#include "protocols/mapek/world.hpp"
#include "tests/mapek_fixtures.hpp"
#include "tests/recording_context.hpp"

namespace {

using Sent = std::vector<testing::RecordingContext::Sent>;
constexpr std::uint32_t kN = 4;
constexpr std::uint16_t kReadings = 900;  // the reading kind the agents are given
constexpr std::uint64_t kSampleTimer = 1;

// The agent of node `node`, started, in a world where every node is honest and latency spikes
// from 1s to 2s (rounds 10 to 19 of 100ms).
struct Loop {
    explicit Loop(std::uint32_t node,
                  std::shared_ptr<const mapek::Config> c = testing::spike_config(sim::seconds(2)))
        : node(node), cfg(std::move(c)), agent(cfg, node, kReadings, {}) {
        world.set_run(std::vector<bool>(kN, true), &ctx.keys());
        ctx.env = &world;
        ctx.act_as(kN + node);
        agent.on_start(ctx);
    }
    // Its sampling timer at `round`; what it sent.
    Sent sample(std::uint64_t round) {
        ctx.time = sim::SimTime{static_cast<std::int64_t>(round) * 100'000'000};
        ctx.act_as(kN + node);
        ctx.sent.clear();
        agent.on_timer(ctx, kSampleTimer);
        return ctx.sent;
    }
    // `m` from node id `from`; what it sent.
    Sent deliver(std::uint32_t from, const sim::PayloadRef& m) {
        ctx.act_as(kN + node);
        ctx.sent.clear();
        agent.on_message(ctx, sim::NodeId(from), *m);
        return ctx.sent;
    }
    // Node `from`'s agent's signed reading of `round`.
    Sent reading_from(std::uint32_t from, std::uint64_t round, std::int64_t value) {
        mapek::Reading r{from, 0, mapek::Metric::Latency, round, value, {}};
        r.sig = ctx.keys().sign(sim::NodeId(kN + from), mapek::reading_digest(r));
        ctx.act_as(kN + from);
        return deliver(kN + from, mapek::make_readings(ctx, kReadings, {r}));
    }
    // A REPLY to its request with timestamp `t`, made by replica `by` and naming `replica`.
    sim::PayloadRef reply(std::uint32_t by, std::uint32_t replica, std::uint64_t t,
                          sim::Digest result) {
        ctx.act_as(by);
        return proto::make_reply(
            ctx, proto::Reply{{}, t, sim::NodeId(kN + node), sim::NodeId(replica), result, 1});
    }

    testing::RecordingContext ctx{kN, 1};
    std::uint32_t node;
    std::shared_ptr<const mapek::Config> cfg;
    mapek::World world{cfg, 1, sim::SimTime{}, false, std::vector<bool>(kN, false)};
    mapek::Agent agent;
};

std::size_t count(const Sent& sent, std::uint16_t kind) {
    return static_cast<std::size_t>(std::count_if(
        sent.begin(), sent.end(), [&](const auto& s) { return s.msg->kind == kind; }));
}

}  // namespace

TEST_CASE("mapek agent: it sends a reading past the threshold, and its own in answer, once") {
    Loop l(2);
    // Round 5, no anomaly: nothing to say until another agent reports the round; then its own
    // reading of it, to each other agent, once however many more come.
    CHECK(count(l.sample(5), kReadings) == 0);
    CHECK(count(l.reading_from(0, 5, 250'000), kReadings) == kN - 1);
    CHECK(count(l.reading_from(1, 5, 250'000), kReadings) == 0);
    // Round 6 it has not sampled yet: it has nothing of its own to answer with.
    CHECK(count(l.reading_from(0, 6, 250'000), kReadings) == 0);
    // Round 10, in the spike: its reading goes out at once, and not again in answer.
    const Sent spike = l.sample(10);
    CHECK(count(spike, kReadings) == kN - 1);
    CHECK(count(l.reading_from(3, 10, 400'000), kReadings) == 0);
    // Round 25, back under the threshold after the anomaly: it says so at once (for the
    // outcome), and not again when the others report the round.
    CHECK(count(l.sample(25), kReadings) == kN - 1);
    CHECK(count(l.reading_from(0, 25, 100'000), kReadings) == 0);
    CHECK(count(l.reading_from(3, 25, 100'000), kReadings) == 0);
    // Round 27, two ahead of its own sampling: nothing of its own to answer with yet, though
    // its ring of 17 kept rounds still holds round 10's reading where 27's will go.
    CHECK(count(l.reading_from(0, 27, 100'000), kReadings) == 0);
}

TEST_CASE("mapek agent: a decision commits on f+1 authentic replies from the replicas named") {
    // Round 10: nodes 2 and 3 are designated (f+1 from (10 + 0) mod 4). With its own reading
    // and two more past the threshold (2f+1 readings, f+1 past it), agent 2 submits a decision
    // to every replica.
    Loop l(2);
    l.sample(10);
    l.reading_from(0, 10, 400'000);
    const Sent sent = l.reading_from(1, 10, 400'001);
    REQUIRE(count(sent, proto::kRequestKind) == kN);
    const auto& req =
        std::get<proto::Request>(static_cast<const proto::ClientMessage&>(*sent.front().msg).body);
    const sim::Digest good(0x600d), bad(0xbad);
    // Replica 0 signs replies that name replicas 2 and 3, and sends them itself: no reply is
    // replica 2's or 3's, so there are no f+1 matching ones.
    l.deliver(0, l.reply(0, 2, req.timestamp, bad));
    l.deliver(0, l.reply(0, 3, req.timestamp, bad));
    CHECK(l.ctx.accepted.empty());
    // Replies to another of its requests (another timestamp) do not count either.
    l.deliver(0, l.reply(0, 0, req.timestamp + 1, bad));
    l.deliver(1, l.reply(1, 1, req.timestamp + 1, bad));
    CHECK(l.ctx.accepted.empty());
    // Replicas 0 and 1's own replies with one result: accepted, once.
    l.deliver(0, l.reply(0, 0, req.timestamp, good));
    CHECK(l.ctx.accepted.empty());
    l.deliver(1, l.reply(1, 1, req.timestamp, good));
    REQUIRE(l.ctx.accepted.size() == 1);
    CHECK(l.ctx.accepted[0].second == good);
    l.deliver(3, l.reply(3, 3, req.timestamp, good));
    CHECK(l.ctx.accepted.size() == 1);
    // No new decision on the metric until its action can have settled: its delay (300ms) and
    // three periods after the commit at 1s. Rounds 13 and 17 both designate node 2.
    l.sample(13);
    l.reading_from(0, 13, 400'000);
    CHECK(count(l.reading_from(1, 13, 400'000), proto::kRequestKind) == 0);
    l.sample(17);
    l.reading_from(0, 17, 400'000);
    CHECK(count(l.reading_from(1, 17, 400'000), proto::kRequestKind) == kN);
}

TEST_CASE("mapek agent: only the f+1 agents designated for a round submit its decision") {
    // Rounds 10 and 11 designate nodes 2, 3 and then 3, 0 ((round + 0) mod 4 and the next f).
    // Each agent gets 2f+1 readings past the threshold, its own and two others'; only the
    // designated ones submit, to every replica.
    for (const std::uint64_t round : {10u, 11u}) {
        for (std::uint32_t node = 0; node < kN; ++node) {
            CAPTURE(round);
            CAPTURE(node);
            Loop l(node);
            l.sample(round);
            const std::uint32_t a = (node + 1) % kN, b = (node + 2) % kN;
            l.reading_from(a, round, 400'000);
            const std::size_t requests =
                count(l.reading_from(b, round, 400'000), proto::kRequestKind);
            const bool designated = (node + kN - round % kN) % kN < 2;
            CHECK(requests == (designated ? kN : 0));
        }
    }
}

TEST_CASE("mapek agent: a replaying liar submits its first decision again, old evidence and all") {
    // FORMAT.md's replay_evidence: agent 2 re-submits the first decision it made (round 10)
    // whenever nothing of its own is outstanding, even after it made another (round 17).
    mapek::Config c = *testing::spike_config(sim::seconds(2));
    c.lies[2].push_back(mapek::Lie{mapek::Lie::Kind::Replay});
    Loop l(2, std::make_shared<const mapek::Config>(std::move(c)));
    const auto submitted = [](const Sent& sent) -> std::optional<mapek::Decision> {
        for (const auto& s : sent)
            if (s.msg->kind == proto::kRequestKind)
                return mapek::decode(
                    *std::get<proto::Request>(static_cast<const proto::ClientMessage&>(*s.msg).body)
                         .data);
        return std::nullopt;
    };
    const auto commit = [&l](std::uint64_t t) {
        l.deliver(0, l.reply(0, 0, t, sim::Digest(1)));
        return l.deliver(1, l.reply(1, 1, t, sim::Digest(1)));
    };
    l.sample(10);
    l.reading_from(0, 10, 400'000);
    REQUIRE(submitted(l.reading_from(1, 10, 400'001))->round == 10);
    commit(1);
    REQUIRE(submitted(l.sample(11))->round == 10);  // the replay, outstanding
    l.sample(17);
    l.reading_from(0, 17, 400'000);
    l.reading_from(1, 17, 400'001);  // a new decision, queued behind the replay
    REQUIRE(submitted(commit(2))->round == 17);
    commit(3);
    const auto again = submitted(l.sample(18));
    REQUIRE(again);
    CHECK(again->round == 10);
    CHECK(again->evidence.size() == 3);
}

TEST_CASE("mapek agent: a delay_readings liar sends its readings `delay` late, all of them") {
    mapek::Config c = *testing::spike_config(sim::seconds(2));
    mapek::Lie late{mapek::Lie::Kind::Delay};
    late.delay = sim::milliseconds(80);
    c.lies[2].push_back(late);
    Loop l(2, std::make_shared<const mapek::Config>(std::move(c)));
    l.ctx.timers.clear();
    CHECK(count(l.sample(10), kReadings) == 0);  // past the threshold, but held back
    REQUIRE(std::count(l.ctx.timers.begin(), l.ctx.timers.end(),
                       std::pair{sim::milliseconds(80), std::uint64_t{3}}) == 1);
    l.ctx.sent.clear();
    l.agent.on_timer(l.ctx, 3);
    CHECK(count(l.ctx.sent, kReadings) == kN - 1);
}
