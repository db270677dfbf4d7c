// The trace fingerprint covers every byte a receiver gets: two payloads that differ only in a
// signature, a nested message's signature, a certificate's signers or a request's signature
// have different wire hashes, so runs that deliver them have different fingerprints.
#include <doctest/doctest.h>

#include <set>

#include "protocols/hotstuff/messages.hpp"
#include "protocols/pbft/messages.hpp"
#include "protocols/rbc/messages.hpp"
#include "tests/recording_context.hpp"

namespace {

// A copy of `r` whose signature is another node's over the same body and digest: a splice the
// digest cannot tell.
template <class M>
auto resigned(testing::RecordingContext& ctx, const M& r, std::uint32_t as) {
    auto [ref, m] = sim::make_payload<M>();
    m->body = r.body;
    m->kind = r.kind;
    m->size_bytes = r.size_bytes;
    m->digest = r.digest;
    m->signer = r.signer;
    ctx.act_as(as);
    m->sig = ctx.sign(r.digest);
    return ref;
}

proto::ClientMessageRef request(testing::RecordingContext& ctx) {
    ctx.act_as(5);  // a client
    return proto::make_request(ctx, proto::Request{42, 1, sim::NodeId(5)});
}

}  // namespace

TEST_CASE("wire hash: one digest with two signatures gives two wire hashes") {
    testing::RecordingContext ctx(4, 1);
    const auto a = request(ctx);
    const auto b = resigned(ctx, *a, 1);
    REQUIRE(a->digest == b->digest);
    CHECK(a->sig != b->sig);
    CHECK(a->wire_hash() != b->wire_hash());
    CHECK(a->wire_hash() == resigned(ctx, *a, 5)->wire_hash());  // same bytes, same hash
}

TEST_CASE("wire hash: pbft: a PRE-PREPARE covers its piggybacked requests' signatures") {
    testing::RecordingContext ctx(4, 1);
    const auto req = request(ctx);
    const auto forged = resigned(ctx, *req, 2);
    ctx.act_as(0);
    const pbft::Digest d = pbft::batch_digest({req});
    const auto a = pbft::make_message(ctx, pbft::PrePrepare{{}, pbft::Seq(1), d, {req}});
    const auto b = pbft::make_message(ctx, pbft::PrePrepare{{}, pbft::Seq(1), d, {forged}});
    REQUIRE(a->digest == b->digest);
    CHECK(a->wire_hash() != b->wire_hash());
}

TEST_CASE("wire hash: pbft: a NEW-VIEW covers the signatures of the messages in V and O") {
    testing::RecordingContext ctx(4, 1);
    ctx.act_as(1);
    const auto vc = pbft::make_message(ctx, pbft::ViewChange{pbft::View(1), {}, {}, {}, {}});
    // The same body and digest, signed with another key.
    const auto vc2 = resigned(ctx, *vc, 2);
    ctx.act_as(1);
    const auto a = pbft::make_message(ctx, pbft::NewView{pbft::View(1), {vc}, {}});
    const auto b = pbft::make_message(ctx, pbft::NewView{pbft::View(1), {vc2}, {}});
    REQUIRE(a->digest == b->digest);
    CHECK(a->wire_hash() != b->wire_hash());
    // The same in O: one PRE-PREPARE, and its body and digest under replica 2's signature.
    const auto pp = pbft::make_message(ctx, pbft::PrePrepare{pbft::View(1), pbft::Seq(1), {}, {}});
    const auto pp2 = resigned(ctx, *pp, 2);
    ctx.act_as(1);
    const auto c = pbft::make_message(ctx, pbft::NewView{pbft::View(1), {vc}, {pp}});
    const auto d = pbft::make_message(ctx, pbft::NewView{pbft::View(1), {vc}, {pp2}});
    REQUIRE(c->digest == d->digest);
    CHECK(c->wire_hash() != d->wire_hash());
}

TEST_CASE(
    "wire hash: hotstuff: a block covers its QC signatures and commands, and so does every "
    "message that carries it") {
    testing::RecordingContext ctx(4, 1);
    const auto req = request(ctx);
    const auto forged = resigned(ctx, *req, 3);
    const hotstuff::BlockRef g = hotstuff::genesis_block();
    const hotstuff::BlockRef b1 = hotstuff::make_block(g, 1, hotstuff::genesis_qc(), {req}, {});
    const hotstuff::BlockRef b2 = hotstuff::make_block(g, 1, hotstuff::genesis_qc(), {forged}, {});
    REQUIRE(b1->digest == b2->digest);
    CHECK(b1->wire_hash() != b2->wire_hash());
    // A QC with the same statement and signers but other signature bytes.
    proto::QuorumCert qc = hotstuff::genesis_qc();
    qc.stmt = proto::Statement{hotstuff::kGeneric, 1, 1, b1->digest};
    qc.signers = {0b0111};
    ctx.act_as(0);
    qc.sigs = {ctx.sign(qc.stmt.digest())};
    proto::QuorumCert other = qc;
    ctx.act_as(1);
    other.sigs = {ctx.sign(qc.stmt.digest())};
    const auto c1 = hotstuff::make_block(b1, 2, qc, {}, {});
    const auto c2 = hotstuff::make_block(b1, 2, other, {}, {});
    REQUIRE(c1->digest == c2->digest);
    CHECK(c1->wire_hash() != c2->wire_hash());
    ctx.act_as(2);
    const auto nv1 = hotstuff::make_message(ctx, hotstuff::NewView{2, qc, {}, {}});
    const auto nv2 = hotstuff::make_message(ctx, hotstuff::NewView{2, other, {}, {}});
    REQUIRE(nv1->digest == nv2->digest);
    CHECK(nv1->wire_hash() != nv2->wire_hash());
    // Every message that carries a block covers the block's bytes.
    ctx.act_as(1);
    const auto p1 = hotstuff::make_message(ctx, hotstuff::Proposal{b1, {}});
    const auto p2 = hotstuff::make_message(ctx, hotstuff::Proposal{b2, {}});
    REQUIRE(p1->digest == p2->digest);
    CHECK(p1->wire_hash() != p2->wire_hash());
    const auto r1 = hotstuff::make_message(ctx, hotstuff::BlockReply{b1});
    const auto r2 = hotstuff::make_message(ctx, hotstuff::BlockReply{b2});
    REQUIRE(r1->digest == r2->digest);
    CHECK(r1->wire_hash() != r2->wire_hash());
    const auto s1 = hotstuff::make_message(ctx, hotstuff::SyncReply{b1, {}, {}, {}});
    const auto s2 = hotstuff::make_message(ctx, hotstuff::SyncReply{b2, {}, {}, {}});
    REQUIRE(s1->digest == s2->digest);
    CHECK(s1->wire_hash() != s2->wire_hash());
}

TEST_CASE("wire hash: rbc: a SEND covers its request's signature") {
    testing::RecordingContext ctx(4, 1);
    const auto req = request(ctx);
    const auto forged = resigned(ctx, *req, 1);
    ctx.act_as(0);
    const rbc::InstanceId id{sim::NodeId(0), 1};
    const auto a = rbc::make_message(ctx, rbc::Send{id, req});
    const auto b = rbc::make_message(ctx, rbc::Send{id, forged});
    REQUIRE(a->digest == b->digest);
    CHECK(a->wire_hash() != b->wire_hash());
}

TEST_CASE("pbft: a message's digest covers its signer and every field of its body") {
    // Each body below differs from the first of its kind in one field: with the signer they
    // give pairwise different digests, so a signature over one never passes for another.
    testing::RecordingContext ctx(4, 1);
    ctx.act_as(0);
    const pbft::MessageRef a =
        pbft::make_message(ctx, pbft::Prepare{pbft::View(1), pbft::Seq(2), pbft::Digest(3)});
    const pbft::MessageRef b =
        pbft::make_message(ctx, pbft::Commit{pbft::View(1), pbft::Seq(2), pbft::Digest(3)});
    using pbft::Checkpoint;
    using pbft::ClientEntry;
    using pbft::Digest;
    const ClientEntry e{4, 5, Digest(6), 7};
    std::vector<pbft::Body> bodies = {
        Checkpoint{pbft::Seq(10), Digest(1), Digest(2), {}},
        Checkpoint{pbft::Seq(11), Digest(1), Digest(2), {}},
        Checkpoint{pbft::Seq(10), Digest(9), Digest(2), {}},
        Checkpoint{pbft::Seq(10), Digest(1), Digest(9), {}},
        Checkpoint{pbft::Seq(10), Digest(1), Digest(2), {e}},
        Checkpoint{pbft::Seq(10), Digest(1), Digest(2), {ClientEntry{9, 5, Digest(6), 7}}},
        Checkpoint{pbft::Seq(10), Digest(1), Digest(2), {ClientEntry{4, 9, Digest(6), 7}}},
        Checkpoint{pbft::Seq(10), Digest(1), Digest(2), {ClientEntry{4, 5, Digest(9), 7}}},
        Checkpoint{pbft::Seq(10), Digest(1), Digest(2), {ClientEntry{4, 5, Digest(6), 9}}},
        Checkpoint{pbft::Seq(10), Digest(1), Digest(2), {e, e}},
        pbft::ViewChange{pbft::View(1), pbft::Seq{}, {}, {}, {}},
        pbft::ViewChange{pbft::View(2), pbft::Seq{}, {}, {}, {}},
        pbft::ViewChange{pbft::View(1), pbft::Seq(10), {}, {}, {}},
        pbft::ViewChange{pbft::View(1), pbft::Seq{}, Digest(1), {}, {}},
        pbft::ViewChange{pbft::View(1), pbft::Seq{}, {}, {a}, {}},
        pbft::ViewChange{pbft::View(1), pbft::Seq{}, {}, {b}, {}},
        pbft::ViewChange{pbft::View(1), pbft::Seq{}, {}, {}, {pbft::PreparedCert{a, {}}}},
        pbft::ViewChange{pbft::View(1), pbft::Seq{}, {}, {}, {pbft::PreparedCert{a, {b}}}},
        pbft::NewView{pbft::View(1), {}, {}},
        pbft::NewView{pbft::View(2), {}, {}},
        pbft::NewView{pbft::View(1), {a}, {}},
        pbft::NewView{pbft::View(1), {}, {a}},
        pbft::Status{pbft::View(1), pbft::Seq(2), pbft::Seq(3)},
        pbft::Status{pbft::View(9), pbft::Seq(2), pbft::Seq(3)},
        pbft::Status{pbft::View(1), pbft::Seq(9), pbft::Seq(3)},
        pbft::Status{pbft::View(1), pbft::Seq(2), pbft::Seq(9)},
        pbft::CatchUp{pbft::Seq(1), Digest(2), {}, {}, {}},
        pbft::CatchUp{pbft::Seq(9), Digest(2), {}, {}, {}},
        pbft::CatchUp{pbft::Seq(1), Digest(9), {}, {}, {}},
        pbft::CatchUp{pbft::Seq(1), Digest(2), {a}, {}, {}},
        pbft::CatchUp{pbft::Seq(1), Digest(2), {}, {pbft::CommitCert{a, {}}}, {}},
        pbft::CatchUp{pbft::Seq(1), Digest(2), {}, {pbft::CommitCert{a, {b}}}, {}},
        pbft::CatchUp{pbft::Seq(1),
                      Digest(2),
                      {},
                      {},
                      std::make_shared<const std::vector<std::uint8_t>>(1, 1)},
    };
    std::set<std::uint64_t> seen;
    for (const pbft::Body& body : bodies) {
        seen.insert(pbft::message_digest(body, sim::NodeId(1)).v);
        seen.insert(pbft::message_digest(body, sim::NodeId(2)).v);
    }
    CHECK(seen.size() == 2 * bodies.size());
}

TEST_CASE("rbc: a SEND's size is an ECHO's or a READY's plus its request's") {
    testing::RecordingContext ctx(4, 1);
    ctx.act_as(4);
    const auto req = proto::make_request(ctx, proto::Request{1, 1, sim::NodeId(4)});
    ctx.act_as(0);
    const rbc::InstanceId id{sim::NodeId(0), 1};
    const auto send = rbc::make_message(ctx, rbc::Send{id, req});
    const auto echo = rbc::make_message(ctx, rbc::Echo{id, req->digest});
    const auto ready = rbc::make_message(ctx, rbc::Ready{id, req->digest});
    CHECK(echo->size_bytes > 64);  // a header and a signature
    CHECK(ready->size_bytes == echo->size_bytes);
    CHECK(send->size_bytes == echo->size_bytes + req->size_bytes);
}

TEST_CASE("hotstuff: a message's rounds are its block's or its statement's view and height") {
    // What rules match and the mutate behaviour moves (FORMAT.md: "view", "height").
    testing::RecordingContext ctx(4, 1);
    const auto b = hotstuff::make_block(hotstuff::genesis_block(), 7, hotstuff::genesis_qc(), {},
                                        sim::NodeId(3));
    ctx.act_as(3);
    const auto rounds = [](const sim::PayloadRef& m) {
        const sim::Rounds r = m->rounds();
        return std::pair{r.view, r.height};
    };
    CHECK(rounds(hotstuff::make_message(ctx, hotstuff::Proposal{b, {}})) == std::pair{7UL, 1UL});
    const proto::Statement s{hotstuff::kGeneric, 9, 5, b->digest};
    CHECK(rounds(hotstuff::make_message(ctx, hotstuff::Vote{proto::sign_vote(ctx, s), {}})) ==
          std::pair{9UL, 5UL});
    proto::QuorumCert qc;
    qc.stmt = proto::Statement{hotstuff::kPrepare, 11, 6, b->digest};
    CHECK(rounds(hotstuff::make_message(ctx, hotstuff::PhaseQc{hotstuff::kPreCommit, qc})) ==
          std::pair{11UL, 6UL});
    CHECK(rounds(hotstuff::make_message(ctx, hotstuff::NewView{13, hotstuff::genesis_qc(), {}, {}}))
              .first == 13);
}

TEST_CASE("rbc: a message's digest covers its kind, signer, instance and value") {
    // A signature over one never passes for another: an ECHO's for a READY, above all.
    const rbc::InstanceId id{sim::NodeId(0), 1}, other{sim::NodeId(0), 2},
        theirs{sim::NodeId(1), 1};
    const rbc::Digest v(5), w(6);
    const std::vector<rbc::Body> bodies = {rbc::Echo{id, v},    rbc::Ready{id, v},
                                           rbc::Echo{other, v}, rbc::Echo{theirs, v},
                                           rbc::Echo{id, w},    rbc::Ready{id, w}};
    std::set<std::uint64_t> seen;
    for (const rbc::Body& b : bodies) {
        seen.insert(rbc::message_digest(b, sim::NodeId(2)).v);
        seen.insert(rbc::message_digest(b, sim::NodeId(3)).v);
    }
    CHECK(seen.size() == 2 * bodies.size());
}
