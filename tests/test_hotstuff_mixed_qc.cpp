// The HotStuff behaviour mixed_qc (protocols/hotstuff/byzantine_far.hpp) on a recording context:
// each QC whose signatures verify, each for its own statement, checked field by field, and an
// honest hotstuff::Replica that votes for no block on one.
#include <doctest/doctest.h>

#include "tests/hotstuff_fixtures.hpp"

using namespace testing::hotstuff_fixtures;  // NOLINT: the fixtures of these tests

TEST_CASE(
    "hotstuff mixed_qc: each mix is a QC whose signatures verify, each for its own "
    "statement, field by field; an honest replica refuses its block") {
    Chain c(/*ed25519=*/true);  // signatures listed one by one, to check each
    const QuorumCert& qc4 = c.qc[4];
    const proto::Statement s = qc4.stmt;
    hotstuff::MixedQc mixed = mixed_qc("all");
    feed_votes(c, mixed);
    const proto::Statement s3{hotstuff::kGeneric, 3, 3, c.b[3]->digest};
    const proto::Statement phase{hotstuff::kPrepare, 4, 4, c.b[4]->digest};
    using hotstuff::Mix;
    struct Case {
        Mix mix;
        std::uint32_t odd;  // the signer whose signature is over another statement
        proto::Statement odd_stmt;
    };
    const Digest other(sim::mix64(s.value.v ^ hotstuff::kMixedOtherBlock));
    const Case cases[] = {
        {Mix::Blocks, 2, s3},
        {Mix::Views, 1, {hotstuff::kGeneric, 3, 4, s.value}},  // the view below: 5 is the block's
        {Mix::Phases, 2, phase},
    };
    for (const Case& k : cases) {
        CAPTURE(static_cast<int>(k.mix));
        c.ctx.act_as(1);
        const auto qc = mixed.craft(c.ctx, qc4, k.mix, 5, 3);
        REQUIRE(qc);
        CHECK(qc->stmt == s);
        CHECK_FALSE(qc->aggregated);
        const auto who = qc->signer_list();
        REQUIRE(who.size() == 3);
        REQUIRE(qc->sigs.size() == 3);
        CHECK(qc->has_signer(NodeId(k.odd)));
        for (std::size_t i = 0; i < who.size(); ++i) {
            const proto::Statement& own = who[i].v == k.odd ? k.odd_stmt : s;
            CHECK(c.ctx.verify(who[i], own.digest(), qc->sigs[i]));
            CHECK(c.ctx.verify(who[i], s.digest(), qc->sigs[i]) == (who[i].v != k.odd));
        }
        CHECK(proto::verify_qc(c.ctx, *qc, 3, kN) == proto::QcCheck::BadSignature);
    }
    for (Mix mix : {Mix::RelabelBlock, Mix::RelabelView}) {
        const auto qc = mixed.craft(c.ctx, qc4, mix, 5, 3);
        REQUIRE(qc);
        CHECK(qc->signers == qc4.signers);
        CHECK(qc->sigs == qc4.sigs);
        CHECK(qc->stmt.kind == s.kind);
        CHECK(qc->stmt.slot == s.slot);
        CHECK(qc->stmt.view == (mix == Mix::RelabelView ? 3 : 4));
        CHECK(qc->stmt.value == (mix == Mix::RelabelBlock ? other : s.value));
        CHECK(proto::verify_qc(c.ctx, *qc, 3, kN) == proto::QcCheck::BadSignature);
    }
    // Simulated keys aggregate the signatures: the aggregate of exactly the mixed ones.
    Chain sim_chain;
    hotstuff::MixedQc agg = mixed_qc("views");
    feed_votes(sim_chain, agg);
    sim_chain.ctx.act_as(1);
    const auto qc = agg.craft(sim_chain.ctx, sim_chain.qc[4], Mix::Views, 5, 3);
    REQUIRE(qc);
    CHECK(qc->aggregated);
    CHECK(proto::verify_qc(sim_chain.ctx, *qc, 3, kN) == proto::QcCheck::BadSignature);
}

TEST_CASE("hotstuff mixed_qc: \"all\" takes the mixes in turn, one block per view") {
    Chain c;
    hotstuff::MixedQc all = mixed_qc("all");
    feed_votes(c, all);
    std::vector<QuorumCert> in_turn;
    for (std::uint64_t view : {5, 9, 13, 17, 21, 25}) {  // the views replica 1 leads
        const auto honest = hotstuff::make_block(c.b[4], view, c.qc[4], {c.request}, NodeId(1));
        const auto original = proposal(c.ctx, honest);
        c.ctx.act_as(1);
        const auto& m = *hotstuff::as<hotstuff::Proposal>(*original);
        const sim::PayloadRef out = all.rewrite(c.ctx, m, original, 3);
        CHECK(all.rewrite(c.ctx, m, original, 3).get() == out.get());  // once per view
        REQUIRE(out.get() != original.get());
        in_turn.push_back(hotstuff::as<hotstuff::Proposal>(as_hs(out))->block->justify);
    }
    CHECK(in_turn[0].stmt == c.qc[4].stmt);              // blocks
    CHECK(in_turn[1].stmt == c.qc[4].stmt);              // views
    CHECK(in_turn[2].stmt == c.qc[4].stmt);              // phases
    CHECK(in_turn[3].stmt.value != c.qc[4].stmt.value);  // relabel_block
    CHECK(in_turn[4].stmt.view == 5);                    // relabel_view: 4 + 1 < 21
    CHECK(in_turn[5].stmt == c.qc[4].stmt);              // blocks again
    CHECK(in_turn[5].signers == in_turn[0].signers);
}

TEST_CASE(
    "hotstuff mixed_qc: the leader's block on each mix, field by field; an honest replica "
    "votes for none of them but for the honest block") {
    Chain c;
    hotstuff::Replica r(config());
    c.ctx.act_as(0);
    r.on_start(c.ctx);
    for (std::size_t i = 1; i <= 4; ++i) {
        const auto p = proposal(c.ctx, c.b[i]);
        c.ctx.act_as(0);
        r.on_message(c.ctx, c.b[i]->proposer, *p);
    }
    REQUIRE(r.high_qc() == c.qc[3]);
    REQUIRE(r.view() == 5);
    const auto honest = hotstuff::make_block(c.b[4], 5, c.qc[4], {c.request}, NodeId(1));
    for (const char* mix : {"blocks", "views", "phases", "relabel_block", "relabel_view"}) {
        CAPTURE(mix);
        hotstuff::MixedQc one = mixed_qc(mix);
        feed_votes(c, one);
        const auto original = proposal(c.ctx, honest);
        c.ctx.act_as(1);
        const sim::PayloadRef out =
            one.rewrite(c.ctx, *hotstuff::as<hotstuff::Proposal>(*original), original, 3);
        REQUIRE(out.get() != original.get());
        const auto& crafted = *hotstuff::as<hotstuff::Proposal>(as_hs(out));
        const hotstuff::Block& blk = *crafted.block;
        CHECK(blk.view == 5);
        CHECK(blk.parent == blk.justify.stmt.value);
        CHECK(blk.height == blk.justify.stmt.slot + 1);
        CHECK(blk.cmds == honest->cmds);
        CHECK(blk.proposer == NodeId(1));
        CHECK(blk.digest_matches());
        CHECK(blk.justify.signer_count() == 3);
        CHECK(crafted.leader_statement.signer == NodeId(1));
        CHECK(crafted.leader_statement.stmt == hotstuff::proposal_statement(blk));
        CHECK(proto::verify_vote(c.ctx, crafted.leader_statement));
        CHECK(as_hs(out).signer == NodeId(1));
        CHECK(hotstuff::authentic(c.ctx, as_hs(out)));
        CHECK(proto::verify_qc(c.ctx, blk.justify, 3, kN) == proto::QcCheck::BadSignature);
        const std::size_t mark = c.ctx.sent.size(), stored = r.stored_blocks();
        c.ctx.act_as(0);
        r.on_message(c.ctx, NodeId(1), as_hs(out));
        CHECK(votes_sent(c.ctx, mark) == 0);
        CHECK(r.stored_blocks() == stored);
        CHECK(r.view() == 5);
    }
    CHECK(r.footprint().refused_proposals == 0);  // refused for the QC, not the view
    CHECK(c.ctx.evidence_seen.empty());
    // The honest block of view 5, on the real QC, is voted for.
    const auto original = proposal(c.ctx, honest);
    const std::size_t mark = c.ctx.sent.size();
    c.ctx.act_as(0);
    r.on_message(c.ctx, NodeId(1), *original);
    CHECK(votes_sent(c.ctx, mark) == 1);
}

TEST_CASE("hotstuff mixed_qc: too few signers on the statement beside the odd one, no QC") {
    // Replica 1 holds replica 2's votes for b4 and for b3, and its own: two signers of b4's
    // statement, one of them the odd signer of a Blocks mix. Without it, one signer and the
    // odd one are two, short of n - f = 3: nothing is crafted, from 2's vote or its own.
    Chain c(/*ed25519=*/true);
    hotstuff::MixedQc mixed = mixed_qc("blocks");
    const proto::Statement s = c.qc[4].stmt;
    const proto::Statement s3{hotstuff::kGeneric, 3, 3, c.b[3]->digest};
    for (const proto::Statement& stmt : {s, s3}) {
        c.ctx.act_as(2);
        const auto v = hotstuff::make_message(c.ctx, hotstuff::Vote{proto::sign_vote(c.ctx, stmt)});
        c.ctx.act_as(1);
        mixed.observe(c.ctx, *v);
    }
    CHECK_FALSE(mixed.craft(c.ctx, c.qc[4], hotstuff::Mix::Blocks, 5, 3));
    // One more signer of b4's statement (replica 0): now there are enough.
    c.ctx.act_as(0);
    const auto v0 = hotstuff::make_message(c.ctx, hotstuff::Vote{proto::sign_vote(c.ctx, s)});
    c.ctx.act_as(1);
    mixed.observe(c.ctx, *v0);
    const auto qc = mixed.craft(c.ctx, c.qc[4], hotstuff::Mix::Blocks, 5, 3);
    REQUIRE(qc);
    CHECK(qc->signer_count() == 3);
}
