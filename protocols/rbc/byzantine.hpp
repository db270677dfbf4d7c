// Byzantine behaviour for reliable broadcast, as strategies that rewrite an honest replica's
// outbox: the honest Replica runs unchanged inside a ByzantineReplica, whose Context intercepts
// every send. The strategies sign only with their own node's key, through the same Context.
//
// Behaviours (scenario "behavior" names):
//   silent            sends nothing
//   equivocate        as sender, SENDs its value to the first half of the replicas outside the
//                     coalition and the null value (no request) to the second half, and votes
//                     (ECHO, READY) for the null value towards that second half
//   collude           backs the equivocators of the scenario: for their instances, votes for the
//                     null value towards the same second half. Together with `equivocate`, more
//                     than f of these break agreement (the checker's own test)
//   conflicting_echo  every ECHO and READY names a value it never received
//   mutate            small-scope mutation of outgoing messages (protocols/common/mutate.hpp)
//   readies_to        sends its READYs, and everything else, only to the replicas in "to"
//                     (default: the first f+1 replicas by id, itself and the scenario's
//                     Byzantine replicas skipped); the others get nothing from it (clients
//                     still do). As a sender, a replica left out holds f+1 READYs but fewer
//                     ECHOs than the echo quorum: Bracha's amplification (step 3) makes it
//                     ready (until a peer forwards it the SEND, nothing else can)
//   craft             every "every" (100ms), one message with chosen fields, under its own key,
//                     to "to" (default every other replica): "kind" "send" | "echo" (default)
//                     | "ready", for "instance" "own" (the newest instance it started; none
//                     yet: counter 1) or "other" (default: the newest instance another replica
//                     started that it saw; none yet: nothing sent), naming "value" "seen" (the
//                     value of that instance's first SEND it saw, else of the first vote; for a
//                     SEND, the request of that SEND; nothing seen: nothing sent) or "other"
//                     (default: a digest no request has; for a SEND, the null value)
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocols/common/mutate.hpp"
#include "protocols/rbc/craft.hpp"
#include "protocols/rbc/replica.hpp"
#include "sim/scenario.hpp"

namespace rbc {

struct Behavior {
    enum class Kind { Silent, Equivocate, Collude, ConflictingEcho, Mutate, ReadiesTo, Craft };
    enum class Sent : std::uint8_t { Send, Echo, Ready };  // craft's "kind"
    Kind kind = Kind::Silent;
    sim::SimTime from{}, until = sim::SimTime::max();
    // equivocate, collude: every replica of the scenario with either behaviour, sorted.
    std::vector<std::uint32_t> coalition;
    // collude: the replicas whose instances it backs (those with `equivocate`), sorted.
    std::vector<std::uint32_t> equivocators;

    proto::MutateParams mutate;  // mutate
    // readies_to, craft: the replicas that get its messages, sorted.
    std::vector<std::uint32_t> to;
    Sent sent = Sent::Echo;                       // craft
    bool other_instance = true;                   // craft: "instance" "other"
    bool other_value = true;                      // craft: "value" "other"
    sim::SimTime every = sim::milliseconds(100);  // craft

    bool active(sim::SimTime now) const { return now >= from && now < until; }
};

std::vector<std::string> behavior_names();
// Validates a "byzantine" fault entry; throws sim::ScenarioError naming its path.
Behavior parse_behavior(const sim::FaultSpec& f, const sim::ScenarioSpec& spec);

class ByzantineReplica final : public sim::Actor {
public:
    ByzantineReplica(std::unique_ptr<Replica> inner, std::vector<Behavior> behaviors);
    ~ByzantineReplica() override;

    void on_start(sim::Context& ctx) override;
    void on_message(sim::Context& ctx, NodeId from, const sim::Payload& msg) override;
    void on_timer(sim::Context& ctx, std::uint64_t tag) override;
    void on_recover(sim::Context& ctx) override;

    // The honest replica inside, for tests.
    const Replica& inner() const { return *inner_; }

private:
    class Outbox;
    friend class Outbox;
    static constexpr std::uint64_t kTickTimer = 1ULL << 62;  // | the craft behaviour's index

    // Applies every active behaviour to one outgoing message, in scenario order.
    void emit(sim::Context& ctx, NodeId to, sim::PayloadRef msg);
    // Whether `to` is in the second half of the replicas outside the coalition.
    static bool second_half(const sim::Context& ctx, const Behavior& b, NodeId to);

    // craft: arms the first tick of each craft behaviour (timers die with a crash).
    void arm_ticks(sim::Context& ctx);
    void on_tick(sim::Context& ctx, std::size_t index);
    // Remembers an instance and its first value, from an authentic message or its own.
    void observe(NodeId self, const Message& m);
    // The message one craft behaviour sends now, if it has what it needs.
    MessageRef crafted(sim::Context& ctx, const Behavior& b);

    struct Seen {
        std::optional<Digest> value;  // of the first SEND, else of the first vote
        MessageRef send;              // the first SEND
    };
    static constexpr std::size_t kSeenKept = 256;

    std::unique_ptr<Replica> inner_;
    std::vector<Behavior> behaviors_;
    Craft craft_;
    std::unique_ptr<proto::Mutator> mutator_;  // with a mutate behaviour
    bool crafting_ = false;                    // with a craft behaviour
    std::map<InstanceId, Seen> seen_;          // the newest kSeenKept instances seen
    std::deque<InstanceId> seen_order_;
    std::optional<InstanceId> latest_other_;  // the newest instance of another sender seen
};

}  // namespace rbc
