// PBFT's wire monitor on hand-made traffic: an honest replica signs one PRE-PREPARE, one
// PREPARE and one COMMIT per (view, seq) (OSDI'99 §4.2); a second with another digest is
// reported, the same one again, another slot, a Byzantine signer, a relayed message or a
// replica that lost its state are not.
#include <doctest/doctest.h>

#include "protocols/pbft/messages.hpp"
#include "protocols/pbft/monitor.hpp"
#include "tests/recording_context.hpp"

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
