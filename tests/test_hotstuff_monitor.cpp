// HotStuff's wire monitor on hand-made traffic: each rule it checks (H1 vote-once, H5 quorum,
// safeNode against its own lock bound, H4 three-chain commits) must report a send or commit
// that breaks it, and pass the same traffic where the rule holds.
#include <doctest/doctest.h>

#include "protocols/hotstuff/messages.hpp"
#include "protocols/hotstuff/monitor.hpp"
#include "tests/recording_context.hpp"

namespace {

using hotstuff::BlockRef;
using hotstuff::QuorumCert;

struct Wire : testing::MonitorFixture<hotstuff::Monitor> {
    using MonitorFixture::MonitorFixture;

    // A QC for `b` signed by `signers` (the monitor needs n - f = 3).
    QuorumCert qc(const BlockRef& b, std::vector<std::uint32_t> signers) {
        const proto::Statement s{hotstuff::kGeneric, b->view, b->height, b->digest};
        proto::QcBuilder builder(s, static_cast<std::uint32_t>(signers.size()));
        for (std::uint32_t r : signers) {
            ctx.act_as(r);
            builder.add_trusted(proto::sign_vote(ctx, s));
        }
        return builder.build(ctx);
    }
    // The leader of b->view proposes b on the wire.
    std::optional<sim::Finding> propose(const BlockRef& b) {
        ctx.act_as(static_cast<std::uint32_t>(b->view % kN));
        const auto m = hotstuff::make_message(
            ctx, hotstuff::Proposal{b, proto::sign_vote(ctx, hotstuff::proposal_statement(*b))});
        return mon.on_send(ctx.self().v, *m);
    }
    // Replica r votes for b.
    std::optional<sim::Finding> vote(std::uint32_t r, const BlockRef& b) {
        ctx.act_as(r);
        const proto::Statement s{hotstuff::kGeneric, b->view, b->height, b->digest};
        const auto m = hotstuff::make_message(ctx, hotstuff::Vote{proto::sign_vote(ctx, s), {}});
        return mon.on_send(r, *m);
    }
    std::optional<sim::Finding> commit(std::uint32_t r, const BlockRef& b) {
        return mon.on_commit(r, sim::CommitRecord{b->height, b->view, b->digest, {}, {}});
    }
    // b1 <- b2 <- ... in views 1, 2, ..., each justified by a full QC for its parent.
    std::vector<BlockRef> chain(std::size_t length) {
        std::vector<BlockRef> out{hotstuff::genesis_block()};
        QuorumCert justify = hotstuff::genesis_qc();
        for (std::size_t i = 1; i <= length; ++i) {
            out.push_back(hotstuff::make_block(out.back(), i, justify, {}, proto::NodeId(i % kN)));
            justify = qc(out.back(), {0, 1, 2});
        }
        return out;
    }
};

std::string invariant(const std::optional<sim::Finding>& f) {
    return f ? f->invariant : "none";
}

}  // namespace

TEST_CASE("hotstuff monitor: a vote on a block whose justify QC lacks n - f signers is reported") {
    Wire w;
    auto g = w.chain(1);
    const BlockRef b2 = hotstuff::make_block(g[1], 2, w.qc(g[1], {0, 1}), {}, proto::NodeId(2));
    REQUIRE(!w.propose(g[1]));
    REQUIRE(!w.propose(b2));
    CHECK(invariant(w.vote(3, b2)) == "quorum");
    // The same block justified by three signers is fine, and by all four (n - f is a floor).
    const BlockRef ok = hotstuff::make_block(g[1], 2, w.qc(g[1], {0, 1, 3}), {}, proto::NodeId(2));
    REQUIRE(!w.propose(ok));
    CHECK(invariant(w.vote(3, ok)) == "none");
    // All four, on a monitor that has not seen b1 certified yet.
    Wire fresh;
    auto h = fresh.chain(1);
    const BlockRef all =
        hotstuff::make_block(h[1], 2, fresh.qc(h[1], {0, 1, 2, 3}), {}, proto::NodeId(2));
    REQUIRE(!fresh.propose(h[1]));
    REQUIRE(!fresh.propose(all));
    CHECK(invariant(fresh.vote(0, all)) == "none");
}

TEST_CASE("hotstuff monitor: a QC with a forged signature certifies nothing") {
    Wire w;
    auto g = w.chain(1);
    QuorumCert forged = w.qc(g[1], {0, 1, 2});
    auto bytes = forged.sigs[0].bytes();
    bytes[0] ^= 1;
    forged.sigs[0] = sim::Signature(bytes);
    const BlockRef b2 = hotstuff::make_block(g[1], 2, forged, {}, proto::NodeId(2));
    REQUIRE(!w.propose(g[1]));
    REQUIRE(!w.propose(b2));
    CHECK(invariant(w.vote(0, b2)) == "quorum");
}

TEST_CASE("hotstuff monitor: a QC one of whose signers is no replica certifies nothing") {
    // Replicas 0 and 1 and client 4 (bit 4 of the bitmap, past n = 4), each signature valid
    // under its signer's key: two replicas, not n - f.
    Wire w;
    auto g = w.chain(1);
    QuorumCert q;
    q.stmt = proto::Statement{hotstuff::kGeneric, g[1]->view, g[1]->height, g[1]->digest};
    q.signers = {0b10011};
    for (std::uint32_t r : {0U, 1U, 4U}) {
        w.ctx.act_as(r);
        q.sigs.push_back(w.ctx.sign(q.stmt.digest()));
    }
    const BlockRef b2 = hotstuff::make_block(g[1], 2, q, {}, proto::NodeId(2));
    REQUIRE(!w.propose(g[1]));
    REQUIRE(!w.propose(b2));
    CHECK(invariant(w.vote(0, b2)) == "quorum");
}

TEST_CASE("hotstuff monitor: proposal votes go to increasing views (H1)") {
    Wire w;
    auto c = w.chain(3);
    for (std::size_t i = 1; i < c.size(); ++i) REQUIRE(!w.propose(c[i]));
    CHECK(invariant(w.vote(1, c[2])) == "none");
    CHECK(invariant(w.vote(1, c[2])) == "none");  // the same vote again (a NEW-VIEW carries it)
    CHECK(invariant(w.vote(1, c[1])) == "vote_once");
    // Another block of the same view is a second vote in that view.
    Wire w2;
    auto d = w2.chain(2);
    for (std::size_t i = 1; i < d.size(); ++i) REQUIRE(!w2.propose(d[i]));
    const BlockRef twin =
        hotstuff::make_block(d[1], 2, w2.qc(d[1], {0, 1, 2}), {}, proto::NodeId(3));
    REQUIRE(!w2.propose(twin));
    CHECK(invariant(w2.vote(0, d[2])) == "none");
    CHECK(invariant(w2.vote(0, twin)) == "vote_once");
}

TEST_CASE("hotstuff monitor: a vote that neither extends the lock nor carries a newer QC") {
    Wire w;
    auto c = w.chain(4);  // views 1..4
    for (std::size_t i = 1; i < c.size(); ++i) REQUIRE(!w.propose(c[i]));
    // Voting for c[4] (justify QC(c3), c3.justify QC(c2)) locks replica 0 on QC(c2), view 2.
    REQUIRE(invariant(w.vote(0, c[4])) == "none");
    // A fork in view 5 on c[1] with QC(c1) (view 1): not above c2, and QC view 1 <= 2.
    const BlockRef fork =
        hotstuff::make_block(c[1], 5, w.qc(c[1], {1, 2, 3}), {}, proto::NodeId(1));
    REQUIRE(!w.propose(fork));
    CHECK(invariant(w.vote(0, fork)) == "safe_node");
    // Replica 1 voted only for c[2] (lock QC(genesis)): the same fork is safe for it.
    REQUIRE(invariant(w.vote(1, c[2])) == "none");
    CHECK(invariant(w.vote(1, fork)) == "none");
    // A fork whose QC is newer than the lock passes for the locked replica too.
    const BlockRef newer =
        hotstuff::make_block(c[3], 6, w.qc(c[3], {0, 1, 2}), {}, proto::NodeId(2));
    REQUIRE(!w.propose(newer));
    CHECK(invariant(w.vote(0, newer)) == "none");
}

TEST_CASE("hotstuff monitor: a commit needs a certified direct 3-chain in consecutive views") {
    Wire w;
    auto c = w.chain(3);  // QC(c3) not on the wire yet: c1 has a 2-chain above it
    for (std::size_t i = 1; i < c.size(); ++i) REQUIRE(!w.propose(c[i]));
    CHECK(invariant(w.commit(2, c[1])) == "three_chain");
    // c4 carries QC(c3): c1 <- c2 <- c3 are certified in views 1, 2, 3.
    const BlockRef c4 = hotstuff::make_block(c[3], 4, w.qc(c[3], {0, 1, 2}), {}, proto::NodeId(0));
    REQUIRE(!w.propose(c4));
    CHECK(invariant(w.commit(1, c[1])) == "none");
    CHECK(invariant(w.commit(1, c[2])) == "three_chain");  // c2's chain is not certified yet

    // A view gap: c1 (view 1) <- x (view 3) <- y (view 4), certified: no commit of c1.
    Wire g;
    auto d = g.chain(1);
    const BlockRef x = hotstuff::make_block(d[1], 3, g.qc(d[1], {0, 1, 2}), {}, proto::NodeId(3));
    const BlockRef y = hotstuff::make_block(x, 4, g.qc(x, {0, 1, 2}), {}, proto::NodeId(0));
    const BlockRef z = hotstuff::make_block(y, 5, g.qc(y, {0, 1, 2}), {}, proto::NodeId(1));
    for (const BlockRef& b : {d[1], x, y, z}) REQUIRE(!g.propose(b));
    CHECK(invariant(g.commit(0, d[1])) == "three_chain");
    CHECK(invariant(g.commit(0, x)) == "three_chain");  // z is not certified yet
    const BlockRef after = hotstuff::make_block(z, 6, g.qc(z, {1, 2, 3}), {}, proto::NodeId(2));
    REQUIRE(!g.propose(after));
    CHECK(invariant(g.commit(0, x)) == "none");     // x <- y <- z: views 3, 4, 5, all certified
    CHECK(invariant(g.commit(3, d[1])) == "none");  // below x: committed with it
}

TEST_CASE("hotstuff monitor: Byzantine replicas' votes are not held to the rules") {
    Wire w({true, true, true, false});
    auto c = w.chain(2);
    for (std::size_t i = 1; i < c.size(); ++i) REQUIRE(!w.propose(c[i]));
    REQUIRE(!w.vote(3, c[2]));
    CHECK(invariant(w.vote(3, c[1])) == "none");
    REQUIRE(!w.vote(2, c[2]));
    CHECK(invariant(w.vote(2, c[1])) == "vote_once");
    // After a restart without state, an honest replica's earlier votes bind it no more.
    w.mon.on_state_lost(2);
    CHECK(invariant(w.vote(2, c[1])) == "none");
}
