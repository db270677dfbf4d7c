// Shared by the tests of HotStuff's far_future and mixed_qc behaviours: a recording context's
// chain of certified blocks, proposals and votes, and what the behaviours send on a tick.
#pragma once

#include <doctest/doctest.h>

#include <limits>

#include "protocols/hotstuff/byzantine.hpp"
#include "protocols/hotstuff/byzantine_far.hpp"
#include "protocols/hotstuff/replica.hpp"
#include "sim/hash.hpp"
#include "tests/helpers.hpp"
#include "tests/recording_context.hpp"

namespace testing::hotstuff_fixtures {

using hotstuff::BlockRef;
using hotstuff::Digest;
using hotstuff::MessageRef;
using hotstuff::NodeId;
using hotstuff::QuorumCert;
using testing::RecordingContext;

constexpr std::uint32_t kN = 4;
constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

inline hotstuff::Config config(bool basic = false) {
    hotstuff::Config cfg;
    cfg.quorum = proto::Quorum{kN, 1};
    cfg.basic = basic;
    return cfg;
}

inline const hotstuff::Message& as_hs(const sim::PayloadRef& p) {
    REQUIRE(p);
    return static_cast<const hotstuff::Message&>(*p);
}

inline QuorumCert qc_for(RecordingContext& ctx, const BlockRef& b,
                         std::uint8_t kind = hotstuff::kGeneric) {
    const proto::Statement s{kind, b->view, b->height, b->digest};
    proto::QcBuilder builder(s, 3);
    for (std::uint32_t r : {0U, 2U, 3U}) {
        ctx.act_as(r);
        builder.add_trusted(proto::sign_vote(ctx, s));
    }
    return builder.build(ctx);
}

inline MessageRef proposal(RecordingContext& ctx, const BlockRef& b) {
    ctx.act_as(b->proposer.v);
    return hotstuff::make_message(
        ctx, hotstuff::Proposal{b, proto::sign_vote(ctx, hotstuff::proposal_statement(*b))});
}

// Blocks b1..b4 in views 1..4 (leader v mod 4), each on the QC of the one before.
struct Chain {
    explicit Chain(bool ed25519 = false) : ctx(kN, 1, ed25519) {
        ctx.act_as(kN);
        request = proto::make_request(ctx, proto::Request{5, 1, NodeId(kN)});
        for (std::uint64_t v = 1; v <= 4; ++v) {
            b.push_back(hotstuff::make_block(b.back(), v, qc.back(), {request},
                                             NodeId(static_cast<std::uint32_t>(v % kN))));
            qc.push_back(qc_for(ctx, b.back()));
        }
    }
    RecordingContext ctx;
    std::vector<BlockRef> b{hotstuff::genesis_block()};
    std::vector<QuorumCert> qc{hotstuff::genesis_qc()};
    proto::ClientMessageRef request;
};

// Delivers to replica `to` (acting as it) every message in ctx.sent[from..] addressed to it.
inline void deliver_sent(RecordingContext& ctx, hotstuff::Replica& r, std::uint32_t to,
                         std::size_t from) {
    const std::vector<RecordingContext::Sent> batch(ctx.sent.begin() + static_cast<long>(from),
                                                    ctx.sent.end());
    ctx.act_as(to);
    for (const auto& s : batch)
        if (s.to.v == to) r.on_message(ctx, as_hs(s.msg).signer, *s.msg);
}

inline std::size_t votes_sent(const RecordingContext& ctx, std::size_t from) {
    std::size_t n = 0;
    for (std::size_t i = from; i < ctx.sent.size(); ++i)
        n += ctx.sent[i].msg->kind == hotstuff::kVote ? 1 : 0;
    return n;
}

// The messages of one far_future tick, by kind, each sent to the three others.
struct Tick {
    std::vector<const hotstuff::Message*> votes, new_views, proposals;
};
inline Tick split(const RecordingContext& ctx, std::size_t from, std::uint32_t self) {
    Tick t;
    for (std::size_t i = from; i < ctx.sent.size(); ++i) {
        const auto& m = static_cast<const hotstuff::Message&>(*ctx.sent[i].msg);
        CHECK(ctx.sent[i].to.v != self);
        if (m.kind == hotstuff::kVote) t.votes.push_back(&m);
        if (m.kind == hotstuff::kNewView) t.new_views.push_back(&m);
        if (m.kind == hotstuff::kProposal) t.proposals.push_back(&m);
    }
    return t;
}

// The votes replica 1 received, fed to `mixed`: for b4 from 0 and 3; from 2 one for b3 and a
// PREPARE for b4.
inline void feed_votes(Chain& c, hotstuff::MixedQc& mixed) {
    const proto::Statement s = c.qc[4].stmt;
    const proto::Statement s3{hotstuff::kGeneric, 3, 3, c.b[3]->digest};
    const proto::Statement phase{hotstuff::kPrepare, 4, 4, c.b[4]->digest};
    for (const auto& [voter, stmt] : std::vector<std::pair<std::uint32_t, proto::Statement>>{
             {0, s}, {3, s}, {2, s3}, {2, phase}}) {
        c.ctx.act_as(voter);
        const auto v = hotstuff::make_message(c.ctx, hotstuff::Vote{proto::sign_vote(c.ctx, stmt)});
        c.ctx.act_as(1);
        mixed.observe(c.ctx, *v);
    }
}

inline hotstuff::MixedQc mixed_qc(const char* mix) {
    sim::FaultSpec f;
    f.path = "/faults/0";
    f.params = {{"mix", mix}};
    return hotstuff::MixedQc(hotstuff::parse_mixed_qc(f));
}

}  // namespace testing::hotstuff_fixtures
