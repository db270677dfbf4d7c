// PBFT catch-up (protocols/pbft/catch_up.cpp): what a lagging replica asks (STATUS), what the
// others answer (CATCH-UP), and every check the asker makes on an answer, each with the crafted
// message a Byzantine replica could send that it must refuse.
#include <doctest/doctest.h>

#include <algorithm>

#include "protocols/pbft/byzantine.hpp"
#include "protocols/pbft/replica.hpp"
#include "tests/drive.hpp"
#include "tests/helpers.hpp"
#include "tests/pbft_fixtures.hpp"
#include "tests/recording_context.hpp"

namespace {

using pbft::CatchUp;
using pbft::Commit;
using pbft::CommitCert;
using pbft::Digest;
using pbft::MessageRef;
using pbft::PrePrepare;
using pbft::Seq;
using pbft::View;
using sim::NodeId;
using testing::deliver;

constexpr std::uint32_t kClient = 4;

proto::ClientMessageRef request(testing::RecordingContext& ctx, std::uint32_t client,
                                std::uint64_t t) {
    ctx.act_as(client);
    return proto::make_request(ctx, proto::Request{100 + t, t, NodeId(client)});
}

MessageRef signed_by(testing::RecordingContext& ctx, std::uint32_t node, pbft::Body body) {
    ctx.act_as(node);
    return pbft::make_message(ctx, std::move(body));
}

// The certificate of number n in view v: the primary's PRE-PREPARE of one request and COMMITs
// from `committers`.
CommitCert cert(testing::RecordingContext& ctx, View v, Seq n, std::uint64_t t,
                std::vector<std::uint32_t> committers, std::uint32_t client = kClient) {
    PrePrepare pp{v, n, {}, {request(ctx, client, t)}};
    pp.d = pbft::batch_digest(pp.batch);
    const Digest d = pp.d;
    CommitCert c{signed_by(ctx, static_cast<std::uint32_t>(v.v % 4), std::move(pp)), {}};
    for (std::uint32_t r : committers) c.commits.push_back(signed_by(ctx, r, Commit{v, n, d}));
    return c;
}

// Delivers a CATCH-UP from replica 1 to a fresh replica 3; returns how far 3 executed.
std::uint64_t executed_after(testing::RecordingContext& ctx, CatchUp cu) {
    pbft::Replica r3(testing::small_pbft_config());
    const MessageRef m = signed_by(ctx, 1, std::move(cu));
    deliver(ctx, r3, 3, m);
    return r3.last_executed().v;
}

std::size_t count_kind(const std::vector<testing::RecordingContext::Sent>& sent,
                       std::uint16_t kind) {
    return static_cast<std::size_t>(std::count_if(
        sent.begin(), sent.end(), [&](const auto& s) { return s.msg->kind == kind; }));
}

}  // namespace

TEST_CASE("catch-up: commit certificates of any view execute in order, the first gap ends them") {
    testing::RecordingContext ctx(4, 1);
    CatchUp cu;
    cu.certs.push_back(cert(ctx, View(0), Seq(1), 1, {0, 1, 2}));
    cu.certs.push_back(cert(ctx, View(2), Seq(2), 2, {1, 2, 3}));  // another view: fine
    cu.certs.push_back(cert(ctx, View(0), Seq(4), 4, {0, 1, 2}));  // after a gap at 3
    CHECK(executed_after(ctx, cu) == 2);
    REQUIRE(ctx.commits.size() == 2);
    CHECK(ctx.commits[1].view == 2);
}

TEST_CASE("catch-up: a certificate is refused unless q distinct replicas commit its digest") {
    testing::RecordingContext ctx(4, 1);
    const auto one = [&](CommitCert c) {
        CatchUp cu;
        cu.certs.push_back(std::move(c));
        return executed_after(ctx, cu);
    };
    CHECK(one(cert(ctx, View(0), Seq(1), 1, {0, 1, 2})) == 1);
    SUBCASE("2f COMMITs") {
        CHECK(one(cert(ctx, View(0), Seq(1), 1, {0, 1})) == 0);
    }
    SUBCASE("one replica's COMMIT counted twice") {
        CommitCert c = cert(ctx, View(0), Seq(1), 1, {0, 1});
        c.commits.push_back(c.commits.back());
        CHECK(one(c) == 0);
    }
    SUBCASE("a COMMIT for another digest, view or number") {
        for (const Commit other : {Commit{View(0), Seq(1), Digest(7)}, Commit{View(1), Seq(1), {}},
                                   Commit{View(0), Seq(2), {}}}) {
            CommitCert c = cert(ctx, View(0), Seq(1), 1, {0, 1});
            Commit wrong = other;
            if (wrong.d == Digest{}) wrong.d = pbft::as<PrePrepare>(*c.pre_prepare)->d;
            c.commits.push_back(signed_by(ctx, 2, wrong));
            CHECK(one(c) == 0);
        }
    }
    SUBCASE("a COMMIT forged for another replica, under the forger's key") {
        CommitCert c = cert(ctx, View(0), Seq(1), 1, {0, 1});
        ctx.act_as(1);
        c.commits.push_back(pbft::make_forged(
            ctx, Commit{View(0), Seq(1), pbft::as<PrePrepare>(*c.pre_prepare)->d}, NodeId(2)));
        CHECK(one(c) == 0);
    }
    SUBCASE("a COMMIT spliced: another body under a replica's signature") {
        CommitCert c = cert(ctx, View(0), Seq(1), 1, {0, 1});
        const MessageRef other = signed_by(ctx, 2, Commit{View(0), Seq(9), Digest(7)});
        c.commits.push_back(pbft::make_spliced(
            Commit{View(0), Seq(1), pbft::as<PrePrepare>(*c.pre_prepare)->d}, *other));
        CHECK(one(c) == 0);
    }
    SUBCASE("a COMMIT signed by a client") {
        CommitCert c = cert(ctx, View(0), Seq(1), 1, {0, 1});
        c.commits.push_back(signed_by(
            ctx, kClient, Commit{View(0), Seq(1), pbft::as<PrePrepare>(*c.pre_prepare)->d}));
        CHECK(one(c) == 0);
    }
}

TEST_CASE("catch-up: the PRE-PREPARE must be the view's primary's, over a batch of clients'") {
    testing::RecordingContext ctx(4, 1);
    SUBCASE("signed by a backup") {
        CommitCert c = cert(ctx, View(0), Seq(1), 1, {0, 1, 2});
        const PrePrepare pp = *pbft::as<PrePrepare>(*c.pre_prepare);
        c.pre_prepare = signed_by(ctx, 1, pp);
        CatchUp cu;
        cu.certs.push_back(c);
        CHECK(executed_after(ctx, cu) == 0);
    }
    SUBCASE("a request signed by a replica as a client") {
        CatchUp cu;
        cu.certs.push_back(cert(ctx, View(0), Seq(1), 1, {0, 1, 2}, 2));
        CHECK(executed_after(ctx, cu) == 0);
    }
    SUBCASE("a digest not its batch's") {
        CommitCert c = cert(ctx, View(0), Seq(1), 1, {0, 1, 2});
        PrePrepare pp = *pbft::as<PrePrepare>(*c.pre_prepare);
        pp.batch.clear();  // the digest still names the request the COMMITs are for
        c.pre_prepare = signed_by(ctx, 0, pp);
        CatchUp cu;
        cu.certs.push_back(c);
        CHECK(executed_after(ctx, cu) == 0);
    }
}

namespace {

// CHECKPOINT(n) of an executed history `chain` with no reply cache, from `signers`.
std::vector<MessageRef> proof(testing::RecordingContext& ctx, Seq n, Digest chain,
                              std::vector<std::uint32_t> signers) {
    pbft::Checkpoint c{n, pbft::service_digest(chain, {}), chain, {}};
    std::vector<MessageRef> out;
    for (std::uint32_t r : signers) out.push_back(signed_by(ctx, r, c));
    return out;
}

// A CATCH-UP that proves checkpoint n of history `chain` (no reply cache), signed by `signers`.
CatchUp stable_at(testing::RecordingContext& ctx, Seq n, Digest chain,
                  std::vector<std::uint32_t> signers) {
    CatchUp cu;
    cu.n = n;
    cu.state = pbft::service_digest(chain, {});
    cu.C = proof(ctx, n, chain, std::move(signers));
    return cu;
}

// A service whose whole state is a byte string, its digest a hash of the bytes: a transfer
// needs the data, and the checkpoint's digest names it.
class Blob final : public proto::Application {
public:
    Digest execute(const proto::Request&, Digest, std::uint64_t, std::uint32_t) override {
        return {};
    }
    Digest seal(std::uint64_t, Digest) override { return digest(); }
    Digest digest() const override { return Digest(proto::data_hash(data_)); }
    proto::AppSnapshot snapshot() const override { return {digest(), data_}; }
    bool restore(const proto::AppSnapshot& s) override {
        if (!s.data || Digest(proto::data_hash(s.data)) != s.digest) return false;
        data_ = s.data;
        return true;
    }

private:
    proto::AppData data_;
};

}  // namespace

TEST_CASE("catch-up: a stable checkpoint's proof is adopted far above the window, never less") {
    testing::RecordingContext ctx(4, 1);
    const Seq far(500);  // the window is 20: 25 windows above
    const auto with = [&](std::vector<MessageRef> C, Digest state) {
        CatchUp cu;
        cu.n = far;
        cu.state = state;
        cu.C = std::move(C);
        return executed_after(ctx, cu);
    };
    const Digest state = pbft::service_digest(Digest(42), {});
    CHECK(with(proof(ctx, far, Digest(42), {0, 1, 2}), state) == 500);
    CHECK(with(proof(ctx, far, Digest(42), {0, 1}), state) == 0);
    CHECK(with(proof(ctx, far, Digest(42), {0, 1, 1}), state) == 0);
    CHECK(with(proof(ctx, far, Digest(42), {0, 1, 2}), Digest(9)) == 0);
    CHECK(with(proof(ctx, Seq(490), Digest(42), {0, 1, 2}), state) == 0);
    auto mixed = proof(ctx, far, Digest(42), {0, 1});
    mixed.push_back(proof(ctx, far, Digest(43), {2}).front());
    CHECK(with(mixed, state) == 0);
}

TEST_CASE("checkpoints: a replica that adopts a stable checkpoint executes what it holds above") {
    // Replica 3 holds number 11's commit certificate but none of 1..10. Once q CHECKPOINTs make
    // 10 stable it takes that state (§1.4) and executes 11 at once, with no further message.
    testing::RecordingContext ctx(4, 1);
    pbft::Replica r3(testing::small_pbft_config());
    CatchUp cu;
    cu.certs.push_back(cert(ctx, View(0), Seq(11), 11, {0, 1, 2}));
    deliver(ctx, r3, 3, signed_by(ctx, 1, cu));
    REQUIRE(r3.last_executed() == Seq(0));
    const auto C = proof(ctx, Seq(10), Digest(42), {0, 1, 2});
    deliver(ctx, r3, 3, C[0]);
    deliver(ctx, r3, 3, C[1]);
    CHECK(r3.last_executed() == Seq(0));
    deliver(ctx, r3, 3, C[2]);
    CHECK(r3.last_executed() == Seq(11));
}

TEST_CASE("catch-up: a replica passes on the service data of a checkpoint it took by transfer") {
    testing::RecordingContext ctx(4, 1);
    pbft::Config cfg = testing::small_pbft_config();
    cfg.app = [] { return std::make_unique<Blob>(); };
    pbft::Replica r3(cfg);
    const proto::AppData data = std::make_shared<const std::vector<std::uint8_t>>(3, 7);
    const Digest chain(proto::data_hash(data));
    CatchUp cu = stable_at(ctx, Seq(500), chain, {0, 1, 2});
    cu.app_data = data;
    deliver(ctx, r3, 3, signed_by(ctx, 1, cu));
    REQUIRE(r3.last_executed() == Seq(500));
    // Replica 2, behind, asks: it gets the proof and the bytes that give the proven digest.
    const auto sent = deliver(ctx, r3, 3, signed_by(ctx, 2, pbft::Status{View(0), Seq(0), Seq(0)}));
    REQUIRE(count_kind(sent, pbft::kCatchUp) == 1);
    const auto& answer = *pbft::as<CatchUp>(static_cast<const pbft::Message&>(*sent[0].msg));
    CHECK(answer.n == Seq(500));
    CHECK(answer.C.size() == 3);
    REQUIRE(answer.app_data);
    CHECK(*answer.app_data == *data);
}

TEST_CASE("view change: P holds the prepared certificates above the stable checkpoint only") {
    // Replica 3 prepares number 5 in view 0, then adopts the stable checkpoint 500 far above it.
    // Its VIEW-CHANGE names checkpoint 500 and no certificate at or below it (§1.5: P covers
    // the numbers above the checkpoint).
    testing::RecordingContext ctx(4, 1);
    pbft::Replica r3(testing::small_pbft_config());
    PrePrepare pp{View(0), Seq(5), {}, {request(ctx, kClient, 1)}};
    pp.d = pbft::batch_digest(pp.batch);
    const Digest d = pp.d;
    deliver(ctx, r3, 3, signed_by(ctx, 0, std::move(pp)));
    for (std::uint32_t r : {1u, 2u})
        deliver(ctx, r3, 3, signed_by(ctx, r, pbft::Prepare{View(0), Seq(5), d}));
    CatchUp cu = stable_at(ctx, Seq(500), Digest(42), {0, 1, 2});
    deliver(ctx, r3, 3, signed_by(ctx, 1, cu));
    REQUIRE(r3.last_executed() == Seq(500));
    // A PREPARE for 517 takes over the ring entry number 5 had (32 entries for a window of
    // 20): what 5 prepared is not 517's.
    deliver(ctx, r3, 3, signed_by(ctx, 1, pbft::Prepare{View(0), Seq(517), Digest(7)}));
    // f + 1 VIEW-CHANGEs for view 1: replica 3 joins with its own.
    std::vector<testing::RecordingContext::Sent> sent;
    for (std::uint32_t r : {0u, 1u})
        sent = deliver(ctx, r3, 3, signed_by(ctx, r, pbft::ViewChange{View(1), {}, {}, {}, {}}));
    const auto own = std::find_if(sent.begin(), sent.end(),
                                  [](const auto& s) { return s.msg->kind == pbft::kViewChange; });
    REQUIRE(own != sent.end());
    const auto& vc = *pbft::as<pbft::ViewChange>(static_cast<const pbft::Message&>(*own->msg));
    CHECK(vc.n_ckpt == Seq(500));
    CHECK(vc.P.empty());
}

TEST_CASE("checkpoints: a primary that adopts a stable checkpoint orders above it") {
    // Primary 0 of view 0 assigned 1..9; checkpoint 10 becomes stable (the others executed
    // 10). A number at or below the low watermark is outside the window (§1.4): its next
    // PRE-PREPARE is number 11.
    testing::RecordingContext ctx(4, 1);
    pbft::Replica r0(testing::small_pbft_config());
    const auto pre_prepared = [&](const std::vector<testing::RecordingContext::Sent>& sent) {
        const auto pp = std::find_if(sent.begin(), sent.end(), [](const auto& s) {
            return s.msg->kind == pbft::kPrePrepare;
        });
        REQUIRE(pp != sent.end());
        return pbft::as<PrePrepare>(static_cast<const pbft::Message&>(*pp->msg))->n;
    };
    for (std::uint64_t t = 1; t <= 9; ++t) {
        const auto req = request(ctx, kClient, t);
        CHECK(pre_prepared(deliver(ctx, r0, 0, req)) == Seq(t));
    }
    CatchUp cu = stable_at(ctx, Seq(10), Digest(42), {1, 2, 3});
    deliver(ctx, r0, 0, signed_by(ctx, 1, cu));
    REQUIRE(r0.last_executed() == Seq(10));
    CHECK(pre_prepared(deliver(ctx, r0, 0, request(ctx, kClient + 1, 1))) == Seq(11));
}

TEST_CASE("catch-up: a replica answers a STATUS with what the asker lacks, once per half timeout") {
    testing::RecordingContext ctx(4, 1);
    pbft::Replica r0(testing::small_pbft_config());
    // Replica 0 executes 1 and 2 from a CATCH-UP of its own, so it holds their certificates.
    CatchUp cu;
    cu.certs.push_back(cert(ctx, View(0), Seq(1), 1, {0, 1, 2}));
    cu.certs.push_back(cert(ctx, View(0), Seq(2), 2, {0, 1, 2}));
    deliver(ctx, r0, 0, signed_by(ctx, 1, cu));
    REQUIRE(r0.last_executed() == Seq(2));
    const auto status = [&](std::uint32_t from, Seq n) {
        return signed_by(ctx, from, pbft::Status{View(0), n, Seq(0)});
    };
    // It passes on the certificates it executed, above what the asker executed.
    auto sent = deliver(ctx, r0, 0, status(3, Seq(1)));
    REQUIRE(count_kind(sent, pbft::kCatchUp) == 1);
    const auto& answer = *pbft::as<CatchUp>(static_cast<const pbft::Message&>(*sent[0].msg));
    REQUIRE(answer.certs.size() == 1);
    CHECK(answer.certs[0] == cu.certs[1]);
    CHECK(answer.C.empty());
    // An asker as far as itself gets an empty answer (one of the 2f it waits for).
    sent = deliver(ctx, r0, 0, status(2, Seq(2)));
    REQUIRE(count_kind(sent, pbft::kCatchUp) == 1);
    // Within half a timeout the same asker gets nothing more; another asker does.
    ctx.time = sim::milliseconds(400);
    CHECK(deliver(ctx, r0, 0, status(3, Seq(0))).empty());
    CHECK(r0.refused().statuses == 1);
    CHECK(count_kind(deliver(ctx, r0, 0, status(1, Seq(0))), pbft::kCatchUp) == 1);
    ctx.time = sim::milliseconds(600);
    CHECK(count_kind(deliver(ctx, r0, 0, status(3, Seq(0))), pbft::kCatchUp) == 1);
}

TEST_CASE("catch-up: a certificate passed on carries q COMMITs, however many arrived") {
    // A commit certificate is 2f+1 COMMITs for one digest (Castro & Liskov, §4.3): the answer
    // carries that many and no more, each from another replica, so its size is bounded by q.
    testing::RecordingContext ctx(4, 1);
    pbft::Replica r0(testing::small_pbft_config());
    CatchUp cu;
    cu.certs.push_back(cert(ctx, View(0), Seq(1), 1, {0, 1, 2, 3}));
    deliver(ctx, r0, 0, signed_by(ctx, 1, cu));
    REQUIRE(r0.last_executed() == Seq(1));
    const auto sent = deliver(ctx, r0, 0, signed_by(ctx, 3, pbft::Status{View(0), Seq(0), Seq(0)}));
    REQUIRE(count_kind(sent, pbft::kCatchUp) == 1);
    const auto& answer = *pbft::as<CatchUp>(static_cast<const pbft::Message&>(*sent[0].msg));
    REQUIRE(answer.certs.size() == 1);
    const auto& commits = answer.certs[0].commits;
    CHECK(commits.size() == 3);
    std::vector<std::uint32_t> signers;
    for (const auto& c : commits) signers.push_back(c->signer.v);
    std::sort(signers.begin(), signers.end());
    CHECK(std::adjacent_find(signers.begin(), signers.end()) == signers.end());
}

TEST_CASE("catch-up: false_catch_up breaks one rule per answer, and each answer is refused") {
    testing::RecordingContext ctx(4, 1);
    auto doc = testing::pbft_base(4, 1);
    doc["faults"] = {{{"type", "byzantine"}, {"node", 1}, {"behavior", "false_catch_up"}}};
    const auto spec = testing::spec_from(doc);
    pbft::ByzantineReplica liar(std::make_unique<pbft::Replica>(testing::small_pbft_config()),
                                {pbft::parse_behavior(spec.faults.front(), spec)});
    // The liar holds the certificates of 1 and 2, so its honest core has something to send.
    CatchUp real;
    real.certs.push_back(cert(ctx, View(0), Seq(1), 1, {0, 2, 3}));
    real.certs.push_back(cert(ctx, View(0), Seq(2), 2, {0, 2, 3}));
    deliver(ctx, liar, 1, signed_by(ctx, 0, real));
    for (int k = 0; k < 5; ++k) {
        CAPTURE(k);
        ctx.time = sim::seconds(k + 1);
        const auto sent =
            deliver(ctx, liar, 1, signed_by(ctx, 3, pbft::Status{View(0), Seq(0), Seq(0)}));
        REQUIRE(sent.size() == 1);
        REQUIRE(sent[0].msg->kind == pbft::kCatchUp);
        pbft::Replica r3(testing::small_pbft_config());
        deliver(ctx, r3, 3, sent[0].msg);
        CHECK(r3.last_executed() == Seq(0));
        CHECK(r3.refused().catch_ups >= 1);
    }
}

namespace {

// A backup waits for request A, then B; B executes (from a CATCH-UP) just before A's timer is
// due. Returns what the backup sends when its request timer fires then.
std::vector<testing::RecordingContext::Sent> timer_after_other_executes(bool old_timer) {
    testing::RecordingContext ctx(4, 1);
    pbft::Config cfg = testing::small_pbft_config();
    if (old_timer) cfg.mutations.add(pbft::Mutation::OneRequestTimer);
    pbft::Replica r1(cfg);
    deliver(ctx, r1, 1, request(ctx, kClient, 1));  // A
    ctx.time = sim::milliseconds(100);
    deliver(ctx, r1, 1, request(ctx, kClient + 1, 1));  // B
    ctx.time = sim::milliseconds(500);
    CatchUp cu;
    cu.certs.push_back(cert(ctx, View(0), Seq(1), 1, {0, 2, 3}, kClient + 1));
    deliver(ctx, r1, 1, signed_by(ctx, 0, cu));
    REQUIRE(r1.last_executed() == Seq(1));
    ctx.time = cfg.request_timeout;  // A's deadline
    ctx.sent.clear();
    ctx.act_as(1);
    r1.on_timer(ctx, 1);  // the request timer
    return ctx.sent;
}

}  // namespace

TEST_CASE("request timer: it runs for the request waiting longest; others executing leave it") {
    CHECK(count_kind(timer_after_other_executes(false), pbft::kViewChange) == 3);
    // one_request_timer: B's execution pushed the deadline back, so nothing happens yet.
    CHECK(count_kind(timer_after_other_executes(true), pbft::kViewChange) == 0);
}

TEST_CASE("state transfer: a request the adopted state executed is no longer awaited") {
    // Replica 1 waits for the client's request 1, then adopts a stable checkpoint whose reply
    // cache holds it. When the request timer fires, nothing is awaited: no VIEW-CHANGE. With
    // transfer_without_reply_cache the stale entry stays and it leaves an honest primary's view.
    const auto view_changes = [](bool without_cache) {
        testing::RecordingContext ctx(4, 1);
        pbft::Config cfg = testing::small_pbft_config();
        if (without_cache) cfg.mutations.add(pbft::Mutation::TransferWithoutReplyCache);
        pbft::Replica r1(cfg);
        deliver(ctx, r1, 1, request(ctx, kClient, 1));
        const std::vector<pbft::ClientEntry> clients{{kClient, 1, Digest(5), 500}};
        const pbft::Checkpoint c{Seq(500), pbft::service_digest(Digest(42), clients), Digest(42),
                                 clients};
        CatchUp cu;
        cu.n = c.n;
        cu.state = c.state;
        for (std::uint32_t r : {0u, 2u, 3u}) cu.C.push_back(signed_by(ctx, r, c));
        deliver(ctx, r1, 1, signed_by(ctx, 0, cu));
        REQUIRE(r1.last_executed() == Seq(500));
        ctx.time = cfg.request_timeout;
        ctx.sent.clear();
        ctx.act_as(1);
        r1.on_timer(ctx, 1);  // the request timer
        return count_kind(ctx.sent, pbft::kViewChange);
    };
    CHECK(view_changes(false) == 0);
    CHECK(view_changes(true) == 3);
}

TEST_CASE("bounds: one CHECKPOINT state per sender and checkpoint number, counted when refused") {
    testing::RecordingContext ctx(4, 1);
    pbft::Replica r3(testing::small_pbft_config());  // K = 10
    const auto ckpt = [&](std::uint32_t from, std::uint64_t n, std::uint64_t chain) {
        const pbft::Checkpoint c{
            Seq(n), pbft::service_digest(Digest(chain), {}), Digest(chain), {}};
        deliver(ctx, r3, 3, signed_by(ctx, from, c));
    };
    ckpt(1, 10, 7);
    ckpt(1, 10, 8);  // another state from the same sender at 10
    ckpt(1, 11, 7);  // not a checkpoint number
    CHECK(r3.refused().checkpoints == 2);
    ckpt(2, 10, 7);
    ckpt(0, 10, 7);  // q matching: stable, and adopted (replica 3 executed nothing)
    CHECK(r3.low_watermark() == Seq(10));
    CHECK(r3.last_executed() == Seq(10));
}

TEST_CASE("bounds: what honest replicas refuse reaches the run's report, per table") {
    auto doc = testing::pbft_base(4, 20);
    doc["stop"] = {{"at", "2s"}, {"when_done", false}};  // the behaviours tick every 10-100ms
    doc["faults"] = {{{"type", "byzantine"}, {"node", 3}, {"behavior", "bogus_checkpoint"}},
                     {{"type", "byzantine"}, {"node", 3}, {"behavior", "far_future"}}};
    const auto r = testing::run(doc);
    CHECK_FALSE(r.result->violation);
    CHECK(r.result->refused.count("pbft.checkpoints") == 1);
    CHECK(r.result->refused.at("pbft.checkpoints") > 0);
    CHECK(r.result->refused.count("pbft.view_changes_far") == 1);
}
