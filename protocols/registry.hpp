// The protocol registry: turns a validated scenario into a ready simulation. It validates the
// protocol's parameters and each Byzantine entry (throwing sim::ScenarioError with the JSON
// path), builds honest replicas, wraps the Byzantine ones, and adds the clients.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sim/scenario.hpp"
#include "sim/simulator.hpp"

namespace protocols {

// Names accepted in "/protocol/name".
std::vector<std::string> protocol_names();

// Checks what the engine's parser leaves to the protocol; throws sim::ScenarioError.
void validate(const sim::ScenarioSpec& spec);

// Builds the simulator with every actor added. Calls validate() first.
std::unique_ptr<sim::Simulator> build(const sim::ScenarioSpec& spec, sim::SimOptions opts = {});

}  // namespace protocols
