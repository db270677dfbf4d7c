// Network rules per message (fault type "rule") and view-keyed partitions (a "partition" with
// "views"): what the network does to one message, decided by who sends it to whom, its type,
// the rounds it names (Payload::rounds) and, for partitions, the sender's current view.
//
// The simulator asks decide() for every network message while any rule or view-keyed partition
// exists (and never otherwise). The first rule in scenario order whose window holds the send
// time and whose match fits decides; a view-keyed partition that separates sender and receiver
// drops the message before any rule is asked. Held messages wait here, in send order, until
// their rule's release condition holds; the simulator then routes them afresh.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/payload.hpp"
#include "sim/random.hpp"
#include "sim/scenario.hpp"

namespace sim {

struct RuleVerdict {
    enum class Act : std::uint8_t { Pass, Drop, Delay, Duplicate, Hold, Partition };
    Act act = Act::Pass;
    SimTime extra{};           // Delay: added to the arrival the network gives
    std::uint32_t copies = 1;  // Duplicate: each copy routed on its own
    std::uint32_t rule = 0;    // the deciding rule's index (its position among the rules)
};

// Refuses rules naming a message type the protocol does not have, at the JSON path of the name.
void check_rule_kinds(const ScenarioSpec& spec, const std::vector<std::string>& kind_names);

class MessageRules {
public:
    // At most this many messages are held at once; a hold beyond it drops (DropReason::Held).
    static constexpr std::size_t kMaxHeld = std::size_t{1} << 20;

    struct Held {
        std::uint64_t order = 0;  // send order across all rules
        std::uint32_t from = 0, to = 0;
        PayloadRef msg;
    };

    MessageRules(const ScenarioSpec& spec, const std::vector<std::string>& kind_names,
                 RandomStream rng);

    bool active() const { return !rules_.empty() || !partitions_.empty(); }
    // `views[r]` is replica r's current view. `rounds` is asked at most once, and only when a
    // rule in its window matches on a round.
    RuleVerdict decide(std::uint32_t from, std::uint32_t to, const Payload& msg, SimTime now,
                       const std::vector<std::uint64_t>& views);
    // Keeps a message for `rule`; false when the buffer is full (the caller drops it).
    bool hold(std::uint32_t rule, std::uint32_t from, std::uint32_t to, PayloadRef msg);

    // Release conditions. Each returns whether some held message became due.
    bool on_commit(std::uint32_t node, std::uint64_t index);
    bool on_view(std::uint32_t node, std::uint64_t view);
    bool on_time(std::uint32_t rule);
    // Rules released by time: (release time, rule index), for the simulator to schedule.
    std::vector<std::pair<SimTime, std::uint32_t>> release_times() const;
    // The held messages of every released rule, in send order.
    std::vector<Held> take_released();
    std::size_t held() const { return held_count_; }
    // Hands over every message still held (the run ended), in send order.
    std::vector<Held> discard_held();
    std::uint64_t held_total() const { return held_total_; }

private:
    struct Rule {
        RuleSpec spec;
        SimTime at{};
        std::optional<SimTime> until;
        std::vector<bool> kinds;  // by kind index; empty: every kind
        bool released = false;
        std::vector<Held> held;
    };
    struct ViewPartition {
        SimTime at{};
        std::optional<SimTime> until;
        RoundRange views;
        std::vector<std::uint32_t> group_of;  // per replica
    };
    bool matches(const Rule& r, std::uint32_t from, std::uint32_t to, const Payload& msg,
                 std::uint32_t replicas, Rounds& rounds, bool& have_rounds) const;
    bool release(Rule& r);

    std::uint32_t replicas_;
    RandomStream rng_;
    std::vector<Rule> rules_;
    std::vector<ViewPartition> partitions_;
    std::size_t held_count_ = 0;
    std::uint64_t held_total_ = 0, next_order_ = 0;
    bool due_ = false;
};

}  // namespace sim
