// What a replica checks is what it received (PROTOCOLS.md §4.12): a block keeps the answers its
// receivers compute (digest check, commands check, QC key, proposal digest) only from the moment
// it is sent (sim::ContentMemo). A Byzantine author that asks them of an honest block and then
// edits the block under the same digest and signatures (proto::Seal::Seeded) gets nothing; a
// replica that trusts answers computed before the send (trust_author_caches) takes the edit.
#include <doctest/doctest.h>

#include "protocols/hotstuff/craft.hpp"
#include "tests/drive.hpp"
#include "tests/hotstuff_fixtures.hpp"

namespace {

using namespace testing::hotstuff_fixtures;
using proto::Seal;

// View 1's proposal by its leader, replica 1, carrying client 4's request; then the same
// proposal with one more command under the original digest and signatures, crafted by the
// leader after asking the block every answer a receiver keeps. Sent: sealed, as the simulator
// does.
struct Seeded {
    RecordingContext ctx{kN, 1};
    MessageRef honest, edited;
    explicit Seeded(proto::CommandEdit::Op op) {
        ctx.act_as(kN);
        const auto req = proto::make_request(ctx, proto::Request{5, 1, NodeId(kN)});
        const BlockRef b = hotstuff::make_block(hotstuff::genesis_block(), 1,
                                                hotstuff::genesis_qc(), {req}, NodeId(1));
        honest = proposal(ctx, b);
        proto::CommandEdit e;
        e.op = op;
        ctx.act_as(1);  // a request for client 4 that the leader signs itself
        if (op == proto::CommandEdit::Op::Inject)
            e.inject = proto::make_request(ctx, proto::Request{0x1bad, 1, NodeId(kN)});
        const auto out = hotstuff::Craft().with_commands(ctx, *honest, e, Seal::Seeded);
        REQUIRE(out);
        edited = MessageRef(&as_hs(out));
        edited->seal();
    }
    // Replica 3's votes on receiving the edited proposal.
    std::size_t votes(bool trust_author_caches) {
        hotstuff::Config cfg = config();
        if (trust_author_caches) cfg.mutations.add(hotstuff::Mutation::TrustAuthorCaches);
        hotstuff::Replica r(cfg);
        ctx.act_as(3);
        r.on_start(ctx);
        testing::deliver(ctx, r, 3, edited);
        return votes_sent(ctx, 0);
    }
};

}  // namespace

TEST_CASE("seeded: hotstuff: the edited proposal is the original to every check but the block's") {
    Seeded s(proto::CommandEdit::Op::Inject);
    const auto& h = *hotstuff::as<hotstuff::Proposal>(*s.honest);
    const auto& e = *hotstuff::as<hotstuff::Proposal>(*s.edited);
    CHECK(s.edited->signer == s.honest->signer);
    CHECK(s.edited->digest == s.honest->digest);
    CHECK(s.edited->sig == s.honest->sig);
    CHECK(s.edited->digest_matches());  // the outer message names the block by its digest
    CHECK(e.leader_statement == h.leader_statement);
    CHECK(e.block->digest == h.block->digest);
    CHECK(e.block->cmds.size() == h.block->cmds.size() + 1);
    // What the author asked before the edit is not an answer once the block is sent.
    CHECK_FALSE(e.block->digest_matches());
    bool checked = false;
    CHECK_FALSE(e.block->commands_valid(s.ctx, checked));
    CHECK(checked);
}

TEST_CASE(
    "seeded: hotstuff: an honest replica refuses the edited block; trusting the author, "
    "it votes") {
    for (const auto op : {proto::CommandEdit::Op::Inject, proto::CommandEdit::Op::Drop,
                          proto::CommandEdit::Op::Duplicate}) {
        CAPTURE(static_cast<int>(op));
        CHECK(Seeded(op).votes(false) == 0);
        CHECK(Seeded(op).votes(true) == 1);
    }
    // The genuine proposal gets its vote either way.
    Seeded s(proto::CommandEdit::Op::Drop);
    s.edited = s.honest;
    CHECK(s.votes(false) == 1);
}
