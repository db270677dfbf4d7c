// The PBFT behaviours that craft chosen messages (protocols/pbft/byzantine_craft.hpp), each on a
// recording context: the behaviour emits exactly the message it claims, field by field, and an
// honest replica refuses what the paper says it refuses.
#include <doctest/doctest.h>

#include <algorithm>

#include "protocols/pbft/byzantine.hpp"
#include "tests/drive.hpp"
#include "tests/helpers.hpp"
#include "tests/pbft_fixtures.hpp"
#include "tests/recording_context.hpp"

// The whole file in its own namespace: its helpers may share names with other test files'.
namespace pbft_craft_tests {

namespace {

using pbft::Digest;
using pbft::Seq;
using pbft::View;
using sim::NodeId;

using testing::deliver;
using testing::kTick;
using testing::tick;

pbft::Behavior behavior(const char* name, const nlohmann::json& params, std::uint32_t node) {
    auto doc = testing::pbft_base(4, 1);
    doc["workload"]["clients"] = 4;
    doc["faults"] = {
        {{"type", "byzantine"}, {"node", node}, {"behavior", name}, {"params", params}}};
    const auto spec = testing::spec_from(doc);
    return pbft::parse_behavior(spec.faults.front(), spec);
}

std::unique_ptr<pbft::ByzantineReplica> byzantine(const char* name, const nlohmann::json& params,
                                                  std::uint32_t node) {
    return std::make_unique<pbft::ByzantineReplica>(
        std::make_unique<pbft::Replica>(testing::small_pbft_config()),
        std::vector{behavior(name, params, node)});
}

const pbft::Message& msg(const sim::PayloadRef& p) {
    return static_cast<const pbft::Message&>(*p);
}

proto::ClientMessageRef request(testing::RecordingContext& ctx, std::uint32_t client,
                                std::uint64_t t) {
    ctx.act_as(client);
    return proto::make_request(ctx, proto::Request{100 + t, t, NodeId(client)});
}

std::size_t count_kind(const std::vector<testing::RecordingContext::Sent>& sent,
                       std::uint16_t kind) {
    return static_cast<std::size_t>(std::count_if(
        sent.begin(), sent.end(), [&](const auto& s) { return s.msg->kind == kind; }));
}

// What replica `node` (honest, view 0) sends on VIEW-CHANGEs for view 1 from replicas 2 and 3
// (3's is `from_3`): the f+1 join rule makes it send its own if both are valid.
std::size_t joins(testing::RecordingContext& ctx, const sim::PayloadRef& from_3) {
    pbft::Replica honest(testing::small_pbft_config());
    ctx.act_as(2);
    const sim::PayloadRef from_2 =
        pbft::make_message(ctx, pbft::ViewChange{View(1), Seq{}, Digest{}, {}, {}});
    std::size_t sent = count_kind(deliver(ctx, honest, 1, from_3), pbft::kViewChange);
    CHECK(sent == 0);  // one replica alone never moves an honest one (§1.6 rule 4)
    sent = count_kind(deliver(ctx, honest, 1, from_2), pbft::kViewChange);
    CHECK(honest.view() == (sent > 0 ? View(1) : View(0)));
    return sent;
}

}  // namespace

TEST_CASE(
    "pbft craft: preprepare sends its chosen PRE-PREPAREs to 'to' and the honest one to "
    "the rest") {
    testing::RecordingContext ctx(4, 1);
    auto byz = byzantine(
        "preprepare", {{"seq_offset", 3}, {"digest", "null"}, {"to", {1, 2}}, {"twice", true}}, 0);
    const auto req = request(ctx, 4, 1);
    const auto sent = deliver(ctx, *byz, 0, req);
    REQUIRE(sent.size() == 5);  // two crafted each to 1 and 2, the honest one to 3
    for (std::size_t k = 0; k < 4; ++k) {
        CHECK(sent[k].to == NodeId(k < 2 ? 1 : 2));
        const auto& m = msg(sent[k].msg);
        CHECK(*pbft::as<pbft::PrePrepare>(m) ==
              pbft::PrePrepare{View(0), Seq(k % 2 == 0 ? 4 : 5), pbft::null_digest(), {}});
        CHECK(m.signer == NodeId(0));
        CHECK(pbft::authentic(ctx, m));
    }
    CHECK(sent[0].msg == sent[2].msg);  // made once, shared by every recipient
    CHECK(sent[4].to == NodeId(3));
    CHECK(*pbft::as<pbft::PrePrepare>(msg(sent[4].msg)) ==
          pbft::PrePrepare{View(0), Seq(1), pbft::batch_digest({req}), {req}});
}

TEST_CASE(
    "pbft craft: backups refuse a PRE-PREPARE above the high watermark or with a digest "
    "not its batch's") {
    testing::RecordingContext ctx(4, 1);
    for (const auto& params : {nlohmann::json{{"seq_offset", 20}},
                               nlohmann::json{{"seq_offset", 0}, {"digest", "other"}}}) {
        auto byz = byzantine("preprepare", params, 0);
        const auto req = request(ctx, 4, 1);
        const auto sent = deliver(ctx, *byz, 0, req);
        REQUIRE(sent.size() == 3);
        const auto& pp = *pbft::as<pbft::PrePrepare>(msg(sent[0].msg));
        CHECK(pp.v == View(0));
        CHECK(pp.batch == std::vector<proto::ClientMessageRef>{req});
        if (params.contains("digest")) {
            CHECK(pp.n == Seq(1));
            CHECK(pp.d != pbft::batch_digest(pp.batch));
        } else {
            CHECK(pp.n == Seq(21));  // h = 0, L = 20: above H
            CHECK(pp.d == pbft::batch_digest(pp.batch));
        }
        CHECK(pbft::authentic(ctx, msg(sent[0].msg)));
        pbft::Replica honest(testing::small_pbft_config());
        CHECK(deliver(ctx, honest, 1, sent[0].msg).empty());  // §1.3 step 3 (a), (d)
    }
}

TEST_CASE(
    "pbft craft: preprepare twice orders a request again at the next number, and a "
    "backup refuses the conflicting PRE-PREPARE there") {
    testing::RecordingContext ctx(4, 1);
    auto byz = byzantine("preprepare", {{"seq_offset", 0}, {"twice", true}}, 0);
    const auto a = request(ctx, 4, 1), b = request(ctx, 5, 1);
    const auto first = deliver(ctx, *byz, 0, a), second = deliver(ctx, *byz, 0, b);
    REQUIRE(first.size() == 6);
    REQUIRE(second.size() == 6);
    const auto& a1 = *pbft::as<pbft::PrePrepare>(msg(first[0].msg));
    const auto& a2 = *pbft::as<pbft::PrePrepare>(msg(first[1].msg));
    const auto& b2 = *pbft::as<pbft::PrePrepare>(msg(second[0].msg));
    const auto& b3 = *pbft::as<pbft::PrePrepare>(msg(second[1].msg));
    CHECK(a1 == pbft::PrePrepare{View(0), Seq(1), pbft::batch_digest({a}), {a}});
    CHECK(a2 == pbft::PrePrepare{View(0), Seq(2), pbft::batch_digest({a}), {a}});
    CHECK(b2 == pbft::PrePrepare{View(0), Seq(2), pbft::batch_digest({b}), {b}});
    CHECK(b3 == pbft::PrePrepare{View(0), Seq(3), pbft::batch_digest({b}), {b}});
    pbft::Replica honest(testing::small_pbft_config());
    const sim::PayloadRef order[] = {first[0].msg, first[1].msg, second[0].msg, second[1].msg};
    const std::size_t prepares[] = {1, 1, 0, 1};  // (v, n) = (0, 2) twice: §1.3 step 3 (c)
    for (std::size_t k = 0; k < 4; ++k)
        CHECK(count_kind(deliver(ctx, honest, 1, order[k]), pbft::kPrepare) == prepares[k] * 3);
}

TEST_CASE(
    "pbft craft: stale_view_change sends the oldest-view certificate it saw, and counts "
    "as one valid VIEW-CHANGE") {
    testing::RecordingContext ctx(4, 1);
    auto byz = byzantine("stale_view_change", {{"prepared", "stale"}, {"every", "100ms"}}, 3);
    ctx.act_as(3);
    byz->on_start(ctx);
    const auto req = request(ctx, 4, 1);
    ctx.act_as(0);
    const pbft::MessageRef pp = pbft::make_message(
        ctx, pbft::PrePrepare{View(0), Seq(1), pbft::batch_digest({req}), {req}});
    std::vector<pbft::MessageRef> prepares;
    for (std::uint32_t r : {1u, 2u}) {
        ctx.act_as(r);
        prepares.push_back(
            pbft::make_message(ctx, pbft::Prepare{View(0), Seq(1), pbft::batch_digest({req})}));
    }
    deliver(ctx, *byz, 3, pp);
    for (const auto& p : prepares) deliver(ctx, *byz, 3, p);
    const auto sent = tick(ctx, *byz, 3, sim::milliseconds(100));
    REQUIRE(sent.size() == 3);
    CHECK(sent[0].msg == sent[2].msg);
    const auto& vc = *pbft::as<pbft::ViewChange>(msg(sent[0].msg));
    CHECK(vc.v == View(1));
    CHECK(vc.n_ckpt == Seq(0));
    CHECK(vc.C.empty());
    REQUIRE(vc.P.size() == 1);
    CHECK(vc.P[0].pre_prepare == pp);
    // q-1 = 2 matching PREPAREs: its own (it prepared as a backup) and replica 1's.
    REQUIRE(vc.P[0].prepares.size() == 2);
    CHECK(vc.P[0].prepares[0]->signer == NodeId(3));
    CHECK(vc.P[0].prepares[1] == prepares[0]);
    CHECK(msg(sent[0].msg).signer == NodeId(3));
    CHECK(joins(ctx, sent[0].msg) == 3);
}

TEST_CASE("pbft craft: the oldest certificate per number is the stale one") {
    testing::RecordingContext ctx(4, 1);
    pbft::Replica inner(testing::small_pbft_config());
    pbft::Observed seen;
    std::vector<sim::PayloadRef> keep;
    for (std::uint64_t v : {2u, 1u}) {
        const auto primary = static_cast<std::uint32_t>(v % 4);
        ctx.act_as(primary);
        const Digest d = pbft::batch_digest({});
        keep.push_back(pbft::make_message(ctx, pbft::PrePrepare{View(v), Seq(3), d, {}}));
        seen.see(ctx, inner, msg(keep.back()));
        for (std::uint32_t r = 0, got = 0; r < 4 && got < 2; ++r) {
            if (r == primary) continue;
            ctx.act_as(r);
            keep.push_back(pbft::make_message(ctx, pbft::Prepare{View(v), Seq(3), d}));
            seen.see(ctx, inner, msg(keep.back()));
            ++got;
        }
    }
    const auto certs = seen.oldest_certs(20, View(5));
    REQUIRE(certs.size() == 1);
    CHECK(pbft::as<pbft::PrePrepare>(*certs[0].pre_prepare)->v == View(1));
    CHECK(seen.oldest_certs(20, View(1)).empty());  // only views below the one it asks for
}

TEST_CASE("pbft craft: stale_view_change with a forged certificate is refused") {
    testing::RecordingContext ctx(4, 1);
    auto byz = byzantine("stale_view_change", {{"prepared", "forged"}}, 3);
    ctx.act_as(3);
    byz->on_start(ctx);
    const auto req = request(ctx, 5, 1);
    deliver(ctx, *byz, 3, req);
    const auto sent = tick(ctx, *byz, 3, sim::milliseconds(500));  // "every" defaults to 500ms
    REQUIRE(sent.size() == 3);
    const auto& vc = *pbft::as<pbft::ViewChange>(msg(sent[0].msg));
    CHECK(vc.v == View(1));
    CHECK(vc.n_ckpt == Seq(0));
    REQUIRE(vc.P.size() == 1);
    const auto& cert = vc.P[0];
    const auto& pp = msg(cert.pre_prepare);
    CHECK(*pbft::as<pbft::PrePrepare>(pp) ==
          pbft::PrePrepare{View(0), Seq(1), pbft::batch_digest({req}), {req}});
    CHECK(pp.signer == NodeId(0));  // claims view 0's primary, under replica 3's key
    CHECK_FALSE(pbft::authentic(ctx, pp));
    REQUIRE(cert.prepares.size() == 2);
    const std::uint32_t signers[] = {3, 1};
    for (std::size_t k = 0; k < 2; ++k) {
        const auto& p = msg(cert.prepares[k]);
        CHECK(*pbft::as<pbft::Prepare>(p) ==
              pbft::Prepare{View(0), Seq(1), pbft::batch_digest({req})});
        CHECK(p.signer == NodeId(signers[k]));
        CHECK(pbft::authentic(ctx, p) == (k == 0));  // only its own PREPARE is genuine
    }
    CHECK(joins(ctx, sent[0].msg) == 0);
}

TEST_CASE(
    "pbft craft: bogus_checkpoint sends well-formed CHECKPOINTs for random states that "
    "never move an honest low watermark") {
    testing::RecordingContext ctx(4, 1);
    auto byz = byzantine("bogus_checkpoint", {{"count", 6}, {"every", "50ms"}}, 2);
    ctx.act_as(2);
    byz->on_start(ctx);
    const auto sent = tick(ctx, *byz, 2, sim::milliseconds(50));
    REQUIRE(sent.size() == 18);  // 6 messages, each to the 3 others
    pbft::Replica honest(testing::small_pbft_config());
    for (std::size_t k = 0; k < 6; ++k) {
        CHECK(sent[3 * k].msg == sent[3 * k + 2].msg);
        const auto& m = msg(sent[3 * k].msg);
        const auto& c = *pbft::as<pbft::Checkpoint>(m);
        CHECK(m.signer == NodeId(2));
        CHECK(pbft::authentic(ctx, m));
        CHECK(pbft::consistent(c));
        CHECK(c.clients.empty());
        CHECK(c.state == pbft::service_digest(c.chain, {}));
        if (k % 2 == 0) {  // a checkpoint number in the window (0, 20]
            CHECK((c.n == Seq(10) || c.n == Seq(20)));
        } else {  // up to 8 windows above it
            CHECK(c.n.v > 20);
            CHECK(c.n.v <= 20 + 160);
        }
        for (int again = 0; again < 3; ++again)
            CHECK(deliver(ctx, honest, 1, sent[3 * k].msg).empty());
        CHECK(honest.low_watermark() == Seq(0));
    }
}

TEST_CASE(
    "pbft craft: client_request signs a REQUEST as its own client and, as primary, adds "
    "it to its next PRE-PREPARE") {
    testing::RecordingContext ctx(4, 1);
    auto byz = byzantine("client_request", nlohmann::json::object(), 0);
    ctx.act_as(0);
    byz->on_start(ctx);
    const auto sent = tick(ctx, *byz, 0, sim::milliseconds(200));  // "every" defaults to 200ms
    REQUIRE(sent.size() == 3);
    const auto& own = static_cast<const proto::ClientMessage&>(*sent[0].msg);
    const auto& r = std::get<proto::Request>(own.body);
    CHECK(r.client == NodeId(0));
    CHECK(r.timestamp == 1);
    CHECK(own.signer == NodeId(0));
    CHECK(proto::authentic(ctx, own));
    const auto real = request(ctx, 4, 1);
    const auto pps = deliver(ctx, *byz, 0, real);
    REQUIRE(pps.size() == 3);
    const proto::ClientMessageRef injected(&own);
    CHECK(
        *pbft::as<pbft::PrePrepare>(msg(pps[0].msg)) ==
        pbft::PrePrepare{View(0), Seq(1), pbft::batch_digest({real, injected}), {real, injected}});
    CHECK(pbft::authentic(ctx, msg(pps[0].msg)));
    // An honest primary never orders it: a REQUEST's client is n or above.
    pbft::Replica primary(testing::small_pbft_config());
    CHECK(deliver(ctx, primary, 0, sent[0].msg).empty());
}

// PROTOCOLS.md §4.12: a request in a batch comes from a client, whose id is n or more (the
// mutation accept_replica_requests checks only the signature).
TEST_CASE(
    "pbft craft: a backup refuses a PRE-PREPARE ordering a request a replica signed as a "
    "client") {
    testing::RecordingContext ctx(4, 1);
    auto byz = byzantine("client_request", nlohmann::json::object(), 0);
    ctx.act_as(0);
    byz->on_start(ctx);
    tick(ctx, *byz, 0, sim::milliseconds(200));
    const auto pps = deliver(ctx, *byz, 0, request(ctx, 4, 1));
    REQUIRE(pps.size() == 3);
    pbft::Replica backup(testing::small_pbft_config());
    CHECK(deliver(ctx, backup, 1, pps[0].msg).empty());
}

TEST_CASE("pbft craft: client_request claiming another client is refused by every replica") {
    testing::RecordingContext ctx(4, 1);
    auto byz = byzantine("client_request", {{"client", 5}, {"every", "1s"}}, 0);
    ctx.act_as(0);
    byz->on_start(ctx);
    const auto sent = tick(ctx, *byz, 0, sim::seconds(1));
    REQUIRE(sent.size() == 3);
    const auto& claimed = static_cast<const proto::ClientMessage&>(*sent[0].msg);
    CHECK(std::get<proto::Request>(claimed.body).client == NodeId(5));
    CHECK(claimed.signer == NodeId(5));  // under replica 0's key
    CHECK_FALSE(proto::authentic(ctx, claimed));
    const auto pps = deliver(ctx, *byz, 0, request(ctx, 4, 1));
    REQUIRE(pps.size() == 3);
    CHECK(pbft::as<pbft::PrePrepare>(msg(pps[0].msg))->batch.size() == 2);
    pbft::Replica backup(testing::small_pbft_config());
    CHECK(deliver(ctx, backup, 1, pps[0].msg).empty());
    pbft::Replica primary(testing::small_pbft_config());
    CHECK(deliver(ctx, primary, 0, sent[0].msg).empty());
}

TEST_CASE("pbft craft: wrong_reply changes a REPLY's result and nothing else") {
    testing::RecordingContext ctx(4, 1);
    auto byz = byzantine("wrong_reply", nlohmann::json::object(), 1);
    const auto req = request(ctx, 4, 1);
    const Digest d = pbft::batch_digest({req});
    ctx.act_as(0);
    deliver(ctx, *byz, 1, pbft::make_message(ctx, pbft::PrePrepare{View(0), Seq(1), d, {req}}));
    ctx.act_as(2);
    deliver(ctx, *byz, 1, pbft::make_message(ctx, pbft::Prepare{View(0), Seq(1), d}));
    std::vector<testing::RecordingContext::Sent> sent;
    for (std::uint32_t r : {0u, 2u}) {
        ctx.act_as(r);
        sent = deliver(ctx, *byz, 1, pbft::make_message(ctx, pbft::Commit{View(0), Seq(1), d}));
    }
    REQUIRE(ctx.commits.size() == 1);
    const auto reply =
        std::find_if(sent.begin(), sent.end(), [](const auto& s) { return s.to == NodeId(4); });
    REQUIRE(reply != sent.end());
    const auto& m = static_cast<const proto::ClientMessage&>(*reply->msg);
    const auto& r = std::get<proto::Reply>(m.body);
    const Digest honest = proto::execution_result(req->digest, 1, 1);
    CHECK(r.result != honest);
    CHECK(r == proto::Reply{View(0), 1, NodeId(4), NodeId(1), r.result, 1});
    CHECK(m.signer == NodeId(1));
    CHECK(proto::authentic(ctx, m));
}

TEST_CASE(
    "pbft craft: far_future sends messages for views and numbers far ahead, which an "
    "honest replica neither answers nor follows") {
    testing::RecordingContext ctx(4, 1);
    auto byz = byzantine("far_future", {{"views_ahead", 50}, {"rate", 400}}, 3);
    ctx.act_as(3);
    byz->on_start(ctx);
    const auto sent = tick(ctx, *byz, 3, sim::milliseconds(10));
    REQUIRE(sent.size() == 12);  // 400 a second: 4 per 10ms tick, each to the 3 others
    const std::uint16_t kinds[] = {pbft::kPrePrepare, pbft::kPrepare, pbft::kCommit,
                                   pbft::kViewChange};
    pbft::Replica honest(testing::small_pbft_config());
    for (std::size_t k = 0; k < 4; ++k) {
        const auto& m = msg(sent[3 * k].msg);
        CHECK(m.kind == kinds[k]);
        CHECK(m.signer == NodeId(3));
        CHECK(pbft::authentic(ctx, m));
        const sim::Rounds r = m.rounds();
        CHECK(r.view <= 50);
        if (k == 3) {
            CHECK(r.view >= 1);
            CHECK(*pbft::as<pbft::ViewChange>(m) ==
                  pbft::ViewChange{View(r.view), Seq{}, Digest{}, {}, {}});
        } else {
            CHECK(r.seq > 20);  // above the window (0, 20]
            CHECK(r.seq <= 20 + 50 * 20);
        }
        CHECK(deliver(ctx, honest, 1, sent[3 * k].msg).empty());
        CHECK(honest.view() == View(0));
    }
}

TEST_CASE("pbft craft: a checkpoint the Byzantine replica claims has its q CHECKPOINTs") {
    // What stale_view_change can prove (§1.4: a stable checkpoint is q matching CHECKPOINTs):
    // nothing after q - 1 of them, checkpoint 10 with all q after the last.
    testing::RecordingContext ctx(4, 1);
    pbft::Replica inner(testing::small_pbft_config());
    pbft::Observed seen;
    std::vector<sim::PayloadRef> keep;
    const pbft::Checkpoint c{Seq(10), pbft::service_digest(Digest(42), {}), Digest(42), {}};
    for (std::uint32_t r : {0u, 1u, 2u}) {
        CHECK(seen.proof().C.empty());
        ctx.act_as(r);
        keep.push_back(pbft::make_message(ctx, c));
        seen.see(ctx, inner, msg(keep.back()));
    }
    CHECK(seen.proof().n == Seq(10));
    CHECK(seen.proof().C.size() == 3);
}

TEST_CASE("pbft delay: only messages to the targets wait; the others go at once") {
    // Primary 0 delays what it sends to replica 2 by 50ms: its PRE-PREPARE reaches 1 and 3 now,
    // and 2 when the timer fires.
    testing::RecordingContext ctx(4, 1);
    auto byz = byzantine("delay", {{"targets", {2}}, {"delay", "50ms"}}, 0);
    ctx.act_as(0);
    byz->on_start(ctx);
    const auto recipients = [&] {
        std::vector<std::uint32_t> out;
        for (const auto& s : ctx.sent)
            if (s.msg->kind == pbft::kPrePrepare) out.push_back(s.to.v);
        return out;
    };
    ctx.timers.clear();
    const auto req = request(ctx, 4, 1);
    ctx.act_as(0);
    ctx.sent.clear();
    byz->on_message(ctx, req->signer, *req);
    CHECK(recipients() == std::vector<std::uint32_t>{1, 3});
    const auto t = std::find_if(ctx.timers.begin(), ctx.timers.end(),
                                [](const auto& x) { return x.first == sim::milliseconds(50); });
    REQUIRE(t != ctx.timers.end());
    ctx.sent.clear();
    byz->on_timer(ctx, t->second);
    CHECK(recipients() == std::vector<std::uint32_t>{2});
}

}  // namespace pbft_craft_tests
