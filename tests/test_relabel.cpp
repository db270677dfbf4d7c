// A message's kind is outside what its signature covers: a Byzantine replica can relabel a
// message it saw (mutate's "relabel") and keep a valid signature. Honest replicas check that
// the kind is the body's (PROTOCOLS.md §4.12: trust no field the sender chose); without the
// check, a PREPARE labelled COMMIT reaches the COMMIT handler with no COMMIT in it.
#include <doctest/doctest.h>

#include "protocols/hotstuff/craft.hpp"
#include "protocols/hotstuff/messages.hpp"
#include "protocols/hotstuff/replica.hpp"
#include "protocols/pbft/craft.hpp"
#include "protocols/pbft/messages.hpp"
#include "protocols/pbft/replica.hpp"
#include "tests/pbft_fixtures.hpp"
#include "tests/recording_context.hpp"

namespace {

using proto::Seq;
using proto::View;

}  // namespace

TEST_CASE("relabel: a PBFT message under another kind keeps its signature and is refused") {
    testing::RecordingContext ctx(4, 1);
    ctx.act_as(2);
    const auto prepare = pbft::make_message(ctx, pbft::Prepare{View(0), Seq(1), sim::Digest(7)});
    const sim::PayloadRef out = pbft::Craft{}.relabel(*prepare);
    REQUIRE(out);
    const auto& m = static_cast<const pbft::Message&>(*out);
    CHECK(m.kind == pbft::kCommit);  // the next kind
    CHECK(pbft::as<pbft::Prepare>(m) != nullptr);
    CHECK(m.digest == prepare->digest);
    CHECK(m.signer == prepare->signer);
    CHECK(ctx.verify(m.signer, m.digest, m.sig));  // the signature still holds
    CHECK(pbft::authentic(ctx, *prepare));
    CHECK_FALSE(pbft::authentic(ctx, m));  // but the kind is not the body's

    // Delivered to an honest backup: refused before any handler, so nothing is sent.
    pbft::Replica backup(testing::small_pbft_config());
    ctx.act_as(1);
    backup.on_message(ctx, m.signer, m);
    CHECK(ctx.sent.empty());
}

TEST_CASE("relabel: under trust_stored_digest a PREPARE labelled COMMIT counts as a COMMIT") {
    // Backup 1 prepared number 1 and holds replica 3's COMMIT besides its own: one short of q.
    // Replica 2's PREPARE relabelled COMMIT completes the quorum only where the kind is not
    // checked against the body, where the body is read as the kind says, as a wire parser would.
    const auto executed = [](bool trust) {
        testing::RecordingContext ctx(4, 1);
        pbft::Config cfg = testing::small_pbft_config();
        if (trust) cfg.mutations.add(pbft::Mutation::TrustStoredDigest);
        pbft::Replica backup(cfg);
        ctx.act_as(4);
        pbft::PrePrepare pp{
            View(0), Seq(1), {}, {proto::make_request(ctx, {100, 1, sim::NodeId(4)})}};
        pp.d = pbft::batch_digest(pp.batch);
        const sim::Digest d = pp.d;
        const auto from = [&](std::uint32_t r, pbft::Body b) {
            ctx.act_as(r);
            const auto m = pbft::make_message(ctx, std::move(b));
            ctx.act_as(1);
            backup.on_message(ctx, m->signer, *m);
            return m;
        };
        from(0, std::move(pp));
        const auto prepare = from(2, pbft::Prepare{View(0), Seq(1), d});
        from(3, pbft::Prepare{View(0), Seq(1), d});
        from(3, pbft::Commit{View(0), Seq(1), d});
        REQUIRE(backup.last_executed() == Seq(0));
        const sim::PayloadRef relabelled = pbft::Craft{}.relabel(*prepare);
        backup.on_message(ctx, prepare->signer, *relabelled);
        return backup.last_executed().v;
    };
    CHECK(executed(false) == 0);
    CHECK(executed(true) == 1);
}

TEST_CASE("relabel: every PBFT kind cycles to the next, the last back to the first") {
    testing::RecordingContext ctx(4, 1);
    ctx.act_as(0);
    const auto last = pbft::make_message(ctx, pbft::CatchUp{});
    const sim::PayloadRef out = pbft::Craft{}.relabel(*last);
    REQUIRE(out);
    CHECK(out->kind == pbft::kPrePrepare);
    CHECK_FALSE(pbft::authentic(ctx, static_cast<const pbft::Message&>(*out)));
}

TEST_CASE("relabel: a HotStuff vote labelled NEW-VIEW is refused by the leader") {
    testing::RecordingContext ctx(4, 1);
    ctx.act_as(3);
    const proto::Statement s{hotstuff::kGeneric, 1, 1, sim::Digest(5)};
    const auto vote = hotstuff::make_message(ctx, hotstuff::Vote{proto::sign_vote(ctx, s), {}});
    const sim::PayloadRef out = hotstuff::Craft{}.relabel(*vote);
    REQUIRE(out);
    const auto& m = static_cast<const hotstuff::Message&>(*out);
    CHECK(m.kind == hotstuff::kNewView);
    CHECK(hotstuff::as<hotstuff::Vote>(m) != nullptr);
    CHECK(ctx.verify(m.signer, m.digest, m.sig));
    CHECK(hotstuff::authentic(ctx, *vote));
    CHECK_FALSE(hotstuff::authentic(ctx, m));

    hotstuff::Config cfg;
    cfg.quorum = proto::Quorum{4, 1};
    hotstuff::Replica leader(cfg);
    ctx.act_as(2);
    leader.on_message(ctx, m.signer, m);
    CHECK(ctx.sent.empty());
}
