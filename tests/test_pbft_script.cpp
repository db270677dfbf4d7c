// The PBFT primary script (protocols/pbft/script.hpp) on a recording context: each step's
// PRE-PREPAREs carry exactly the number, batch and recipients it names, signed with the
// primary's own key; honest backups refuse what §1.3 step 3 says they refuse.
#include <doctest/doctest.h>

#include <algorithm>

#include "protocols/pbft/byzantine.hpp"
#include "protocols/pbft/script.hpp"
#include "tests/drive.hpp"
#include "tests/helpers.hpp"
#include "tests/pbft_fixtures.hpp"
#include "tests/recording_context.hpp"

// The whole file in its own namespace: its helpers may share names with other test files'.
namespace pbft_script_tests {

namespace {

using pbft::Digest;
using pbft::PrePrepare;
using pbft::Seq;
using pbft::View;
using sim::NodeId;
using Sent = std::vector<testing::RecordingContext::Sent>;
using testing::deliver;

nlohmann::json script_doc(const nlohmann::json& steps) {
    auto doc = testing::pbft_base(4, 1);
    doc["workload"]["clients"] = 2;
    doc["faults"] = nlohmann::json::array({{{"type", "byzantine"},
                                            {"node", 0},
                                            {"behavior", "script"},
                                            {"params", {{"script", steps}}}}});
    return doc;
}

std::unique_ptr<pbft::ByzantineReplica> scripted(const nlohmann::json& steps) {
    const auto spec = testing::spec_from(script_doc(steps));
    return std::make_unique<pbft::ByzantineReplica>(
        std::make_unique<pbft::Replica>(testing::small_pbft_config()),
        std::vector{pbft::parse_behavior(spec.faults.front(), spec)});
}

const pbft::Message& msg(const sim::PayloadRef& p) {
    return static_cast<const pbft::Message&>(*p);
}

const PrePrepare& pre_prepare(const sim::PayloadRef& p) {
    const auto* pp = pbft::as<PrePrepare>(msg(p));
    REQUIRE(pp != nullptr);
    return *pp;
}

proto::ClientMessageRef request(testing::RecordingContext& ctx, std::uint32_t client,
                                std::uint64_t t) {
    ctx.act_as(client);
    return proto::make_request(ctx, proto::Request{100 + t, t, NodeId(client)});
}

// The honest primary's PRE-PREPARE (view 0) at `n` for `batch`, signed by replica 0.
sim::PayloadRef honest_pp(testing::RecordingContext& ctx, std::uint64_t n,
                          std::vector<proto::ClientMessageRef> batch) {
    ctx.act_as(0);
    const Digest d = pbft::batch_digest(batch);
    return pbft::make_message(ctx, PrePrepare{View(0), Seq(n), d, std::move(batch)});
}

std::size_t prepares(const Sent& sent) {
    return static_cast<std::size_t>(std::count_if(
        sent.begin(), sent.end(), [](const auto& s) { return s.msg->kind == pbft::kPrepare; }));
}

}  // namespace

TEST_CASE(
    "pbft script: a step numbers the view's PRE-PREPAREs from N, doubles each batch's first "
    "request, and sends them only to its recipients") {
    testing::RecordingContext ctx(4, 1);
    pbft::ScriptStep step;
    step.view = 0;
    step.seq = 3;
    step.requests = pbft::ScriptStep::Requests::Duplicate;
    step.to = {1, 2};
    step.to_all = false;
    pbft::PrimaryScript script({step});
    const auto a = request(ctx, 4, 1), b = request(ctx, 5, 1);
    const auto first = honest_pp(ctx, 1, {a}), second = honest_pp(ctx, 2, {b});
    const auto& fp = pre_prepare(first);
    const sim::PayloadRef to1 = script.rewrite(ctx, fp, first, NodeId(1));
    const sim::PayloadRef to2 = script.rewrite(ctx, fp, first, NodeId(2));
    CHECK_FALSE(script.rewrite(ctx, fp, first, NodeId(3)));  // not a recipient
    REQUIRE(to1);
    CHECK(to1.get() == to2.get());  // made once per (v, n)
    CHECK(pre_prepare(to1) == PrePrepare{View(0), Seq(3), pbft::batch_digest({a, a}), {a, a}});
    CHECK(msg(to1).signer == NodeId(0));
    CHECK(pbft::authentic(ctx, msg(to1)));
    // The next one keeps its distance from the view's first: honest 2 goes out at 4.
    const sim::PayloadRef next = script.rewrite(ctx, pre_prepare(second), second, NodeId(1));
    CHECK(pre_prepare(next) == PrePrepare{View(0), Seq(4), pbft::batch_digest({b, b}), {b, b}});
    // A view the script does not list stays honest.
    ctx.act_as(0);
    const PrePrepare later{View(4), Seq(9), pbft::batch_digest({a}), {a}};
    const sim::PayloadRef later_msg = pbft::make_message(ctx, later);
    CHECK(script.rewrite(ctx, later, later_msg, NodeId(3)).get() == later_msg.get());
}

TEST_CASE("pbft script: the batch is the honest one, none, or a request no client signed") {
    using R = pbft::ScriptStep::Requests;
    for (const R r : {R::Honest, R::None, R::Other}) {
        CAPTURE(static_cast<int>(r));
        testing::RecordingContext ctx(4, 1);
        pbft::ScriptStep step;
        step.view = 0;
        step.requests = r;
        pbft::PrimaryScript script({step});
        const auto a = request(ctx, 4, 1);
        const auto honest = honest_pp(ctx, 1, {a});
        ctx.act_as(0);
        const sim::PayloadRef out = script.rewrite(ctx, pre_prepare(honest), honest, NodeId(3));
        const PrePrepare& pp = pre_prepare(out);
        CHECK(pp.v == View(0));
        CHECK(pp.n == Seq(1));  // "next"
        CHECK(pp.d == pbft::batch_digest(pp.batch));
        CHECK(pbft::authentic(ctx, msg(out)));
        if (r == R::Honest) CHECK(pp == pre_prepare(honest));
        if (r == R::None) CHECK(pp == PrePrepare{View(0), Seq(1), pbft::null_digest(), {}});
        if (r == R::Other) {
            REQUIRE(pp.batch.size() == 1);
            const proto::ClientMessage& forged = *pp.batch[0];
            CHECK(std::get<proto::Request>(forged.body).client == NodeId(4));
            CHECK(forged.signer == NodeId(0));
            CHECK_FALSE(proto::authentic(ctx, forged));
        }
    }
}

TEST_CASE(
    "pbft script: backups refuse a scripted PRE-PREPARE above the high watermark or with a "
    "request no client signed, and execute a doubled request once") {
    for (const char* kind : {"above", "other"}) {
        CAPTURE(std::string(kind));
        testing::RecordingContext ctx(4, 1);
        const auto steps = std::string(kind) == "above"
                               ? nlohmann::json::array({{{"view", 0}, {"seq", 21}}})
                               : nlohmann::json::array({{{"view", 0}, {"requests", "other"}}});
        auto byz = scripted(steps);
        const Sent sent = deliver(ctx, *byz, 0, request(ctx, 4, 1));
        REQUIRE(sent.size() == 3);
        CHECK(sent[0].msg == sent[2].msg);
        CHECK(pre_prepare(sent[0].msg).n == Seq(std::string(kind) == "above" ? 21 : 1));
        pbft::Replica honest(testing::small_pbft_config());
        CHECK(deliver(ctx, honest, 1, sent[0].msg).empty());  // §1.3 step 3 (d); §4.12
    }
    testing::RecordingContext ctx(4, 1);
    auto byz = scripted(nlohmann::json::array({{{"view", 0}, {"requests", "duplicate"}}}));
    const auto a = request(ctx, 4, 1);
    const Sent sent = deliver(ctx, *byz, 0, a);
    REQUIRE(sent.size() == 3);
    const PrePrepare& pp = pre_prepare(sent[0].msg);
    CHECK(pp == PrePrepare{View(0), Seq(1), pbft::batch_digest({a, a}), {a, a}});
    pbft::Replica honest(testing::small_pbft_config());
    CHECK(prepares(deliver(ctx, honest, 1, sent[0].msg)) == 3);
    for (std::uint32_t r : {2u, 3u}) {
        ctx.act_as(r);
        deliver(ctx, honest, 1, pbft::make_message(ctx, pbft::Prepare{pp.v, pp.n, pp.d}));
    }
    for (std::uint32_t r : {2u, 3u}) {
        ctx.act_as(r);
        deliver(ctx, honest, 1, pbft::make_message(ctx, pbft::Commit{pp.v, pp.n, pp.d}));
    }
    REQUIRE(ctx.commits.size() == 1);
    CHECK(ctx.commits[0].index == 1);
    CHECK(ctx.commits[0].requests.size() == 1);  // exactly once (§1.3 step 10)
}

TEST_CASE("pbft script: bad steps are refused with their JSON path") {
    auto refused = [](const nlohmann::json& params) {
        auto doc = script_doc(nlohmann::json::array());
        doc["faults"][0]["params"] = params;
        try {
            protocols::validate(testing::spec_from(doc));
        } catch (const sim::ScenarioError& e) {
            return e.path();
        }
        return std::string("accepted");
    };
    const auto parse = [](const char* text) { return nlohmann::json::parse(text); };
    const std::string at = "/faults/0/params/script";
    CHECK(refused(parse("{}")) == at);
    CHECK(refused(parse(R"({"script": []})")) == at);
    CHECK(refused(parse(R"({"script": [{"seq": 3}]})")) == at + "/0/view");
    CHECK(refused(parse(R"({"script": [{"view": 1, "seq": 0}]})")) == at + "/0/seq");
    CHECK(refused(parse(R"({"script": [{"view": 1, "seq": "last"}]})")) == at + "/0/seq");
    CHECK(refused(parse(R"({"script": [{"view": 1, "requests": "forged"}]})")) ==
          at + "/0/requests");
    CHECK(refused(parse(R"({"script": [{"view": 1, "to": [4]}]})")) == at + "/0/to/0");
    CHECK(refused(parse(R"({"script": [{"view": 4}, {"view": 4}]})")) == at + "/1/view");
    CHECK(refused(parse(R"({"script": [{"view": 1, "height": 9}]})")) == at + "/0/height");
    CHECK(refused(parse(R"({"script": [{"view": 0, "seq": 900, "to": [0, 2]}]})")) == "accepted");
}

}  // namespace pbft_script_tests
