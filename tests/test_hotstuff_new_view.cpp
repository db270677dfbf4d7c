// Chained HotStuff's NEW-VIEW (Algorithm 5, onNextSyncView) carries its sender's last vote, so a
// leader that missed the vote can still form the QC: the leader of view 2 counts the vote each
// sender signed itself, and never one a sender passes on in another's name.
#include <doctest/doctest.h>

#include <optional>

#include "tests/hotstuff_fixtures.hpp"

namespace {

using namespace testing::hotstuff_fixtures;

// Replica 2, the leader of view 2, holds b1 (view 1) and its own vote for it; then NEW-VIEWs
// for view 2 from 0, 1 and 3, `carried[i]` naming whose vote for b1 replica i's carries (none
// if empty). Returns the view of the QC its view-2 proposal extends, if it proposes.
std::optional<std::uint64_t> justified_view(
    const std::vector<std::optional<std::uint32_t>>& carried, bool holds_b1 = true) {
    Chain c;
    hotstuff::Replica leader(config());
    c.ctx.act_as(2);
    leader.on_start(c.ctx);
    if (holds_b1) {
        const auto p = proposal(c.ctx, c.b[1]);
        c.ctx.act_as(2);
        leader.on_message(c.ctx, NodeId(1), *p);
    }
    const proto::Statement s{hotstuff::kGeneric, 1, c.b[1]->height, c.b[1]->digest};
    const std::uint32_t senders[] = {0, 1, 3};
    const std::size_t mark = c.ctx.sent.size();
    for (std::size_t i = 0; i < 3; ++i) {
        hotstuff::NewView nv{2, c.qc[0], {}, {}};
        if (carried[i]) {
            c.ctx.act_as(*carried[i]);
            nv.last_vote = proto::sign_vote(c.ctx, s);
        }
        c.ctx.act_as(senders[i]);
        const auto m = hotstuff::make_message(c.ctx, nv);
        c.ctx.act_as(2);
        leader.on_message(c.ctx, NodeId(senders[i]), *m);
    }
    for (std::size_t i = mark; i < c.ctx.sent.size(); ++i) {
        const auto& m = as_hs(c.ctx.sent[i].msg);
        if (m.kind == hotstuff::kProposal && hotstuff::as<hotstuff::Proposal>(m)->block->view == 2)
            return hotstuff::as<hotstuff::Proposal>(m)->block->justify.stmt.view;
    }
    return std::nullopt;
}

}  // namespace

TEST_CASE("hotstuff new-view: the leader forms a QC from the votes NEW-VIEWs carry") {
    // Its own vote and those of 0 and 1 make n - f = 3: view 2 extends b1's QC.
    CHECK(justified_view({0, 1, std::nullopt}) == 1);
    CHECK(justified_view({0, 1, 3}) == 1);
    // Only its own and replica 1's: no QC, view 2 extends the genesis QC.
    CHECK(justified_view({std::nullopt, 1, std::nullopt}) == 0);
    // Replica 3 passes on replica 0's vote in its own NEW-VIEW: it does not count.
    CHECK(justified_view({std::nullopt, 1, 0}) == 0);
    // A leader still in view 0, that never got b1: n - f NEW-VIEWs for view 2 take it there
    // (Algorithm 5: the next leader waits for n - f of them), and it proposes on genesis.
    CHECK(justified_view({std::nullopt, std::nullopt, std::nullopt}, false) == 0);
}
