// The run-wide memo of signature checks (sim/actor.hpp, Context::verified_before) saves the
// simulator's work, never a node's virtual time: a node that takes a check's result from the
// memo is charged the verifications it would have made. Each case hands one message to two
// replicas in turn on one context with the memo on; the second, which finds the first's result,
// must be charged exactly what the first was.
#include <doctest/doctest.h>

#include "protocols/rbc/replica.hpp"
#include "tests/drive.hpp"
#include "tests/hotstuff_fixtures.hpp"
#include "tests/recording_context.hpp"

namespace {

// Verifications charged to `node` for handling `m` with a fresh replica made by `make`.
template <class Make>
std::uint64_t charged(testing::RecordingContext& ctx, std::uint32_t node,
                      const std::vector<sim::PayloadRef>& msgs, Make make) {
    auto replica = make();
    ctx.verifications = 0;
    for (const auto& m : msgs) testing::deliver(ctx, *replica, node, m);
    return ctx.verifications;
}

}  // namespace

TEST_CASE("verify memo: an RBC replica that finds a SEND's request checked pays the check") {
    testing::RecordingContext ctx(4, 1);
    ctx.memo = true;
    ctx.act_as(4);
    const auto req = proto::make_request(ctx, proto::Request{100, 1, sim::NodeId(4)});
    ctx.act_as(0);
    const rbc::MessageRef send =
        rbc::make_message(ctx, rbc::Send{rbc::InstanceId{sim::NodeId(0), 1}, req});
    const auto make = [] {
        rbc::Config c;
        c.quorum = proto::Quorum{4, 1};
        return std::make_unique<rbc::Replica>(c);
    };
    const std::uint64_t first = charged(ctx, 1, {send}, make);
    CHECK(first >= 2);  // the SEND's signature and its request's
    CHECK(charged(ctx, 2, {send}, make) == first);
    CHECK(charged(ctx, 3, {send}, make) == first);
}

TEST_CASE("verify memo: a HotStuff replica that finds a QC checked pays the check") {
    for (const bool ed25519 : {false, true}) {
        CAPTURE(ed25519);
        testing::hotstuff_fixtures::Chain c(ed25519);
        c.ctx.memo = true;
        const std::vector<sim::PayloadRef> msgs{
            testing::hotstuff_fixtures::proposal(c.ctx, c.b[1]),
            testing::hotstuff_fixtures::proposal(c.ctx, c.b[2])};
        const auto make = [] {
            return std::make_unique<hotstuff::Replica>(testing::hotstuff_fixtures::config());
        };
        const std::uint64_t first = charged(c.ctx, 3, msgs, make);
        // Two proposals' signatures, a request's, and b1's QC: 1 aggregate or 3 signatures.
        CHECK(first >= 4);
        CHECK(charged(c.ctx, 0, msgs, make) == first);
    }
}

TEST_CASE("verify memo: a QC's key covers all it holds, so an edited QC is checked afresh") {
    for (const bool ed25519 : {false, true}) {
        CAPTURE(ed25519);
        testing::hotstuff_fixtures::Chain c(ed25519);
        c.ctx.memo = true;
        const proto::QuorumCert& good = c.qc[1];
        // One bit of the last signature flipped: statement and signers unchanged.
        proto::QuorumCert edited = good;
        sim::Signature::Bytes bytes = edited.sigs.back().bytes();
        bytes[0] ^= 1;
        edited.sigs.back() = sim::Signature(bytes);
        CHECK(hotstuff::qc_key(edited).content != hotstuff::qc_key(good).content);
        proto::QuorumCert flag = good;
        flag.aggregated = !flag.aggregated;
        CHECK(hotstuff::qc_key(flag).content != hotstuff::qc_key(good).content);

        // Replica 3 checks b2's QC (the memo keeps it); replica 0 is then handed b2 on the
        // edited QC: it must check it itself, refuse it and not vote.
        const auto make = [] {
            return std::make_unique<hotstuff::Replica>(testing::hotstuff_fixtures::config());
        };
        const auto b1 = testing::hotstuff_fixtures::proposal(c.ctx, c.b[1]);
        charged(c.ctx, 3, {b1, testing::hotstuff_fixtures::proposal(c.ctx, c.b[2])}, make);
        const auto forged = hotstuff::make_block(c.b[1], 2, edited, {c.request}, sim::NodeId(2));
        // Votes replica 0 sends on b2's proposal, given b1's first (deliver keeps the last only).
        const auto votes = [&](const hotstuff::BlockRef& b2) {
            charged(c.ctx, 0, {b1, testing::hotstuff_fixtures::proposal(c.ctx, b2)}, make);
            return testing::hotstuff_fixtures::votes_sent(c.ctx, 0);
        };
        CHECK(votes(c.b[2]) == 1);
        CHECK(votes(forged) == 0);
    }
}
