// Driving one actor by hand on a recording context: deliver a message, fire a tick timer, and
// see what it sent.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "tests/recording_context.hpp"

namespace testing {

// Delivers `m` to `actor` acting as `node`; returns what it sent.
inline std::vector<RecordingContext::Sent> deliver(RecordingContext& ctx, sim::Actor& actor,
                                                   std::uint32_t node, const sim::PayloadRef& m) {
    ctx.act_as(node);
    ctx.sent.clear();
    actor.on_message(ctx, m->signer, *m);
    return ctx.sent;
}

// A Byzantine wrapper's periodic tick timers carry this bit (PBFT's and RBC's alike).
constexpr std::uint64_t kTick = 1ULL << 62;

// Fires the actor's first tick timer at `at`, acting as `node`; returns what it sent.
inline std::vector<RecordingContext::Sent> tick(RecordingContext& ctx, sim::Actor& actor,
                                                std::uint32_t node, sim::SimTime at) {
    const auto t = std::find_if(ctx.timers.begin(), ctx.timers.end(),
                                [](const auto& x) { return (x.second & kTick) != 0; });
    REQUIRE(t != ctx.timers.end());
    ctx.act_as(node);
    ctx.time = at;
    ctx.sent.clear();
    actor.on_timer(ctx, t->second);
    return ctx.sent;
}

}  // namespace testing
