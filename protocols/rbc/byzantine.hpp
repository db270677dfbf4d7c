// Byzantine behaviour for reliable broadcast, as strategies that rewrite an honest replica's
// outbox: the honest Replica runs unchanged inside a ByzantineReplica, whose Context intercepts
// every send. The strategies sign only with their own node's key, through the same Context.
//
// Behaviours (scenario "behavior" names; only mutate takes parameters):
//   silent            sends nothing
//   equivocate        as sender, SENDs its value to the first half of the replicas outside the
//                     coalition and the null value (no request) to the second half, and votes
//                     (ECHO, READY) for the null value towards that second half
//   collude           backs the equivocators of the scenario: for their instances, votes for the
//                     null value towards the same second half. Together with `equivocate`, more
//                     than f of these break agreement (the checker's own test)
//   conflicting_echo  every ECHO and READY names a value it never received
//   mutate            small-scope mutation of outgoing messages (protocols/common/mutate.hpp)
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "protocols/common/mutate.hpp"
#include "protocols/rbc/craft.hpp"
#include "protocols/rbc/replica.hpp"
#include "sim/scenario.hpp"

namespace rbc {

struct Behavior {
    enum class Kind { Silent, Equivocate, Collude, ConflictingEcho, Mutate };
    Kind kind = Kind::Silent;
    sim::SimTime from{}, until = sim::SimTime::max();
    // equivocate, collude: every replica of the scenario with either behaviour, sorted.
    std::vector<std::uint32_t> coalition;
    // collude: the replicas whose instances it backs (those with `equivocate`), sorted.
    std::vector<std::uint32_t> equivocators;

    proto::MutateParams mutate;  // mutate

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

    // Applies every active behaviour to one outgoing message, in scenario order.
    void emit(sim::Context& ctx, NodeId to, sim::PayloadRef msg);
    // Whether `to` is in the second half of the replicas outside the coalition.
    static bool second_half(const sim::Context& ctx, const Behavior& b, NodeId to);

    std::unique_ptr<Replica> inner_;
    std::vector<Behavior> behaviors_;
    Craft craft_;
    std::unique_ptr<proto::Mutator> mutator_;  // with a mutate behaviour
};

}  // namespace rbc
