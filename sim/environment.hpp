// The world outside the replicated protocol, which nodes observe and act on: a MAPE-K system's
// workflows. The engine owns it; actors reach it only through Context::environment(), and it
// hears every honest replica's commits, as the checker does. It may hold monitors of its own:
// a finding it returns stops the run as a violation, like the checker's.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/actor.hpp"
#include "sim/crypto.hpp"
#include "sim/monitor.hpp"

namespace sim {

class Environment {
public:
    virtual ~Environment() = default;
    // Which replicas are honest, and the run's keys (the engine tells it once every node is
    // added).
    virtual void set_run(const std::vector<bool>& honest, const KeyRing* keys) = 0;
    // An honest replica executed a slot.
    virtual std::optional<Finding> on_commit(SimTime now, std::uint32_t replica,
                                             const CommitRecord& rec) = 0;
    // A replica holds proof that `culprit` misbehaved (the protocol's equivocation evidence).
    virtual void on_evidence(std::uint32_t culprit) { (void)culprit; }
    // After every event.
    virtual std::optional<Finding> on_step(SimTime now) = 0;
    // The run ended at `now` with no violation so far: deadlines before it are checked.
    virtual std::optional<Finding> finish(SimTime now) = 0;
    // Its section of report.json, and its CSV files by name, once the run ended.
    virtual nlohmann::json report() const = 0;
    virtual std::map<std::string, std::string> csv_files() const { return {}; }
};

}  // namespace sim
