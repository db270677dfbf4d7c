// The engine on its own: event order, random streams, the network model, the checker.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <sstream>
#include <string>

#include "sim/checker.hpp"
#include "sim/event_queue.hpp"
#include "sim/network.hpp"
#include "sim/random.hpp"
#include "tests/helpers.hpp"

TEST_CASE("engine: events pop by time, and equal times in insertion order") {
    sim::EventQueue q;
    for (std::uint32_t i = 0; i < 100; ++i)
        q.push({static_cast<std::int64_t>((i * 37) % 10), 0, i});
    std::int64_t last_t = -1;
    std::uint64_t last_seq = 0;
    while (!q.empty()) {
        auto e = q.pop();
        CHECK(e.time_ns >= last_t);
        if (e.time_ns == last_t) CHECK(e.seq > last_seq);
        last_t = e.time_ns;
        last_seq = e.seq;
    }
}

TEST_CASE("engine: a forked stream depends only on its parent's seed and its label") {
    sim::RandomStream a(42), b(42);
    (void)a.fork("net").next_u64();
    auto x = a.fork("replica/3");
    (void)b.next_u64();  // drawing from the parent does not disturb the child
    auto y = b.fork("replica/3");
    for (int i = 0; i < 10; ++i) CHECK(x.next_u64() == y.next_u64());
    CHECK(sim::RandomStream(42).fork("a").next_u64() != sim::RandomStream(42).fork("b").next_u64());
    CHECK(sim::RandomStream(1).fork("a").next_u64() != sim::RandomStream(2).fork("a").next_u64());
}

TEST_CASE("engine: loss at a given rate drops about that share, and none after GST") {
    sim::NetworkSpec spec;
    spec.defaults.loss_ppm = 100'000;
    spec.gst = sim::seconds(1);
    spec.delta = sim::milliseconds(5);
    spec.defaults.delay.dist = sim::DelaySpec::Dist::Uniform;
    spec.defaults.delay.min = sim::milliseconds(1);
    spec.defaults.delay.max = sim::milliseconds(50);
    sim::Network net(spec, 4, 5, sim::RandomStream(7));
    int lost = 0;
    for (int i = 0; i < 10000; ++i) lost += net.route(0, 1, {}).dropped == sim::DropReason::Loss;
    CHECK(lost > 900);
    CHECK(lost < 1100);
    for (int i = 0; i < 1000; ++i) {
        auto r = net.route(1, 2, sim::seconds(2));
        REQUIRE(r.dropped == sim::DropReason::None);
        CHECK(r.arrival[0].ns - sim::seconds(2).ns <= sim::milliseconds(5).ns);
    }
}

TEST_CASE("engine: FIFO links never reorder, reordering links do") {
    sim::NetworkSpec spec;
    spec.defaults.delay.dist = sim::DelaySpec::Dist::Uniform;
    spec.defaults.delay.min = sim::milliseconds(1);
    spec.defaults.delay.max = sim::milliseconds(50);
    sim::Network fifo(spec, 2, 2, sim::RandomStream(3));
    spec.defaults.reorder = true;
    sim::Network loose(spec, 2, 2, sim::RandomStream(3));
    std::int64_t last_fifo = 0, last_loose = 0;
    int inversions = 0;
    for (int i = 0; i < 200; ++i) {
        auto a = fifo.route(0, 1, sim::microseconds(i)).arrival[0].ns;
        CHECK(a >= last_fifo);
        last_fifo = a;
        auto b = loose.route(0, 1, sim::microseconds(i)).arrival[0].ns;
        inversions += b < last_loose;
        last_loose = b;
    }
    CHECK(inversions > 10);
}

TEST_CASE("engine: partitions and one-way blocks nest and heal") {
    sim::NetworkSpec spec;
    sim::Network net(spec, 4, 5, sim::RandomStream(1));
    net.partition({{0, 1}, {2, 3}}, 1);
    CHECK(net.route(0, 2, {}).dropped == sim::DropReason::Partition);
    CHECK(net.route(0, 1, {}).dropped == sim::DropReason::None);
    CHECK(net.route(4, 2, {}).dropped == sim::DropReason::None);  // clients are not partitioned
    net.block(1, 0, 1);
    CHECK(net.route(1, 0, {}).dropped == sim::DropReason::Partition);
    CHECK(net.route(0, 1, {}).dropped == sim::DropReason::None);
    net.partition({{0, 1}, {2, 3}}, -1);
    CHECK(net.route(0, 2, {}).dropped == sim::DropReason::None);
    CHECK(net.route(1, 0, {}).dropped == sim::DropReason::Partition);
    net.isolate(2, 1);
    CHECK(net.route(4, 2, {}).dropped == sim::DropReason::Partition);
}

TEST_CASE("engine: the checker compares states per index only for protocols that order one log") {
    for (bool compare : {false, true}) {
        CAPTURE(compare);
        sim::CheckerConfig cfg;
        cfg.replicas = 4;
        cfg.liveness_expected = false;
        cfg.compare_states = compare;
        sim::Checker checker(cfg);
        // The same content at index 1, reached from different histories.
        checker.on_commit(sim::NodeId(0), {1, 0, sim::Digest(7), sim::Digest(100), {}},
                          sim::SimTime{}, 1);
        checker.on_commit(sim::NodeId(1), {1, 0, sim::Digest(7), sim::Digest(200), {}},
                          sim::SimTime{}, 2);
        CHECK(checker.violation().has_value() == compare);
        if (compare) CHECK(checker.violation()->invariant == "agreement");
    }
}

TEST_CASE("engine: the quorum monitor counts n - f signers from the run's n and f alone") {
    // A replica's own threshold never reaches the checker: n - f from the config decides.
    const std::pair<std::uint32_t, std::uint32_t> runs[] = {{4, 1}, {7, 2}, {6, 1}, {10, 3}};
    for (const auto& run : runs) {
        const std::uint32_t n = run.first, f = run.second;
        for (std::uint32_t signers = n - f - 1; signers <= n - f; ++signers) {
            CAPTURE(n);
            CAPTURE(signers);
            sim::CheckerConfig cfg;
            cfg.replicas = n;
            cfg.f = f;
            cfg.byzantine.assign(n, false);
            cfg.liveness_expected = false;
            sim::Checker checker(cfg);
            checker.on_certified(sim::NodeId(1), 1, 5, 9, sim::Digest(3), signers, {}, 1);
            CHECK(checker.violation().has_value() == (signers < n - f));
            if (checker.violation()) CHECK(checker.violation()->invariant == "quorum");
        }
    }
    // A Byzantine replica's certificates are its own business.
    sim::CheckerConfig cfg;
    cfg.replicas = 4;
    cfg.f = 1;
    cfg.byzantine = {false, true, false, false};
    sim::Checker checker(cfg);
    checker.on_certified(sim::NodeId(1), 1, 5, 9, sim::Digest(3), 1, {}, 1);
    CHECK_FALSE(checker.violation());
}

TEST_CASE("engine: a liveness deadline that passed before the end is a violation at finish") {
    // No event after the deadline reaches on_step: finish alone must notice it, and only when
    // the end is past the deadline.
    for (std::int64_t end_s : {1, 3}) {
        CAPTURE(end_s);
        sim::CheckerConfig cfg;
        cfg.replicas = 4;
        cfg.liveness_bound = sim::seconds(2);
        sim::Checker checker(cfg);
        checker.on_issue({sim::NodeId(4), 1}, sim::Digest(9));
        checker.on_request_sent({sim::NodeId(4), 1}, sim::SimTime{});
        checker.on_step(sim::seconds(1), 1);
        checker.finish(sim::seconds(end_s), 2);
        CHECK(checker.violation().has_value() == (end_s == 3));
        if (end_s == 3) CHECK(checker.violation()->invariant == "liveness");
    }
}

TEST_CASE("engine: liveness is owed from a request's first send, not from its arrival") {
    sim::CheckerConfig cfg;
    cfg.replicas = 4;
    cfg.liveness_bound = sim::seconds(2);
    sim::Checker checker(cfg);
    // Issued at 0 but waiting at its client until 5s: no violation at 6s, one after 7s.
    checker.on_issue({sim::NodeId(4), 1}, sim::Digest(9));
    checker.on_step(sim::seconds(3), 1);
    CHECK_FALSE(checker.violation());
    checker.on_request_sent({sim::NodeId(4), 1}, sim::seconds(5));
    checker.on_request_sent({sim::NodeId(4), 1}, sim::seconds(6));  // a retry: the first counts
    checker.on_step(sim::seconds(6), 2);
    CHECK_FALSE(checker.violation());
    checker.on_step(sim::seconds(7) + sim::SimTime{1}, 3);
    REQUIRE(checker.violation());
    CHECK(checker.violation()->invariant == "liveness");
}

namespace {

// The arrival times, in the trace, of the first message of `kind` from `from` to `to`, in a
// PBFT run whose fixed 2ms delay becomes 30ms on a link fault from replica 1 to replica 0.
std::int64_t first_arrival(const std::string& trace, int from, int to, const char* kind) {
    std::istringstream in(trace);
    std::string line;
    const std::string want =
        fmt::format("\"kind\":\"deliver\",\"from\":{},\"to\":{},\"msg\":\"{}\"", from, to, kind);
    while (std::getline(in, line)) {
        if (line.find(want) == std::string::npos) continue;
        const auto t = line.find("\"t\":");
        return std::stoll(line.substr(t + 4));
    }
    return -1;
}

std::string link_fault_trace(bool both_ways) {
    auto doc = testing::pbft_base(4, 20);  // long enough for the slow link's messages to land
    doc["network"] = {{"delay", "2ms"}};
    nlohmann::json f = {{"type", "link"}, {"at", "0s"}, {"from", 1}, {"to", 0}, {"delay", "30ms"}};
    if (both_ways) f["bidirectional"] = true;
    doc["faults"] = nlohmann::json::array({f});
    std::ostringstream out;
    sim::SimOptions opts;
    opts.trace = &out;
    testing::run(doc, opts);
    return out.str();
}

}  // namespace

TEST_CASE("engine: a link fault changes from -> to only, unless it is bidirectional") {
    const std::string one = link_fault_trace(false);
    // Replica 1's PREPARE reaches 0 late; 0's PRE-PREPARE reaches 1 and 2 alike.
    const auto pp_to_1 = first_arrival(one, 0, 1, "PRE-PREPARE");
    REQUIRE(pp_to_1 > 0);
    CHECK(pp_to_1 == first_arrival(one, 0, 2, "PRE-PREPARE"));
    REQUIRE(first_arrival(one, 1, 0, "PREPARE") > 0);
    CHECK(first_arrival(one, 1, 0, "PREPARE") - first_arrival(one, 2, 0, "PREPARE") >=
          sim::milliseconds(28).ns);
    const std::string both = link_fault_trace(true);
    CHECK(first_arrival(both, 0, 1, "PRE-PREPARE") - first_arrival(both, 0, 2, "PRE-PREPARE") >=
          sim::milliseconds(28).ns);
}

namespace {
sim::CheckerConfig four_replicas(std::vector<bool> byzantine) {
    sim::CheckerConfig cfg;
    cfg.replicas = 4;
    cfg.f = 1;
    cfg.byzantine = std::move(byzantine);
    cfg.liveness_expected = false;
    return cfg;
}
}  // namespace

TEST_CASE("engine: integrity: an index executed twice, unless the state between was lost") {
    for (bool lost : {false, true}) {
        CAPTURE(lost);
        sim::Checker checker(four_replicas({false, false, false, false}));
        const sim::CommitRecord rec{1, 0, sim::Digest(7), sim::Digest(100), {}};
        checker.on_commit(sim::NodeId(2), rec, sim::SimTime{}, 1);
        checker.on_commit(sim::NodeId(1), rec, sim::SimTime{}, 2);
        if (lost) checker.on_state_lost(sim::NodeId(2));  // a restart from nothing
        checker.on_commit(sim::NodeId(2), rec, sim::SimTime{}, 3);
        CHECK(checker.violation().has_value() == !lost);
        if (!lost) CHECK(checker.violation()->invariant == "integrity");
        // Replica 1 executed it once, whatever replica 2 did: its second time is caught.
        if (lost) {
            checker.on_commit(sim::NodeId(1), rec, sim::SimTime{}, 4);
            REQUIRE(checker.violation());
            CHECK(checker.violation()->invariant == "integrity");
            CHECK(checker.violation()->nodes == std::vector<std::uint32_t>{1});
        }
    }
}

TEST_CASE("engine: false evidence: only an honest reporter against an honest, whole replica") {
    struct Case {
        std::uint32_t reporter, culprit;
        bool amnesiac, fires;
    };
    // Replica 3 is Byzantine; replica 2 lost its state once in the amnesiac cases.
    const Case cases[] = {{0, 1, false, true}, {3, 1, false, false}, {0, 3, false, false},
                          {0, 2, true, false}, {3, 2, true, false},  {2, 1, true, true}};
    for (const Case& c : cases) {
        CAPTURE(c.reporter);
        CAPTURE(c.culprit);
        CAPTURE(c.amnesiac);
        sim::Checker checker(four_replicas({false, false, false, true}));
        if (c.amnesiac) checker.on_state_lost(sim::NodeId(2));
        checker.on_evidence(sim::NodeId(c.reporter), sim::NodeId(c.culprit), "two votes",
                            sim::SimTime{}, 1);
        CHECK(checker.violation().has_value() == c.fires);
        if (c.fires) CHECK(checker.violation()->invariant == "false_evidence");
    }
}

TEST_CASE("engine: bounded_state: an honest replica's table above the protocol's bound") {
    struct Case {
        std::uint32_t replica;
        std::uint64_t bound, size;
        bool fires;
    };
    // Replica 3 is Byzantine: what it holds is its own business. A bound of 0: none stated.
    const Case cases[] = {
        {0, 100, 100, false}, {0, 100, 101, true}, {3, 100, 5000, false}, {1, 0, 5000, false}};
    for (const Case& c : cases) {
        CAPTURE(c.replica);
        CAPTURE(c.size);
        sim::Checker checker(four_replicas({false, false, false, true}));
        checker.set_held_bound(c.bound);
        checker.on_holding(sim::NodeId(c.replica), "t.buffer", c.size, sim::SimTime{}, 1);
        REQUIRE(checker.violation().has_value() == c.fires);
        if (c.fires) {
            CHECK(checker.violation()->invariant == "bounded_state");
            CHECK(checker.violation()->nodes == std::vector<std::uint32_t>{c.replica});
        }
    }
}

TEST_CASE("engine: client safety: an accepted result that no honest replica produced") {
    // Request (client 4, t 1) executed by honest replica 0 with result 50; the client accepts
    // 50 (honest), 51 after the execution, 51 before it, or 51 with no honest execution at all.
    enum class Order { AcceptAfter, AcceptBefore, NeverExecuted };
    const sim::RequestKey key{sim::NodeId(4), 1};
    for (std::uint64_t accepted : {50u, 51u}) {
        for (Order order : {Order::AcceptAfter, Order::AcceptBefore, Order::NeverExecuted}) {
            CAPTURE(accepted);
            CAPTURE(static_cast<int>(order));
            sim::Checker checker(four_replicas({false, false, false, true}));
            checker.on_issue(key, sim::Digest(9));
            const sim::ExecutedRequest done[] = {{key, sim::Digest(9), sim::Digest(50), nullptr}};
            const sim::CommitRecord rec{1, 0, sim::Digest(7), sim::Digest(100), done};
            if (order == Order::AcceptBefore)
                checker.on_accept(key, sim::Digest(accepted), sim::SimTime{}, 1);
            if (order != Order::NeverExecuted) checker.on_commit(sim::NodeId(0), rec, {}, 2);
            if (order != Order::AcceptBefore)
                checker.on_accept(key, sim::Digest(accepted), sim::SimTime{}, 3);
            // A Byzantine replica's execution vouches for nothing.
            const sim::ExecutedRequest lie[] = {{key, sim::Digest(9), sim::Digest(51), nullptr}};
            checker.on_commit(sim::NodeId(3), {1, 0, sim::Digest(7), sim::Digest(100), lie}, {}, 4);
            checker.finish(sim::seconds(1), 5);
            const bool fires = accepted != 50 || order == Order::NeverExecuted;
            CHECK(checker.violation().has_value() == fires);
            if (fires) CHECK(checker.violation()->invariant == "client_safety");
        }
    }
}

TEST_CASE("engine: one certificate per view and phase, whatever came between the two") {
    // Honest replicas accept certificates for value A in views 5 and 6, then one for B in view
    // 6 (a conflict), or for B in view 7 (none). Replica 3 is Byzantine: its own never count.
    for (std::uint64_t conflict_view : {6u, 7u}) {
        CAPTURE(conflict_view);
        sim::Checker checker(four_replicas({false, false, false, true}));
        const sim::Digest a(10), b(11);
        checker.on_certified(sim::NodeId(0), 1, 5, 9, a, 3, {}, 1);
        checker.on_certified(sim::NodeId(1), 1, 6, 10, a, 3, {}, 2);
        checker.on_certified(sim::NodeId(3), 1, 7, 11, a, 3, {}, 3);
        checker.on_certified(sim::NodeId(2), 1, conflict_view, 11, b, 3, {}, 4);
        CHECK(checker.violation().has_value() == (conflict_view == 6));
        if (checker.violation())
            CHECK(checker.violation()->invariant == "one_certificate_per_view");
        // Another phase of the same view is another certificate.
        checker.on_certified(sim::NodeId(0), 2, 5, 9, b, 3, {}, 5);
        CHECK(checker.violation().has_value() == (conflict_view == 6));
    }
}

TEST_CASE("engine: agreement holds a replica that lost its state to what the others executed") {
    // Replicas 0, 1 and 3 execute 1..10; replica 3 loses its state. Replicas 0, 1 and 2 go on
    // to 5,000 (past the 4,096 slots that make the checker drop old ones): index 5 must still be
    // kept for replica 3, which executes it again, with another digest.
    sim::Checker checker(four_replicas({false, false, false, false}));
    std::uint64_t event = 0;
    auto commit = [&](std::uint32_t r, std::uint64_t index, std::uint64_t digest) {
        checker.on_commit(sim::NodeId(r), {index, 0, sim::Digest(digest), sim::Digest(index), {}},
                          sim::SimTime{}, ++event);
    };
    for (std::uint64_t i = 1; i <= 10; ++i)
        for (std::uint32_t r : {0u, 1u, 3u}) commit(r, i, 1000 + i);
    checker.on_state_lost(sim::NodeId(3));
    for (std::uint64_t i = 11; i <= 5000; ++i)
        for (std::uint32_t r : {0u, 1u, 2u}) commit(r, i, 1000 + i);
    REQUIRE_FALSE(checker.violation());
    commit(3, 5, 1005);  // the same again: fine after the state loss
    CHECK_FALSE(checker.violation());
    commit(3, 6, 999);
    REQUIRE(checker.violation());
    CHECK(checker.violation()->invariant == "agreement");
}

TEST_CASE("engine: integrity per replica past 64 and 128 replicas, with a state loss between") {
    // n = 200: replica 150's bit lies in the third word of an index's record, which indices
    // only replicas below 64 executed do not have.
    sim::CheckerConfig cfg;
    cfg.replicas = 200;
    cfg.f = 66;
    cfg.byzantine.assign(200, false);
    cfg.liveness_expected = false;
    sim::Checker checker(cfg);
    std::uint64_t event = 0;
    auto commit = [&](std::uint32_t r, std::uint64_t index) {
        checker.on_commit(sim::NodeId(r), {index, 0, sim::Digest(index), sim::Digest(index), {}},
                          sim::SimTime{}, ++event);
        return checker.violation().has_value();
    };
    CHECK_FALSE(commit(0, 1));
    CHECK_FALSE(commit(1, 1));
    CHECK_FALSE(commit(150, 2));
    CHECK_FALSE(commit(70, 2));
    checker.on_state_lost(sim::NodeId(150));
    CHECK_FALSE(commit(150, 1));
    CHECK_FALSE(commit(150, 2));  // again, from its new state
    CHECK(commit(150, 2));        // and once more: twice since the loss
    CHECK(checker.violation()->invariant == "integrity");
    CHECK(checker.violation()->nodes == std::vector<std::uint32_t>{150});
}
