// A node's MAPE-K agent, a client of the replicated knowledge base (client id n + node).
// Monitor: every sampling round it reads each watched metric of each workflow, with its own
// noise, and keeps them in a ring; those past an action's threshold go (signed) to every other
// agent, and a reading past a threshold from another agent makes it send its own of that round
// to every agent, once. Analyze: its own reading past a threshold is an anomaly. Plan: f+1
// agents (a set that rotates per round and workflow) with readings of that round from 2f+1
// nodes, f+1 of them past the threshold, submit a decision carrying them (and their median) to the
// replicas, which check it before ordering it; the leader's batch or block of decisions is the
// plan. Execute: the knowledge base executes committed decisions in log order, and the world
// applies each action then. Without agreement (`local`, `leader`), it acts on its own reading. A
// lying agent (config.hpp's Lie) does what its lies say, and nothing of this is owed to it.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <tuple>
#include <vector>

#include "protocols/common/client_messages.hpp"
#include "protocols/mapek/config.hpp"
#include "protocols/mapek/messages.hpp"
#include "sim/actor.hpp"

namespace mapek {

class World;

class Agent final : public sim::Actor {
public:
    // How the consensus's clients send a request first: to every replica, or to `target` of
    // the latest view they know (retransmissions go to every replica).
    struct Sending {
        std::function<NodeId(proto::View)> target;
        bool to_all = true;
    };
    Agent(std::shared_ptr<const Config> cfg, std::uint32_t node, std::uint16_t reading_kind,
          Sending sending);

    void on_start(sim::Context& ctx) override;
    void on_message(sim::Context& ctx, NodeId from, const sim::Payload& msg) override;
    void on_timer(sim::Context& ctx, std::uint64_t tag) override;

private:
    enum Timer : std::uint64_t { kSample = 1, kRetry = 2, kDelayed = 3 };
    using Key = std::tuple<std::uint64_t, std::uint32_t, std::uint8_t>;  // round, workflow, metric
    using Watch = std::pair<std::uint32_t, std::uint8_t>;                // workflow, metric
    struct Held;
    struct Own;

    World& world(sim::Context& ctx) const;
    bool lies(Lie::Kind k, SimTime now) const;
    std::int64_t lie(sim::Context& ctx, const Reading& r, std::int64_t v) const;
    void sample(sim::Context& ctx, std::uint64_t round);
    void send_readings(sim::Context& ctx, const std::vector<Reading>& mine,
                       const std::vector<Reading>& other);
    template <std::uint64_t Rounds>
    std::size_t slot(const Key& key) const;
    // Its own reading of `key`, signed, if it took one.
    const Reading* own(sim::Context& ctx, const Key& key);
    const Reading& sign_own(sim::Context& ctx, Own& o);
    Held& held(sim::Context& ctx, const Key& key);
    Held* find(const Key& key);
    // The readings of r's key, if r joined them.
    Held* store(sim::Context& ctx, const Reading& r);
    void answer(sim::Context& ctx, Held& h, const Reading& r);
    void analyze(sim::Context& ctx, const Reading& own);
    bool designated(const Key& key) const;
    // `h`: the readings held for `key`, if any.
    std::optional<Decision> justify(sim::Context& ctx, const Key& key, Held& h, bool outcome);
    void try_decide(sim::Context& ctx, const Key& key, Held* h);
    void try_outcome(sim::Context& ctx, const Key& key, Held* h);
    void check_signatures(sim::Context& ctx, Held& held);
    void act_alone(sim::Context& ctx, const Reading& own);
    void submit(sim::Context& ctx, Decision d);
    void send_next(sim::Context& ctx);
    void on_reply(sim::Context& ctx, const proto::ClientMessage& m);
    void lie_in_plans(sim::Context& ctx, std::uint64_t round);

    std::shared_ptr<const Config> cfg_;
    std::uint32_t node_;
    std::uint16_t reading_kind_;
    bool honest_ = true;
    std::uint64_t round_ = 0;
    // Readings are kept for rounds round_ - kKeptRounds .. round_ + kAheadRounds.
    static constexpr std::uint64_t kKeptRounds = 16;
    static constexpr std::uint64_t kAheadRounds = 2;
    // Its own readings of the last kKeptRounds + 1 rounds, by slot(): a (round, workflow,
    // metric) gets readings held only once it matters (another agent's reading of it came, or
    // its own is past the threshold or back within it), most rounds none.
    // A reading is signed when it first leaves the ring (sent, or held for a decision): most
    // never are.
    struct Own {
        std::optional<Reading> reading;
        bool is_signed = false;
    };
    std::vector<Own> own_;
    // The readings of one (round, workflow, metric), one per node; a slot of held_ is reused
    // for a later round once its own is out of the window (so memory is bounded by the window).
    struct Held {
        std::optional<std::uint64_t> round;  // the round it holds, if any
        std::vector<Reading> list;           // in the order they came
        std::vector<bool> from;              // per node: its reading is in the list
        // How many of the list's readings had their signatures checked (only those a decision
        // would carry are: a reading names its sender, so a bad one can spoil only its own).
        std::size_t checked = 0;
        bool answered = false;        // its own reading of it went to every agent
        bool outcome_wanted = false;  // its own reading went back within the threshold here
    };
    std::vector<Held> held_;                         // by slot()
    std::array<std::size_t, kMetrics> action_of_{};  // per metric, its action's index
    std::vector<bool> anomalous_;  // per watch_index: its own last reading was past the threshold
    std::vector<SimTime> quiet_until_;  // per watch_index: no new decision on it before then
    std::deque<Decision> queue_;
    std::optional<Decision> replayable_;  // the first decision it submitted (replay_evidence)
    std::deque<ReadingRef> delayed_;      // delay_readings: sent on their timer
    std::vector<Reading> past_, other_;   // sample()'s, kept for their capacity
    // The outstanding request and its replies, per replica.
    Sending sending_;
    proto::View view_{};  // the highest view of a request it saw committed
    bool outstanding_ = false;
    std::optional<sim::TimerId> retry_;  // the outstanding request's retransmission timer
    std::uint64_t timestamp_ = 0;
    proto::ClientMessageRef current_;
    Watch current_watch_{};
    bool current_outcome_ = false;
    std::vector<std::optional<sim::Digest>> replies_;
};

}  // namespace mapek
