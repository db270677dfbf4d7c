// Byzantine behaviour for PBFT as strategies that rewrite an honest replica's outbox (the
// concord-bft way): the honest Replica runs unchanged inside a ByzantineReplica, whose Context
// intercepts every send. Honest code has no `if (byzantine)`, and strategies have no back door:
// they sign only with their own node's key, through the same Context.
//
// Behaviours (scenario "behavior" names):
//   silent             sends nothing
//   crash              handles nothing and sends nothing (a crash that counts against f)
//   equivocate         as primary, sends a conflicting PRE-PREPARE (the null request) to half of
//                      the honest backups; with "collude": true, also commits to that half
//   collude            backs an equivocating primary: PREPARE/COMMIT for the null request to
//                      the same half (together with `equivocate`, more than f of these break
//                      agreement: the checker's own test)
//   conflicting_votes  PREPARE/COMMIT for a digest it never received; REPLY with a bogus result
//   forge_sender       also sends copies claiming to come from "victim" (signed with its own
//                      key, so honest replicas must reject them)
//   drop               drops everything to "targets"
//   delay              delays everything to "targets" by "delay"
//   replay             also re-sends old messages ("probability" per send)
//   lying_view_change  sends VIEW-CHANGE with an empty P set
//   null_new_view      as new primary, sends NEW-VIEW whose O has the null request at every
//                      number (honest backups recompute O and refuse it) and COMMITs for them
//   mutate             small-scope mutation of outgoing messages (protocols/common/mutate.hpp)
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "protocols/common/mutate.hpp"
#include "protocols/pbft/craft.hpp"
#include "protocols/pbft/replica.hpp"
#include "sim/scenario.hpp"

namespace pbft {

struct Behavior {
    enum class Kind {
        Silent,
        Crash,
        Equivocate,
        Collude,
        ConflictingVotes,
        ForgeSender,
        Drop,
        Delay,
        Replay,
        LyingViewChange,
        NullNewView,
        Mutate
    };
    Kind kind = Kind::Silent;
    sim::SimTime from{}, until = sim::SimTime::max();
    std::vector<std::uint32_t> targets;  // drop, delay (empty: everyone)
    sim::SimTime delay = sim::milliseconds(100);
    std::uint32_t victim = 0;              // forge_sender
    std::uint32_t replay_ppm = 200'000;    // replay
    bool collude = false;                  // equivocate
    std::vector<std::uint32_t> colluders;  // equivocate, collude: the Byzantine coalition
    proto::MutateParams mutate;            // mutate

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

private:
    class Outbox;
    friend class Outbox;
    static constexpr std::uint64_t kOwnTimer = 1ULL << 63;

    bool crashed(sim::SimTime now) const;
    // Applies every active behaviour to one outgoing message, in scenario order.
    void emit(sim::Context& ctx, NodeId to, sim::PayloadRef msg);
    bool apply(sim::Context& ctx, const Behavior& b, NodeId& to, sim::PayloadRef& msg);
    sim::PayloadRef conflict(sim::Context& ctx, const Behavior& b, NodeId to, sim::PayloadRef msg);
    sim::PayloadRef conflicting_vote(sim::Context& ctx, sim::PayloadRef msg);
    void replay(sim::Context& ctx, const Behavior& b, NodeId to, const sim::PayloadRef& msg);
    MessageRef rewrite_digest(sim::Context& ctx, const Message& m, Digest d);
    const std::vector<MessageRef>& null_new_view(sim::Context& ctx, const NewView& nv);
    std::vector<std::uint32_t> split_b(sim::Context& ctx, const Behavior& b) const;

    std::unique_ptr<Replica> inner_;
    std::vector<Behavior> behaviors_;
    std::map<std::pair<std::uint64_t, std::uint64_t>, MessageRef> conflicting_;  // (v, n)
    std::vector<std::pair<std::uint32_t, sim::PayloadRef>> sent_;                // replay buffer
    std::map<std::uint64_t, std::pair<std::uint32_t, sim::PayloadRef>> delayed_;
    // null_new_view: per view, the rewritten NEW-VIEW followed by its COMMITs.
    std::map<std::uint64_t, std::vector<MessageRef>> null_new_view_;
    std::uint64_t next_delayed_ = 0;
    Craft craft_;
    std::unique_ptr<proto::Mutator> mutator_;  // with a mutate behaviour
};

}  // namespace pbft
