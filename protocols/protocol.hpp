// What each protocol provides to the registry: its kind names, parameter validation, and the
// construction of its replicas (honest or wrapped by Byzantine strategies).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "protocols/common/ids.hpp"
#include "sim/actor.hpp"
#include "sim/scenario.hpp"

namespace protocols {

struct Protocol {
    std::string name;
    std::vector<std::string> kind_names;  // REQUEST, REPLY, then the protocol's own
    // Throws sim::ScenarioError naming the JSON path of a bad parameter or behaviour.
    std::function<void(const sim::ScenarioSpec&)> validate;
    // Makes replica `id` (called again after a recovery that loses state).
    std::function<std::unique_ptr<sim::Actor>(sim::NodeId id)> make_replica;
    // Whether replica `id` has a Byzantine behaviour in the scenario.
    std::function<bool(sim::NodeId id)> byzantine;
    // Where a client first sends a request, given the latest view it knows.
    std::function<sim::NodeId(proto::View)> client_target;
    bool clients_send_to_all = false;
};

}  // namespace protocols
