// The RBC behaviours readies_to and craft (protocols/rbc/byzantine.hpp) on a recording context:
// each sends exactly the messages it claims, field by field, and an honest replica does with
// them what Bracha's §3 says: READY on f+1 READYs (unless ready_needs_quorum_only), each
// author's first vote only, and no SEND but the instance sender's own.
#include <doctest/doctest.h>

#include <algorithm>

#include "protocols/rbc/byzantine.hpp"
#include "tests/drive.hpp"
#include "tests/helpers.hpp"
#include "tests/recording_context.hpp"

// The whole file in its own namespace: its helpers may share names with other test files'.
namespace rbc_craft_tests {

namespace {

using rbc::InstanceId;
using sim::NodeId;
using Sent = std::vector<testing::RecordingContext::Sent>;

using testing::deliver;
using testing::kTick;
using testing::tick;
constexpr std::uint32_t kClient = 4;

rbc::Config config(bool amplify = true) {
    rbc::Config c;
    c.quorum = proto::Quorum{4, 1};
    if (!amplify) c.mutations.add(rbc::Mutation::ReadyNeedsQuorumOnly);
    return c;
}

nlohmann::json doc_with(const nlohmann::json& faults) {
    return {{"name", "t"},
            {"nodes", 4},
            {"protocol", {{"name", "rbc"}}},
            {"workload", {{"clients", 1}}},
            {"faults", faults}};
}

nlohmann::json entry(const char* behavior, std::uint32_t node, const nlohmann::json& params) {
    return {{"type", "byzantine"}, {"node", node}, {"behavior", behavior}, {"params", params}};
}

rbc::Behavior behavior(const char* name, std::uint32_t node, const nlohmann::json& params) {
    const auto spec =
        testing::spec_from(doc_with(nlohmann::json::array({entry(name, node, params)})));
    return rbc::parse_behavior(spec.faults.front(), spec);
}

std::unique_ptr<rbc::ByzantineReplica> byzantine(
    const char* name, std::uint32_t node, const nlohmann::json& params = nlohmann::json::object()) {
    return std::make_unique<rbc::ByzantineReplica>(std::make_unique<rbc::Replica>(config()),
                                                   std::vector{behavior(name, node, params)});
}

const rbc::Message& msg(const sim::PayloadRef& p) {
    return static_cast<const rbc::Message&>(*p);
}

proto::ClientMessageRef request(testing::RecordingContext& ctx, std::uint64_t t) {
    ctx.act_as(kClient);
    return proto::make_request(ctx, proto::Request{100 + t, t, NodeId(kClient)});
}

rbc::MessageRef signed_by(testing::RecordingContext& ctx, std::uint32_t node, rbc::Body body) {
    ctx.act_as(node);
    return rbc::make_message(ctx, std::move(body));
}

std::vector<std::uint32_t> recipients(const Sent& sent, std::uint16_t kind) {
    std::vector<std::uint32_t> out;
    for (const auto& s : sent)
        if (s.msg->kind == kind) out.push_back(s.to.v);
    return out;
}

// Instance (0, 1) with the request of client 4: replica 0's first instance.
struct Instance {
    testing::RecordingContext ctx{4, 1};
    InstanceId id{NodeId(0), 1};
    proto::ClientMessageRef req = request(ctx, 1);
    rbc::Digest value = req->digest;
    rbc::MessageRef send = signed_by(ctx, 0, rbc::Send{id, req});
};

}  // namespace

TEST_CASE(
    "rbc readies_to: by default its messages go to the first f+1 honest replicas only, "
    "READYs included, and replies still reach the client") {
    CHECK(behavior("readies_to", 0, nlohmann::json::object()).to ==
          std::vector<std::uint32_t>{1, 2});
    CHECK(behavior("readies_to", 3, {{"to", {2, 0}}}).to == std::vector<std::uint32_t>{0, 2});
    {
        // Replicas with a behaviour of their own are skipped.
        auto doc = doc_with(nlohmann::json::array({entry("readies_to", 0, nlohmann::json::object()),
                                                   entry("silent", 1, nlohmann::json::object())}));
        doc["nodes"] = 7;
        const auto spec = testing::spec_from(doc);
        CHECK(rbc::parse_behavior(spec.faults.front(), spec).to ==
              std::vector<std::uint32_t>{2, 3, 4});
    }
    Instance in;
    auto byz = byzantine("readies_to", 0);
    const Sent sends = deliver(in.ctx, *byz, 0, in.req);
    REQUIRE(sends.size() == 4);  // SEND and ECHO, each to 1 and 2
    CHECK(recipients(sends, rbc::kSend) == std::vector<std::uint32_t>{1, 2});
    CHECK(recipients(sends, rbc::kEcho) == std::vector<std::uint32_t>{1, 2});
    const auto& send = msg(sends[0].msg);
    CHECK(*rbc::as<rbc::Send>(send) == rbc::Send{in.id, in.req});
    CHECK(send.signer == NodeId(0));
    CHECK(rbc::authentic(in.ctx, send));
    CHECK(*rbc::as<rbc::Echo>(msg(sends[2].msg)) == rbc::Echo{in.id, in.value});
    deliver(in.ctx, *byz, 0, signed_by(in.ctx, 1, rbc::Echo{in.id, in.value}));
    const Sent readies = deliver(in.ctx, *byz, 0, signed_by(in.ctx, 2, rbc::Echo{in.id, in.value}));
    REQUIRE(readies.size() == 2);
    CHECK(recipients(readies, rbc::kReady) == std::vector<std::uint32_t>{1, 2});
    CHECK(*rbc::as<rbc::Ready>(msg(readies[0].msg)) == rbc::Ready{in.id, in.value});
    deliver(in.ctx, *byz, 0, signed_by(in.ctx, 1, rbc::Ready{in.id, in.value}));
    const Sent reply = deliver(in.ctx, *byz, 0, signed_by(in.ctx, 2, rbc::Ready{in.id, in.value}));
    REQUIRE(reply.size() == 1);
    CHECK(reply[0].to == NodeId(kClient));
    CHECK(reply[0].msg->kind == proto::kReplyKind);
}

TEST_CASE(
    "rbc: a replica left out gets f+1 READYs and sends its own (Bracha's amplification), "
    "then delivers when the SEND comes; under ready_needs_quorum_only it stays silent") {
    for (const bool amplify : {true, false}) {
        CAPTURE(amplify);
        Instance in;
        rbc::Replica honest(config(amplify));
        in.ctx.act_as(3);
        honest.on_start(in.ctx);
        // ECHOs from 1 and 2 (the sender's own went elsewhere): fewer than the echo quorum.
        for (std::uint32_t r : {1u, 2u})
            CHECK(deliver(in.ctx, honest, 3, signed_by(in.ctx, r, rbc::Echo{in.id, in.value}))
                      .empty());
        CHECK(
            deliver(in.ctx, honest, 3, signed_by(in.ctx, 1, rbc::Ready{in.id, in.value})).empty());
        const Sent sent =
            deliver(in.ctx, honest, 3, signed_by(in.ctx, 2, rbc::Ready{in.id, in.value}));
        if (!amplify) {
            CHECK(sent.empty());
            continue;
        }
        REQUIRE(sent.size() == 3);
        CHECK(recipients(sent, rbc::kReady) == std::vector<std::uint32_t>{0, 1, 2});
        CHECK(*rbc::as<rbc::Ready>(msg(sent[0].msg)) == rbc::Ready{in.id, in.value});
        CHECK(msg(sent[0].msg).signer == NodeId(3));
        // q = 3 READYs (1, 2 and its own): delivered, executed once the value is here.
        CHECK(in.ctx.commits.empty());
        deliver(in.ctx, honest, 3, in.send);
        REQUIRE(in.ctx.commits.size() == 1);
        CHECK(in.ctx.commits[0].index == in.id.index());
        CHECK(in.ctx.commits[0].digest == in.value);
    }
}

TEST_CASE(
    "rbc craft: an ECHO for another value in another sender's instance, after its own "
    "honest ECHO; honest replicas count the first only and hold the evidence") {
    Instance in;
    auto byz = byzantine("craft", 3);  // defaults: echo, instance other, value other
    in.ctx.act_as(3);
    byz->on_start(in.ctx);
    CHECK(std::count(in.ctx.timers.begin(), in.ctx.timers.end(),
                     std::pair{sim::milliseconds(100), kTick}) == 1);
    CHECK(tick(in.ctx, *byz, 3, sim::milliseconds(100)).empty());  // no instance seen yet
    const Sent echo = deliver(in.ctx, *byz, 3, in.send);
    REQUIRE(echo.size() == 3);
    const Sent sent = tick(in.ctx, *byz, 3, sim::milliseconds(200));
    REQUIRE(sent.size() == 3);
    CHECK(recipients(sent, rbc::kEcho) == std::vector<std::uint32_t>{0, 1, 2});
    CHECK(sent[0].msg == sent[2].msg);
    const auto& crafted = msg(sent[0].msg);
    const rbc::Echo& e = *rbc::as<rbc::Echo>(crafted);
    CHECK(e.id == in.id);
    CHECK(e.value != in.value);
    CHECK(e.value != rbc::null_value());
    CHECK(crafted.signer == NodeId(3));
    CHECK(rbc::authentic(in.ctx, crafted));
    // Replica 1 has not had the SEND: its own ECHO is missing. 3's second ECHO does not count,
    // so two more ECHOs for that value (0 and 2) are below the echo quorum of 3.
    rbc::Replica honest(config());
    CHECK(deliver(in.ctx, honest, 1, echo[0].msg).empty());
    CHECK(deliver(in.ctx, honest, 1, sent[0].msg).empty());
    REQUIRE(in.ctx.evidence_seen.size() == 1);
    CHECK(in.ctx.evidence_seen[0] ==
          std::pair<std::uint32_t, std::string>{3, "two ECHOs for one instance"});
    for (std::uint32_t r : {0u, 2u})
        CHECK(deliver(in.ctx, honest, 1, signed_by(in.ctx, r, rbc::Echo{in.id, e.value})).empty());
}

TEST_CASE("rbc craft: the wrapped replica starts its own timer; a recovery brings the tick back") {
    Instance in;
    auto byz = byzantine("craft", 3);
    in.ctx.act_as(3);
    const auto ticks = [&] {
        return std::count_if(in.ctx.timers.begin(), in.ctx.timers.end(),
                             [](const auto& t) { return (t.second & kTick) != 0; });
    };
    byz->on_start(in.ctx);
    // The honest replica's probe timer underneath, and the behaviour's tick.
    CHECK(in.ctx.timers.size() == 2);
    CHECK(ticks() == 1);
    // A crash takes every timer; on recovery the tick is set again (no instance owes a probe).
    in.ctx.timers.clear();
    byz->on_recover(in.ctx);
    CHECK(ticks() == 1);
    deliver(in.ctx, *byz, 3, in.send);
    CHECK(tick(in.ctx, *byz, 3, sim::milliseconds(100)).size() == 3);
}

TEST_CASE(
    "rbc craft: the same READY again and again counts as one author; a second author "
    "makes f+1") {
    Instance in;
    auto byz = byzantine("craft", 3, {{"kind", "ready"}, {"value", "seen"}, {"to", {1}}});
    in.ctx.act_as(3);
    byz->on_start(in.ctx);
    deliver(in.ctx, *byz, 3, signed_by(in.ctx, 2, rbc::Echo{in.id, in.value}));
    const Sent first = tick(in.ctx, *byz, 3, sim::milliseconds(100));
    const Sent second = tick(in.ctx, *byz, 3, sim::milliseconds(200));
    REQUIRE(first.size() == 1);
    REQUIRE(second.size() == 1);
    CHECK(first[0].to == NodeId(1));
    CHECK(*rbc::as<rbc::Ready>(msg(first[0].msg)) == rbc::Ready{in.id, in.value});
    CHECK(*rbc::as<rbc::Ready>(msg(second[0].msg)) == rbc::Ready{in.id, in.value});
    CHECK(msg(first[0].msg).signer == NodeId(3));
    rbc::Replica honest(config());
    in.ctx.act_as(1);
    honest.on_start(in.ctx);
    CHECK(deliver(in.ctx, honest, 1, first[0].msg).empty());
    // A repeat is a peer asking: answered with our votes, of which there are none.
    CHECK(deliver(in.ctx, honest, 1, second[0].msg).empty());
    const Sent ready =
        deliver(in.ctx, honest, 1, signed_by(in.ctx, 2, rbc::Ready{in.id, in.value}));
    CHECK(recipients(ready, rbc::kReady) == std::vector<std::uint32_t>{0, 2, 3});
}

TEST_CASE("rbc craft: a SEND for another sender's instance is refused; no ECHO, no state") {
    Instance in;
    auto byz = byzantine("craft", 3, {{"kind", "send"}, {"value", "seen"}});
    in.ctx.act_as(3);
    byz->on_start(in.ctx);
    deliver(in.ctx, *byz, 3, in.send);
    const Sent sent = tick(in.ctx, *byz, 3, sim::milliseconds(100));
    REQUIRE(sent.size() == 3);
    const auto& forged = msg(sent[0].msg);
    CHECK(*rbc::as<rbc::Send>(forged) == rbc::Send{in.id, in.req});
    CHECK(forged.signer == NodeId(3));
    CHECK_FALSE(rbc::authentic(in.ctx, forged));  // a SEND is signed by its instance's sender
    rbc::Replica honest(config());
    CHECK(deliver(in.ctx, honest, 1, sent[0].msg).empty());
    CHECK(honest.retransmitting() == 0);
    CHECK(in.ctx.commits.empty());
}

TEST_CASE(
    "rbc craft: a second SEND for its own instance, with the null value, gets no second "
    "ECHO and is evidence of equivocation") {
    Instance in;
    auto byz = byzantine("craft", 0, {{"kind", "send"}, {"instance", "own"}, {"to", {1, 3}}});
    in.ctx.act_as(0);
    byz->on_start(in.ctx);
    // Before it started an instance: counter 1, the null value.
    const Sent early = tick(in.ctx, *byz, 0, sim::milliseconds(100));
    REQUIRE(early.size() == 2);
    CHECK(*rbc::as<rbc::Send>(msg(early[0].msg)) == rbc::Send{in.id, {}});
    const Sent honest_send = deliver(in.ctx, *byz, 0, in.req);
    REQUIRE(recipients(honest_send, rbc::kSend) == std::vector<std::uint32_t>{1, 2, 3});
    const Sent sent = tick(in.ctx, *byz, 0, sim::milliseconds(200));
    REQUIRE(sent.size() == 2);
    CHECK(recipients(sent, rbc::kSend) == std::vector<std::uint32_t>{1, 3});
    const auto& second = msg(sent[0].msg);
    CHECK(*rbc::as<rbc::Send>(second) == rbc::Send{in.id, {}});
    CHECK(rbc::value_of(*rbc::as<rbc::Send>(second)) == rbc::null_value());
    CHECK(rbc::authentic(in.ctx, second));
    rbc::Replica honest(config());
    const Sent echo = deliver(in.ctx, honest, 1, honest_send[0].msg);
    CHECK(recipients(echo, rbc::kEcho) == std::vector<std::uint32_t>{0, 2, 3});
    CHECK(deliver(in.ctx, honest, 1, sent[0].msg).empty());
    REQUIRE(in.ctx.evidence_seen.size() == 1);
    CHECK(in.ctx.evidence_seen[0].first == 0);
}

TEST_CASE("rbc craft: nothing is sent for a value it has not seen") {
    Instance in;
    for (const std::string kind : {"send", "echo", "ready"}) {
        CAPTURE(kind);
        auto byz = byzantine("craft", 0, {{"kind", kind}, {"instance", "own"}, {"value", "seen"}});
        in.ctx.act_as(0);
        in.ctx.timers.clear();
        byz->on_start(in.ctx);
        CHECK(tick(in.ctx, *byz, 0, sim::milliseconds(100)).empty());
    }
}

TEST_CASE("rbc: a sender starts one instance per request, and none for an older one") {
    // A client's retransmission, or a request older than the one under way, starts nothing.
    testing::RecordingContext ctx(4, 1);
    rbc::Replica r(config());
    ctx.act_as(0);
    r.on_start(ctx);
    auto sends = [&] {
        std::size_t n = 0;
        for (const auto& s : ctx.sent) n += rbc::as<rbc::Send>(msg(s.msg)) ? 1 : 0;
        return n;
    };
    const auto t1 = request(ctx, 1), t2 = request(ctx, 2);
    for (const auto& [req, total] : {std::pair{t1, 3u}, {t1, 3u}, {t2, 6u}, {t1, 6u}, {t2, 6u}}) {
        ctx.act_as(0);
        r.on_message(ctx, sim::NodeId(kClient), *req);
        CHECK(sends() == total);  // a SEND to each of the three others per instance
    }
}

TEST_CASE("rbc: a vote for an instance of a sender that is no replica is refused") {
    // Instances are named by their sender, a replica (PROTOCOLS.md §4.12): f+1 READYs, or 2f+1
    // ECHOs, for an instance of node 4 (a client) make an honest replica send nothing.
    Instance in;
    const InstanceId client_id{NodeId(kClient), 1};
    for (const bool ready : {true, false}) {
        CAPTURE(ready);
        rbc::Replica honest(config());
        in.ctx.act_as(1);
        honest.on_start(in.ctx);
        for (std::uint32_t r : {0u, 2u, 3u}) {
            const rbc::MessageRef m = ready ? signed_by(in.ctx, r, rbc::Ready{client_id, in.value})
                                            : signed_by(in.ctx, r, rbc::Echo{client_id, in.value});
            CHECK_FALSE(rbc::authentic(in.ctx, *m));
            CHECK(deliver(in.ctx, honest, 1, m).empty());
        }
        // The same votes for replica 0's instance: it answers.
        std::size_t sent = 0;
        for (std::uint32_t r : {0u, 2u, 3u})
            sent += deliver(in.ctx, honest, 1,
                            ready ? signed_by(in.ctx, r, rbc::Ready{in.id, in.value})
                                  : signed_by(in.ctx, r, rbc::Echo{in.id, in.value}))
                        .size();
        CHECK(sent > 0);
    }
}

}  // namespace rbc_craft_tests
