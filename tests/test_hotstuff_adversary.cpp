// The HotStuff behaviours far_future and mixed_qc (protocols/hotstuff/byzantine_far.hpp) on a
// recording context: each crafted message checked field by field, and what an honest
// hotstuff::Replica does with them: no far view on one replica's word, no `view + 1` past the
// largest view, bounded tallies, builders and detector, and no block on a QC whose signatures
// are over different statements.
#include <doctest/doctest.h>

#include <limits>

#include "protocols/hotstuff/byzantine.hpp"
#include "protocols/hotstuff/byzantine_far.hpp"
#include "protocols/hotstuff/replica.hpp"
#include "sim/hash.hpp"
#include "tests/helpers.hpp"
#include "tests/recording_context.hpp"

namespace {

using hotstuff::BlockRef;
using hotstuff::Digest;
using hotstuff::MessageRef;
using hotstuff::NodeId;
using hotstuff::QuorumCert;
using testing::RecordingContext;

constexpr std::uint32_t kN = 4;
constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

hotstuff::Config config(bool basic = false) {
    hotstuff::Config cfg;
    cfg.quorum = proto::Quorum{kN, 1};
    cfg.basic = basic;
    return cfg;
}

const hotstuff::Message& as_hs(const sim::PayloadRef& p) {
    REQUIRE(p);
    return static_cast<const hotstuff::Message&>(*p);
}

QuorumCert qc_for(RecordingContext& ctx, const BlockRef& b,
                  std::uint8_t kind = hotstuff::kGeneric) {
    const proto::Statement s{kind, b->view, b->height, b->digest};
    proto::QcBuilder builder(s, 3);
    for (std::uint32_t r : {0U, 2U, 3U}) {
        ctx.act_as(r);
        builder.add_trusted(proto::sign_vote(ctx, s));
    }
    return builder.build(ctx);
}

MessageRef proposal(RecordingContext& ctx, const BlockRef& b) {
    ctx.act_as(b->proposer.v);
    return hotstuff::make_message(
        ctx, hotstuff::Proposal{b, proto::sign_vote(ctx, hotstuff::proposal_statement(*b))});
}

// Blocks b1..b4 in views 1..4 (leader v mod 4), each on the QC of the one before.
struct Chain {
    explicit Chain(bool ed25519 = false) : ctx(kN, 1, ed25519) {
        ctx.act_as(kN);
        request = proto::make_request(ctx, proto::Request{5, 1, NodeId(kN)});
        for (std::uint64_t v = 1; v <= 4; ++v) {
            b.push_back(hotstuff::make_block(b.back(), v, qc.back(), {request},
                                             NodeId(static_cast<std::uint32_t>(v % kN))));
            qc.push_back(qc_for(ctx, b.back()));
        }
    }
    RecordingContext ctx;
    std::vector<BlockRef> b{hotstuff::genesis_block()};
    std::vector<QuorumCert> qc{hotstuff::genesis_qc()};
    proto::ClientMessageRef request;
};

// Delivers to replica `to` (acting as it) every message in ctx.sent[from..] addressed to it.
void deliver_sent(RecordingContext& ctx, hotstuff::Replica& r, std::uint32_t to, std::size_t from) {
    const std::vector<RecordingContext::Sent> batch(ctx.sent.begin() + static_cast<long>(from),
                                                    ctx.sent.end());
    ctx.act_as(to);
    for (const auto& s : batch)
        if (s.to.v == to) r.on_message(ctx, as_hs(s.msg).signer, *s.msg);
}

std::size_t votes_sent(const RecordingContext& ctx, std::size_t from) {
    std::size_t n = 0;
    for (std::size_t i = from; i < ctx.sent.size(); ++i)
        n += ctx.sent[i].msg->kind == hotstuff::kVote ? 1 : 0;
    return n;
}

// The messages of one far_future tick, by kind, each sent to the three others.
struct Tick {
    std::vector<const hotstuff::Message*> votes, new_views, proposals;
};
Tick split(const RecordingContext& ctx, std::size_t from, std::uint32_t self) {
    Tick t;
    for (std::size_t i = from; i < ctx.sent.size(); ++i) {
        const auto& m = static_cast<const hotstuff::Message&>(*ctx.sent[i].msg);
        CHECK(ctx.sent[i].to.v != self);
        if (m.kind == hotstuff::kVote) t.votes.push_back(&m);
        if (m.kind == hotstuff::kNewView) t.new_views.push_back(&m);
        if (m.kind == hotstuff::kProposal) t.proposals.push_back(&m);
    }
    return t;
}

// The votes replica 1 received, fed to `mixed`: for b4 from 0 and 3; from 2 one for b3 and a
// PREPARE for b4.
void feed_votes(Chain& c, hotstuff::MixedQc& mixed) {
    const proto::Statement s = c.qc[4].stmt;
    const proto::Statement s3{hotstuff::kGeneric, 3, 3, c.b[3]->digest};
    const proto::Statement phase{hotstuff::kPrepare, 4, 4, c.b[4]->digest};
    for (const auto& [voter, stmt] : std::vector<std::pair<std::uint32_t, proto::Statement>>{
             {0, s}, {3, s}, {2, s3}, {2, phase}}) {
        c.ctx.act_as(voter);
        const auto v = hotstuff::make_message(c.ctx, hotstuff::Vote{proto::sign_vote(c.ctx, stmt)});
        c.ctx.act_as(1);
        mixed.observe(c.ctx, *v);
    }
}

hotstuff::MixedQc mixed_qc(const char* mix) {
    sim::FaultSpec f;
    f.path = "/faults/0";
    f.params = {{"mix", mix}};
    return hotstuff::MixedQc(hotstuff::parse_mixed_qc(f));
}

}  // namespace

TEST_CASE(
    "hotstuff far_future: each tick a VOTE and a NEW-VIEW for the next far view, and a "
    "PROPOSAL in the last view at or below it that the replica leads") {
    Chain c;
    const hotstuff::Config cfg = config();
    hotstuff::FarFuture far({sim::milliseconds(50), 1000, true, true});
    const std::uint64_t own = 7;
    const QuorumCert& high = c.qc[2];
    // Views own + 1000, +1001, +1002, then 2^64-1; +1004 ... +1006, then 2^64-2.
    const std::uint64_t want[] = {1007, 1008, 1009, kMax, 1011, 1012, 1013, kMax - 1};
    for (std::uint64_t view : want) {
        CAPTURE(view);
        c.ctx.act_as(1);
        const std::size_t mark = c.ctx.sent.size();
        CHECK(far.target(own) == view);
        far.tick(c.ctx, cfg, own, high);
        const Tick t = split(c.ctx, mark, 1);
        REQUIRE(t.votes.size() == 3);
        REQUIRE(t.new_views.size() == 3);
        REQUIRE(t.proposals.size() == 3);  // one copy to each other replica, shared
        CHECK(t.votes[0] == t.votes[2]);
        for (const auto* m : {t.votes[0], t.new_views[0], t.proposals[0]}) {
            CHECK(m->signer == NodeId(1));
            CHECK(hotstuff::authentic(c.ctx, *m));
        }
        const auto& vote = *hotstuff::as<hotstuff::Vote>(*t.votes[0]);
        CHECK(vote.vote.stmt ==
              proto::Statement{hotstuff::kGeneric, view, high.stmt.slot + 1,
                               Digest(sim::mix64(view ^ hotstuff::kFarVoteBlock))});
        CHECK(vote.vote.signer == NodeId(1));
        CHECK(proto::verify_vote(c.ctx, vote.vote));
        CHECK(vote.proposal == proto::SignedVote{});
        const auto& nv = *hotstuff::as<hotstuff::NewView>(*t.new_views[0]);
        CHECK(nv.view == view);
        CHECK(nv.high_qc == high);
        CHECK(nv.last_vote == proto::SignedVote{});
        CHECK(nv.proposal == proto::SignedVote{});
        // Replica 1 leads the views 1 mod 4: the largest such at or below the view.
        const std::uint64_t led = view - (view % kN + kN - 1) % kN;
        CHECK(led % kN == 1);
        const auto& p = *hotstuff::as<hotstuff::Proposal>(*t.proposals[0]);
        const hotstuff::Block& blk = *p.block;
        CHECK(blk.view == led);
        CHECK(blk.parent == high.stmt.value);
        CHECK(blk.height == high.stmt.slot + 1);
        CHECK(blk.justify == high);
        CHECK(blk.cmds.empty());
        CHECK(blk.proposer == NodeId(1));
        CHECK(blk.digest_matches());
        CHECK(p.leader_statement.signer == NodeId(1));
        CHECK(p.leader_statement.stmt == hotstuff::proposal_statement(blk));
        CHECK(proto::verify_vote(c.ctx, p.leader_statement));
    }
    CHECK(far.ticks() == 8);
}

TEST_CASE(
    "hotstuff far_future: views_ahead views in turn; no largest views or proposals when "
    "switched off; basic votes are PREPAREs") {
    Chain c;
    hotstuff::FarFuture far({sim::milliseconds(1), 3, false, false});
    std::vector<std::uint64_t> views;
    for (int i = 0; i < 7; ++i) {
        c.ctx.act_as(2);
        const std::size_t mark = c.ctx.sent.size();
        far.tick(c.ctx, config(true), 10, hotstuff::genesis_qc());
        const Tick t = split(c.ctx, mark, 2);
        REQUIRE(t.votes.size() == 3);
        CHECK(t.proposals.empty());
        const auto& vote = *hotstuff::as<hotstuff::Vote>(*t.votes[0]);
        CHECK(vote.vote.stmt.kind == hotstuff::kPrepare);
        CHECK(vote.vote.stmt.slot == 1);
        CHECK(hotstuff::as<hotstuff::NewView>(*t.new_views[0])->high_qc == hotstuff::genesis_qc());
        views.push_back(vote.vote.stmt.view);
    }
    CHECK(views == std::vector<std::uint64_t>{13, 14, 15, 13, 14, 15, 13});
    // A view near the top saturates rather than wraps.
    hotstuff::FarFuture top({sim::milliseconds(1), 1ULL << 62, false, true});
    CHECK(top.target(kMax - 5) == kMax);
    CHECK(hotstuff::FarFuture::led_view(config(), 3, kMax, 0) == kMax);
    CHECK(hotstuff::FarFuture::led_view(config(), 0, kMax, 0) == kMax - 3);
    CHECK_FALSE(hotstuff::FarFuture::led_view(config(), 1, 9, 9));  // 9 is not above its own
}

TEST_CASE(
    "hotstuff far_future: an honest replica moves to no far view on one replica's word, "
    "refuses what lies beyond its window, and joins only views f+1 replicas reached") {
    for (bool basic : {false, true}) {
        CAPTURE(basic);
        RecordingContext ctx(kN, 1);
        hotstuff::Replica r(config(basic));
        ctx.act_as(0);
        r.on_start(ctx);
        const std::uint64_t start = r.view();
        hotstuff::FarFuture far({sim::milliseconds(50), 1000, true, true});
        std::size_t proposals = 0;
        for (int i = 0; i < 2000; ++i) {
            ctx.act_as(3);
            const std::size_t mark = ctx.sent.size();
            far.tick(ctx, config(basic), start, hotstuff::genesis_qc());
            proposals += split(ctx, mark, 3).proposals.size() / 3;
            const std::size_t before = ctx.sent.size();
            deliver_sent(ctx, r, 0, mark);
            CHECK(votes_sent(ctx, before) == 0);  // no vote for a far proposal
        }
        CHECK(r.view() == start);
        const auto f = r.footprint();
        CHECK(f.refused_votes == 2000);
        CHECK(f.refused_new_views == 2000);
        CHECK(f.refused_proposals == proposals);
        CHECK(proposals > 1000);
        CHECK(f.vote_builders == 0);
        CHECK(f.new_view_tallies <= 1);  // its own NEW-VIEW for view 1 in basic HotStuff
        CHECK(f.detector_entries == 0);
        // A second replica in view 5: f+1 report views above ours, and the join takes the
        // lowest of the f+1 highest: 5, not the far one.
        ctx.act_as(2);
        const auto nv = hotstuff::make_message(ctx, hotstuff::NewView{5, hotstuff::genesis_qc()});
        ctx.act_as(0);
        r.on_message(ctx, NodeId(2), *nv);
        CHECK(r.view() == 5);
    }
}

TEST_CASE(
    "hotstuff trust_proposal_view: the old rule votes for a proposal in view 2^64-1 and "
    "never votes again; the window refuses it") {
    for (bool mutated : {false, true}) {
        CAPTURE(mutated);
        Chain c;
        hotstuff::Config cfg = config();
        if (mutated) cfg.mutations.add(hotstuff::Mutation::TrustProposalView);
        hotstuff::Replica r(cfg);
        c.ctx.act_as(1);  // its votes go to replicas 2, 3, 0 and 3: none to itself
        r.on_start(c.ctx);
        // Replica 3 leads view 2^64-1: a block there on the QC of b2, then an honest one.
        c.ctx.act_as(3);
        const std::size_t mark = c.ctx.sent.size();
        const auto top = hotstuff::make_block(c.b[2], kMax, c.qc[2], {}, NodeId(3));
        const auto next = hotstuff::make_block(c.b[2], 3, c.qc[2], {}, NodeId(3));
        for (const auto& b : {c.b[1], c.b[2], top, next}) {
            const auto p = proposal(c.ctx, b);
            c.ctx.act_as(1);
            r.on_message(c.ctx, b->proposer, *p);
        }
        // Votes for b1, b2, then for the top block (old rule) or for the block of view 3.
        REQUIRE(votes_sent(c.ctx, mark) == 3);
        const auto& last = *hotstuff::as<hotstuff::Vote>(as_hs(c.ctx.sent.back().msg));
        CHECK(last.vote.stmt.view == (mutated ? kMax : 3));
        CHECK(r.view() == (mutated ? kMax : 4));  // saturated, not wrapped to 0
        CHECK(r.footprint().refused_proposals == (mutated ? 0 : 1));
        CHECK(c.ctx.failures.empty());
    }
}

TEST_CASE(
    "hotstuff: a signer starts one vote builder per view, so votes for ever new blocks "
    "store nothing, and the honest QC still forms") {
    Chain c;
    hotstuff::Replica r(config());  // replica 2 leads view 2: votes for view 1 come to it
    c.ctx.act_as(2);
    r.on_start(c.ctx);
    const auto p1 = proposal(c.ctx, c.b[1]);
    c.ctx.act_as(2);
    r.on_message(c.ctx, NodeId(1), *p1);  // its own vote for b1 goes to itself
    const proto::Statement s{hotstuff::kGeneric, 1, 1, c.b[1]->digest};
    for (std::uint64_t i = 0; i < 1000; ++i) {
        c.ctx.act_as(1);
        const proto::Statement junk{hotstuff::kGeneric, 1, 1, Digest(sim::mix64(i + 77))};
        const auto v = hotstuff::make_message(c.ctx, hotstuff::Vote{proto::sign_vote(c.ctx, junk)});
        c.ctx.act_as(2);
        r.on_message(c.ctx, NodeId(1), *v);
    }
    CHECK(r.footprint().vote_builders == 2);  // b1's, and replica 1's first junk statement
    CHECK(r.footprint().refused_votes == 999);
    for (std::uint32_t voter : {0U, 3U}) {
        c.ctx.act_as(voter);
        const auto v = hotstuff::make_message(c.ctx, hotstuff::Vote{proto::sign_vote(c.ctx, s)});
        c.ctx.act_as(2);
        r.on_message(c.ctx, NodeId(voter), *v);
    }
    CHECK(r.high_qc().stmt == s);
    CHECK(r.high_qc().signer_count() == 3);
}

TEST_CASE(
    "hotstuff far_future: 600 s of it leave an honest replica's tallies, builders and "
    "detector as small as 60 s do") {
    std::vector<hotstuff::Replica::Footprint> at;
    for (const char* stop : {"60s", "600s"}) {
        auto doc = testing::hotstuff_base(4, 40, 2);
        doc["protocol"]["view_timeout"] = "100ms";
        doc["stop"] = {{"at", stop}, {"when_done", false}};
        doc["faults"] = {{{"type", "byzantine"}, {"node", 1}, {"behavior", "far_future"}}};
        auto run = testing::run(doc);
        REQUIRE_FALSE(run.result->violation);
        CHECK(run.result->accepted == 40);
        hotstuff::Replica::Footprint most;
        for (std::uint32_t i : {0U, 2U, 3U}) {
            const auto* r = dynamic_cast<const hotstuff::Replica*>(&run.sim->actor(i));
            REQUIRE(r != nullptr);
            const auto f = r->footprint();
            most.vote_builders = std::max(most.vote_builders, f.vote_builders);
            most.voter_views = std::max(most.voter_views, f.voter_views);
            most.new_view_tallies = std::max(most.new_view_tallies, f.new_view_tallies);
            most.detector_entries = std::max(most.detector_entries, f.detector_entries);
            most.refused_new_views = std::max(most.refused_new_views, f.refused_new_views);
        }
        at.push_back(most);
    }
    CHECK(at[1].refused_new_views > 9 * at[0].refused_new_views);  // ten times the messages
    CHECK(at[1].new_view_tallies <= 2 * kN + 1);                   // the window and the view itself
    CHECK(at[1].vote_builders <= at[0].vote_builders + 8);
    CHECK(at[1].voter_views <= at[0].voter_views + 8);
    CHECK(at[1].detector_entries <= at[0].detector_entries + 64);
}

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

TEST_CASE("hotstuff far_future and mixed_qc: bad params are refused with their JSON path") {
    sim::ScenarioSpec spec;
    spec.nodes = 4;
    auto refused = [&](const char* behavior, const char* params) {
        sim::FaultSpec f;
        f.type = sim::FaultSpec::Type::Byzantine;
        f.path = "/faults/0";
        f.node = 1;
        f.behavior = behavior;
        f.params = nlohmann::json::parse(params);
        try {
            hotstuff::parse_behavior(f, spec);
        } catch (const sim::ScenarioError& e) {
            return e.path();
        }
        return std::string("accepted");
    };
    const std::string at = "/faults/0/params/";
    CHECK(refused("far_future", R"({"every": "0ms"})") == at + "every");
    CHECK(refused("far_future", R"({"every": "61m"})") == at + "every");
    CHECK(refused("far_future", R"({"views_ahead": 0})") == at + "views_ahead");
    CHECK(refused("far_future", R"({"views_ahead": 4611686018427387905})") == at + "views_ahead");
    CHECK(refused("far_future", R"({"max_view": "yes"})") == at + "max_view");
    CHECK(refused("far_future", R"({"propose": 1})") == at + "propose");
    CHECK(refused("far_future", R"({"rate": 10})") == at + "rate");
    CHECK(refused("far_future", R"({"views_ahead": 4611686018427387904, "every": "60m"})") ==
          "accepted");
    CHECK(refused("mixed_qc", R"({"mix": "sideways"})") == at + "mix");
    CHECK(refused("mixed_qc", R"({"mix": ["blocks"]})") == at + "mix");
    CHECK(refused("mixed_qc", R"({"views": 2})") == at + "views");
    CHECK(refused("mixed_qc", R"({"mix": "relabel_view"})") == "accepted");
}
