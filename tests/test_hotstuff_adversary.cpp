// The HotStuff behaviours far_future and mixed_qc (protocols/hotstuff/byzantine_far.hpp) on a
// recording context: each crafted message checked field by field, and what an honest
// hotstuff::Replica does with them: no far view on one replica's word, no `view + 1` past the
// largest view, bounded tallies, builders and detector, and no block on a QC whose signatures
// are over different statements.
#include <doctest/doctest.h>

#include <array>

#include "tests/hotstuff_fixtures.hpp"

// The whole file in its own namespace: its helpers may share names with other test files'.
namespace hotstuff_adversary_tests {

using namespace testing::hotstuff_fixtures;  // NOLINT: the fixtures of these tests

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
        std::uint64_t refused = 0;
        for (std::uint32_t i : {0U, 2U, 3U}) {
            const auto* r = dynamic_cast<const hotstuff::Replica*>(&run.sim->actor(i));
            REQUIRE(r != nullptr);
            const auto f = r->footprint();
            refused += f.refused_new_views;
            most.vote_builders = std::max(most.vote_builders, f.vote_builders);
            most.voter_views = std::max(most.voter_views, f.voter_views);
            most.new_view_tallies = std::max(most.new_view_tallies, f.new_view_tallies);
            most.detector_entries = std::max(most.detector_entries, f.detector_entries);
            most.refused_new_views = std::max(most.refused_new_views, f.refused_new_views);
        }
        at.push_back(most);
        // The report counts what the honest replicas refused (the bound's counter).
        const auto& table = run.result->refused;
        REQUIRE(table.count("hotstuff.new_views") == 1);
        CHECK(table.at("hotstuff.new_views") == refused);
    }
    CHECK(at[1].refused_new_views > 9 * at[0].refused_new_views);  // ten times the messages
    CHECK(at[1].new_view_tallies <= 2 * kN + 1);                   // the window and the view itself
    CHECK(at[1].vote_builders <= at[0].vote_builders + 8);
    CHECK(at[1].voter_views <= at[0].voter_views + 8);
    CHECK(at[1].detector_entries <= at[0].detector_entries + 64);
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

TEST_CASE("hotstuff bounds: a BLOCK nobody asked for is refused; one fetched is stored") {
    Chain c;
    hotstuff::Replica r1(config());
    c.ctx.act_as(1);
    r1.on_start(c.ctx);
    const std::size_t stored = r1.stored_blocks();
    const auto reply = [&](const BlockRef& b) {
        c.ctx.act_as(2);
        return hotstuff::make_message(c.ctx, hotstuff::BlockReply{b});
    };
    c.ctx.act_as(1);
    r1.on_message(c.ctx, NodeId(2), *reply(c.b[1]));
    CHECK(r1.footprint().refused_blocks == 1);
    CHECK(r1.stored_blocks() == stored);
    // A proposal on b1's QC, b1 missing: replica 1 asks for b1, and stores it when it comes.
    const auto p = proposal(c.ctx, c.b[2]);
    c.ctx.act_as(1);
    r1.on_message(c.ctx, NodeId(2), *p);
    c.ctx.act_as(1);
    r1.on_message(c.ctx, NodeId(2), *reply(c.b[1]));
    CHECK(r1.footprint().refused_blocks == 1);
    CHECK(r1.stored_blocks() >= stored + 1);
}

namespace {

// Basic HotStuff: replica 1 stores b1 (view 1), times out into view 2, then gets view 1's
// DECIDE. Returns how many blocks it executed.
std::size_t executed_after_late_decide(bool ignore_old) {
    Chain c;
    hotstuff::Config cfg = config(true);
    if (ignore_old) cfg.mutations.add(hotstuff::Mutation::IgnoreOldDecide);
    hotstuff::Replica r1(cfg);
    c.ctx.act_as(1);
    r1.on_start(c.ctx);
    const auto p = proposal(c.ctx, c.b[1]);
    c.ctx.act_as(1);
    r1.on_message(c.ctx, NodeId(1), *p);
    // Replicas 2 and 3 report view 2 (their timers fired): f+1 of them, so 1 joins it.
    for (std::uint32_t r : {2U, 3U}) {
        c.ctx.act_as(r);
        const auto nv = hotstuff::make_message(c.ctx, hotstuff::NewView{2, c.qc[0]});
        c.ctx.act_as(1);
        r1.on_message(c.ctx, NodeId(r), *nv);
    }
    REQUIRE(r1.view() >= 2);
    c.ctx.commits.clear();
    const hotstuff::PhaseQc decide{static_cast<hotstuff::Phase>(hotstuff::kCommit + 1),
                                   qc_for(c.ctx, c.b[1], hotstuff::kCommit)};
    c.ctx.act_as(1);
    const auto m = hotstuff::make_message(c.ctx, decide);
    r1.on_message(c.ctx, NodeId(1), *m);
    return c.ctx.commits.size();
}

}  // namespace

TEST_CASE("basic hotstuff: a DECIDE for a view already left still decides its block") {
    CHECK(executed_after_late_decide(false) == 1);
    CHECK(executed_after_late_decide(true) == 0);
}

TEST_CASE("hotstuff: each refusal table in the report is what the honest replicas counted") {
    // Every buffer a Byzantine replica can fill has a bound, and what the bound refused is
    // reported: per table, the report's count equals the sum of the honest replicas' own.
    std::array<std::uint64_t, 4> seen{};
    for (const char* behavior :
         {"far_future", "mixed_qc", "mutate", "equivocate", "forged_qc", "double_vote"}) {
        CAPTURE(behavior);
        auto doc = testing::hotstuff_base(4, 40, 2);
        doc["protocol"]["view_timeout"] = "100ms";
        doc["stop"] = {{"at", "30s"}, {"when_done", false}};
        doc["faults"] = {{{"type", "byzantine"}, {"node", 1}, {"behavior", behavior}}};
        if (std::string(behavior) == "far_future") doc["faults"][0]["params"] = {{"propose", true}};
        auto run = testing::run(doc);
        REQUIRE_FALSE(run.result->violation);
        hotstuff::Replica::Footprint sum;
        for (std::uint32_t i : {0U, 2U, 3U}) {
            const auto* r = dynamic_cast<const hotstuff::Replica*>(&run.sim->actor(i));
            REQUIRE(r != nullptr);
            const auto f = r->footprint();
            sum.refused_votes += f.refused_votes;
            sum.refused_new_views += f.refused_new_views;
            sum.refused_proposals += f.refused_proposals;
            sum.refused_blocks += f.refused_blocks;
            sum.refused_syncs += f.refused_syncs;
            sum.refused_parked += f.refused_parked;
        }
        const auto& table = run.result->refused;
        const auto reported = [&](const char* name) -> std::uint64_t {
            const auto it = table.find(name);
            return it == table.end() ? 0 : it->second;
        };
        CHECK(reported("hotstuff.votes") == sum.refused_votes);
        CHECK(reported("hotstuff.new_views") == sum.refused_new_views);
        CHECK(reported("hotstuff.proposals") == sum.refused_proposals);
        CHECK(reported("hotstuff.unsolicited_blocks") == sum.refused_blocks);
        CHECK(reported("hotstuff.sync_replies") == sum.refused_syncs);
        CHECK(reported("hotstuff.parked") == sum.refused_parked);
        seen[0] += sum.refused_votes;
        seen[1] += sum.refused_new_views;
        seen[2] += sum.refused_proposals;
        seen[3] += sum.refused_syncs;
    }
    // These behaviours fill four of the tables (unsolicited blocks and parked blocks: above).
    for (std::uint64_t n : seen) CHECK(n > 0);
}

TEST_CASE("hotstuff bounds: blocks parked for a missing parent: 1024 per parent, 256 parents") {
    // A Byzantine leader's proposals on parents nobody has wait in a bounded table; what does
    // not fit is refused and counted.
    Chain c;
    hotstuff::Replica r1(config());
    c.ctx.act_as(1);
    r1.on_start(c.ctx);
    std::uint64_t t = 100;
    const auto deliver_block = [&](const BlockRef& parent, const QuorumCert& qc) {
        c.ctx.act_as(kN);
        const auto cmd = proto::make_request(c.ctx, proto::Request{5, ++t, NodeId(kN)});
        const auto p = proposal(c.ctx, hotstuff::make_block(parent, 2, qc, {cmd}, NodeId(2)));
        c.ctx.act_as(1);
        r1.on_message(c.ctx, NodeId(2), *p);
    };
    for (int i = 0; i < 1024; ++i) deliver_block(c.b[1], c.qc[1]);  // b1 never arrives
    CHECK(r1.footprint().refused_parked == 0);
    deliver_block(c.b[1], c.qc[1]);
    CHECK(r1.footprint().refused_parked == 1);
    // 255 more missing parents fill the table; the 257th parent is refused.
    for (std::uint64_t j = 0; j < 256; ++j) {
        c.ctx.act_as(kN);
        const auto cmd = proto::make_request(c.ctx, proto::Request{6, ++t, NodeId(kN)});
        const BlockRef parent = hotstuff::make_block(c.b[0], 1, c.qc[0], {cmd}, NodeId(1));
        deliver_block(parent, qc_for(c.ctx, parent));
        CHECK(r1.footprint().refused_parked == (j < 255 ? 1u : 2u));
    }
}

}  // namespace hotstuff_adversary_tests
