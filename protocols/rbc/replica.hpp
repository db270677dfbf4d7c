// A replica running Bracha's reliable broadcast (messages.hpp) as a service for clients.
//
// A replica that gets a REQUEST directly from its client becomes the sender of a new instance
// carrying it (SEND to all). On the first SEND of an instance it ECHOes its value; on
// echoes_for_ready() ECHOs or readies_for_ready() READYs for one value it sends READY (once);
// on readies_for_delivery() READYs it delivers that value, as soon as it holds the value itself.
// Delivering executes the request unless this replica already executed that client's timestamp
// or a newer one, replies to the client, and reports a commit at the instance's index.
//
// Links may lose messages before GST, so a replica retransmits, with capped exponential backoff:
// its votes (ECHO, READY) to each peer whose READY it lacks (and to every peer while it has
// delivered a value it does not hold); the SEND it holds to peers that have neither echoed nor
// readied. A repeated vote from a peer is that peer asking: the replica answers with its own
// votes and, if the peer repeated a READY for a value it holds, that value's SEND (forwarded:
// it stays signed by its sender). Answers are rate-limited per peer and instance, so two
// replicas answering each other's answers soon stop. Peers that have been quiet for long
// (crashed, cut off, silent) get no retransmissions, only our latest vote now and then, until
// they speak again.
//
// A deterministic state machine: everything goes through the sim::Context. It has no notion of
// being Byzantine; strategies wrap it (byzantine.hpp).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "protocols/common/mutations.hpp"
#include "protocols/rbc/messages.hpp"
#include "sim/actor.hpp"

namespace rbc {

// Seeded bugs ("/protocol/mutations"; scenarios/FORMAT.md), off by default.
enum class Mutation : std::uint8_t {
    // trust_send_request: the request a SEND carries is echoed and delivered unchecked, so a
    // Byzantine sender broadcasts requests no client signed (PROTOCOLS.md §4.12: a request is
    // signed by the client it names, and a replica is no client).
    TrustSendRequest,
    // ready_needs_quorum_only: READY only on echoes_for_ready() ECHOs, never on
    // readies_for_ready() READYs (§3 step 3's amplification dropped), so a replica that missed
    // the SEND and some ECHOs never becomes ready while others deliver: totality fails.
    ReadyNeedsQuorumOnly,
};
// In enum order.
inline std::vector<std::string> mutation_names() {
    return {"trust_send_request", "ready_needs_quorum_only"};
}

struct Config {
    proto::Quorum quorum;
    proto::MutationSet<Mutation> mutations;
    // The first retransmission waits this long; each further one waits twice as long, up to
    // kMaxBackoffDoublings doublings.
    proto::SimTime retransmit_timeout = sim::milliseconds(200);
};

inline constexpr std::uint32_t kMaxBackoffDoublings = 3;
// A peer that has sent nothing for a quiet period, retransmit_timeout * 2^kQuietDoublings, gets
// no retransmissions until it speaks again; once per quiet period it gets our latest vote.
inline constexpr std::uint32_t kQuietDoublings = kMaxBackoffDoublings + 1;

class Replica : public sim::Actor {
public:
    explicit Replica(Config cfg);

    void on_start(sim::Context& ctx) override;
    void on_message(sim::Context& ctx, NodeId from, const sim::Payload& msg) override;
    void on_timer(sim::Context& ctx, std::uint64_t tag) override;
    // Keeps the state: re-arms the retransmission timer and repeats our latest vote to all.
    void on_recover(sim::Context& ctx) override;

    // Read-only views for tests and strategies.
    // Every instance this replica delivered, by index, with the value delivered.
    const std::map<std::uint64_t, Digest>& delivered() const { return delivered_; }
    // Instances this replica started as sender.
    std::uint64_t instances_started() const { return started_; }
    // Instances with retransmission work left: not yet executed here, or some peer's READY
    // not yet heard.
    std::size_t retransmitting() const;
    const Config& config() const { return cfg_; }

private:
    enum Timer : std::uint64_t { kRetransmitTimer = 1, kProbeTimer = 2 };

    // One phase's votes (ECHO or READY) in one instance: the first vote of each author counts.
    struct Votes {
        std::vector<std::optional<Digest>> by_author;  // indexed by replica
        std::map<Digest, std::uint32_t> count;
        std::set<std::uint32_t> conflicting;  // authors already reported for a second vote
        bool heard(std::uint32_t author) const {
            return author < by_author.size() && by_author[author].has_value();
        }
    };
    struct Instance {
        std::map<Digest, MessageRef> sends;  // signed SENDs held, by value (two: equivocation)
        MessageRef echo, ready;              // our own votes
        Votes echoes, readies;
        std::optional<Digest> delivered;  // readies_for_delivery() READYs seen for it
        bool committed = false;           // delivered and executed (value in hand)
        bool sender_equivocated = false;  // reported: two SENDs with different values
        std::uint32_t attempts = 0;       // retransmissions since it was last scheduled
        bool scheduled = false;           // has an entry in due_
        std::map<std::uint32_t, sim::SimTime> answered;  // peer -> last answer to its repeat
    };
    enum class Counted { Fresh, Repeat, Conflict, Ignored };
    struct Owed {
        bool echo = false, ready = false, send = false;
        bool any() const { return echo || ready || send; }
    };

    void on_request(sim::Context& ctx, NodeId from, const ClientMessageRef& req);
    void on_send(sim::Context& ctx, const MessageRef& m);
    bool request_valid(sim::Context& ctx, const Send& s) const;
    void on_vote(sim::Context& ctx, const MessageRef& m);
    // Counts one vote (ours or a peer's); what it was relative to the author's earlier votes.
    Counted count(Votes& votes, std::uint32_t author, Digest value);
    void echo(sim::Context& ctx, const InstanceId& id, Instance& inst, Digest value);
    void ready(sim::Context& ctx, const InstanceId& id, Instance& inst, Digest value);
    // Applies the thresholds after `value` gained a vote; delivers when possible.
    void advance(sim::Context& ctx, const InstanceId& id, Instance& inst, Digest value);
    void try_commit(sim::Context& ctx, const InstanceId& id, Instance& inst);
    void execute(sim::Context& ctx, const InstanceId& id, Digest value, const MessageRef& send);
    // `ready_vote`: the repeat was a READY (the peer may lack the value it voted for).
    void answer_repeat(sim::Context& ctx, Instance& inst, std::uint32_t peer, Digest value,
                       bool ready_vote);
    void send_votes(sim::Context& ctx, const Instance& inst, NodeId to);
    static const MessageRef* offer(const Instance& inst);
    Owed owed(const Instance& inst, std::uint32_t peer) const;
    bool needs_retransmit(const Instance& inst) const;
    void retransmit(sim::Context& ctx, const Instance& inst);
    // Schedules the instance's retransmission unless it is scheduled already.
    void activate(sim::Context& ctx, const InstanceId& id, Instance& inst);
    void arm_timer(sim::Context& ctx);
    sim::SimTime quiet_period() const;
    void probe(sim::Context& ctx);
    Instance& instance(const InstanceId& id);

    Config cfg_;
    NodeId self_{};              // learnt at start
    std::uint64_t counter_ = 0;  // our latest instance
    std::uint64_t started_ = 0;
    Digest state_{};  // running digest of our deliveries
    std::map<InstanceId, Instance> instances_;
    std::map<std::uint64_t, Digest> delivered_;
    std::set<std::pair<sim::SimTime, InstanceId>> due_;  // next retransmission per instance
    std::vector<sim::SimTime> last_heard_;  // per replica: its latest authentic message
    MessageRef last_vote_;                  // our latest ECHO or READY
    bool timer_on_ = false;
    sim::TimerId timer_ = 0;
    sim::SimTime timer_at_{};
    struct ClientRecord {
        std::uint64_t started = 0;   // latest timestamp we started an instance for
        std::uint64_t executed = 0;  // latest timestamp executed
        ClientMessageRef reply;      // our reply to `executed`
    };
    std::map<std::uint32_t, ClientRecord> clients_;
};

}  // namespace rbc
