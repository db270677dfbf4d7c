// HotStuff's crafted messages (hotstuff::Craft) checked field by field on a recording context,
// and what an honest hotstuff::Replica does with them: a splice (a body altered under another
// replica's signatures) and a message signed by a client key are refused, the same change
// under the crafter's own key authenticated.
#include <doctest/doctest.h>

#include "protocols/common/mutate.hpp"
#include "protocols/hotstuff/craft.hpp"
#include "protocols/hotstuff/messages.hpp"
#include "protocols/hotstuff/replica.hpp"
#include "tests/helpers.hpp"
#include "tests/recording_context.hpp"

// A named namespace, not an anonymous one: other test files share these helpers' names.
namespace hotstuff_craft_tests {

using hotstuff::Digest;
using hotstuff::MessageRef;
using hotstuff::NodeId;
using proto::Field;
using proto::Seal;
using testing::RecordingContext;

const hotstuff::Message& as_hs(const sim::PayloadRef& p) {
    REQUIRE(p);
    return static_cast<const hotstuff::Message&>(*p);
}

proto::ClientMessageRef request(RecordingContext& ctx, std::uint64_t t) {
    ctx.act_as(5);
    return proto::make_request(ctx, proto::Request{t, t, sim::NodeId(5)});
}

// The leader's PROPOSAL of a block on genesis in `view`.
MessageRef proposal(RecordingContext& ctx, std::uint32_t leader, std::uint64_t view,
                    std::vector<proto::ClientMessageRef> cmds) {
    ctx.act_as(leader);
    const auto b = hotstuff::make_block(hotstuff::genesis_block(), view, hotstuff::genesis_qc(),
                                        std::move(cmds), NodeId(leader));
    return hotstuff::make_message(
        ctx, hotstuff::Proposal{b, proto::sign_vote(ctx, hotstuff::proposal_statement(*b))});
}

const hotstuff::Proposal& proposal_of(const MessageRef& m) {
    return *hotstuff::as<hotstuff::Proposal>(*m);
}

// `voter`'s generic vote for the block of `p` as if it were of view `view`.
MessageRef vote(RecordingContext& ctx, std::uint32_t voter, const MessageRef& p,
                std::uint64_t view) {
    ctx.act_as(voter);
    const auto& b = *proposal_of(p).block;
    const proto::Statement s{hotstuff::kGeneric, view, b.height, b.digest};
    return hotstuff::make_message(
        ctx, hotstuff::Vote{proto::sign_vote(ctx, s), proposal_of(p).leader_statement});
}

MessageRef new_view(RecordingContext& ctx, std::uint32_t sender, std::uint64_t view) {
    ctx.act_as(sender);
    return hotstuff::make_message(ctx, hotstuff::NewView{view, hotstuff::genesis_qc(), {}, {}});
}

// A COMMIT message (basic HotStuff) carrying a precommitQC of replicas 0, 1, 2 for p's block.
MessageRef phase_qc(RecordingContext& ctx, const MessageRef& p) {
    const auto& b = *proposal_of(p).block;
    const proto::Statement s{hotstuff::kPreCommit, b.view, b.height, b.digest};
    proto::QcBuilder qc(s, 3);
    for (std::uint32_t r = 0; r < 3; ++r) {
        ctx.act_as(r);
        qc.add_trusted(proto::sign_vote(ctx, s));
    }
    ctx.act_as(1);
    return hotstuff::make_message(ctx, hotstuff::PhaseQc{hotstuff::kCommit, qc.build(ctx)});
}

// The checks an Own seal must pass: the crafter's name and key, a digest of this very body.
void check_own(RecordingContext& ctx, const hotstuff::Message& m, std::uint32_t crafter) {
    CHECK(m.signer == NodeId(crafter));
    CHECK(m.digest == hotstuff::message_digest(m.body, m.signer));
    CHECK(hotstuff::authentic(ctx, m));
}

// The checks a splice must pass: the original's signer, digest and signature over a body they
// no longer cover, which authentication refuses and the fingerprint tells apart.
void check_splice(RecordingContext& ctx, const hotstuff::Message& m,
                  const hotstuff::Message& original) {
    CHECK(m.kind == original.kind);
    CHECK(m.signer == original.signer);
    CHECK(m.digest == original.digest);
    CHECK(m.sig == original.sig);
    CHECK(m.digest != hotstuff::message_digest(m.body, m.signer));
    CHECK(ctx.verify(m.signer, m.digest, m.sig));  // the signature itself is valid
    CHECK_FALSE(hotstuff::authentic(ctx, m));      // but not over this body
    CHECK(m.wire_hash() != original.wire_hash());
}

hotstuff::Config config() {
    hotstuff::Config cfg;
    cfg.quorum = proto::Quorum{4, 1};
    return cfg;
}

void deliver(RecordingContext& ctx, hotstuff::Replica& r, std::uint32_t to, const MessageRef& m) {
    ctx.act_as(to);
    r.on_message(ctx, m->signer, *m);
}

std::size_t sent_of(const RecordingContext& ctx, std::uint16_t kind) {
    std::size_t n = 0;
    for (const auto& s : ctx.sent) n += s.msg->kind == kind ? 1 : 0;
    return n;
}

TEST_CASE("craft: hotstuff: each message kind shows the fields it has, and no others") {
    RecordingContext ctx(4, 1);
    const auto p = proposal(ctx, 1, 5, {request(ctx, 1), request(ctx, 2)});
    const auto& b = *proposal_of(p).block;
    const hotstuff::Craft craft;
    CHECK(craft.get(*p, Field::View) == 5u);
    CHECK(craft.get(*p, Field::Height) == 1u);
    CHECK_FALSE(craft.get(*p, Field::Digest));
    CHECK_FALSE(craft.get(*p, Field::Seq));
    CHECK(craft.commands(*p) == 2);
    const auto v = vote(ctx, 2, p, 5);
    CHECK(craft.get(*v, Field::View) == 5u);
    CHECK(craft.get(*v, Field::Height) == 1u);
    CHECK(craft.get(*v, Field::Digest) == b.digest.v);
    CHECK(craft.commands(*v) == 0);
    const auto nv = new_view(ctx, 3, 9);
    CHECK(craft.get(*nv, Field::View) == 9u);
    CHECK_FALSE(craft.get(*nv, Field::Height));
    CHECK_FALSE(craft.get(*nv, Field::Digest));
    const auto commit = phase_qc(ctx, p);
    CHECK(commit->kind == hotstuff::kCommitMsg);
    CHECK(craft.get(*commit, Field::View) == 5u);
    CHECK(craft.get(*commit, Field::Height) == 1u);
    CHECK(craft.get(*commit, Field::Digest) == b.digest.v);
    ctx.act_as(0);
    const auto fetch = hotstuff::make_message(ctx, hotstuff::Fetch{b.digest});
    for (Field f : {Field::View, Field::Seq, Field::Height, Field::Digest}) {
        CHECK_FALSE(craft.get(*fetch, f));
        CHECK_FALSE(craft.with(ctx, *fetch, f, 1, Seal::Own));
    }
    CHECK_FALSE(craft.get(*request(ctx, 3), Field::View));
    CHECK_FALSE(craft.with(ctx, *nv, Field::Height, 1, Seal::Own));
    CHECK_FALSE(craft.with(ctx, *p, Field::Digest, 1, Seal::Own));
}

TEST_CASE("craft: hotstuff: a PROPOSAL changed under an own seal is the crafter's own proposal") {
    RecordingContext ctx(4, 1);
    const auto cmd = request(ctx, 1);
    const auto p = proposal(ctx, 1, 5, {cmd});
    const auto& original = *proposal_of(p).block;
    const hotstuff::Craft craft;
    ctx.act_as(2);
    for (Field f : {Field::View, Field::Height}) {
        CAPTURE(proto::field_name(f));
        const auto out = craft.with(ctx, *p, f, 7, Seal::Own);
        const auto& m = as_hs(out);
        const auto& prop = *hotstuff::as<hotstuff::Proposal>(m);
        const auto& b = *prop.block;
        CHECK(b.view == (f == Field::View ? 7u : 5u));
        CHECK(b.height == (f == Field::Height ? 7u : 1u));
        CHECK(b.parent == original.parent);  // the parent stays, whatever the height says
        CHECK(b.justify == original.justify);
        CHECK(b.cmds == original.cmds);
        CHECK(b.proposer == NodeId(2));
        CHECK(b.digest == hotstuff::block_hash(b));
        CHECK(b.digest_matches());
        CHECK(b.size_bytes == original.size_bytes);
        CHECK(prop.leader_statement.signer == NodeId(2));
        CHECK(prop.leader_statement.stmt == hotstuff::proposal_statement(b));
        CHECK(proto::verify_vote(ctx, prop.leader_statement));
        CHECK(m.kind == hotstuff::kProposal);
        check_own(ctx, m, 2);
    }
}

TEST_CASE("craft: hotstuff: a VOTE, NEW-VIEW or phase QC changed under an own seal") {
    RecordingContext ctx(4, 1);
    const auto p = proposal(ctx, 1, 5, {});
    const auto v = vote(ctx, 0, p, 5);
    const auto& theirs = *hotstuff::as<hotstuff::Vote>(as_hs(v));
    const hotstuff::Craft craft;
    ctx.act_as(3);
    for (Field f : {Field::View, Field::Height, Field::Digest}) {
        CAPTURE(proto::field_name(f));
        const auto crafted = craft.with(ctx, *v, f, 40, Seal::Own);
        const auto& m = as_hs(crafted);
        const auto& out = *hotstuff::as<hotstuff::Vote>(m);
        proto::Statement want = theirs.vote.stmt;
        *(f == Field::View ? &want.view : f == Field::Height ? &want.slot : &want.value.v) = 40;
        CHECK(out.vote.stmt == want);
        CHECK(out.vote.signer == NodeId(3));  // our own vote now
        CHECK(proto::verify_vote(ctx, out.vote));
        CHECK(out.proposal == theirs.proposal);  // the leader's statement cannot be re-signed
        CHECK(m.kind == hotstuff::kVote);
        check_own(ctx, m, 3);
    }
    const auto nv = new_view(ctx, 0, 4);
    ctx.act_as(3);
    const auto moved = craft.with(ctx, *nv, Field::View, 6, Seal::Own);
    const auto& m = as_hs(moved);
    const auto& body = *hotstuff::as<hotstuff::NewView>(m);
    const auto& before = *hotstuff::as<hotstuff::NewView>(*nv);
    CHECK(body.view == 6);
    CHECK(body.high_qc == before.high_qc);
    CHECK(body.last_vote == before.last_vote);
    CHECK(body.proposal == before.proposal);
    check_own(ctx, m, 3);
    // A QC cannot be signed anew by one replica: its statement moves, its signatures stay and
    // no longer verify.
    const auto commit = phase_qc(ctx, p);
    ctx.act_as(3);
    const auto resealed = craft.with(ctx, *commit, Field::Height, 2, Seal::Own);
    const auto& q = as_hs(resealed);
    const auto& qc = hotstuff::as<hotstuff::PhaseQc>(q)->qc;
    const auto& old_qc = hotstuff::as<hotstuff::PhaseQc>(*commit)->qc;
    CHECK(hotstuff::as<hotstuff::PhaseQc>(q)->phase == hotstuff::kCommit);
    CHECK(qc.stmt.slot == 2);
    CHECK(qc.stmt.view == old_qc.stmt.view);
    CHECK(qc.stmt.value == old_qc.stmt.value);
    CHECK(qc.signers == old_qc.signers);
    CHECK(qc.sigs == old_qc.sigs);
    CHECK(proto::verify_qc(ctx, old_qc, 3, 4) == proto::QcCheck::Ok);
    CHECK(proto::verify_qc(ctx, qc, 3, 4) != proto::QcCheck::Ok);
    check_own(ctx, q, 3);
}

TEST_CASE("craft: hotstuff: a splice keeps every signature, outer and inner, over the new body") {
    RecordingContext ctx(4, 1);
    const auto p = proposal(ctx, 1, 5, {request(ctx, 1)});
    const hotstuff::Craft craft;
    ctx.act_as(3);
    // A PROPOSAL's block moved to another height, under the leader's signatures.
    const auto sp = craft.with(ctx, *p, Field::Height, 2, Seal::Splice);
    const auto& prop = *hotstuff::as<hotstuff::Proposal>(as_hs(sp));
    CHECK(prop.block->height == 2);
    CHECK(prop.block->proposer == NodeId(1));
    CHECK(prop.block->digest == hotstuff::block_hash(*prop.block));
    CHECK(prop.leader_statement == proposal_of(p).leader_statement);
    CHECK(prop.leader_statement.stmt != hotstuff::proposal_statement(*prop.block));
    check_splice(ctx, as_hs(sp), as_hs(p));
    // A VOTE moved to another view, under the voter's signature.
    const auto v = vote(ctx, 0, p, 5);
    ctx.act_as(3);
    const auto sv = craft.with(ctx, *v, Field::View, 6, Seal::Splice);
    const auto& out = *hotstuff::as<hotstuff::Vote>(as_hs(sv));
    const auto& theirs = *hotstuff::as<hotstuff::Vote>(*v);
    CHECK(out.vote.stmt.view == 6);
    CHECK(out.vote.signer == theirs.vote.signer);
    CHECK(out.vote.sig == theirs.vote.sig);
    CHECK_FALSE(proto::verify_vote(ctx, out.vote));
    CHECK(out.proposal == theirs.proposal);
    check_splice(ctx, as_hs(sv), as_hs(v));
    // A NEW-VIEW moved to another view: only the outer signature covered its view.
    const auto nv = new_view(ctx, 0, 4);
    ctx.act_as(3);
    const auto snv = craft.with(ctx, *nv, Field::View, 5, Seal::Splice);
    CHECK(hotstuff::as<hotstuff::NewView>(as_hs(snv))->view == 5);
    check_splice(ctx, as_hs(snv), as_hs(nv));
    // A phase QC moved to another view.
    const auto commit = phase_qc(ctx, p);
    ctx.act_as(3);
    const auto sq = craft.with(ctx, *commit, Field::View, 4, Seal::Splice);
    CHECK(hotstuff::as<hotstuff::PhaseQc>(as_hs(sq))->qc.stmt.view == 4);
    check_splice(ctx, as_hs(sq), as_hs(commit));
}

TEST_CASE("craft: hotstuff: a PROPOSAL's commands edited, its block hash and statement anew") {
    RecordingContext ctx(4, 1);
    const auto a = request(ctx, 1), b = request(ctx, 2), c = request(ctx, 3);
    const auto p = proposal(ctx, 0, 4, {a, b});
    const auto& original = *proposal_of(p).block;
    const hotstuff::Craft craft;
    using Op = proto::CommandEdit::Op;
    ctx.act_as(0);
    const auto block_of = [](const sim::PayloadRef& m) -> const hotstuff::Block& {
        return *hotstuff::as<hotstuff::Proposal>(as_hs(m))->block;
    };
    const auto dup = craft.with_commands(ctx, *p, {Op::Duplicate, 1, {}}, Seal::Own);
    CHECK(block_of(dup).cmds == std::vector<proto::ClientMessageRef>{a, b, b});
    const auto dropped = craft.with_commands(ctx, *p, {Op::Drop, 0, {}}, Seal::Own);
    CHECK(block_of(dropped).cmds == std::vector<proto::ClientMessageRef>{b});
    const auto injected = craft.with_commands(ctx, *p, {Op::Inject, 0, c}, Seal::Own);
    CHECK(block_of(injected).cmds == std::vector<proto::ClientMessageRef>{a, b, c});
    for (const auto& m : {dup, dropped, injected}) {
        const auto& blk = block_of(m);
        CHECK(blk.view == original.view);
        CHECK(blk.height == original.height);
        CHECK(blk.parent == original.parent);
        CHECK(blk.justify == original.justify);
        CHECK(blk.digest == hotstuff::block_hash(blk));
        CHECK(blk.digest != original.digest);
        const auto& stmt = hotstuff::as<hotstuff::Proposal>(as_hs(m))->leader_statement;
        CHECK(stmt.stmt == hotstuff::proposal_statement(blk));
        CHECK(proto::verify_vote(ctx, stmt));
        check_own(ctx, as_hs(m), 0);
    }
    CHECK_FALSE(craft.with_commands(ctx, *p, {Op::Drop, 2, {}}, Seal::Own));
    CHECK_FALSE(craft.with_commands(ctx, *vote(ctx, 1, p, 4), {Op::Drop, 0, {}}, Seal::Own));
    // Spliced, the leader's statement and signature stay over the other commands.
    ctx.act_as(2);
    const auto spliced = craft.with_commands(ctx, *p, {Op::Drop, 0, {}}, Seal::Splice);
    CHECK(block_of(spliced).cmds == std::vector<proto::ClientMessageRef>{b});
    CHECK(hotstuff::as<hotstuff::Proposal>(as_hs(spliced))->leader_statement ==
          proposal_of(p).leader_statement);
    check_splice(ctx, as_hs(spliced), as_hs(p));
}

TEST_CASE("mutate: hotstuff: a round moved in a VOTE is one small change, signed by the mutator") {
    RecordingContext ctx(4, 1);
    const hotstuff::Craft craft;
    proto::MutateParams params;
    params.ppm = 1'000'000;
    params.kinds = {proto::MutateParams::Kind::Round};
    proto::Mutator mutator(params, craft);
    ctx.act_as(2);
    const proto::Statement before{hotstuff::kGeneric, 5, 10, Digest(77)};
    for (int i = 0; i < 50; ++i) {
        // A new message each time: copies of one payload in a row are one broadcast.
        const auto mine =
            hotstuff::make_message(ctx, hotstuff::Vote{proto::sign_vote(ctx, before), {}});
        auto [to, out] = mutator.mutate(ctx, NodeId(3), mine);
        CHECK(to == NodeId(3));
        const auto& s = hotstuff::as<hotstuff::Vote>(as_hs(out))->vote.stmt;
        CHECK(s.value == before.value);
        CHECK(s.kind == before.kind);
        const auto dv = static_cast<std::int64_t>(s.view) - 5;
        const auto dh = static_cast<std::int64_t>(s.slot) - 10;
        CHECK(((dv == 0) != (dh == 0)));  // exactly one round moved, by 1 or 2
        CHECK(std::abs(dv + dh) >= 1);
        CHECK(std::abs(dv + dh) <= 2);
        check_own(ctx, as_hs(out), 2);
    }
    CHECK(mutator.mutations() == 50);
}

TEST_CASE("splice: hotstuff: a spliced PROPOSAL gets no vote; the own-sealed one is a proposal") {
    RecordingContext ctx(4, 1);
    const auto p = proposal(ctx, 1, 1, {request(ctx, 1)});
    const hotstuff::Craft craft;
    {  // The genuine proposal: replica 3 votes to the next leader (2) and moves to view 2.
        hotstuff::Replica r(config());
        ctx.act_as(3);
        r.on_start(ctx);
        deliver(ctx, r, 3, p);
        CHECK(sent_of(ctx, hotstuff::kVote) == 1);
        CHECK(r.view() == 2);
    }
    ctx.sent.clear();
    ctx.act_as(0);
    const auto spliced = craft.with(ctx, *p, Field::Height, 2, Seal::Splice);
    {  // The block at height 2 under the leader's signatures: nothing happens.
        hotstuff::Replica r(config());
        ctx.act_as(3);
        r.on_start(ctx);
        deliver(ctx, r, 3, hotstuff::MessageRef(&as_hs(spliced)));
        CHECK(ctx.sent.empty());
        CHECK(r.view() == 1);
        CHECK(r.stored_blocks() == 1);  // genesis only
    }
    // Replica 0, the leader of view 4, seals a view-4 copy with its own key: a proposal like
    // any other, voted for.
    ctx.act_as(0);
    const auto own = craft.with(ctx, *p, Field::View, 4, Seal::Own);
    hotstuff::Replica r(config());
    ctx.act_as(3);
    r.on_start(ctx);
    deliver(ctx, r, 3, hotstuff::MessageRef(&as_hs(own)));
    REQUIRE(sent_of(ctx, hotstuff::kVote) == 1);
    CHECK(ctx.sent[0].to == NodeId(1));  // the leader of view 5
    CHECK(r.view() == 5);
}

namespace {

// Replica 2, the leader of view 2, holding its own vote and replica 3's for view 1's block:
// one more vote for view 1 makes a QC, and it proposes for view 2.
struct LeaderOfView2 {
    RecordingContext& ctx;
    MessageRef p;
    hotstuff::Replica r{config()};
    explicit LeaderOfView2(RecordingContext& c) : ctx(c), p(proposal(c, 1, 1, {request(c, 1)})) {
        ctx.act_as(2);
        r.on_start(ctx);
        deliver(ctx, r, 2, p);
        deliver(ctx, r, 2, vote(ctx, 3, p, 1));
        ctx.sent.clear();
        ctx.timers.clear();
    }
};

}  // namespace

TEST_CASE("splice: hotstuff: a VOTE moved to another view under its signature counts for no QC") {
    RecordingContext ctx(4, 1);
    const hotstuff::Craft craft;
    {  // The genuine third vote: a QC for view 1, and the proposal for view 2.
        LeaderOfView2 l(ctx);
        deliver(ctx, l.r, 2, vote(ctx, 0, l.p, 1));
        CHECK(l.r.high_qc().stmt.view == 1);
        CHECK(sent_of(ctx, hotstuff::kProposal) == 3);
    }
    {  // Replica 0's vote for view 3, spliced into view 1: refused.
        LeaderOfView2 l(ctx);
        const auto theirs = vote(ctx, 0, l.p, 3);
        ctx.act_as(1);
        const auto spliced = craft.with(ctx, *theirs, Field::View, 1, Seal::Splice);
        deliver(ctx, l.r, 2, hotstuff::MessageRef(&as_hs(spliced)));
        CHECK(l.r.high_qc().stmt.view == 0);
        CHECK(ctx.sent.empty());
        CHECK(l.r.view() == 2);
    }
    {  // The same change sealed by replica 0 itself is its vote for view 1.
        LeaderOfView2 l(ctx);
        const auto theirs = vote(ctx, 0, l.p, 3);
        ctx.act_as(0);
        const auto own = craft.with(ctx, *theirs, Field::View, 1, Seal::Own);
        deliver(ctx, l.r, 2, hotstuff::MessageRef(&as_hs(own)));
        CHECK(l.r.high_qc().stmt.view == 1);
        CHECK(sent_of(ctx, hotstuff::kProposal) == 3);
    }
}

TEST_CASE("splice: hotstuff: a NEW-VIEW moved to a later view under its signature moves no one") {
    RecordingContext ctx(4, 1);
    const hotstuff::Craft craft;
    const auto setup = [&](hotstuff::Replica& r) {
        // Replica 1 reports view 3: one replica ahead is not f+1, so replica 3 stays in view 1.
        ctx.act_as(3);
        r.on_start(ctx);
        deliver(ctx, r, 3, new_view(ctx, 1, 3));
        REQUIRE(r.view() == 1);
        ctx.sent.clear();
        ctx.timers.clear();
    };
    {
        hotstuff::Replica r(config());
        setup(r);
        const auto theirs = new_view(ctx, 2, 1);
        ctx.act_as(0);
        const auto spliced = craft.with(ctx, *theirs, Field::View, 3, Seal::Splice);
        deliver(ctx, r, 3, hotstuff::MessageRef(&as_hs(spliced)));
        CHECK(r.view() == 1);
        CHECK(ctx.sent.empty());
        CHECK(ctx.timers.empty());
    }
    {  // Replica 2's own NEW-VIEW for view 3 is the second report: replica 3 joins view 3,
       // which it leads, and with n-f NEW-VIEWs for it proposes, votes and goes on to view 4.
        hotstuff::Replica r(config());
        setup(r);
        const auto theirs = new_view(ctx, 2, 1);
        ctx.act_as(2);
        const auto own = craft.with(ctx, *theirs, Field::View, 3, Seal::Own);
        deliver(ctx, r, 3, hotstuff::MessageRef(&as_hs(own)));
        CHECK(sent_of(ctx, hotstuff::kNewView) == 3);
        CHECK(sent_of(ctx, hotstuff::kProposal) == 3);
        CHECK(r.view() == 4);
    }
}

TEST_CASE("hotstuff: a protocol message signed by a client key is refused") {
    RecordingContext ctx(4, 1);
    {  // Two NEW-VIEWs for view 3 from clients 4 and 5: no f+1 replicas, no join, no timer.
        hotstuff::Replica r(config());
        ctx.act_as(3);
        r.on_start(ctx);
        for (std::uint32_t client : {4u, 5u}) {
            const auto nv = new_view(ctx, client, 3);
            CHECK_FALSE(hotstuff::authentic(ctx, *nv));
            deliver(ctx, r, 3, nv);
        }
        CHECK(r.view() == 1);
        CHECK(ctx.sent.empty());
        CHECK(ctx.timers.empty());
    }
    {  // A client's vote would be a third signer of view 1's QC.
        LeaderOfView2 l(ctx);
        deliver(ctx, l.r, 2, vote(ctx, 5, l.p, 1));
        CHECK(l.r.high_qc().stmt.view == 0);
        CHECK(ctx.sent.empty());
    }
}

TEST_CASE("mutate: hotstuff: the behaviour is accepted with its params and refused with bad ones") {
    auto doc = testing::hotstuff_base(4, 1, 1);
    doc["faults"] = nlohmann::json::parse(R"([{"type": "byzantine", "node": 2, "behavior": "mutate",
        "params": {"kinds": ["splice", "round"], "probability": 0.5}}])");
    CHECK_NOTHROW(protocols::validate(sim::parse_scenario(doc)));
    doc["faults"][0]["params"] = {{"probability", -0.1}};
    CHECK_THROWS_WITH_AS(protocols::validate(sim::parse_scenario(doc)),
                         doctest::Contains("/faults/0/params/probability"), sim::ScenarioError);
    doc["faults"][0]["params"] = {{"kinds", {"round", "teleport"}}};
    CHECK_THROWS_WITH_AS(protocols::validate(sim::parse_scenario(doc)),
                         doctest::Contains("/faults/0/params/kinds/1"), sim::ScenarioError);
}

}  // namespace hotstuff_craft_tests
