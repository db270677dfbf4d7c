// A deadline that work keeps pushing back, with one timer event at most pending: pushing moves
// the deadline and sets no timer while one is pending; an event that fires before the deadline
// sets itself again for the rest. Replicas use it to act once nothing happened for a while (an
// idle catch-up round) without a timer event per thing that happened.
#pragma once

#include <cstdint>

#include "sim/actor.hpp"

namespace proto {

class IdleTimer {
public:
    // The deadline becomes `after` from now (later than a pending event, in the uses here).
    void push(sim::Context& ctx, sim::SimTime after, std::uint64_t tag) {
        deadline_ = ctx.now() + after;
        if (pending_) return;
        pending_ = true;
        ctx.set_timer(after, tag);
    }
    // The timer event `tag` arrived: true once the deadline passed, else it is set again.
    bool fire(sim::Context& ctx, std::uint64_t tag) {
        pending_ = false;
        if (ctx.now() >= deadline_) return true;
        pending_ = true;
        ctx.set_timer(deadline_ - ctx.now(), tag);
        return false;
    }
    // A crash took every timer event: none is pending any more, and the next push sets one.
    void lost() { pending_ = false; }

private:
    sim::SimTime deadline_{};
    bool pending_ = false;
};

}  // namespace proto
