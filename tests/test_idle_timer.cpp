// proto::IdleTimer: one event pending at most, the deadline pushed back by work, and a crash
// that takes the pending event with it.
#include <doctest/doctest.h>

#include "protocols/common/idle_timer.hpp"
#include "tests/recording_context.hpp"

namespace {

constexpr std::uint64_t kTag = 9;
constexpr sim::SimTime kAfter{1000};
constexpr sim::SimTime at(std::int64_t ns) {
    return sim::SimTime{ns};
}

TEST_CASE("idle timer: pushes move the deadline, one event at most is pending") {
    testing::RecordingContext ctx(4, 1);
    proto::IdleTimer idle;
    idle.push(ctx, kAfter, kTag);
    ctx.time = at(400);
    idle.push(ctx, kAfter, kTag);  // deadline 1400, the event at 1000 stays the only one
    CHECK(ctx.timers.size() == 1);
    ctx.time = kAfter;
    CHECK_FALSE(idle.fire(ctx, kTag));  // early: set again for the rest
    REQUIRE(ctx.timers.size() == 2);
    CHECK(ctx.timers.back().first == at(400));
    ctx.time = at(1400);
    CHECK(idle.fire(ctx, kTag));
    idle.push(ctx, kAfter, kTag);  // nothing pending: a new event
    CHECK(ctx.timers.size() == 3);
}

TEST_CASE("idle timer: after a crash took its event, the next push sets one again") {
    testing::RecordingContext ctx(4, 1);
    proto::IdleTimer idle;
    idle.push(ctx, kAfter, kTag);
    REQUIRE(ctx.timers.size() == 1);
    // The crash drops the event at 1000; the replica recovers with its state at 5000.
    ctx.time = at(5000);
    idle.lost();
    idle.push(ctx, kAfter, kTag);
    REQUIRE(ctx.timers.size() == 2);
    CHECK(ctx.timers.back().first == kAfter);
    ctx.time = at(6000);
    CHECK(idle.fire(ctx, kTag));
}

}  // namespace
