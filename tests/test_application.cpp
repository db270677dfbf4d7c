// The replicated service interface (protocols/common/application.hpp): PBFT and HotStuff run
// whatever service the scenario's builder gives them, in commit order, and the checker's
// agreement on state digests covers it without knowing it.
#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <vector>

#include "protocols/common/application.hpp"
#include "sim/hash.hpp"
#include "tests/helpers.hpp"

namespace {

// A service with state of its own: per client, how many commands executed and the sum of their
// timestamps. Its digest is a hash of that state (not of the log), its results the client's
// running count, and it keeps the order in which it executed, for the tests to compare.
class Tally final : public proto::Application {
public:
    explicit Tally(std::uint64_t skew = 0) : skew_(skew) {}
    proto::Digest execute(const proto::Request& req, proto::Digest request, std::uint64_t index,
                          std::uint32_t position) override {
        (void)request;
        (void)position;
        auto& [count, sum] = clients_[req.client.v];
        ++count;
        sum += req.timestamp;
        order.push_back({index, req.client.v, req.timestamp});
        return proto::Digest(sim::Hasher(0x7a11).add(req.client.v).add(count).value());
    }
    proto::Digest seal(std::uint64_t index, proto::Digest batch) override {
        (void)index;
        (void)batch;
        digest_ = digest_of(clients_);
        return digest_;
    }
    proto::Digest digest() const override { return digest_; }
    // Its state travels as data: (client, count, sum) words, each little-endian.
    proto::AppSnapshot snapshot() const override {
        auto data = std::make_shared<std::vector<std::uint8_t>>();
        for (const auto& [client, entry] : clients_)
            for (std::uint64_t w : {client, entry.first, entry.second})
                for (int k = 0; k < 8; ++k)
                    data->push_back(static_cast<std::uint8_t>(w >> (8 * k)));
        return {digest_, data};
    }
    bool restore(const proto::AppSnapshot& s) override {
        if (!s.data) return false;
        if (s.data->size() % 24 != 0) {
            ++refused;
            return false;
        }
        Clients parsed;
        for (std::size_t at = 0; at < s.data->size(); at += 24) {
            std::uint64_t w[3] = {};
            for (int i = 0; i < 3; ++i)
                for (int k = 0; k < 8; ++k)
                    w[i] |= std::uint64_t{(*s.data)[at + 8 * i + k]} << (8 * k);
            parsed[w[0]] = {w[1], w[2]};
        }
        if (digest_of(parsed) != s.digest) {
            ++refused;
            return false;
        }
        clients_ = std::move(parsed);
        digest_ = s.digest;
        ++restored;
        return true;
    }

    std::uint32_t restored = 0;
    std::uint32_t refused = 0;  // snapshots whose data did not give their digest
    struct Executed {
        std::uint64_t index, client, timestamp;
        bool operator==(const Executed&) const = default;
    };
    std::vector<Executed> order;

private:
    using Clients = std::map<std::uint64_t, std::pair<std::uint64_t, std::uint64_t>>;
    proto::Digest digest_of(const Clients& clients) const {
        sim::Hasher h(0x7a11 + skew_);
        for (const auto& [client, entry] : clients)
            h.add(client).add(entry.first).add(entry.second);
        return proto::Digest(h.value());
    }
    std::uint64_t skew_;
    Clients clients_;
    proto::Digest digest_{};
};

// Builds each replica's Tally and keeps a pointer to it (the replica owns it): replicas in order
// at the start, then one per restart that lost its state. Replica `skewed` seals a different
// digest.
struct Tallies {
    std::vector<Tally*> made;
    proto::AppFactory factory(std::uint32_t skewed = ~0u) {
        return [this, skewed] {
            auto t = std::make_unique<Tally>(made.size() == skewed ? 1 : 0);
            made.push_back(t.get());
            return t;
        };
    }
};

testing::Run run_with(const nlohmann::json& doc, const proto::AppFactory& app) {
    testing::Run r;
    r.sim = protocols::build(testing::spec_from(doc), {}, app);
    r.result = &r.sim->run();
    return r;
}

void check_same_order(const Tallies& t, std::size_t commands) {
    REQUIRE(!t.made.empty());
    CHECK(t.made.front()->order.size() == commands);
    for (const Tally* other : t.made) CHECK(other->order == t.made.front()->order);
    for (const Tally* other : t.made) CHECK(other->digest() == t.made.front()->digest());
}

}  // namespace

TEST_CASE("application: PBFT runs the given service on every replica, in one order") {
    Tallies t;
    auto doc = testing::pbft_base(4, 30);
    doc["workload"]["clients"] = 3;
    const auto r = run_with(doc, t.factory());
    REQUIRE(!r.result->violation);
    CHECK(r.result->accepted == 30);
    REQUIRE(t.made.size() == 4);
    check_same_order(t, 30);
}

TEST_CASE("application: chained and basic HotStuff run the given service in one order") {
    for (const char* variant : {"chained", "basic"}) {
        CAPTURE(variant);
        Tallies t;
        const auto r = run_with(testing::hotstuff_base(4, 40, 4, variant), t.factory());
        REQUIRE(!r.result->violation);
        CHECK(r.result->accepted == 40);
        REQUIRE(t.made.size() == 4);
        check_same_order(t, 40);
    }
}

TEST_CASE("application: a replica whose service diverges breaks agreement on states") {
    // Same commands, same order, a different state digest at replica 2: the checker compares
    // the digests the replicas commit, so it sees the service diverge without knowing it.
    Tallies pbft;
    const auto p = run_with(testing::pbft_base(4, 5), pbft.factory(2));
    REQUIRE(p.result->violation);
    CHECK(p.result->violation->invariant == "agreement");
    Tallies hs;
    const auto h = run_with(testing::hotstuff_base(4, 5, 1), hs.factory(2));
    REQUIRE(h.result->violation);
    CHECK(h.result->violation->invariant == "agreement");
}

TEST_CASE("application: LogChain is the default service, a hash chain over the batches") {
    proto::LogChain a;
    const proto::Digest d1 = a.seal(1, proto::Digest(7));
    CHECK(d1 == proto::Digest(sim::Hasher(0).add(1).add(7).value()));
    CHECK(a.seal(2, proto::Digest(9)) == proto::Digest(sim::Hasher(d1.v).add(2).add(9).value()));
    proto::LogChain b;
    CHECK(b.restore(a.snapshot()));
    CHECK(b.digest() == a.digest());
    // Data it cannot have come from it: refused, and nothing changes.
    auto data = std::make_shared<const std::vector<std::uint8_t>>(1, 0);
    CHECK_FALSE(b.restore(proto::AppSnapshot{proto::Digest(5), data}));
    CHECK(b.digest() == a.digest());
}

// A replica that lost its state takes the service's state from a peer: PBFT's CATCH-UP and
// HotStuff's SYNC-REPLY carry the service's snapshot, checked against the certified digest.
TEST_CASE("application: a replica that lost its state restores the service from a snapshot") {
    nlohmann::json pbft = testing::pbft_base(4, 200);
    pbft["protocol"]["checkpoint_interval"] = 10;
    pbft["workload"] = {{"clients", 2}, {"requests", 200}, {"think", "5ms"}};
    nlohmann::json hotstuff = testing::hotstuff_base(4, 300, 2);
    hotstuff["workload"]["think"] = "5ms";
    for (nlohmann::json doc : {pbft, hotstuff}) {
        doc["faults"] = {{{"type", "crash"}, {"node", 2}, {"at", "100ms"}},
                         {{"type", "recover"}, {"node", 2}, {"at", "1s"}, {"state", "lost"}}};
        doc["stop"] = {{"at", "10s"}, {"when_done", false}};
        const std::string protocol = doc["protocol"]["name"];
        CAPTURE(protocol);
        Tallies t;
        const auto r = run_with(doc, t.factory());
        REQUIRE(!r.result->violation);
        REQUIRE(t.made.size() == 5);  // four, then replica 2's after its restart
        const Tally* back = t.made[4];
        CHECK(back->restored >= 1);
        CHECK(back->digest() == t.made[0]->digest());
        CHECK(t.made[0]->digest() != proto::Digest{});
    }
}

// The check on the service's data meets a message made to fail it: a Byzantine replica answers
// every other STATUS with the honest proof and edited service data (false_catch_up).
TEST_CASE("application: edited service data in a CATCH-UP is refused") {
    nlohmann::json doc = testing::pbft_base(4, 200);
    doc["protocol"]["checkpoint_interval"] = 10;
    doc["workload"] = {{"clients", 2}, {"requests", 200}, {"think", "5ms"}};
    doc["faults"] = {{{"type", "crash"}, {"node", 2}, {"at", "100ms"}},
                     {{"type", "recover"}, {"node", 2}, {"at", "1s"}, {"state", "lost"}},
                     {{"type", "byzantine"}, {"node", 3}, {"behavior", "false_catch_up"}}};
    // The honest answers come later, so the edited one is the first the recovered replica reads.
    for (int from : {0, 1})
        doc["faults"].push_back({{"type", "rule"},
                                 {"match", {{"kind", "CATCH-UP"}, {"from", from}}},
                                 {"action", {{"delay", "100ms"}}}});
    doc["stop"] = {{"at", "10s"}, {"when_done", false}};
    Tallies t;
    const auto r = run_with(doc, t.factory());
    REQUIRE(!r.result->violation);
    REQUIRE(t.made.size() == 5);
    CHECK(t.made[4]->restored >= 1);
    CHECK(t.made[4]->refused >= 1);
    CHECK(t.made[4]->digest() == t.made[0]->digest());
    const auto refused = r.result->refused.find("pbft.catch_up_invalid");
    REQUIRE(refused != r.result->refused.end());
    CHECK(refused->second >= 1);
}
