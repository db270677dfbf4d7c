// What each protocol provides to the registry: its kind names, parameter validation, and the
// construction of its replicas (honest or wrapped by Byzantine strategies).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "protocols/common/ids.hpp"
#include "sim/actor.hpp"
#include "sim/monitor.hpp"
#include "sim/randomize.hpp"
#include "sim/scenario.hpp"

namespace protocols {

// Assembling one (make_protocol) validates the protocol's parameters and Byzantine entries,
// throwing sim::ScenarioError with the JSON path of the first bad one.
struct Protocol {
    std::string name;
    std::vector<std::string> kind_names;  // REQUEST, REPLY, then the protocol's own
    // Makes replica `id` (called again after a recovery that loses state).
    std::function<std::unique_ptr<sim::Actor>(sim::NodeId id)> make_replica;
    // Whether replica `id` has a Byzantine behaviour in the scenario.
    std::function<bool(sim::NodeId id)> byzantine;
    // Where a client first sends a request, given the latest view it knows.
    std::function<sim::NodeId(proto::View)> client_target;
    bool clients_send_to_all = false;
    // One totally ordered log: honest replicas reach one state per index (checked).
    bool total_order = false;
    // The protocol's own wire monitor (sim/monitor.hpp), if it has one.
    sim::WireMonitorFactory monitor;
    // The most entries an honest replica may hold in one table its peers fill
    // (sim::Context::holding), from the protocol's window; 0: its replicas report none.
    std::uint64_t held_bound = 0;
    // Writes a drawn leader schedule into a scenario document (randomize's leader_schedules),
    // if the protocol has leader schedules and a leader script to play one.
    std::function<void(nlohmann::json& doc, const sim::DrawnSchedule& s)> put_schedule;
};

// Fills make_replica and byzantine from each replica's behaviours: `honest(id)` where it has
// none, `wrap(id, its behaviours)` where it has some. Both get the node id so that a replica's
// own parameters (fault type "params") hold for it, also when it is rebuilt after a recovery
// that loses state, and under a Byzantine wrapper.
template <class Behavior, class Honest, class Wrap>
void assign_replicas(Protocol& p, std::vector<std::vector<Behavior>> behaviors, Honest honest,
                     Wrap wrap) {
    p.make_replica = [behaviors, honest, wrap](sim::NodeId id) -> std::unique_ptr<sim::Actor> {
        if (behaviors[id.v].empty()) return honest(id);
        return wrap(id, behaviors[id.v]);
    };
    p.byzantine = [behaviors](sim::NodeId id) { return !behaviors[id.v].empty(); };
}

}  // namespace protocols
