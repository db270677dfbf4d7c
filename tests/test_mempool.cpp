// HotStuff's mempool against a plain model (a list in arrival order), across the size where it
// switches between walking its entries and a hash index, with removals in and out of order.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <list>
#include <vector>

#include "protocols/hotstuff/mempool.hpp"
#include "sim/hash.hpp"
#include "tests/recording_context.hpp"

TEST_CASE("mempool: arrival order, no duplicates, removal, on both sides of the index threshold") {
    testing::RecordingContext ctx(16, 5);  // keys for the 12 clients below too
    hotstuff::Mempool pool;
    std::list<std::pair<sim::RequestKey, proto::ClientMessageRef>> model;
    std::uint64_t rng = 7;
    auto next = [&rng](std::uint64_t bound) {
        rng = sim::mix64(rng + 0x9e3779b97f4a7c15ULL);
        return rng % bound;
    };
    std::size_t most = 0;
    bool shrank_after_index = false;
    for (int step = 0; step < 40000; ++step) {
        // Phases that grow the pool past the threshold and drain it again.
        const bool growing = (step / 2000) % 2 == 0;
        const sim::RequestKey key{sim::NodeId(static_cast<std::uint32_t>(4 + next(12))), next(8)};
        if (next(100) < (growing ? 65u : 35u)) {
            ctx.act_as(key.client.v);
            auto m = proto::make_request(
                ctx, proto::Request{static_cast<std::uint64_t>(step), key.timestamp, key.client});
            bool present = false;
            for (const auto& [k, msg] : model) present = present || k == key;
            CHECK(pool.add(key, m) == !present);
            if (!present) model.emplace_back(key, m);
        } else {
            // Mostly the oldest request leaves, as when a block executes; sometimes any.
            const sim::RequestKey gone = !model.empty() && next(3) != 0 ? model.front().first : key;
            pool.remove(gone);
            std::erase_if(model, [&](const auto& e) { return e.first == gone; });
        }
        REQUIRE(pool.size() == model.size());
        CHECK(pool.empty() == model.empty());
        most = std::max(most, model.size());
        if (most > hotstuff::Mempool::kIndexAbove && model.size() < 4) shrank_after_index = true;
        if (step % 97 == 0) {
            std::vector<proto::ClientMessageRef> seen;
            pool.for_each([&](const proto::ClientMessageRef& m) {
                seen.push_back(m);
                return true;
            });
            REQUIRE(seen.size() == model.size());
            auto it = model.begin();
            for (const auto& m : seen) CHECK((it++)->second.get() == m.get());
        }
    }
    CHECK(most > 2 * hotstuff::Mempool::kIndexAbove);  // the index was in use
    CHECK(shrank_after_index);                         // and given up again
}
