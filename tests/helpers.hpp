// Shared test helpers: build a scenario from JSON text and run it.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "protocols/registry.hpp"
#include "sim/scenario.hpp"
#include "sim/simulator.hpp"

namespace testing {

inline sim::ScenarioSpec spec_from(const nlohmann::json& doc) {
    return sim::parse_scenario(doc);
}

// A fault-free PBFT scenario with fixed delay d = 1ms, one closed-loop client.
inline nlohmann::json pbft_base(std::uint32_t n, std::uint64_t requests) {
    return {{"name", "test"},
            {"nodes", n},
            {"protocol", {{"name", "pbft"}}},
            {"network", {{"delay", "1ms"}}},
            {"workload", {{"clients", 1}, {"requests", requests}}},
            {"stop", {{"at", "60s"}}}};
}

// A fault-free chained (or basic) HotStuff scenario with fixed delay d = 1ms.
inline nlohmann::json hotstuff_base(std::uint32_t n, std::uint64_t requests, std::uint32_t clients,
                                    const char* variant = "chained") {
    return {{"name", "test"},
            {"nodes", n},
            {"protocol", {{"name", "hotstuff"}, {"variant", variant}}},
            {"network", {{"delay", "1ms"}}},
            {"workload", {{"clients", clients}, {"requests", requests}}},
            {"stop", {{"at", "60s"}}}};
}

struct Run {
    std::unique_ptr<sim::Simulator> sim;
    const sim::RunResult* result = nullptr;
};

inline Run run(const nlohmann::json& doc, sim::SimOptions opts = {}) {
    Run r;
    r.sim = protocols::build(spec_from(doc), opts);
    r.result = &r.sim->run();
    return r;
}

inline std::uint64_t sent(const sim::RunResult& r, const char* kind) {
    for (std::size_t k = 0; k < r.kind_names.size(); ++k)
        if (r.kind_names[k] == kind) return r.total_for_kind(k).sent;
    return ~0ULL;
}

}  // namespace testing
