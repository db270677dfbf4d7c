// PBFT's wire monitor on hand-made traffic: an honest replica signs one PRE-PREPARE, one
// PREPARE and one COMMIT per (view, seq) (OSDI'99 §4.2); a second with another digest is
// reported, the same one again, another slot, a Byzantine signer, a relayed message or a
// replica that lost its state are not.
#include <doctest/doctest.h>

#include "protocols/pbft/messages.hpp"
#include "protocols/pbft/monitor.hpp"
#include "tests/recording_context.hpp"

// The whole file in its own namespace: its helpers may share names with other test files'.
namespace pbft_monitor_tests {

namespace {

using pbft::Commit;
using pbft::NewView;
using pbft::Prepare;
using pbft::PrePrepare;
using proto::Seq;
using proto::View;

struct Wire : testing::MonitorFixture<pbft::Monitor> {
    using MonitorFixture::MonitorFixture;

    pbft::MessageRef make(std::uint32_t r, pbft::Body body) {
        ctx.act_as(r);
        return pbft::make_message(ctx, std::move(body));
    }
    std::optional<sim::Finding> send(std::uint32_t from, const pbft::MessageRef& m) {
        return mon.on_send(from, *m);
    }
    std::optional<sim::Finding> send(std::uint32_t r, pbft::Body body) {
        return send(r, make(r, std::move(body)));
    }
};

const sim::Digest kA{0xa}, kB{0xb};

}  // namespace

TEST_CASE("pbft monitor: two PRE-PREPAREs for one (view, seq) from an honest primary") {
    Wire w;
    CHECK_FALSE(w.send(0, PrePrepare{View(4), Seq(7), kA, {}}));
    CHECK_FALSE(w.send(0, PrePrepare{View(4), Seq(7), kA, {}}));  // the same, again
    CHECK_FALSE(w.send(0, PrePrepare{View(4), Seq(8), kB, {}}));  // another seq
    CHECK_FALSE(w.send(0, PrePrepare{View(5), Seq(7), kB, {}}));  // another view
    const auto f = w.send(0, PrePrepare{View(4), Seq(7), kB, {}});
    REQUIRE(f);
    CHECK(f->invariant == "sign_once");
    CHECK(f->nodes == std::vector<std::uint32_t>{0});
}

TEST_CASE("pbft monitor: PREPARE and COMMIT once per (view, seq), each kind apart") {
    Wire w;
    CHECK_FALSE(w.send(2, Prepare{View(1), Seq(3), kA}));
    CHECK_FALSE(w.send(2, Commit{View(1), Seq(3), kB}));  // another kind: its own slot
    CHECK(w.send(2, Commit{View(1), Seq(3), kA}));
    Wire w2;
    CHECK_FALSE(w2.send(2, Prepare{View(1), Seq(3), kA}));
    CHECK(w2.send(2, Prepare{View(1), Seq(3), kB}));
}

TEST_CASE("pbft monitor: O's PRE-PREPAREs in the primary's NEW-VIEW bind it too") {
    Wire w;
    const auto o = w.make(1, PrePrepare{View(5), Seq(9), kA, {}});
    CHECK_FALSE(w.send(1, NewView{View(5), {}, {o}}));
    const auto f = w.send(1, PrePrepare{View(5), Seq(9), kB, {}});
    REQUIRE(f);
    CHECK(f->invariant == "sign_once");
}

TEST_CASE("pbft monitor: a Byzantine signer, a relayed message, a replica that lost its state") {
    Wire byz({true, false, true, true});
    CHECK_FALSE(byz.send(1, PrePrepare{View(1), Seq(1), kA, {}}));
    CHECK_FALSE(byz.send(1, PrePrepare{View(1), Seq(1), kB, {}}));

    Wire relay;
    CHECK_FALSE(relay.send(0, PrePrepare{View(0), Seq(1), kA, {}}));
    // Replica 2 passes on a PRE-PREPARE 0 signed: it binds 0, not 2, and is not a new signing.
    CHECK_FALSE(relay.send(2, relay.make(0, PrePrepare{View(0), Seq(1), kB, {}})));

    Wire amnesia;
    CHECK_FALSE(amnesia.send(3, Commit{View(2), Seq(4), kA}));
    amnesia.mon.on_state_lost(3);
    CHECK_FALSE(amnesia.send(3, Commit{View(2), Seq(4), kB}));
    CHECK(amnesia.send(3, Commit{View(2), Seq(4), kA}));
}

TEST_CASE("pbft monitor: two honest replicas commit different digests at one (view, seq) (P1)") {
    Wire w;
    CHECK_FALSE(w.send(1, Commit{View(2), Seq(5), kA}));
    CHECK_FALSE(w.send(2, Commit{View(3), Seq(5), kB}));   // another view
    CHECK_FALSE(w.send(2, Prepare{View(2), Seq(5), kB}));  // a PREPARE proves no prepared
    const auto f = w.send(3, Commit{View(2), Seq(5), kB});
    REQUIRE(f);
    CHECK(f->invariant == "prepared_once");
    CHECK(f->nodes == std::vector<std::uint32_t>{3});
    // A Byzantine replica's COMMIT for another digest proves nothing.
    Wire byz({true, true, true, false});
    CHECK_FALSE(byz.send(0, Commit{View(2), Seq(5), kA}));
    CHECK_FALSE(byz.send(3, Commit{View(2), Seq(5), kB}));
}

TEST_CASE("pbft monitor: what f+1 honest replicas committed, a later view orders (P5)") {
    Wire w;
    CHECK_FALSE(w.send(0, Commit{View(0), Seq(4), kA}));
    // One honest COMMIT is not yet committed: a later view may order another digest.
    CHECK_FALSE(w.send(2, Prepare{View(1), Seq(4), kB}));
    CHECK_FALSE(w.send(1, Commit{View(0), Seq(4), kA}));   // f+1 = 2: committed
    CHECK_FALSE(w.send(3, Prepare{View(1), Seq(4), kA}));  // the same digest: fine
    CHECK_FALSE(w.send(3, Prepare{View(0), Seq(5), kB}));  // another number
    const auto o = w.make(1, PrePrepare{View(2), Seq(4), kB, {}});
    const auto f = w.send(1, NewView{View(2), {}, {o}});
    REQUIRE(f);
    CHECK(f->invariant == "committed_kept");
    Wire w2;
    CHECK_FALSE(w2.send(0, Commit{View(0), Seq(4), kA}));
    CHECK_FALSE(w2.send(1, Commit{View(0), Seq(4), kA}));
    REQUIRE(w2.send(2, Commit{View(3), Seq(4), kB}));
}

TEST_CASE("pbft monitor: an honest replica executes only what f+1 honest replicas committed (P2)") {
    Wire w({true, true, true, false});
    const auto exec = [&](std::uint32_t r, std::uint64_t view, sim::Digest d) {
        return w.mon.on_commit(r, sim::CommitRecord{4, view, d, {}, {}});
    };
    CHECK_FALSE(w.send(0, Commit{View(1), Seq(4), kA}));
    CHECK_FALSE(w.send(3, Commit{View(1), Seq(4), kA}));  // Byzantine: does not count
    const auto f = exec(0, 1, kA);
    REQUIRE(f);
    CHECK(f->invariant == "committed_local");
    CHECK_FALSE(w.send(1, Commit{View(1), Seq(4), kA}));
    CHECK_FALSE(exec(0, 1, kA));
    CHECK(exec(2, 1, kB));        // another digest than the one committed
    CHECK_FALSE(exec(2, 7, kB));  // a (view, seq) the monitor never saw: not checked
    CHECK_FALSE(exec(3, 1, kB));  // a Byzantine replica's execution is not held to it
}

TEST_CASE("pbft monitor: a (view, seq) whose COMMIT count left the table is not counted anew") {
    // Views 1, 2 and 3 commit at seq 4: the table keeps two views per seq, so view 1's count
    // goes. A late COMMIT for view 1 (a replica that entered view 1 from a NEW-VIEW held back)
    // must not start it again from one, or P2 would see one sender where f+1 sent.
    Wire w({true, true, true, true});
    const auto exec = [&](std::uint32_t r, std::uint64_t view) {
        return w.mon.on_commit(r, sim::CommitRecord{4, view, kA, {}, {}});
    };
    for (std::uint64_t v : {1, 2, 3})
        for (std::uint32_t r : {1u, 2u, 3u}) CHECK_FALSE(w.send(r, Commit{View(v), Seq(4), kA}));
    CHECK_FALSE(w.send(0, Commit{View(1), Seq(4), kA}));
    CHECK_FALSE(exec(0, 1));
    // The two views the table holds are still checked.
    CHECK_FALSE(exec(0, 3));
    CHECK_FALSE(w.send(0, Commit{View(4), Seq(4), kA}));
    const auto f = exec(0, 4);
    REQUIRE(f);
    CHECK(f->invariant == "committed_local");
}

TEST_CASE("pbft monitor: a later VIEW-CHANGE only after a timer, or after f+1 others (§1.6)") {
    Wire w;  // timeouts: PBFT's default 1s
    const auto vc = [&](std::uint32_t r, std::uint64_t v, std::int64_t at_ms) {
        w.mon.at(sim::milliseconds(at_ms));
        return w.send(r, pbft::ViewChange{View(v), {}, {}, {}, {}});
    };
    CHECK_FALSE(vc(0, 1, 0));
    CHECK_FALSE(vc(1, 1, 10));  // q = 3 ask for view 1: view-change timers may run
    CHECK_FALSE(vc(2, 1, 20));
    CHECK_FALSE(vc(0, 1, 500));   // the same request again
    CHECK_FALSE(vc(0, 2, 1000));  // a timer's length later
    CHECK_FALSE(vc(1, 3, 1100));  // another replica's first
    CHECK_FALSE(vc(2, 4, 1100));
    CHECK_FALSE(vc(0, 3, 1200));    // 200ms after view 2, but 1 and 2 asked for 3 and later
    const auto f = vc(0, 5, 1300);  // nobody else asked for 5, 100ms after its last
    REQUIRE(f);
    CHECK(f->invariant == "view_change_timer");
    CHECK(f->nodes == std::vector<std::uint32_t>{0});
    Wire byz({false, true, true, true});
    byz.mon.at(sim::milliseconds(0));
    CHECK_FALSE(byz.send(0, pbft::ViewChange{View(1), {}, {}, {}, {}}));
    byz.mon.at(sim::milliseconds(1));
    CHECK_FALSE(byz.send(0, pbft::ViewChange{View(9), {}, {}, {}, {}}));  // Byzantine: no rule
}

TEST_CASE("pbft monitor: a view-change timer runs only with q VIEW-CHANGEs or after a NEW-VIEW") {
    // §1.6 rule 2: the timer for view 1 starts once 2f+1 replicas asked for it; the request
    // timer runs only in a view a NEW-VIEW began. One replica alone asking for view 1 has
    // neither, so asking for view 2 a timer's length later breaks it.
    const auto asks = [](Wire& w, std::uint32_t r, std::uint64_t v, std::int64_t at_ms) {
        w.mon.at(sim::milliseconds(at_ms));
        return w.send(r, pbft::ViewChange{View(v), {}, {}, {}, {}});
    };
    Wire alone;
    CHECK_FALSE(asks(alone, 0, 1, 0));
    CHECK_FALSE(asks(alone, 3, 1, 10));  // two of q = 3
    const auto f = asks(alone, 0, 2, 1000);
    REQUIRE(f);
    CHECK(f->invariant == "view_change_timer");
    CHECK(f->nodes == std::vector<std::uint32_t>{0});
    Wire quorum;
    for (std::uint32_t r : {0U, 1U, 3U}) CHECK_FALSE(asks(quorum, r, 1, 0));
    CHECK_FALSE(asks(quorum, 0, 2, 1000));
    Wire started;
    CHECK_FALSE(asks(started, 0, 1, 0));
    CHECK_FALSE(started.send(1, NewView{View(1), {}, {}}));  // view 1's primary began it
    CHECK_FALSE(asks(started, 0, 2, 1000));
    Wire joined;  // f+1 others asked for view 2 or later: rule 3, whatever the timers
    CHECK_FALSE(asks(joined, 0, 1, 0));
    CHECK_FALSE(asks(joined, 1, 2, 5));
    CHECK_FALSE(asks(joined, 2, 3, 5));
    CHECK_FALSE(asks(joined, 0, 2, 1000));
}

}  // namespace pbft_monitor_tests
