// The protocol registry: turns a validated scenario into a ready simulation. It validates the
// protocol's parameters and each Byzantine entry (throwing sim::ScenarioError with the JSON
// path), builds honest replicas, wraps the Byzantine ones, and adds the clients.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "protocols/common/application.hpp"
#include "sim/scenario.hpp"
#include "sim/simulator.hpp"

namespace protocols {

// Names accepted in "/protocol/name".
std::vector<std::string> protocol_names();

// The replica counts `protocol` supports, in words ("n >= 2 ..."); validation refuses the
// others at /nodes. Every n supported with f = floor((n-1)/3).
std::string replica_counts(const std::string& protocol);

// The seeded bugs `/protocol/mutations` may switch on for `protocol` (empty if none).
std::vector<std::string> mutation_names(const std::string& protocol);
// The mutations that change what `spec` runs: a protocol variant runs only some of them (basic
// HotStuff has no 3-chain commit rule to break). What `byzsim hunt` sweeps.
std::vector<std::string> mutation_names(const sim::ScenarioSpec& spec);

// Checks what the engine's parser leaves to the protocol; throws sim::ScenarioError. With a
// randomize section, each behaviour it may draw is checked too (at its path there).
void validate(const sim::ScenarioSpec& spec);

// The concrete scenario seed `seed` runs: drawn from the randomize section if there is one
// (with the protocol's first leader for "isolate_leader"), else `spec` with that seed.
sim::ScenarioSpec concrete_scenario(const sim::ScenarioSpec& spec, std::uint64_t seed);
nlohmann::json concrete_document(const sim::ScenarioSpec& spec, std::uint64_t seed);

// Builds the simulator with every actor added. Calls validate() first. PBFT and HotStuff
// replicas run the service `app` makes (LogChain when empty).
std::unique_ptr<sim::Simulator> build(const sim::ScenarioSpec& spec, sim::SimOptions opts = {},
                                      const proto::AppFactory& app = {});

}  // namespace protocols
