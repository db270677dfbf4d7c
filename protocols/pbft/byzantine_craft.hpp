// The PBFT behaviours that craft chosen messages (byzantine.hpp lists them with their params):
// preprepare, stale_view_change, bogus_checkpoint, client_request, wrong_reply, far_future.
// Every message is built with pbft::make_message or proto::make_request under the replica's
// own key, or claims another node under that key (a forgery honest replicas must refuse).
// A Crafter belongs to one ByzantineReplica: it rewrites outgoing messages (apply), acts on its
// behaviours' periodic ticks (tick), and remembers what the replica saw (observe), all bounded.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <utility>
#include <vector>

#include "protocols/pbft/messages.hpp"
#include "protocols/pbft/replica.hpp"
#include "sim/scenario.hpp"

namespace pbft {

struct Behavior;

// Reads the params of a crafting behaviour into `b` (whose kind is set); ScenarioError at the
// param's path.
void parse_crafted(Behavior& b, const sim::FaultSpec& f, const sim::ScenarioSpec& spec);
// Whether `b` is one of this file's behaviours; whether it acts on a timer, and how often.
bool crafted(const Behavior& b);
bool periodic(const Behavior& b);
sim::SimTime tick_period(const Behavior& b);

// What the adversary saw, kept to forge with: prepared certificates it could assemble from
// PRE-PREPAREs and PREPAREs (its own included), the newest stable checkpoint it can prove, and
// the last client request. Only authentic messages count. Bounded: everything at or below the
// proved checkpoint is dropped, and each table keeps its kCap highest entries.
class Observed {
public:
    void see(sim::Context& ctx, const Replica& inner, const Message& m);
    void see_request(const ClientMessageRef& r) { request_ = r; }

    struct Proof {
        Seq n{};
        Digest state{};
        std::vector<MessageRef> C;
    };
    const Proof& proof() const { return proof_; }
    // Per sequence number in (proof n, proof n + window], the certificate of the oldest view
    // below `below`.
    std::vector<PreparedCert> oldest_certs(std::uint64_t window, View below) const;
    const ClientMessageRef& request() const { return request_; }

private:
    static constexpr std::size_t kCap = 512;
    using Key = std::pair<std::uint64_t, std::uint64_t>;
    void see_checkpoint(const Replica& inner, const MessageRef& m);
    void prune();

    std::map<Key, PreparedCert> partial_;   // (n, v): a pre-prepare and matching prepares
    std::map<Key, PreparedCert> complete_;  // (n, v): prepared certificates
    std::map<Key, std::vector<MessageRef>> checkpoints_;  // (n, state)
    Proof proof_;
    ClientMessageRef request_;
};

class Crafter {
public:
    // False when the behaviour took the message (what it sends instead is sent already).
    bool apply(sim::Context& ctx, const Replica& inner, const Behavior& b, NodeId to,
               sim::PayloadRef& msg);
    void tick(sim::Context& ctx, const Replica& inner, const Behavior& b);
    // Every message the replica receives, and every one its honest core sends.
    void observe(sim::Context& ctx, const Replica& inner, const sim::Payload& m);

private:
    using Key = std::pair<std::uint64_t, std::uint64_t>;
    const std::vector<MessageRef>& pre_prepares(sim::Context& ctx, const Behavior& b,
                                                const Message& honest);
    sim::PayloadRef with_injected(sim::Context& ctx, const Message& honest);
    MessageRef view_change(sim::Context& ctx, const Replica& inner, const Behavior& b);
    PreparedCert forged_cert(sim::Context& ctx, const Replica& inner, View w, Seq n) const;
    void bogus_checkpoints(sim::Context& ctx, const Replica& inner, const Behavior& b);
    void client_request(sim::Context& ctx, const Replica& inner, const Behavior& b);
    void far_future(sim::Context& ctx, const Replica& inner, const Behavior& b);
    sim::PayloadRef wrong_reply(sim::Context& ctx, const Behavior& b, sim::PayloadRef msg);
    // byzantine_catch_up.cpp
    sim::PayloadRef false_catch_up(sim::Context& ctx, const Replica& inner, NodeId to,
                                   const Message& honest);
    CommitCert own_cert(sim::Context& ctx, const Replica& inner, Seq n) const;

    Observed seen_;
    std::map<Key, std::vector<MessageRef>> crafted_pp_;  // (v, n) of the honest PRE-PREPARE
    std::map<Key, MessageRef> injected_;                 // (v, n): the batch with a request added
    std::deque<ClientMessageRef> to_inject_;             // client_request, as primary
    std::uint64_t timestamp_ = 0;                        // client_request
    std::uint64_t flood_budget_ = 0, flood_sent_ = 0;    // far_future
    std::map<std::uint32_t, Seq> asker_n_;               // false_catch_up: per replica
    std::uint64_t lies_ = 0;                             // false_catch_up: answers so far
    std::uint64_t service_lies_ = 0;  // false_catch_up: answers that carried service data
};

}  // namespace pbft
