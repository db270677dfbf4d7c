// What a monitor reports, and the interface of a protocol's own wire monitor.
//
// A wire monitor is written from its protocol's paper, apart from the replica code it checks:
// it sees every message any node hands to the network (before any fault acts on it, so also
// what a rule drops or a partition cuts) and every honest replica's commit, keeps its own
// record of what was proposed, certified and voted, and never asks a replica what it holds.
// Its signature checks use the run's key ring and the quorum it computes from n and f.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/actor.hpp"
#include "sim/crypto.hpp"

namespace sim {

struct Finding {
    std::string invariant;  // agreement, integrity, catch_up, safe_node, three_chain, ...
    std::string detail;
    std::vector<std::uint32_t> nodes;
};

// What a wire monitor is built from.
struct MonitorEnv {
    std::uint32_t replicas = 0;
    std::uint32_t f = 0;            // the run's fault threshold
    std::vector<bool> honest;       // per replica
    const KeyRing* keys = nullptr;  // the run's keys, to verify signatures
};

class WireMonitor {
public:
    virtual ~WireMonitor() = default;
    // The message kinds it reads, as a bitmask over kinds below 64 (bit k: kind k); others are
    // never given to on_send (most messages of a run are requests and replies).
    virtual std::uint64_t kinds() const = 0;
    // `from` sent `msg` (once per payload: a broadcast is reported once).
    virtual std::optional<Finding> on_send(std::uint32_t from, const Payload& msg) = 0;
    // An honest replica executed a slot.
    virtual std::optional<Finding> on_commit(std::uint32_t replica, const CommitRecord& rec) = 0;
    // An honest replica restarted without its state: what it signed before binds it no more.
    virtual void on_state_lost(std::uint32_t replica) = 0;
    // The virtual time of the send or commit the next call reports (for timing rules).
    void at(SimTime t) { now_ = t; }

protected:
    SimTime now_{};
};

using WireMonitorFactory = std::function<std::unique_ptr<WireMonitor>(const MonitorEnv&)>;

}  // namespace sim
