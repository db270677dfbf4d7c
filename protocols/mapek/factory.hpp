// A MAPE-K system (scenario "system": "mapek"): the consensus replicas running the knowledge
// base, one agent per node as their client, and the world of workflows they watch.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "protocols/mapek/config.hpp"
#include "protocols/protocol.hpp"
#include "sim/simulator.hpp"

namespace mapek {

class DecodeMemo;

struct System {
    std::shared_ptr<const Config> cfg;
    protocols::Protocol consensus;  // its kind table ends with READING
    std::uint16_t reading_kind = 0;
    // One memo for the run's replicas and the world: each decodes what another decoded before.
    std::shared_ptr<DecodeMemo> memo;
};

// Validates the "mapek" section, its lies and the consensus under it (the lies and the loop's
// mutations taken out); throws sim::ScenarioError with the JSON path.
System assemble(const sim::ScenarioSpec& spec);
std::unique_ptr<sim::Simulator> build(const sim::ScenarioSpec& spec, sim::SimOptions opts);
std::vector<std::string> mutation_names();

}  // namespace mapek
