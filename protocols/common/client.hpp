// A client: issues its share of the workload, sends each request to the replica it believes
// leads, retransmits to every replica on timeout, and accepts a result once f+1 replicas sent
// matching replies (PROTOCOLS.md §1.3 steps 9-11). One request is outstanding at a time; in
// open loop, arrivals that find the client busy wait in its queue, and their latency counts
// from arrival. Scheduled requests (workload.schedule) arrive at their own times, besides the
// share, and queue the same way.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string_view>
#include <vector>

#include "protocols/common/client_messages.hpp"
#include "sim/actor.hpp"
#include "sim/scenario.hpp"

namespace proto {

// A scheduled request's operation word: a hash of its name, the same on every build.
std::uint64_t op_word(std::string_view op);

// One scheduled request of this client: when it arrives and its operation word.
struct ScheduledOp {
    SimTime at{};
    std::uint64_t op = 0;
};

struct ClientConfig {
    std::uint64_t requests = 0;         // this client's share
    sim::WorkloadSpec workload;         // its schedule is unused: see `schedule`
    std::vector<ScheduledOp> schedule;  // this client's own, in time order
    std::uint32_t clients = 1;          // all clients, to split an open-loop rate
    // The replica a first transmission goes to, given the latest view the client knows.
    std::function<NodeId(View)> target;
    bool send_to_all = false;  // first transmission to every replica instead of `target`
};

class Client final : public sim::Actor {
public:
    explicit Client(ClientConfig cfg) : cfg_(std::move(cfg)) {}

    void on_start(sim::Context& ctx) override;
    void on_message(sim::Context& ctx, NodeId from, const sim::Payload& msg) override;
    void on_timer(sim::Context& ctx, std::uint64_t tag) override;

private:
    enum Timer : std::uint64_t { kArrival = 1, kRetry = 2, kThink = 3, kScheduled = 4 };
    // An issued request; `scheduled` ones are not part of the closed loop's chain.
    struct Queued {
        Request request;
        bool scheduled = false;
    };
    void arrive(sim::Context& ctx);
    void issue(sim::Context& ctx, std::uint64_t op, bool scheduled);
    void arrive_scheduled(sim::Context& ctx);
    void send_next(sim::Context& ctx);
    void schedule_arrival(sim::Context& ctx);

    ClientConfig cfg_;
    std::uint64_t issued_ = 0;     // of the share
    std::uint64_t timestamp_ = 0;  // the last one used: share and schedule alike
    std::size_t next_scheduled_ = 0;
    std::deque<Queued> queue_;  // issued, waiting for the outstanding one
    bool outstanding_ = false;
    bool current_scheduled_ = false;
    Request current_;
    ClientMessageRef current_msg_;
    // Lazy retry timer: a new request moves the deadline; at most one timer event is pending.
    bool retry_pending_ = false;
    SimTime retry_deadline_{};
    View view_{};
    // Replies for the outstanding request: per distinct result, a bitmap of the replicas that
    // sent it. The first `tallies_` entries are live; their storage is reused by the next
    // request (usually one result, so no allocation per request or reply).
    struct Tally {
        Digest result{};
        std::vector<std::uint64_t> replicas;
        std::uint32_t count = 0;
    };
    std::vector<Tally> replies_;
    std::size_t tallies_ = 0;
    // The tally of `result`, started empty if this request has none yet.
    Tally& tally(Digest result);
};

}  // namespace proto
