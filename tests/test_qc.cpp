// The quorum-certificate layer and equivocation evidence, on their own.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <tuple>
#include <vector>

#include "protocols/common/qc.hpp"
#include "sim/hash.hpp"
#include "tests/recording_context.hpp"

namespace {

const proto::Statement kStmt{1, 5, 12, sim::Digest(0xabc)};

proto::SignedVote vote_as(testing::RecordingContext& ctx, std::uint32_t node,
                          const proto::Statement& stmt = kStmt) {
    ctx.act_as(node);
    return proto::sign_vote(ctx, stmt);
}

proto::QuorumCert full_qc(testing::RecordingContext& ctx, std::uint32_t quorum,
                          std::uint32_t first = 0) {
    proto::QcBuilder b(kStmt, quorum);
    for (std::uint32_t i = first; i < first + quorum; ++i)
        REQUIRE(b.add(ctx, vote_as(ctx, i)) == proto::QcBuilder::Added::Ok);
    REQUIRE(b.complete());
    return b.build(ctx);
}

}  // namespace

TEST_CASE("qc: a quorum of distinct valid votes makes a certificate that verifies") {
    for (bool ed25519 : {false, true}) {
        CAPTURE(ed25519);
        testing::RecordingContext ctx(4, 1, ed25519);
        auto qc = full_qc(ctx, 3);
        CHECK(qc.signer_count() == 3);
        CHECK(qc.aggregated == !ed25519);
        CHECK(qc.sigs.size() == (ed25519 ? 3u : 1u));
        CHECK(proto::verify_qc(ctx, qc, 3, 4) == proto::QcCheck::Ok);
        // Compact with aggregation: statement + bitmap + one aggregate.
        CHECK(qc.size_bytes() == (ed25519 ? 25u + 8 + 3 * 64 : 25u + 8 + 48));
    }
}

TEST_CASE("qc: past 64 replicas, the bitmap spans only the signers' words and still verifies") {
    // n = 70, f = 23, q = 47: signers 0..46 fit the first word; signers 23..69 need both.
    for (std::uint32_t first : {0u, 23u}) {
        CAPTURE(first);
        testing::RecordingContext ctx(70, 23);
        auto qc = full_qc(ctx, 47, first);
        CHECK(qc.signers.size() == (first == 0 ? 1u : 2u));
        CHECK(qc.signer_count() == 47);
        CHECK(proto::verify_qc(ctx, qc, 47, 70) == proto::QcCheck::Ok);
        CHECK(proto::verify_qc(ctx, qc, 48, 70) == proto::QcCheck::TooFewSigners);
        // A bitmap with a word past the replicas' is malformed; so is a signer id >= n.
        auto wide = qc;
        wide.signers.resize(3, 0);
        CHECK(proto::verify_qc(ctx, wide, 47, 70) == proto::QcCheck::Malformed);
        auto beyond = qc;
        beyond.signers.resize(2, 0);
        beyond.signers[1] |= std::uint64_t{1} << (70 - 64);
        CHECK(proto::verify_qc(ctx, beyond, 47, 70) == proto::QcCheck::Malformed);
    }
}

TEST_CASE("qc: the builder refuses duplicate signers, other statements and bad signatures") {
    testing::RecordingContext ctx(4, 1);
    proto::QcBuilder b(kStmt, 3);
    CHECK(b.add(ctx, vote_as(ctx, 0)) == proto::QcBuilder::Added::Ok);
    CHECK(b.add(ctx, vote_as(ctx, 0)) == proto::QcBuilder::Added::Duplicate);
    proto::Statement other = kStmt;
    other.value = sim::Digest(0xdef);
    CHECK(b.add(ctx, vote_as(ctx, 1, other)) == proto::QcBuilder::Added::WrongStatement);
    auto forged = vote_as(ctx, 2);  // node 2 signs, but claims to be node 3
    forged.signer = sim::NodeId(3);
    CHECK(b.add(ctx, forged) == proto::QcBuilder::Added::BadSignature);
    CHECK_FALSE(b.complete());
    CHECK(b.size() == 1);
}

TEST_CASE("qc: verification refuses too few signers, a signature over another statement, forgery") {
    for (bool ed25519 : {false, true}) {
        CAPTURE(ed25519);
        testing::RecordingContext ctx(7, 2, ed25519);
        auto qc = full_qc(ctx, 5);
        CHECK(proto::verify_qc(ctx, qc, 5, 7) == proto::QcCheck::Ok);

        auto fewer = full_qc(ctx, 4);
        CHECK(proto::verify_qc(ctx, fewer, 5, 7) == proto::QcCheck::TooFewSigners);

        auto moved = qc;  // the same signatures presented for another statement
        moved.stmt.value = sim::Digest(0x123);
        CHECK(proto::verify_qc(ctx, moved, 5, 7) == proto::QcCheck::BadSignature);

        auto padded = qc;  // claims a sixth signer that never signed
        padded.signers[0] |= 1ULL << 6;
        CHECK(proto::verify_qc(ctx, padded, 5, 7) != proto::QcCheck::Ok);

        auto dropped = qc;  // one signer removed from the bitmap, signatures unchanged
        dropped.signers[0] &= dropped.signers[0] - 1;
        CHECK(proto::verify_qc(ctx, dropped, 4, 7) != proto::QcCheck::Ok);

        auto outside = qc;  // a signer id beyond the replica set
        outside.signers.push_back(1);
        CHECK(proto::verify_qc(ctx, outside, 5, 7) == proto::QcCheck::Malformed);
    }
}

TEST_CASE("qc: two conflicting signed statements from one signer are evidence, and only those") {
    testing::RecordingContext ctx(4, 1);
    proto::EquivocationDetector d;
    auto a = vote_as(ctx, 2);
    proto::Statement other = kStmt;
    other.value = sim::Digest(0x999);
    auto b = vote_as(ctx, 2, other);
    CHECK_FALSE(d.observe(a));
    CHECK_FALSE(d.observe(a));  // the same vote again is no equivocation
    auto e = d.observe(b);
    REQUIRE(e);
    CHECK(proto::verify_evidence(ctx, *e));
    CHECK_FALSE(d.observe(b));  // reported once
    // Different slots or different signers are not conflicts.
    proto::Statement later = kStmt;
    later.slot = 13;
    later.value = sim::Digest(0x777);
    CHECK_FALSE(d.observe(vote_as(ctx, 2, later)));
    CHECK_FALSE(d.observe(vote_as(ctx, 3, other)));
    // Evidence whose second vote is forged does not verify.
    proto::Evidence fake{a, b};
    sim::Signature::Bytes bytes = fake.second.sig.bytes();
    bytes[0] ^= 1;
    fake.second.sig = sim::Signature(bytes);
    CHECK_FALSE(proto::verify_evidence(ctx, fake));
    proto::Evidence mixed{a, vote_as(ctx, 1, other)};
    CHECK_FALSE(proto::verify_evidence(ctx, mixed));
}

TEST_CASE("qc: the detector sees conflicts across repeats, older views and forgetting") {
    testing::RecordingContext ctx(4, 1);
    proto::EquivocationDetector d;
    proto::Statement other = kStmt;
    other.value = sim::Digest(0x999);
    proto::Statement leader = kStmt;  // a second statement seen between votes, as on a leader
    leader.kind = 7;
    // Votes of signers 1 and 3 alternate with a repeated statement: repeats are no evidence.
    CHECK_FALSE(d.observe(vote_as(ctx, 1)));
    CHECK_FALSE(d.observe(vote_as(ctx, 0, leader)));
    CHECK_FALSE(d.observe(vote_as(ctx, 3)));
    CHECK_FALSE(d.observe(vote_as(ctx, 0, leader)));
    CHECK(d.observe(vote_as(ctx, 1, other)));  // signer 1's first vote is still known
    // A statement for an older view goes into its own view, before the newer one.
    proto::Statement newer = kStmt;
    newer.view = kStmt.view + 5;
    CHECK_FALSE(d.observe(vote_as(ctx, 2, newer)));
    proto::Statement older = kStmt;
    older.view = kStmt.view - 1;
    CHECK_FALSE(d.observe(vote_as(ctx, 2, older)));
    older.value = sim::Digest(0x555);
    CHECK(d.observe(vote_as(ctx, 2, older)));
    // Forgotten views start afresh: the same statement again and then a conflict with it.
    d.forget_below(newer.view);
    CHECK_FALSE(d.observe(vote_as(ctx, 3, other)));
    CHECK(d.observe(vote_as(ctx, 3)));
    newer.value = sim::Digest(0x444);
    CHECK(d.observe(vote_as(ctx, 2, newer)));
}

// One view's votes: its leader's first, then its voters' in signer order (the orders the
// detector's fast paths depend on), with repeats, conflicts and votes for older views; now and
// then all shuffled. `next(bound)` draws.
template <class Next>
std::vector<proto::SignedVote> view_arrivals(testing::RecordingContext& ctx, std::uint64_t view,
                                             Next& next) {
    constexpr std::uint32_t kNodes = 16;
    std::vector<proto::SignedVote> arrivals;
    const auto leader = static_cast<std::uint32_t>(view % kNodes);
    auto add = [&](std::uint32_t signer, std::uint8_t kind, std::uint64_t v) {
        // Mostly the honest value; now and then a second value for the same slot.
        const sim::Digest value(next(8) == 0 ? 0x2000 + v : 0x1000 + v);
        arrivals.push_back(vote_as(ctx, signer, proto::Statement{kind, v, v, value}));
    };
    add(leader, 7, view);
    add(leader, 0, view);  // the leader's own vote arrives first
    const bool shuffled = next(4) == 0;
    for (std::uint32_t s = 0; s < kNodes; ++s) {
        if (s == leader) continue;
        add(s, 0, view);
        if (next(6) == 0) add(s, 0, view);  // a second vote, which may conflict
        if (next(3) == 0) arrivals.push_back(arrivals[1 + next(arrivals.size() - 1)]);
    }
    if (next(5) == 0 && view > 3) add(static_cast<std::uint32_t>(next(kNodes)), 0, view - 2);
    // Now and then votes for a view already forgotten: they count as that view's first
    // votes again, until the next forget_below.
    if (next(6) == 0 && view > 12) {
        const auto signer = static_cast<std::uint32_t>(next(kNodes));
        add(signer, 0, view - 12);
        add(signer, 0, view - 12);
    }
    if (shuffled)
        for (std::size_t i = arrivals.size() - 1; i > 0; --i)
            std::swap(arrivals[i], arrivals[next(i + 1)]);
    return arrivals;
}

// The detector against a plain model (a map from (view, kind, slot, signer) to the first value
// and whether it was reported), over orders its fast paths depend on: a view's leader first and
// then its voters in signer order, random orders, repeats, conflicts and forgetting.
TEST_CASE("qc: the detector agrees with a model over many orders of arrival") {
    constexpr std::uint32_t kNodes = 16;
    // Simulated signatures are kept as 8 bytes, Ed25519 ones whole: evidence must verify.
    for (const auto& variant : {std::pair<std::uint8_t, bool>{0, false}, {7, false}, {7, true}}) {
        const std::uint8_t first_kind = variant.first;  // (clang cannot capture a binding)
        const bool ed25519 = variant.second;
        CAPTURE(int{first_kind});
        CAPTURE(ed25519);
        testing::RecordingContext ctx(kNodes, 5, ed25519);
        proto::EquivocationDetector d(first_kind);
        // Per key: the first vote, and whether a conflict with it was reported.
        std::map<std::tuple<std::uint64_t, std::uint8_t, std::uint64_t, std::uint32_t>,
                 std::pair<proto::SignedVote, bool>>
            model;
        std::uint64_t rng = 0x12345;
        auto next = [&rng](std::uint64_t bound) {
            rng = sim::mix64(rng + 0x9e3779b97f4a7c15ULL);
            return rng % bound;
        };
        std::uint64_t floor = 0;
        int evidence = 0;
        const std::uint64_t views = ed25519 ? 150 : 300;
        for (std::uint64_t view = 1; view <= views; ++view) {
            const std::vector<proto::SignedVote> arrivals = view_arrivals(ctx, view, next);
            for (const auto& v : arrivals) {
                const auto key = std::make_tuple(v.stmt.view, v.stmt.kind, v.stmt.slot, v.signer.v);
                bool expect = false;
                auto [it, fresh] = model.try_emplace(key, v, false);
                if (!fresh && it->second.first.stmt.value != v.stmt.value && !it->second.second) {
                    it->second.second = true;
                    expect = true;
                }
                const proto::Evidence* e = d.observe(v);
                REQUIRE(static_cast<bool>(e) == expect);
                if (e) {
                    ++evidence;
                    CHECK(proto::verify_evidence(ctx, *e));
                    CHECK(e->first == it->second.first);  // the first vote, signature and all
                    CHECK(e->second == v);
                }
            }
            if (view % 7 == 0 || view % 11 == 0) {  // at times twice with one floor
                floor = std::max(floor, view - 5 - view % 2);
                d.forget_below(floor);
                std::erase_if(model, [&](const auto& kv) { return std::get<0>(kv.first) < floor; });
            }
        }
        CHECK(evidence > static_cast<int>(views / 2));  // conflicts were found, not just absent
    }
}

// A vote for a forgotten view counts until the next forget_below, however many votes come
// between: making room in a full detector must not drop it with the forgotten ones.
TEST_CASE("qc: the detector keeps a late vote for a forgotten view while it makes room") {
    testing::RecordingContext ctx(70, 23);
    proto::EquivocationDetector d;
    for (std::uint64_t view = 1; view <= 10; ++view)
        for (std::uint32_t s = 0; s < 4; ++s)
            CHECK_FALSE(
                d.observe(vote_as(ctx, s, proto::Statement{0, view, view, sim::Digest(view)})));
    d.forget_below(8);
    const proto::Statement late{0, 2, 2, sim::Digest(0x111)};
    CHECK_FALSE(d.observe(vote_as(ctx, 1, late)));
    // Enough newer votes to fill the detector several times over.
    for (std::uint64_t view = 20; view < 30; ++view)
        for (std::uint32_t s = 0; s < 64; ++s)
            CHECK_FALSE(
                d.observe(vote_as(ctx, s, proto::Statement{0, view, view, sim::Digest(view)})));
    proto::Statement conflicting = late;
    conflicting.value = sim::Digest(0x222);
    CHECK(d.observe(vote_as(ctx, 1, conflicting)));
    // After the next forget_below it is gone: the same conflict is a first vote again.
    d.forget_below(8);
    CHECK_FALSE(d.observe(vote_as(ctx, 1, late)));
}

// Signatures keep 16 bytes inline and the rest in a shared block only when it is not zero:
// copies, moves and comparisons must behave as for the 64-byte value they stand for.
TEST_CASE("qc: a signature copies, moves and compares as its 64 bytes, Ed25519 or simulated") {
    for (bool ed25519 : {false, true}) {
        CAPTURE(ed25519);
        testing::RecordingContext ctx(4, 1, ed25519);
        const sim::Signature a = ctx.sign(sim::Digest(1));
        const sim::Signature b = ctx.sign(sim::Digest(2));
        CHECK(a.has_tail() == ed25519);
        CHECK(sim::Signature(a.bytes()) == a);  // the bytes make the same signature again
        CHECK(a.bytes() != b.bytes());
        CHECK_FALSE(a == b);
        sim::Signature c = a;
        CHECK(c == a);
        const sim::Signature& same = c;
        c = same;  // self-assignment keeps every byte
        CHECK(c.bytes() == a.bytes());
        c = b;
        CHECK(c == b);
        sim::Signature moved = std::move(c);
        CHECK(moved == b);
        CHECK(c == sim::Signature());  // NOLINT(bugprone-use-after-move): moved-from is empty
        // Two signatures with equal bytes held in different blocks are equal.
        sim::Signature::Bytes bytes = a.bytes();
        CHECK(sim::Signature(bytes) == a);
        bytes[63] ^= 1;
        CHECK_FALSE(sim::Signature(bytes) == a);
        CHECK(sim::Signature(bytes).has_tail());
        bytes = {};
        CHECK_FALSE(sim::Signature(bytes).has_tail());  // all zero: nothing beyond the head
        // An aggregate uses bytes 8 to 15, which stay inline.
        if (!ed25519) {
            const auto agg = ctx.aggregate(std::vector<sim::Signature>{a, b});
            REQUIRE(agg.has_value());
            CHECK_FALSE(agg->has_tail());
            CHECK(agg->bytes()[8] == 2);  // the count of signatures aggregated
        }
    }
}
