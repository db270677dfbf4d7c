// A backup's checks on NEW-VIEW's O (Castro & Liskov §1.5, PROTOCOLS.md §4 pitfall 6): every entry
// is a PRE-PREPARE of the new view, signed by its primary, for the sequence number and digest the
// backup computes from V. Each crafted NEW-VIEW is one a Byzantine new primary can send.
#include <doctest/doctest.h>

#include "protocols/pbft/replica.hpp"
#include "tests/recording_context.hpp"

// The whole file in its own namespace: its helpers may share names with other test files'.
namespace pbft_new_view_tests {

namespace {

using pbft::MessageRef;
using pbft::Seq;
using pbft::View;

struct Views {
    std::vector<MessageRef> V;  // view 1's VIEW-CHANGEs from 1, 2 and 3
    MessageRef honest;          // the NEW-VIEW replica 1 sends for them
};

// `req` prepared at seq 1 in view 0: a PRE-PREPARE from 0, PREPAREs from 1 and 2.
pbft::PreparedCert prepared_at_one(testing::RecordingContext& ctx,
                                   const proto::ClientMessageRef& req) {
    const pbft::Digest d = pbft::batch_digest({req});
    ctx.act_as(0);
    pbft::PreparedCert cert{pbft::make_message(ctx, pbft::PrePrepare{View(0), Seq(1), d, {req}}),
                            {}};
    for (std::uint32_t r : {1u, 2u}) {
        ctx.act_as(r);
        cert.prepares.push_back(pbft::make_message(ctx, pbft::Prepare{View(0), Seq(1), d}));
    }
    return cert;
}

// Request 1 of client 5 prepared at seq 1 in view 0 (PRE-PREPARE from 0, PREPAREs from 1 and 2);
// replicas 2 and 3 carry the certificate into view 1, and a real replica 1 (view 1's primary)
// builds the NEW-VIEW from them and its own VIEW-CHANGE.
Views view_one(testing::RecordingContext& ctx) {
    ctx.act_as(5);
    const auto req = proto::make_request(ctx, proto::Request{7, 1, sim::NodeId(5)});
    const pbft::PreparedCert cert = prepared_at_one(ctx, req);
    pbft::Replica primary(pbft::Config{});
    Views out;
    for (std::uint32_t r : {2u, 3u}) {
        ctx.act_as(r);
        const auto vc = pbft::make_message(ctx, pbft::ViewChange{View(1), Seq(0), {}, {}, {cert}});
        out.V.push_back(vc);
        ctx.act_as(1);
        primary.on_message(ctx, vc->signer, *vc);
    }
    for (const auto& s : ctx.sent) {
        const auto& m = static_cast<const pbft::Message&>(*s.msg);
        if (pbft::as<pbft::NewView>(m)) out.honest = pbft::MessageRef(&m);
        if (pbft::as<pbft::ViewChange>(m) && m.signer == sim::NodeId(1)) {
            out.V.push_back(pbft::MessageRef(&m));
        }
    }
    ctx.sent.clear();
    return out;
}

// Replica 2, fresh, given `nv`: whether it entered view 1.
bool enters(testing::RecordingContext& ctx, const MessageRef& nv, pbft::Config cfg = {}) {
    pbft::Replica backup(cfg);
    ctx.act_as(2);
    backup.on_message(ctx, nv->signer, *nv);
    return backup.view() == View(1) && !backup.view_changing();
}

// The honest NEW-VIEW with its one O entry replaced by `entry`, signed by `signer`.
MessageRef with_o(testing::RecordingContext& ctx, const Views& views, const MessageRef& entry,
                  std::uint32_t signer = 1) {
    const auto& nv = *pbft::as<pbft::NewView>(*views.honest);
    ctx.act_as(signer);
    return pbft::make_message(ctx, pbft::NewView{View(1), nv.V, {entry}});
}

}  // namespace

TEST_CASE("pbft new-view: O's one entry must be the new primary's PRE-PREPARE that V gives") {
    testing::RecordingContext ctx(4, 1);
    const Views views = view_one(ctx);
    REQUIRE(views.honest);
    const auto& nv = *pbft::as<pbft::NewView>(*views.honest);
    REQUIRE(nv.V.size() == 3);
    REQUIRE(nv.O.size() == 1);
    const auto& want = *pbft::as<pbft::PrePrepare>(*nv.O[0]);
    CHECK(want.v == View(1));
    CHECK(want.n == Seq(1));
    REQUIRE(want.batch.size() == 1);
    CHECK(enters(ctx, views.honest));
    CHECK(enters(ctx, with_o(ctx, views, nv.O[0])));  // the same O, signed again: still good

    auto refused = [&](const char* what, const MessageRef& entry, std::uint32_t signer = 1) {
        CAPTURE(what);
        CHECK_FALSE(enters(ctx, with_o(ctx, views, entry, signer)));
    };
    ctx.act_as(1);
    refused("a PREPARE where the PRE-PREPARE goes",
            pbft::make_message(ctx, pbft::Prepare{View(1), Seq(1), want.d}));
    refused("a COMMIT where the PRE-PREPARE goes",
            pbft::make_message(ctx, pbft::Commit{View(1), Seq(1), want.d}));
    refused("the PRE-PREPARE of the view before",
            pbft::make_message(ctx, pbft::PrePrepare{View(0), Seq(1), want.d, want.batch}));
    refused("another sequence number",
            pbft::make_message(ctx, pbft::PrePrepare{View(1), Seq(2), want.d, want.batch}));
    refused("the null request instead of the prepared one",
            pbft::make_message(ctx, pbft::PrePrepare{View(1), Seq(1), pbft::null_digest(), {}}));
    ctx.act_as(3);
    refused("a PRE-PREPARE another replica signed", pbft::make_message(ctx, want), 1);
    // The NEW-VIEW itself from a replica that is not view 1's primary.
    CHECK_FALSE(enters(ctx, with_o(ctx, views, nv.O[0], 3)));
}

TEST_CASE(
    "pbft new-view: a VIEW-CHANGE that claims a stable checkpoint without its proof counts "
    "for nothing") {
    // VIEW-CHANGE's C must prove its checkpoint with q matching CHECKPOINTs (§1.5). Replica 1,
    // view 1's primary, holds a good one from replica 2 and, from replica 3, one claiming a
    // checkpoint at 10 with no proof: one valid VIEW-CHANGE is not f+1, so it stays put. Replica
    // 3's honest VIEW-CHANGE then makes f+1 and q with its own: it sends the NEW-VIEW.
    testing::RecordingContext ctx(4, 1);
    pbft::Config cfg;
    cfg.checkpoint_interval = 10;
    pbft::Replica primary(cfg);
    auto deliver = [&](std::uint32_t from, pbft::ViewChange vc) {
        ctx.act_as(from);
        const auto m = pbft::make_message(ctx, std::move(vc));
        ctx.act_as(1);
        primary.on_message(ctx, m->signer, *m);
    };
    auto new_views = [&] {
        std::size_t n = 0;
        for (const auto& s : ctx.sent)
            n += pbft::as<pbft::NewView>(static_cast<const pbft::Message&>(*s.msg)) ? 1 : 0;
        return n;
    };
    deliver(2, pbft::ViewChange{View(1), Seq(0), {}, {}, {}});
    deliver(3, pbft::ViewChange{View(1), Seq(10), pbft::Digest(5), {}, {}});
    CHECK(primary.view() == View(0));
    CHECK(new_views() == 0);
    deliver(3, pbft::ViewChange{View(1), Seq(0), {}, {}, {}});
    CHECK(primary.view() == View(1));
    CHECK(new_views() == 3);  // to each other replica
}

namespace {

// A NEW-VIEW for view 1 that a Byzantine primary 1 crafts: V's three VIEW-CHANGEs each carry
// `in_v` prepared at 1 in view 0 (a PRE-PREPARE from 0, PREPAREs from 1 and 2, all validly
// signed), and O orders `in_o` at 1 in view 1.
MessageRef new_view_around(testing::RecordingContext& ctx, const proto::ClientMessageRef& in_v,
                           const proto::ClientMessageRef& in_o) {
    const pbft::PreparedCert cert = prepared_at_one(ctx, in_v);
    std::vector<MessageRef> V;
    for (std::uint32_t r : {1u, 2u, 3u}) {
        ctx.act_as(r);
        V.push_back(pbft::make_message(ctx, pbft::ViewChange{View(1), Seq(0), {}, {}, {cert}}));
    }
    ctx.act_as(1);
    const auto o = pbft::make_message(
        ctx, pbft::PrePrepare{View(1), Seq(1), pbft::batch_digest({in_o}), {in_o}});
    return pbft::make_message(ctx, pbft::NewView{View(1), V, {o}});
}

}  // namespace

TEST_CASE("pbft new-view: each request in V's certificates and in O must be its client's") {
    // The requests a NEW-VIEW carries are authenticated like those of a PRE-PREPARE: signed by
    // the client they name, and that client not a replica.
    testing::RecordingContext ctx(4, 1);
    ctx.act_as(5);
    const auto genuine = proto::make_request(ctx, {7, 1, sim::NodeId(5)});
    ctx.act_as(3);  // replica 3's key, client 5's name: the same request body, so the same digest
    const auto forged = proto::make_request(ctx, {7, 1, sim::NodeId(5)});
    REQUIRE(pbft::batch_digest({forged}) == pbft::batch_digest({genuine}));
    CHECK(enters(ctx, new_view_around(ctx, genuine, genuine)));
    CHECK_FALSE(enters(ctx, new_view_around(ctx, forged, genuine)));  // in V's certificates
    CHECK_FALSE(enters(ctx, new_view_around(ctx, genuine, forged)));  // in O
    ctx.act_as(3);  // replica 3 as a client, under its own key
    const auto own_req = proto::make_request(ctx, {7, 1, sim::NodeId(3)});
    const auto own = new_view_around(ctx, own_req, own_req);
    CHECK_FALSE(enters(ctx, own));
    pbft::Config unchecked;  // accept_replica_requests: no client id check, as on PRE-PREPARE
    unchecked.mutations.add(pbft::Mutation::AcceptReplicaRequests);
    CHECK(enters(ctx, own, unchecked));
}

TEST_CASE("pbft new-view: an old VIEW-CHANGE gets the NEW-VIEW once per half timeout") {
    // Replica 3 repeats its VIEW-CHANGE for view 1, which backup 2 has entered: the first gets
    // the NEW-VIEW, the repeat is refused and counted. unbounded_buffers answers every one.
    for (const bool unbounded : {false, true}) {
        CAPTURE(unbounded);
        testing::RecordingContext ctx(4, 1);
        const Views views = view_one(ctx);
        pbft::Config cfg;
        if (unbounded) cfg.mutations.add(pbft::Mutation::UnboundedBuffers);
        pbft::Replica backup(cfg);
        ctx.act_as(2);
        backup.on_message(ctx, views.honest->signer, *views.honest);
        REQUIRE(backup.view() == View(1));
        const MessageRef& repeat = views.V[1];
        REQUIRE(repeat->signer == sim::NodeId(3));
        ctx.sent.clear();
        for (int i = 0; i < 3; ++i) backup.on_message(ctx, repeat->signer, *repeat);
        std::size_t answers = 0;
        for (const auto& s : ctx.sent)
            answers += s.to == sim::NodeId(3) && s.msg->kind == pbft::kNewView ? 1 : 0;
        CHECK(answers == (unbounded ? 3 : 1));
        CHECK(backup.refused().new_views == (unbounded ? 0 : 2));
    }
}

}  // namespace pbft_new_view_tests
