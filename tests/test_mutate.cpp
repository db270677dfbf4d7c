// Crafted messages (proto::Craft) and small-scope mutation (proto::Mutator, behaviour
// "mutate"), checked on a recording context: each produces exactly the message it claims.
#include <doctest/doctest.h>

#include "protocols/common/mutate.hpp"
#include "protocols/pbft/craft.hpp"
#include "protocols/pbft/messages.hpp"
#include "protocols/rbc/craft.hpp"
#include "protocols/rbc/messages.hpp"
#include "tests/helpers.hpp"
#include "tests/recording_context.hpp"

namespace {

using proto::Field;
using proto::Seal;

const pbft::Message& as_pbft(const sim::PayloadRef& p) {
    return static_cast<const pbft::Message&>(*p);
}

proto::ClientMessageRef request(testing::RecordingContext& ctx, std::uint64_t t) {
    ctx.act_as(5);
    return proto::make_request(ctx, proto::Request{t, t, sim::NodeId(5)});
}

}  // namespace

TEST_CASE("craft: pbft: a field changed under the crafter's own key is a well-signed message") {
    testing::RecordingContext ctx(4, 1);
    ctx.act_as(1);
    const auto prepare =
        pbft::make_message(ctx, pbft::Prepare{pbft::View(3), pbft::Seq(7), pbft::Digest(99)});
    const pbft::Craft craft;
    CHECK(craft.get(*prepare, Field::View) == 3u);
    CHECK(craft.get(*prepare, Field::Seq) == 7u);
    CHECK(craft.get(*prepare, Field::Digest) == 99u);
    CHECK_FALSE(craft.get(*prepare, Field::Height));
    ctx.act_as(2);
    const auto moved = craft.with(ctx, *prepare, Field::Seq, 9, Seal::Own);
    REQUIRE(moved);
    const auto& m = as_pbft(moved);
    CHECK(*pbft::as<pbft::Prepare>(m) ==
          pbft::Prepare{pbft::View(3), pbft::Seq(9), pbft::Digest(99)});
    CHECK(m.signer == sim::NodeId(2));  // the crafter's own name and key
    CHECK(m.digest == pbft::message_digest(m.body, sim::NodeId(2)));
    CHECK(pbft::authentic(ctx, m));
    CHECK_FALSE(craft.with(ctx, *prepare, Field::Height, 1, Seal::Own));
}

TEST_CASE("craft: pbft: a splice keeps the original signature over the original digest") {
    testing::RecordingContext ctx(4, 1);
    ctx.act_as(1);
    const auto commit =
        pbft::make_message(ctx, pbft::Commit{pbft::View(0), pbft::Seq(4), pbft::Digest(5)});
    const pbft::Craft craft;
    ctx.act_as(3);
    const auto spliced = craft.with(ctx, *commit, Field::View, 1, Seal::Splice);
    REQUIRE(spliced);
    const auto& m = as_pbft(spliced);
    CHECK(pbft::as<pbft::Commit>(m)->v == pbft::View(1));
    CHECK(m.signer == commit->signer);
    CHECK(m.sig == commit->sig);
    CHECK(m.digest == commit->digest);
    CHECK(m.digest != pbft::message_digest(m.body, m.signer));  // the body no longer matches
}

TEST_CASE("craft: pbft: a PRE-PREPARE's batch edited, its digest recomputed under an own seal") {
    testing::RecordingContext ctx(4, 1);
    const auto a = request(ctx, 1), b = request(ctx, 2), c = request(ctx, 3);
    ctx.act_as(0);
    const auto pp = pbft::make_message(
        ctx, pbft::PrePrepare{pbft::View(0), pbft::Seq(1), pbft::batch_digest({a, b}), {a, b}});
    const pbft::Craft craft;
    CHECK(craft.commands(*pp) == 2);
    using Op = proto::CommandEdit::Op;
    const auto dup = craft.with_commands(ctx, *pp, {Op::Duplicate, 1, {}}, Seal::Own);
    const auto& d = *pbft::as<pbft::PrePrepare>(as_pbft(dup));
    REQUIRE(d.batch.size() == 3);
    CHECK(d.batch[1] == b);
    CHECK(d.batch[2] == b);
    CHECK(d.d == pbft::batch_digest(d.batch));
    const auto dropped = craft.with_commands(ctx, *pp, {Op::Drop, 0, {}}, Seal::Own);
    CHECK(pbft::as<pbft::PrePrepare>(as_pbft(dropped))->batch ==
          std::vector<proto::ClientMessageRef>{b});
    const auto injected = craft.with_commands(ctx, *pp, {Op::Inject, 0, c}, Seal::Own);
    CHECK(pbft::as<pbft::PrePrepare>(as_pbft(injected))->batch.back() == c);
    ctx.act_as(1);
    const auto prepare =
        pbft::make_message(ctx, pbft::Prepare{pbft::View(0), pbft::Seq(1), pbft::Digest(1)});
    CHECK(craft.commands(*prepare) == 0);
    CHECK_FALSE(craft.with_commands(ctx, *prepare, {Op::Drop, 0, {}}, Seal::Own));
}

TEST_CASE("mutate: every mutation is one small change of one message") {
    testing::RecordingContext ctx(4, 1);
    const pbft::Craft craft;
    proto::MutateParams p;
    p.ppm = 1'000'000;  // mutate every message
    p.kinds = {proto::MutateParams::Kind::Round};
    proto::Mutator mutator(p, craft);
    ctx.act_as(2);
    for (int i = 0; i < 50; ++i) {
        const auto prepare =
            pbft::make_message(ctx, pbft::Prepare{pbft::View(5), pbft::Seq(10), pbft::Digest(77)});
        auto [to, out] = mutator.mutate(ctx, sim::NodeId(1), prepare);
        CHECK(to == sim::NodeId(1));
        const auto& m = *pbft::as<pbft::Prepare>(as_pbft(out));
        CHECK(m.d == pbft::Digest(77));
        const int dv = static_cast<int>(m.v.v) - 5, dn = static_cast<int>(m.n.v) - 10;
        // Exactly one round moved, by 1 or 2.
        CHECK(((dv == 0) != (dn == 0)));
        CHECK(std::abs(dv + dn) >= 1);
        CHECK(std::abs(dv + dn) <= 2);
        CHECK(out->signer == sim::NodeId(2));
    }
    CHECK(mutator.mutations() == 50);
}

TEST_CASE("mutate: a digest is swapped only for one seen from another replica") {
    testing::RecordingContext ctx(4, 1);
    const pbft::Craft craft;
    proto::MutateParams p;
    p.ppm = 1'000'000;
    p.kinds = {proto::MutateParams::Kind::Digest};
    proto::Mutator mutator(p, craft);
    ctx.act_as(2);
    const auto own = pbft::make_message(ctx, pbft::Commit{{}, pbft::Seq(1), pbft::Digest(10)});
    // Nothing seen yet: nothing to swap with, so the message goes out unchanged.
    CHECK(mutator.mutate(ctx, sim::NodeId(0), own).second == own);
    ctx.act_as(1);
    const auto seen = pbft::make_message(ctx, pbft::Commit{{}, pbft::Seq(1), pbft::Digest(20)});
    mutator.observe(sim::NodeId(1), seen, sim::NodeId(2));
    ctx.act_as(2);
    const auto out = mutator.mutate(ctx, sim::NodeId(0), own).second;
    CHECK(pbft::as<pbft::Commit>(as_pbft(out))->d == pbft::Digest(20));
    CHECK(out->signer == sim::NodeId(2));
}

TEST_CASE("mutate: another recipient is never the sender or the intended one") {
    testing::RecordingContext ctx(7, 2);
    const pbft::Craft craft;
    proto::MutateParams p;
    p.ppm = 1'000'000;
    p.kinds = {proto::MutateParams::Kind::Recipient};
    proto::Mutator mutator(p, craft);
    ctx.act_as(3);
    const auto m = pbft::make_message(ctx, pbft::Prepare{{}, pbft::Seq(1), pbft::Digest(1)});
    std::set<std::uint32_t> seen;
    for (int i = 0; i < 200; ++i) {
        auto [to, out] = mutator.mutate(ctx, sim::NodeId(5), m);
        CHECK(out == m);
        CHECK(to != sim::NodeId(5));
        CHECK(to != sim::NodeId(3));
        CHECK(to.v < 7);
        seen.insert(to.v);
    }
    CHECK(seen.size() == 5);  // every other replica, in time
    // What goes to a client (nodes 7 and up) keeps its recipient: only replicas' are moved.
    for (std::uint32_t client : {7u, 8u}) {
        auto [to, out] = mutator.mutate(ctx, sim::NodeId(client), m);
        CHECK(to == sim::NodeId(client));
        CHECK(out == m);
    }
}

TEST_CASE("mutate: a splice alters a message another replica signed, keeping its signature") {
    testing::RecordingContext ctx(4, 1);
    const pbft::Craft craft;
    proto::MutateParams p;
    p.ppm = 1'000'000;
    p.kinds = {proto::MutateParams::Kind::Splice};
    proto::Mutator mutator(p, craft);
    ctx.act_as(0);
    const auto theirs =
        pbft::make_message(ctx, pbft::Prepare{pbft::View(2), pbft::Seq(8), pbft::Digest(3)});
    mutator.observe(sim::NodeId(0), theirs, sim::NodeId(2));
    ctx.act_as(2);
    const auto mine = pbft::make_message(ctx, pbft::Commit{{}, pbft::Seq(1), pbft::Digest(1)});
    const auto out = mutator.mutate(ctx, sim::NodeId(1), mine).second;
    REQUIRE(out != mine);
    CHECK(out->signer == sim::NodeId(0));
    CHECK(out->sig == theirs->sig);
    const auto& pr = *pbft::as<pbft::Prepare>(as_pbft(out));
    CHECK(((pr.v != pbft::View(2)) != (pr.n != pbft::Seq(8))));
}

TEST_CASE("mutate: parameters are validated at their JSON path") {
    auto doc = testing::pbft_base(4, 1);
    doc["faults"] = {{{"type", "byzantine"},
                      {"node", 1},
                      {"behavior", "mutate"},
                      {"params", {{"probability", 1.5}}}}};
    CHECK_THROWS_WITH_AS(protocols::validate(sim::parse_scenario(doc)),
                         doctest::Contains("/faults/0/params/probability"), sim::ScenarioError);
    doc["faults"][0]["params"] = {{"kinds", {"round", "teleport"}}};
    CHECK_THROWS_WITH_AS(protocols::validate(sim::parse_scenario(doc)),
                         doctest::Contains("/faults/0/params/kinds/1"), sim::ScenarioError);
    doc["faults"][0]["params"] = {{"kinds", {"splice"}}, {"probability", 0.5}};
    CHECK_NOTHROW(protocols::validate(sim::parse_scenario(doc)));
}

TEST_CASE("splice: PBFT and RBC reject a body altered under another replica's signature") {
    testing::RecordingContext ctx(4, 1);
    // PBFT: a COMMIT of replica 1 moved to another view by replica 3.
    ctx.act_as(1);
    const auto commit =
        pbft::make_message(ctx, pbft::Commit{pbft::View(0), pbft::Seq(4), pbft::Digest(5)});
    ctx.act_as(3);
    const auto pbft_splice = pbft::Craft().with(ctx, *commit, Field::View, 1, Seal::Splice);
    CHECK(pbft::authentic(ctx, as_pbft(commit)));
    CHECK(pbft::signature_valid(ctx, as_pbft(pbft_splice)));  // the signature itself is valid
    CHECK_FALSE(pbft::authentic(ctx, as_pbft(pbft_splice)));  // but not over this body
    // RBC: an ECHO of replica 1 for another value, and for another instance.
    ctx.act_as(1);
    const auto echo = rbc::make_message(ctx, rbc::Echo{{sim::NodeId(0), 7}, rbc::Digest(9)});
    const rbc::Craft craft;
    CHECK(craft.get(*echo, Field::Seq) == 7u);
    CHECK(craft.get(*echo, Field::Digest) == 9u);
    ctx.act_as(3);
    const auto& original = static_cast<const rbc::Message&>(*echo);
    CHECK(rbc::authentic(ctx, original));
    for (Field f : {Field::Digest, Field::Seq}) {
        const auto spliced = craft.with(ctx, *echo, f, 8, Seal::Splice);
        REQUIRE(spliced);
        const auto& m = static_cast<const rbc::Message&>(*spliced);
        CHECK(m.signer == sim::NodeId(1));
        CHECK(m.sig == echo->sig);
        CHECK_FALSE(rbc::authentic(ctx, m));
        CHECK(spliced->wire_hash() != echo->wire_hash());  // the fingerprint sees the change
    }
    // An own seal is a well-formed message from the crafter (replica 3), not a forgery.
    const auto own = craft.with(ctx, *echo, Field::Digest, 8, Seal::Own);
    CHECK(own->signer == sim::NodeId(3));
    CHECK(rbc::authentic(ctx, static_cast<const rbc::Message&>(*own)));
}

TEST_CASE("mutate: rbc: the behaviour is accepted with its params and refused with bad ones") {
    auto doc = testing::pbft_base(4, 1);
    doc["protocol"] = {{"name", "rbc"}};
    doc["faults"] = {{{"type", "byzantine"},
                      {"node", 2},
                      {"behavior", "mutate"},
                      {"params", {{"kinds", {"splice", "digest"}}}}}};
    CHECK_NOTHROW(protocols::validate(sim::parse_scenario(doc)));
    doc["faults"][0]["params"] = {{"fields", {"view"}}};
    CHECK_THROWS_WITH_AS(protocols::validate(sim::parse_scenario(doc)),
                         doctest::Contains("/faults/0/params/fields"), sim::ScenarioError);
}

TEST_CASE("craft: rbc: a SEND's one request dropped or replaced by a client request, else none") {
    testing::RecordingContext ctx(4, 1);
    const auto a = request(ctx, 1), b = request(ctx, 2);
    ctx.act_as(0);
    const auto send = rbc::make_message(ctx, rbc::Send{{sim::NodeId(0), 1}, a});
    const rbc::Craft craft;
    CHECK(craft.commands(*send) == 1);
    using Op = proto::CommandEdit::Op;
    const auto dropped = craft.with_commands(ctx, *send, {Op::Drop, 0, {}}, Seal::Own);
    REQUIRE(dropped);
    CHECK_FALSE(rbc::as<rbc::Send>(static_cast<const rbc::Message&>(*dropped))->request);
    const auto injected = craft.with_commands(ctx, *send, {Op::Inject, 0, b}, Seal::Own);
    REQUIRE(injected);
    CHECK(rbc::as<rbc::Send>(static_cast<const rbc::Message&>(*injected))->request == b);
    // One request at most: nothing to duplicate; only a client request can be injected.
    CHECK_FALSE(craft.with_commands(ctx, *send, {Op::Duplicate, 0, b}, Seal::Own));
    const auto echo = rbc::make_message(ctx, rbc::Echo{{sim::NodeId(0), 1}, rbc::Digest(9)});
    CHECK_FALSE(craft.with_commands(ctx, *send, {Op::Inject, 0, echo}, Seal::Own));
    CHECK_FALSE(craft.with_commands(ctx, *send, {Op::Inject, 0, {}}, Seal::Own));
    CHECK_FALSE(craft.with_commands(ctx, *echo, {Op::Drop, 0, {}}, Seal::Own));
}
