// The flat hash containers and the event queue (its runs of equal times and its sweep), against
// standard containers, over long random sequences of operations (many collisions on purpose).
#include <doctest/doctest.h>

#include <map>
#include <set>

#include "sim/event_queue.hpp"
#include "sim/flat_map.hpp"
#include "sim/flat_set.hpp"
#include "sim/random.hpp"

namespace {
// Few distinct home slots, so probe runs are long and deletions shift entries back.
std::uint64_t draw(sim::RandomStream& rng, std::int64_t lo, std::int64_t hi) {
    return static_cast<std::uint64_t>(rng.uniform(lo, hi));
}

struct CollidingHash {
    std::size_t operator()(std::uint64_t k) const { return static_cast<std::size_t>(k % 7); }
};
}  // namespace

TEST_CASE("flat map: finds, inserts and erases exactly what std::map does") {
    sim::FlatMap<std::uint64_t, std::uint64_t, CollidingHash> flat;
    std::map<std::uint64_t, std::uint64_t> ref;
    sim::RandomStream rng(11);
    for (int step = 0; step < 200'000; ++step) {
        const std::uint64_t key = draw(rng, 0, 300);
        switch (draw(rng, 0, 2)) {
            case 0: {
                auto [value, fresh] = flat.try_emplace(key);
                CHECK(fresh == !ref.count(key));
                if (fresh) *value = key * 3 + static_cast<std::uint64_t>(step);
                ref.try_emplace(key, *value);
                break;
            }
            case 1:
                CHECK(flat.erase(key) == (ref.erase(key) == 1));
                break;
            default: {
                const std::uint64_t* value = flat.find(key);
                auto it = ref.find(key);
                REQUIRE((value != nullptr) == (it != ref.end()));
                if (value) CHECK(*value == it->second);
            }
        }
        REQUIRE(flat.size() == ref.size());
    }
    for (std::uint64_t key = 0; key <= 300; ++key) CHECK(flat.contains(key) == ref.count(key));
    flat.clear();
    CHECK(flat.empty());
    CHECK(!flat.contains(ref.empty() ? 0 : ref.begin()->first));
}

TEST_CASE("flat set: membership as std::set, including the key 0, and clear") {
    sim::U64Set flat;
    std::set<std::uint64_t> ref;
    sim::RandomStream rng(5);
    for (int step = 0; step < 50'000; ++step) {
        const std::uint64_t key = draw(rng, 0, 5000) * 0x100000001ULL;  // 0 included
        CHECK(flat.insert(key) == ref.insert(key).second);
        const std::uint64_t probe = draw(rng, 0, 5000) * 0x100000001ULL;
        CHECK(flat.contains(probe) == ref.count(probe));
        REQUIRE(flat.size() == ref.size());
    }
    flat.clear();
    CHECK(flat.size() == 0);
    CHECK(!flat.contains(0));
    CHECK(flat.insert(0));
}

TEST_CASE("event queue: remove_if drops what it names and the rest pops in the same order") {
    sim::EventQueue all, swept;
    sim::RandomStream rng(3);
    for (std::uint32_t i = 0; i < 5000; ++i) {
        const auto t = rng.uniform(0, 300);
        all.push(sim::Event::make(t, i % 13, i, sim::EventKind::Deliver));
        swept.push(sim::Event::make(t, i % 13, i, sim::EventKind::Deliver));
    }
    swept.remove_if([](const sim::Event& e) { return e.slot % 3 == 0; });
    CHECK(swept.size() == 5000 - 1667);
    while (!all.empty()) {
        const sim::Event e = all.pop();
        if (e.slot % 3 == 0) continue;
        REQUIRE(!swept.empty());
        const sim::Event s = swept.pop();
        CHECK(s.slot == e.slot);
        CHECK(s.seq == e.seq);
        CHECK(s.time_ns == e.time_ns);
    }
    CHECK(swept.empty());
}

TEST_CASE("event queue: runs of equal times pop in exactly (time, seq) order, with sweeps") {
    // A reference: every event by (time, seq) in an ordered set. Pushes come in bursts at one
    // time (as a broadcast does), including bursts at the current time while a run drains.
    sim::EventQueue q;
    std::set<std::pair<std::int64_t, std::uint64_t>> ref;  // (time, seq)
    std::map<std::uint64_t, std::uint32_t> slot_of;        // seq -> slot
    sim::RandomStream rng(17);
    std::uint64_t seq = 0;
    std::uint32_t next_slot = 0;
    std::int64_t now = 0;
    auto push = [&](std::int64_t t) {
        q.push(sim::Event::make(t, 0, next_slot, sim::EventKind::Deliver));
        ref.insert({t, seq});
        slot_of[seq++] = next_slot++;
    };
    for (int step = 0; step < 20'000; ++step) {
        const auto action = draw(rng, 0, 9);
        if (action < 4) {
            const std::int64_t t = now + rng.uniform(0, 3);  // often the same or the current time
            for (auto k = draw(rng, 1, 8); k > 0; --k) push(t);
        } else if (action < 9 && !ref.empty()) {
            REQUIRE(!q.empty());
            CHECK(q.top_time_ns() == ref.begin()->first);
            const sim::Event top = q.top();
            const sim::Event e = q.pop();
            CHECK(top.seq == e.seq);
            CHECK(e.time_ns == ref.begin()->first);
            CHECK(e.seq == ref.begin()->second);
            CHECK(e.slot == slot_of[e.seq]);
            now = e.time_ns;
            ref.erase(ref.begin());
        } else if (action == 9) {
            const auto modulus = draw(rng, 2, 5);
            q.remove_if([&](const sim::Event& e) { return e.slot % modulus == 0; });
            std::erase_if(ref,
                          [&](const auto& entry) { return slot_of[entry.second] % modulus == 0; });
        }
        REQUIRE(q.size() == ref.size());
    }
    while (!ref.empty()) {
        const sim::Event e = q.pop();
        CHECK(e.seq == ref.begin()->second);
        ref.erase(ref.begin());
    }
    CHECK(q.empty());
}
