// PBFT's view-change timers (§1.6): the timer of a view left is cancelled, so it cannot fire
// as the next view's (keep_old_view_timers restores the old behaviour); and a primary entering
// a view proposes nothing before the view's O is installed (propose_before_new_view_installed).
#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "protocols/pbft/replica.hpp"
#include "tests/drive.hpp"
#include "tests/pbft_fixtures.hpp"
#include "tests/recording_context.hpp"

// The whole file in its own namespace: its helpers may share names with other test files'.
namespace pbft_view_timers_tests {

namespace {

using pbft::MessageRef;
using pbft::View;
using pbft::ViewChange;
using testing::deliver;

MessageRef view_change(testing::RecordingContext& ctx, std::uint32_t from, std::uint64_t v) {
    ctx.act_as(from);
    return pbft::make_message(ctx, ViewChange{View(v), {}, {}, {}, {}});
}

// The id of the newest view-change timer set (RecordingContext numbers timers from 1).
sim::TimerId last_vc_timer(const testing::RecordingContext& ctx) {
    for (std::size_t i = ctx.timers.size(); i > 0; --i)
        if (ctx.timers[i - 1].second == 2) return i;
    return 0;
}

// Replica 3 (the primary of neither view) joins view 1 by the f+1 rule, holds q VIEW-CHANGEs for it
// (its timer runs), then joins view 2 the same way. Returns whether view 1's timer was cancelled
// then.
bool old_timer_cancelled(bool keep_old) {
    testing::RecordingContext ctx(4, 1);
    pbft::Config cfg = testing::small_pbft_config();
    if (keep_old) cfg.mutations.add(pbft::Mutation::KeepOldViewTimers);
    pbft::Replica r3(cfg);
    deliver(ctx, r3, 3, view_change(ctx, 1, 1));
    deliver(ctx, r3, 3, view_change(ctx, 2, 1));
    REQUIRE(r3.view() == View(1));
    const sim::TimerId view1 = last_vc_timer(ctx);
    REQUIRE(view1 != 0);  // q VIEW-CHANGEs for view 1, its own included: the timer runs
    deliver(ctx, r3, 3, view_change(ctx, 1, 2));
    deliver(ctx, r3, 3, view_change(ctx, 2, 2));
    REQUIRE(r3.view() == View(2));
    CHECK(last_vc_timer(ctx) != view1);  // view 2's own timer
    return std::find(ctx.cancelled.begin(), ctx.cancelled.end(), view1) != ctx.cancelled.end();
}

}  // namespace

TEST_CASE("view-change timer: the timer of a view left is cancelled when the replica moves on") {
    CHECK(old_timer_cancelled(false));
    CHECK_FALSE(old_timer_cancelled(true));
}

namespace {

using pbft::Seq;

MessageRef signed_by(testing::RecordingContext& ctx, std::uint32_t node, pbft::Body body) {
    ctx.act_as(node);
    return pbft::make_message(ctx, std::move(body));
}

// Replica 0, primary of view 0 with a full window (20 numbers used, a 21st request pending),
// is elected again for view 4 without having entered views 1 to 3. The NEW-VIEW it builds
// carries a stable checkpoint at 10 and a prepared certificate at 21 (view 3). Returns the
// digests replica 0 signed PRE-PREPAREs with for (view 4, number 21).
std::set<std::uint64_t> digests_at_21(bool propose_early) {
    testing::RecordingContext ctx(4, 1);
    pbft::Config cfg = testing::small_pbft_config();
    if (propose_early) cfg.mutations.add(pbft::Mutation::ProposeBeforeNewViewInstalled);
    pbft::Replica r0(cfg);
    for (std::uint64_t t = 1; t <= 21; ++t) {
        ctx.act_as(4);
        deliver(ctx, r0, 0, proto::make_request(ctx, proto::Request{t, t, sim::NodeId(4)}));
    }
    deliver(ctx, r0, 0, view_change(ctx, 1, 1));
    deliver(ctx, r0, 0, view_change(ctx, 2, 1));
    REQUIRE(r0.view() == View(1));
    const pbft::Checkpoint ckpt{
        Seq(10), pbft::service_digest(pbft::Digest(7), {}), pbft::Digest(7), {}};
    ViewChange vc{View(4), Seq(10), ckpt.state, {}, {}};
    for (std::uint32_t r : {1u, 2u, 3u}) vc.C.push_back(signed_by(ctx, r, ckpt));
    const pbft::Digest null = pbft::null_digest();
    vc.P.push_back({signed_by(ctx, 3, pbft::PrePrepare{View(3), Seq(21), null, {}}),
                    {signed_by(ctx, 1, pbft::Prepare{View(3), Seq(21), null}),
                     signed_by(ctx, 2, pbft::Prepare{View(3), Seq(21), null})}});
    std::vector<testing::RecordingContext::Sent> sent = deliver(ctx, r0, 0, signed_by(ctx, 1, vc));
    const auto more = deliver(ctx, r0, 0, signed_by(ctx, 2, vc));
    sent.insert(sent.end(), more.begin(), more.end());
    REQUIRE(r0.view() == View(4));
    REQUIRE_FALSE(r0.view_changing());
    std::set<std::uint64_t> digests;
    const auto note = [&](const pbft::Message& m) {
        if (const auto* pp = pbft::as<pbft::PrePrepare>(m);
            pp && pp->v == View(4) && pp->n == Seq(21))
            digests.insert(pp->d.v);
    };
    for (const auto& s : sent) {
        const auto& m = static_cast<const pbft::Message&>(*s.msg);
        note(m);
        if (const auto* nv = pbft::as<pbft::NewView>(m))
            for (const auto& o : nv->O) note(*o);
    }
    return digests;
}

}  // namespace

TEST_CASE("new view: a re-elected primary proposes nothing before the view's O is installed") {
    CHECK(digests_at_21(false).size() == 1);
    // propose_before_new_view_installed: the request that waited is ordered at 21 when the
    // checkpoint is taken, and O orders the certificate's null request there too.
    CHECK(digests_at_21(true).size() == 2);
}

}  // namespace pbft_view_timers_tests
