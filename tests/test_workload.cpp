// Requests at chosen times (workload.schedule) and per-replica protocol overrides (fault type
// "params"): how they are read, refused, and what they change in a run.
#include <doctest/doctest.h>

#include <string>

#include "helpers.hpp"
#include "protocols/common/client.hpp"
#include "protocols/common/client_messages.hpp"
#include "protocols/hotstuff/replica.hpp"
#include "protocols/pbft/replica.hpp"
#include "protocols/rbc/replica.hpp"

using nlohmann::json;
using sim::milliseconds;
using sim::seconds;
using testing::run;

namespace {

// Fault-free PBFT, n = 4, d = 1ms: a request takes five delays (§1.7). No share: only the
// scheduled requests.
json scheduled(std::uint32_t clients, std::uint64_t requests, const json& schedule) {
    json doc = testing::pbft_base(4, requests);
    doc["workload"]["clients"] = clients;
    doc["workload"]["schedule"] = schedule;
    return doc;
}

json entry(std::uint32_t client, const char* at, const char* op) {
    return {{"client", client}, {"at", at}, {"op", op}};
}

// The path a document is refused at, by the parser or by the protocol; "<accepted>" if not.
std::string refused_at(const json& doc) {
    try {
        protocols::validate(sim::parse_scenario(doc));
    } catch (const sim::ScenarioError& e) {
        return e.path();
    }
    return "<accepted>";
}

std::string refusal_reason(const json& doc) {
    try {
        protocols::validate(sim::parse_scenario(doc));
    } catch (const sim::ScenarioError& e) {
        return e.reason();
    }
    return "<accepted>";
}

const pbft::Replica& pbft_replica(const testing::Run& r, std::uint32_t i) {
    return static_cast<const pbft::Replica&>(r.sim->actor(i));
}

// PBFT n = 4 with a crashed primary: the backups hear the client's retransmission at 101ms and
// time out 200ms later, unless a replica's own request_timeout says otherwise.
json crashed_primary() {
    json doc = testing::pbft_base(4, 1);
    doc["workload"]["retry_timeout"] = "100ms";
    doc["protocol"]["request_timeout"] = "200ms";
    doc["faults"] = json::array({{{"type", "crash"}, {"node", 0}, {"at", "0s"}}});
    return doc;
}

json slow_timer(std::uint32_t node, const char* timeout) {
    return {{"type", "params"}, {"node", node}, {"params", {{"request_timeout", timeout}}}};
}

}  // namespace

TEST_CASE("workload: a request scheduled at 3ms is issued at 3ms and accepted five delays on") {
    auto r = run(scheduled(1, 0, json::array({entry(0, "3ms", "x")})));
    const auto& res = *r.result;
    REQUIRE_FALSE(res.violation);
    CHECK(res.issued == 1);
    CHECK(res.accepted == 1);
    CHECK(res.stop_reason == "all requests done");
    REQUIRE(res.requests.size() == 1);
    CHECK(res.requests[0].client == 4);  // the first client follows the four replicas
    CHECK(res.requests[0].submit == milliseconds(3));
    CHECK(res.requests[0].commit == milliseconds(8));
}

TEST_CASE("workload: a client with no share and two scheduled requests gets exactly those two") {
    auto r = run(scheduled(2, 0, json::array({entry(1, "20ms", "b"), entry(1, "1ms", "a")})));
    const auto& res = *r.result;
    REQUIRE_FALSE(res.violation);
    CHECK(res.issued == 2);
    CHECK(res.accepted == 2);
    REQUIRE(res.requests.size() == 2);
    for (const auto& row : res.requests) CHECK(row.client == 5);
    // Time order, whatever the file's order; timestamps rise with it.
    CHECK(res.requests[0].submit == milliseconds(1));
    CHECK(res.requests[0].timestamp == 1);
    CHECK(res.requests[1].submit == milliseconds(20));
    CHECK(res.requests[1].timestamp == 2);
}

TEST_CASE("workload: a scheduled request that finds one outstanding waits, latency from its at") {
    auto r = run(scheduled(1, 0, json::array({entry(0, "3ms", "x"), entry(0, "4ms", "y")})));
    const auto& res = *r.result;
    REQUIRE_FALSE(res.violation);
    REQUIRE(res.requests.size() == 2);
    CHECK(res.requests[0].commit == milliseconds(8));
    // Sent when the first is accepted, at 8ms; five delays later it is accepted.
    CHECK(res.requests[1].submit == milliseconds(4));
    CHECK(res.requests[1].commit == milliseconds(13));
    CHECK(res.latencies_ns[1] == milliseconds(9).ns);
}

TEST_CASE("workload: a closed loop keeps its chain going around a scheduled request") {
    // The share's first request is out from 0 to 5ms; the scheduled one (2ms) goes next, then
    // the share goes on: one request at a time, in issue order.
    auto r = run(scheduled(1, 3, json::array({entry(0, "2ms", "x")})));
    const auto& res = *r.result;
    REQUIRE_FALSE(res.violation);
    CHECK(res.accepted == 4);
    REQUIRE(res.requests.size() == 4);
    const std::int64_t submit_ms[] = {0, 2, 5, 15};
    const std::int64_t commit_ms[] = {5, 10, 15, 20};
    for (std::size_t i = 0; i < 4; ++i) {
        CAPTURE(i);
        CHECK(res.requests[i].timestamp == i + 1);
        CHECK(res.requests[i].submit == milliseconds(submit_ms[i]));
        CHECK(res.requests[i].commit == milliseconds(commit_ms[i]));
    }
}

TEST_CASE("workload: a closed-loop client whose share is done still issues later scheduled ones") {
    auto r = run(scheduled(1, 1, json::array({entry(0, "50ms", "late")})));
    const auto& res = *r.result;
    REQUIRE_FALSE(res.violation);
    CHECK(res.accepted == 2);
    REQUIRE(res.requests.size() == 2);
    CHECK(res.requests[1].submit == milliseconds(50));
    CHECK(res.requests[1].commit == milliseconds(55));
}

TEST_CASE("workload: equal op names give equal operation words, different names different ones") {
    CHECK(proto::op_word("deposit") == proto::op_word(std::string("deposit")));
    CHECK(proto::op_word("deposit") != proto::op_word("withdraw"));
    CHECK(proto::op_word("a") != proto::op_word("b"));
    CHECK(proto::op_word("ab") != proto::op_word("ba"));
    proto::Request a{proto::op_word("x"), 1, sim::NodeId(4)};
    proto::Request b{proto::op_word("x"), 1, sim::NodeId(4)};
    proto::Request c{proto::op_word("y"), 1, sim::NodeId(4)};
    CHECK(proto::request_digest(a) == proto::request_digest(b));
    CHECK(proto::request_digest(a) != proto::request_digest(c));
    // The op reaches the messages, hence the fingerprint; the same op gives the same run.
    const auto x1 = run(scheduled(1, 0, json::array({entry(0, "3ms", "x")})));
    const auto x2 = run(scheduled(1, 0, json::array({entry(0, "3ms", "x")})));
    const auto y = run(scheduled(1, 0, json::array({entry(0, "3ms", "y")})));
    CHECK(x1.result->fingerprint == x2.result->fingerprint);
    CHECK(x1.result->fingerprint != y.result->fingerprint);
}

TEST_CASE("workload: bad schedules are refused at the entry's path") {
    const auto bad = [](const json& schedule) { return refused_at(scheduled(2, 0, schedule)); };
    CHECK(bad(json::array({entry(0, "1ms", "x"), entry(2, "1ms", "x")})) ==
          "/workload/schedule/1/client");
    CHECK(bad(json::array({{{"client", 0}, {"op", "x"}}})) == "/workload/schedule/0/at");
    CHECK(bad(json::array({{{"client", 0}, {"at", "1ms"}}})) == "/workload/schedule/0/op");
    CHECK(bad(json::array({{{"client", 0}, {"at", "1ms"}, {"op", 7}}})) ==
          "/workload/schedule/0/op");
    CHECK(bad(json::array({{{"client", 0}, {"at", "1ms"}, {"op", ""}}})) ==
          "/workload/schedule/0/op");
    CHECK(bad(json::array({{{"client", 0}, {"at", "1ms"}, {"op", "x"}, {"when", 1}}})) ==
          "/workload/schedule/0/when");
    CHECK(bad(json::array()) == "/workload/schedule");
    CHECK(bad("3ms") == "/workload/schedule");
    // Checked against stop.at in file order, so the path names the entry as written.
    CHECK(bad(json::array({entry(0, "2s", "x"), entry(1, "70s", "x"), entry(0, "1s", "x")})) ==
          "/workload/schedule/1/at");
    CHECK(bad(json::array({entry(0, "60s", "x")})) == "/workload/schedule/0/at");
    json many = json::array();
    for (int i = 0; i < 100'001; ++i) many.push_back(entry(0, "1ms", "x"));
    CHECK(bad(many) == "/workload/schedule");
}

TEST_CASE("workload: a schedule is kept in (at, client) order, equal entries in file order") {
    const auto spec =
        sim::parse_scenario(scheduled(2, 0,
                                      json::array({entry(1, "5ms", "a"), entry(0, "5ms", "b"),
                                                   entry(0, "1ms", "c"), entry(0, "5ms", "d")})));
    const auto& s = spec.workload.schedule;
    REQUIRE(s.size() == 4);
    CHECK(s[0].op == "c");
    CHECK(s[1].op == "b");
    CHECK(s[2].op == "d");
    CHECK(s[3].op == "a");
}

TEST_CASE("params: one replica's overrides merge over /protocol, the others keep /protocol") {
    json doc = crashed_primary();
    doc["protocol"]["view_change_timeout"] = "300ms";
    doc["faults"].push_back(slow_timer(2, "5s"));
    doc["faults"].push_back({{"type", "crash"}, {"node", 2}, {"at", "1ms"}});
    doc["faults"].push_back({{"type", "recover"}, {"node", 2}, {"at", "2ms"}, {"state", "lost"}});
    auto r = run(doc);
    CHECK(pbft_replica(r, 1).config().request_timeout == milliseconds(200));
    CHECK(pbft_replica(r, 3).config().request_timeout == milliseconds(200));
    // Rebuilt empty after its recovery, and still with its own timer.
    CHECK(pbft_replica(r, 2).config().request_timeout == seconds(5));
    CHECK(pbft_replica(r, 2).config().view_change_timeout == milliseconds(300));
    CHECK(pbft_replica(r, 2).config().checkpoint_interval == 100);
}

TEST_CASE("faults: a crash with until and state runs as a crash and a recover entry") {
    const json crash = {{"type", "crash"}, {"node", 2}, {"at", "20ms"}};
    json pair = testing::pbft_base(4, 30), one = pair, none = pair;
    pair["faults"] =
        json::array({crash, {{"type", "recover"}, {"node", 2}, {"at", "60ms"}, {"state", "lost"}}});
    one["faults"] = json::array({crash});
    one["faults"][0]["until"] = "60ms";
    one["faults"][0]["state"] = "lost";
    const auto a = run(pair), b = run(one), c = run(none);
    CHECK(b.result->fingerprint == a.result->fingerprint);
    CHECK(b.result->fingerprint != c.result->fingerprint);
    CHECK(b.result->events == a.result->events);
}

TEST_CASE("params: backups with a longer request_timeout delay PBFT's view change") {
    auto base = run(crashed_primary());
    REQUIRE(base.result->views.size() == 2);
    CHECK(base.result->views[1].second == milliseconds(302));  // T + d, as without overrides

    // One slow backup of three: the other two time out and their f+1 VIEW-CHANGEs pull it in,
    // so the view still changes early.
    json one = crashed_primary();
    one["faults"].push_back(slow_timer(3, "1s"));
    auto r1 = run(one);
    REQUIRE_FALSE(r1.result->violation);
    CHECK(r1.result->accepted == 1);
    REQUIRE(r1.result->views.size() == 2);
    CHECK(r1.result->views[1].second < milliseconds(400));

    // Two slow backups: one VIEW-CHANGE is not enough; the view changes when their 1s runs out.
    json two = one;
    two["faults"].push_back(slow_timer(2, "1s"));
    auto r2 = run(two);
    REQUIRE_FALSE(r2.result->violation);
    CHECK(r2.result->accepted == 1);
    REQUIRE(r2.result->views.size() == 2);
    CHECK(r2.result->views[1].second > milliseconds(1'100));
    CHECK(r2.result->views[1].second < milliseconds(1'200));
}

TEST_CASE("params: an override on a Byzantine replica's node holds under its behaviour") {
    // Replica 3 is Byzantine (drops its replies to the client) but otherwise runs PBFT: its own
    // slow timer must hold inside the wrapper, as replica 2's does in the honest replica.
    json doc = crashed_primary();
    doc["faults"].push_back(slow_timer(2, "1s"));
    doc["faults"].push_back(
        {{"type", "byzantine"}, {"node", 3}, {"behavior", "drop"}, {"params", {{"targets", {4}}}}});
    auto fast = run(doc);
    REQUIRE_FALSE(fast.result->violation);
    REQUIRE(fast.result->views.size() == 2);
    CHECK(fast.result->views[1].second < milliseconds(400));

    doc["faults"].push_back(slow_timer(3, "1s"));
    auto slow = run(doc);
    REQUIRE_FALSE(slow.result->violation);
    CHECK(slow.result->accepted == 1);
    REQUIRE(slow.result->views.size() == 2);
    CHECK(slow.result->views[1].second > milliseconds(1'100));
}

TEST_CASE("params: HotStuff and RBC replicas take their own timers") {
    json hs = testing::hotstuff_base(4, 10, 1);
    hs["faults"] = json::array({{{"type", "params"},
                                 {"node", 1},
                                 {"params", {{"view_timeout", "5s"}, {"batch_size", 3}}}}});
    auto h = run(hs);
    REQUIRE_FALSE(h.result->violation);
    CHECK(h.result->accepted == 10);
    const auto& h1 = static_cast<const hotstuff::Replica&>(h.sim->actor(1)).config();
    const auto& h0 = static_cast<const hotstuff::Replica&>(h.sim->actor(0)).config();
    CHECK(h1.view_timeout == seconds(5));
    CHECK(h1.batch_size == 3);
    CHECK(h0.view_timeout == seconds(1));
    CHECK(h0.batch_size == 100);

    json rb = testing::pbft_base(4, 5);
    rb["protocol"] = {{"name", "rbc"}};
    rb["faults"] = json::array(
        {{{"type", "params"}, {"node", 3}, {"params", {{"retransmit_timeout", "1s"}}}}});
    auto b = run(rb);
    REQUIRE_FALSE(b.result->violation);
    CHECK(static_cast<const rbc::Replica&>(b.sim->actor(3)).config().retransmit_timeout ==
          seconds(1));
    CHECK(static_cast<const rbc::Replica&>(b.sim->actor(0)).config().retransmit_timeout ==
          milliseconds(200));
}

TEST_CASE("params: bad overrides are refused at the override's own path") {
    const auto with = [](json doc, const json& params, std::uint32_t node = 1) {
        doc["faults"] = json::array({{{"type", "crash"}, {"node", 0}, {"at", "1s"}},
                                     {{"type", "params"}, {"node", node}, {"params", params}}});
        return doc;
    };
    const json pbft = testing::pbft_base(4, 1);
    CHECK(refused_at(with(pbft, {{"request_timout", "5s"}})) == "/faults/1/params/request_timout");
    CHECK(refused_at(with(pbft, {{"request_timeout", 5}})) == "/faults/1/params/request_timeout");
    CHECK(refused_at(with(pbft, {{"request_timeout", "0s"}})) ==
          "/faults/1/params/request_timeout");
    for (const char* key : {"checkpoint_interval", "watermark_window"}) {
        CAPTURE(key);
        const json doc = with(pbft, {{key, 10}});
        CHECK(refused_at(doc) == std::string("/faults/1/params/") + key);
        CHECK(refusal_reason(doc).find("same at every replica") != std::string::npos);
    }
    CHECK(refused_at(with(pbft, {{"mutations", {"commit_quorum_2f"}}})) ==
          "/faults/1/params/mutations");
    CHECK(refused_at(with(pbft, {{"batch_size", 8}, {"state_transfer", false}})) == "<accepted>");
    CHECK(refused_at(with(pbft, {{"request_timeout", "5s"}}, 4)) == "/faults/1/node");

    const json hs = testing::hotstuff_base(4, 1, 1);
    for (const auto& entry :
         std::initializer_list<std::pair<const char*, json>>{{"variant", "basic"},
                                                             {"leaders", {1, 2}},
                                                             {"clients_send_to", "all"},
                                                             {"mutations", json::array()}}) {
        // Named copies: clang refuses a structured binding in CAPTURE's lambda.
        const char* key = entry.first;
        const json& value = entry.second;
        CAPTURE(key);
        CHECK(refused_at(with(hs, {{key, value}})) == std::string("/faults/1/params/") + key);
    }
    CHECK(refused_at(with(hs, {{"view_timeout", "2s"}, {"view_sync", "leader"}})) == "<accepted>");
    CHECK(refused_at(with(hs, {{"view_sync", "gossip"}})) == "/faults/1/params/view_sync");

    json rb = with(pbft, {{"retransmit_timeout", "-1s"}});
    rb["protocol"] = {{"name", "rbc"}};
    CHECK(refused_at(rb) == "/faults/1/params/retransmit_timeout");
}
