// The HotStuff leader script (protocols/hotstuff/script.hpp) makes exactly the proposal each
// step describes, on a recording context: the QC it names, the recipients, the height, the
// commands, signed with the leader's own key; and honest replicas refuse what they must.
#include <doctest/doctest.h>

#include "protocols/hotstuff/byzantine.hpp"
#include "protocols/hotstuff/script.hpp"
#include "tests/recording_context.hpp"

// The whole file in its own namespace: its helpers may share names with other test files'.
namespace hotstuff_script_tests {

namespace {

using hotstuff::BlockRef;
using hotstuff::QuorumCert;

constexpr std::uint32_t kN = 4;

QuorumCert qc_for(testing::RecordingContext& ctx, const BlockRef& b) {
    const proto::Statement s{hotstuff::kGeneric, b->view, b->height, b->digest};
    proto::QcBuilder builder(s, 3);
    for (std::uint32_t r : {0U, 2U, 3U}) {
        ctx.act_as(r);
        builder.add_trusted(proto::sign_vote(ctx, s));
    }
    return builder.build(ctx);
}

hotstuff::MessageRef proposal(testing::RecordingContext& ctx, const BlockRef& b) {
    ctx.act_as(b->proposer.v);
    return hotstuff::make_message(
        ctx, hotstuff::Proposal{b, proto::sign_vote(ctx, hotstuff::proposal_statement(*b))});
}

const hotstuff::Proposal& as_proposal(const sim::PayloadRef& p) {
    const auto* prop = hotstuff::as<hotstuff::Proposal>(static_cast<const hotstuff::Message&>(*p));
    REQUIRE(prop != nullptr);
    return *prop;
}

// Blocks b1..b4 in views 1..4, each on the QC of the one before; the client request r.
struct Chain {
    testing::RecordingContext ctx{kN, 1};
    std::vector<BlockRef> b{hotstuff::genesis_block()};
    std::vector<QuorumCert> qc{hotstuff::genesis_qc()};
    proto::ClientMessageRef request;
    Chain() {
        ctx.act_as(kN);
        request = proto::make_request(ctx, proto::Request{5, 1, proto::NodeId(kN)});
        for (std::uint64_t v = 1; v <= 4; ++v) {
            b.push_back(hotstuff::make_block(b.back(), v, qc.back(), {request},
                                             proto::NodeId(static_cast<std::uint32_t>(v % kN))));
            qc.push_back(qc_for(ctx, b.back()));
        }
    }
};

}  // namespace

TEST_CASE("hotstuff script: a step proposes on the QC it names, to the replicas it names") {
    Chain c;
    hotstuff::ScriptStep step;
    step.view = 5;
    step.qc_view = 2;
    step.to = {0, 2};
    step.to_all = false;
    hotstuff::LeaderScript script({step});
    for (std::size_t i = 1; i <= 4; ++i) script.observe(*proposal(c.ctx, c.b[i]));
    // The honest leader of view 5 (replica 1) proposes on QC(b4).
    const BlockRef honest = hotstuff::make_block(c.b[4], 5, c.qc[4], {c.request}, proto::NodeId(1));
    const auto original = proposal(c.ctx, honest);
    c.ctx.act_as(1);
    const auto& p = *hotstuff::as<hotstuff::Proposal>(*original);
    const sim::PayloadRef to0 = script.rewrite(c.ctx, p, original, proto::NodeId(0));
    const sim::PayloadRef to2 = script.rewrite(c.ctx, p, original, proto::NodeId(2));
    CHECK(!script.rewrite(c.ctx, p, original, proto::NodeId(3)));  // not a recipient
    REQUIRE(to0);
    CHECK(to0.get() == to2.get());  // one proposal per view
    const hotstuff::Proposal& crafted = as_proposal(to0);
    const hotstuff::Block& blk = *crafted.block;
    CHECK(blk.view == 5);
    CHECK(blk.parent == c.b[2]->digest);
    CHECK(blk.height == 3);
    CHECK(blk.justify == c.qc[2]);
    CHECK(blk.cmds == honest->cmds);
    CHECK(blk.digest_matches());
    CHECK(crafted.leader_statement.signer == proto::NodeId(1));
    CHECK(crafted.leader_statement.stmt == hotstuff::proposal_statement(blk));
    CHECK(proto::verify_vote(c.ctx, crafted.leader_statement));
    CHECK(static_cast<const hotstuff::Message&>(*to0).signer == proto::NodeId(1));
    // Its own vote for the honest block of view 5 would contradict it: replaced.
    c.ctx.act_as(1);
    const hotstuff::Vote own{proto::sign_vote(c.ctx, {hotstuff::kGeneric, 5, 5, honest->digest}),
                             {}};
    CHECK(script.replaced(own));
    const hotstuff::Vote for_crafted{
        proto::sign_vote(c.ctx, {hotstuff::kGeneric, 5, 3, blk.digest}), {}};
    CHECK(!script.replaced(for_crafted));
    // A view the script does not list stays honest.
    const BlockRef later = hotstuff::make_block(c.b[4], 6, c.qc[4], {}, proto::NodeId(2));
    const auto later_msg = proposal(c.ctx, later);
    CHECK(script
              .rewrite(c.ctx, *hotstuff::as<hotstuff::Proposal>(*later_msg), later_msg,
                       proto::NodeId(0))
              .get() == later_msg.get());
}

TEST_CASE("hotstuff script: heights and commands as the step says") {
    using C = hotstuff::ScriptStep::Commands;
    struct Case {
        C commands;
        std::optional<std::uint64_t> height;
        std::size_t cmds;
    };
    for (const Case& k : {Case{C::None, std::nullopt, 0}, Case{C::Duplicate, 40, 2},
                          Case{C::Invented, std::nullopt, 2}, Case{C::Own, std::nullopt, 2},
                          Case{C::Reply, std::nullopt, 2}}) {
        Chain c;
        hotstuff::ScriptStep step;
        step.view = 5;
        step.height = k.height;
        step.commands = k.commands;
        hotstuff::LeaderScript script({step});
        const BlockRef honest =
            hotstuff::make_block(c.b[4], 5, c.qc[4], {c.request}, proto::NodeId(1));
        const auto original = proposal(c.ctx, honest);
        c.ctx.act_as(1);
        const sim::PayloadRef out = script.rewrite(
            c.ctx, *hotstuff::as<hotstuff::Proposal>(*original), original, proto::NodeId(0));
        const hotstuff::Block& blk = *as_proposal(out).block;
        CAPTURE(static_cast<int>(k.commands));
        CHECK(blk.height == (k.height ? *k.height : 5));
        CHECK(blk.justify == c.qc[4]);
        REQUIRE(blk.cmds.size() == k.cmds);
        if (k.cmds < 2) continue;
        CHECK(blk.cmds[0].get() == c.request.get());
        const proto::ClientMessage& extra = *blk.cmds[1];
        if (k.commands == C::Duplicate) CHECK(blk.cmds[1].get() == c.request.get());
        if (k.commands == C::Reply) CHECK(std::holds_alternative<proto::Reply>(extra.body));
        if (k.commands == C::Invented || k.commands == C::Own) {
            const auto& req = std::get<proto::Request>(extra.body);
            CHECK(extra.signer == proto::NodeId(1));
            CHECK(req.client == proto::NodeId(k.commands == C::Own ? 1 : kN));
            CHECK(proto::authentic(c.ctx, extra) == (k.commands == C::Own));
        }
    }
}

TEST_CASE("hotstuff script: bad steps are refused with their JSON path") {
    sim::ScenarioSpec spec;
    spec.nodes = 4;
    auto refused = [&](const char* params) {
        sim::FaultSpec f;
        f.path = "/faults/0";
        f.node = 1;
        f.params = nlohmann::json::parse(params);
        try {
            hotstuff::parse_script(f, spec);
        } catch (const sim::ScenarioError& e) {
            return e.path();
        }
        return std::string("accepted");
    };
    const std::string at = "/faults/0/params/script";
    CHECK(refused("{}") == at);
    CHECK(refused(R"({"script": []})") == at);
    CHECK(refused(R"({"script": [{"parent": "high"}]})") == at + "/0/view");
    CHECK(refused(R"({"script": [{"view": 3, "parent": "qc:3"}]})") == at + "/0/parent");
    CHECK(refused(R"({"script": [{"view": 3, "parent": "qc:x"}]})") == at + "/0/parent");
    CHECK(refused(R"({"script": [{"view": 3, "to": [7]}]})") == at + "/0/to/0");
    CHECK(refused(R"({"script": [{"view": 3, "commands": "forged"}]})") == at + "/0/commands");
    CHECK(refused(R"({"script": [{"view": 3}, {"view": 3}]})") == at + "/1/view");
    CHECK(refused(R"({"script": [{"view": 3, "colour": 1}]})") == at + "/0/colour");
    CHECK(refused(R"({"script": [{"view": 3, "parent": "qc:1", "height": 9}]})") == "accepted");
}

}  // namespace hotstuff_script_tests
