// Client messages as every protocol authenticates them: a REQUEST is its client's, a REPLY its
// replica's, each signed over the digest of its exact body (PROTOCOLS.md §4: signature over the
// exact body, request origin). Each forgery below is one a Byzantine replica or client can send.
#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/common/client.hpp"
#include "protocols/common/client_messages.hpp"
#include "sim/hash.hpp"
#include "tests/recording_context.hpp"

namespace {

// `m` (with `body` instead of its own, if given), claiming `claimed` as its signer and carrying
// `who`'s signature over m's digest.
proto::ClientMessageRef signed_by(
    testing::RecordingContext& ctx, const proto::ClientMessage& m, std::uint32_t who,
    std::uint32_t claimed, std::optional<std::variant<proto::Request, proto::Reply>> body = {}) {
    auto [ref, out] = sim::make_payload<proto::ClientMessage>();
    out->body = body ? *body : m.body;
    out->kind = m.kind;
    out->size_bytes = m.size_bytes;
    out->digest = m.digest;
    out->signer = sim::NodeId(claimed);
    ctx.act_as(who);
    out->sig = ctx.sign(m.digest);
    return ref;
}

}  // namespace

TEST_CASE("client messages: a REQUEST is authentic only from its client, over its body") {
    testing::RecordingContext ctx(4, 1);
    ctx.act_as(5);
    const auto req = proto::make_request(ctx, proto::Request{11, 1, sim::NodeId(5)});
    CHECK(proto::authentic(ctx, *req));
    // Replica 2 signs a request that names client 5, as itself or claiming to be client 5.
    CHECK_FALSE(proto::authentic(ctx, *signed_by(ctx, *req, 2, 2)));
    CHECK_FALSE(proto::authentic(ctx, *signed_by(ctx, *req, 2, 5)));
    // The client's own signature over another body.
    proto::Request other = std::get<proto::Request>(req->body);
    other.op = 12;
    CHECK_FALSE(proto::authentic(ctx, *signed_by(ctx, *req, 5, 5, other)));
}

TEST_CASE("client messages: a REPLY is authentic only from the replica it names, over its body") {
    testing::RecordingContext ctx(4, 1);
    ctx.act_as(2);
    const proto::Reply rep{{}, 1, sim::NodeId(5), sim::NodeId(2), sim::Digest(77), 1};
    const auto reply = proto::make_reply(ctx, rep);
    CHECK(proto::authentic(ctx, *reply));
    // Replica 3 forges replica 2's reply: signed as itself, or claiming replica 2.
    CHECK_FALSE(proto::authentic(ctx, *signed_by(ctx, *reply, 3, 3)));
    CHECK_FALSE(proto::authentic(ctx, *signed_by(ctx, *reply, 3, 2)));
    // A client signs a reply in replica 2's name.
    CHECK_FALSE(proto::authentic(ctx, *signed_by(ctx, *reply, 5, 5)));
    proto::Reply other = rep;
    other.result = sim::Digest(78);
    CHECK_FALSE(proto::authentic(ctx, *signed_by(ctx, *reply, 2, 2, other)));
}

TEST_CASE("client: f+1 authentic REPLYs count only if they name this client and come from theirs") {
    // A REPLY is its replica's, for one client's request (§1.2): replies that replicas 0 and 1
    // made for client 5 at this client's timestamp do not complete client 4's request.
    testing::RecordingContext ctx(4, 1);
    proto::ClientConfig cfg;
    cfg.requests = 1;
    cfg.send_to_all = true;
    proto::Client client(cfg);
    ctx.act_as(4);
    client.on_start(ctx);
    for (std::size_t i = 0; i < ctx.timers.size() && ctx.sent.empty(); ++i)
        client.on_timer(ctx, ctx.timers[i].second);
    REQUIRE(!ctx.sent.empty());
    const auto& req = std::get<proto::Request>(
        static_cast<const proto::ClientMessage&>(*ctx.sent.front().msg).body);
    const auto reply = [&](std::uint32_t replica, std::uint32_t client_id) {
        ctx.act_as(replica);
        const auto m = proto::make_reply(ctx, proto::Reply{{},
                                                           req.timestamp,
                                                           sim::NodeId(client_id),
                                                           sim::NodeId(replica),
                                                           sim::Digest(7),
                                                           1});
        ctx.act_as(4);
        client.on_message(ctx, sim::NodeId(replica), *m);
    };
    reply(0, 5);
    reply(1, 5);
    CHECK(ctx.accepted.empty());
    reply(0, 4);
    CHECK(ctx.accepted.empty());
    reply(1, 4);
    CHECK(ctx.accepted.size() == 1);
}

TEST_CASE("client messages: a REQUEST's digest covers every byte of its data, and its length") {
    // 77 bytes: two rounds of the four lanes, one lane of the next, and a partial word.
    std::vector<std::uint8_t> bytes(77);
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(i * 7);
    const auto digest = [](std::vector<std::uint8_t> data) {
        return proto::request_digest(
            proto::Request{11, 1, sim::NodeId(5),
                           std::make_shared<const std::vector<std::uint8_t>>(std::move(data))});
    };
    const proto::Digest d = digest(bytes);
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        CAPTURE(i);
        for (const std::uint8_t flip : {1, 128}) {
            std::vector<std::uint8_t> edited = bytes;
            edited[i] ^= flip;
            CHECK(digest(edited) != d);
        }
    }
    // Two whole words swapped (within a lane, and across lanes), a zero byte appended or
    // dropped.
    for (const auto& [a, b] : {std::pair{0, 32}, std::pair{0, 8}, std::pair{40, 64}}) {
        std::vector<std::uint8_t> swapped = bytes;
        std::swap_ranges(swapped.begin() + a, swapped.begin() + a + 8, swapped.begin() + b);
        CHECK(digest(swapped) != d);
    }
    std::vector<std::uint8_t> longer = bytes;
    longer.push_back(0);
    CHECK(digest(longer) != d);
    std::vector<std::uint8_t> zero_tail(bytes.begin(), bytes.begin() + 72);
    zero_tail.push_back(0);
    std::vector<std::uint8_t> shorter(bytes.begin(), bytes.begin() + 72);
    CHECK(digest(zero_tail) != digest(shorter));
    // The same at compile time as at run time (big_endian_word has a path for each).
    constexpr std::string_view text = "forty-two bytes of text, for the lanes ...";
    constexpr std::uint64_t at_compile_time = sim::hash_bytes(3, text);
    CHECK(sim::hash_bytes(3, std::string(text)) == at_compile_time);
    CHECK(sim::hash_bytes(4, text) != at_compile_time);
}
