// Basic HotStuff's view timer restarts as each phase of the view arrives (the proposal voted
// for, prepareQC, precommitQC), once per phase: four phases need not fit in one timeout, and a
// leader that sends one phase's QC again does not hold the view open. PROTOCOLS.md §2.6, §4.10.
#include <doctest/doctest.h>

#include "tests/hotstuff_fixtures.hpp"

// The whole file in its own namespace: its helpers may share names with other test files'.
namespace hotstuff_basic_timer_tests {

namespace {

using namespace testing::hotstuff_fixtures;
using sim::SimTime;

constexpr SimTime kT = sim::milliseconds(100);
constexpr std::uint64_t kViewTimer = 1;  // hotstuff::Replica::kViewTimer

// Replica 2 of basic HotStuff in view 1 (leader: replica 1), timing the view from t = 0.
struct BasicView1 {
    Chain c;
    hotstuff::Replica r;
    explicit BasicView1(bool one_timer) : r(cfg(one_timer)) {
        c.ctx.act_as(2);
        r.on_start(c.ctx);
        c.ctx.act_as(kN);
        const auto req = proto::make_request(c.ctx, proto::Request{9, 1, NodeId(kN)});
        at(SimTime{}, *req, NodeId(kN));
    }
    static hotstuff::Config cfg(bool one_timer) {
        hotstuff::Config cfg = config(true);
        cfg.view_timeout = kT;
        if (one_timer) cfg.mutations.add(hotstuff::Mutation::OneTimerPerView);
        return cfg;
    }
    void at(SimTime t, const sim::Payload& m, NodeId from) {
        c.ctx.time = t;
        c.ctx.act_as(2);
        r.on_message(c.ctx, from, m);
    }
    // The view timer's event, delivered at `t` (the lazy timer sets itself again if early).
    std::uint64_t view_after_timer(SimTime t) {
        c.ctx.time = t;
        c.ctx.act_as(2);
        r.on_timer(c.ctx, kViewTimer);
        return r.view();
    }
    // The leader's PRE-COMMIT (qc_kind kPrepare) or COMMIT (kPreCommit) for b1.
    sim::PayloadRef phase(hotstuff::Phase phase, std::uint8_t qc_kind) {
        const QuorumCert qc = qc_for(c.ctx, c.b[1], qc_kind);
        c.ctx.act_as(1);
        return hotstuff::make_message(c.ctx, hotstuff::PhaseQc{phase, qc});
    }
};

}  // namespace

TEST_CASE("basic hotstuff timer: each phase restarts the view's timeout, once") {
    BasicView1 v(false);
    REQUIRE(v.r.view() == 1);
    const auto p = proposal(v.c.ctx, v.c.b[1]);
    v.at(sim::milliseconds(50), *p, NodeId(1));  // voted: the next phase has until 150ms
    const auto pre_commit = v.phase(hotstuff::kPreCommit, hotstuff::kPrepare);
    v.at(sim::milliseconds(100), *pre_commit, NodeId(1));  // until 200ms
    v.at(sim::milliseconds(150), *pre_commit, NodeId(1));  // the same phase again: still 200ms
    CHECK(v.view_after_timer(sim::milliseconds(120)) == 1);
    CHECK(v.view_after_timer(sim::milliseconds(199)) == 1);
    CHECK(v.view_after_timer(sim::milliseconds(200)) == 2);
}

TEST_CASE("basic hotstuff timer: with one timer per view, the view ends a timeout after it began") {
    BasicView1 v(true);
    const auto p = proposal(v.c.ctx, v.c.b[1]);
    v.at(sim::milliseconds(50), *p, NodeId(1));
    v.at(sim::milliseconds(90), *v.phase(hotstuff::kPreCommit, hotstuff::kPrepare), NodeId(1));
    CHECK(v.view_after_timer(sim::milliseconds(100)) == 2);
}

}  // namespace hotstuff_basic_timer_tests
