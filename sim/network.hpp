// The network model: topology, per-link delay distributions, loss, duplication, corruption,
// FIFO or reordering links, partitions (symmetric and one-way), and GST.
//
// Nodes 0..replicas-1 are replicas and follow the topology; clients (the rest) reach every
// replica over a direct link with the default properties. Partitions and one-way blocks apply
// to the node pairs they name; `isolate` cuts a node off from everyone, clients included.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

#include "sim/random.hpp"
#include "sim/scenario.hpp"
#include "sim/types.hpp"

namespace sim {

// Rule: dropped by a network rule; Held: held by a rule when the hold buffer was full, or still
// held when the run ended.
enum class DropReason : std::uint8_t {
    None,
    Loss,
    Partition,
    Offline,
    Overflow,
    Corrupt,
    Rule,
    Held,
    Count
};
const char* drop_reason_name(DropReason r);

// What the network decided for one message: up to two copies (duplication), each with its
// arrival time and whether it was corrupted on the way.
struct Routing {
    DropReason dropped = DropReason::None;
    std::uint8_t copies = 0;
    SimTime arrival[2]{};
    bool corrupted[2]{};
};

// One draw from a delay distribution (heavy tails capped at an hour).
SimTime sample_delay(RandomStream& rng, const DelaySpec& d);

class Network {
public:
    // `total` counts replicas and clients.
    Network(const NetworkSpec& spec, std::uint32_t replicas, std::uint32_t total, RandomStream rng);

    // Decides the fate of a message sent at `now` (the sender's departure time).
    Routing route(std::uint32_t from, std::uint32_t to, SimTime now);

    // Partitions and blocks nest: each start is undone by its matching end.
    void block(std::uint32_t from, std::uint32_t to, int delta);
    void partition(const std::vector<std::vector<std::uint32_t>>& groups, int delta);
    void isolate(std::uint32_t node, int delta);
    // Replaces a direct link's properties (both directions if the scenario's link is), or
    // restores the previous ones when `spec` is null.
    void override_link(std::uint32_t from, std::uint32_t to, const LinkSpec* spec);

    bool blocked(std::uint32_t from, std::uint32_t to) const;

private:
    Routing route_through(std::uint32_t from, std::uint32_t to, SimTime now);
    SimTime sample(const DelaySpec& d) { return sample_delay(rng_, d); }
    const LinkSpec& link(std::uint32_t from, std::uint32_t to) const;
    void build_paths(const NetworkSpec& spec);

    std::uint32_t replicas_;
    RandomStream rng_;
    std::optional<SimTime> gst_;
    SimTime delta_;
    std::vector<LinkSpec> links_;  // index 0: the defaults
    // Per replica pair [from*replicas+to]: the direct link's index in links_ (kNoLink: none), and
    // the FIFO bound (the last arrival). Side by side, routing a message reads one cache line.
    struct ReplicaPair {
        std::uint32_t link = 0;
        SimTime last_arrival{};
    };
    std::vector<ReplicaPair> pairs_;
    std::map<std::uint32_t, std::vector<std::uint32_t>> saved_;  // overridden link per slot
    std::vector<std::vector<std::uint32_t>> path_;  // replica pairs: nodes after `from`
    std::vector<int> blocked_;                      // replica pairs
    std::vector<int> isolated_;                     // every node
    std::int64_t cuts_ = 0;                         // the sum of blocked_ and isolated_
    // FIFO between a client and a replica: [((client - replicas) * replicas + replica) * 2 +
    // (1 if the replica sends)]. Pairs of two clients, which no protocol uses, in the map.
    std::vector<SimTime> last_arrival_clients_;
    std::unordered_map<std::uint64_t, SimTime> last_arrival_;
    SimTime& last_arrival(std::uint32_t from, std::uint32_t to) {
        const bool from_replica = from < replicas_, to_replica = to < replicas_;
        if (from_replica && to_replica) return pairs_[from * replicas_ + to].last_arrival;
        if (from_replica != to_replica) {
            const std::uint64_t client = (from_replica ? to : from) - replicas_;
            const std::uint64_t replica = from_replica ? from : to;
            const std::size_t i = (client * replicas_ + replica) * 2 + (from_replica ? 1 : 0);
            if (i < last_arrival_clients_.size()) return last_arrival_clients_[i];
        }
        return last_arrival_[(static_cast<std::uint64_t>(from) << 32) | to];
    }
    static constexpr std::uint32_t kNoLink = 0xffffffffu;
};

}  // namespace sim
