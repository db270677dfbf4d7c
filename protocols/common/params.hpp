// Reading a protocol's or behaviour's JSON parameters with the scenario's error conventions:
// every problem is a sim::ScenarioError naming the JSON path.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/scenario.hpp"

namespace proto {

class Params {
public:
    // `obj` must be an object; keys not in `allowed` are refused.
    Params(const nlohmann::json& obj, std::string path, std::initializer_list<const char*> allowed);

    std::uint64_t uint(const char* key, std::uint64_t def, std::uint64_t lo,
                       std::uint64_t hi) const;
    double number(const char* key, double def, double lo, double hi) const;
    sim::SimTime duration(const char* key, sim::SimTime def) const;
    bool boolean(const char* key, bool def) const;
    std::string string(const char* key, const std::string& def,
                       std::initializer_list<const char*> choices) const;
    // A list of replica indices below `n`.
    std::vector<std::uint32_t> nodes(const char* key, std::uint32_t n) const;
    // A list of distinct names, each one of `choices`; returns their positions in `choices`.
    // `what` names an element in messages ("mutation").
    std::vector<std::size_t> names(const char* key, const std::vector<std::string>& choices,
                                   const char* what) const;
    bool has(const char* key) const { return obj_.contains(key); }
    std::string at(const char* key) const { return path_ + "/" + key; }

private:
    const nlohmann::json& obj_;
    std::string path_;
};

// A behaviour's "script" (its params' one key): a non-empty array of at most 4096 steps, each
// read by `read(step, path)` into a Step with a `view`, in increasing views. `shape` names the
// step's keys in the message for a missing or empty list.
template <class Step, class Read>
std::vector<Step> read_script(const sim::FaultSpec& f, const char* shape, Read read) {
    const Params p(f.params, f.path + "/params", {"script"});
    const std::string at = p.at("script");
    const nlohmann::json* list = p.has("script") ? &f.params.at("script") : nullptr;
    if (!list || !list->is_array() || list->empty())
        throw sim::ScenarioError(at, std::string("required: a non-empty array of steps ") + shape);
    if (list->size() > 4096) throw sim::ScenarioError(at, "at most 4096 steps");
    std::vector<Step> steps;
    for (std::size_t i = 0; i < list->size(); ++i) {
        const std::string step_at = at + "/" + std::to_string(i);
        steps.push_back(read((*list)[i], step_at));
        if (steps.size() > 1 && steps.back().view <= steps[steps.size() - 2].view)
            throw sim::ScenarioError(step_at + "/view", "views must increase");
    }
    return steps;
}

// A key that must be the same at every replica, so one replica's override may not name it.
struct SharedKey {
    const char* key;
    const char* why;  // the reason, quoted in the refusal
};

// Refuses the first key of `shared` that `obj` (one replica's overrides at `path`) holds.
void refuse_shared_keys(const nlohmann::json& obj, const std::string& path,
                        std::initializer_list<SharedKey> shared);

// Each replica's configuration: `base` for every one, then each "params" entry of the fault
// timeline (one replica's protocol overrides) read over its replica's copy by
// `read(Params, Config&)`, which must take the copy's values as defaults. The overrides are
// checked by themselves at the entry's path: keys against `allowed` (the protocol's whole
// list, so a misspelling gets the usual message), then against `shared`.
template <class Config, class Read>
std::vector<Config> replica_configs(const sim::ScenarioSpec& spec, const Config& base,
                                    std::initializer_list<const char*> allowed,
                                    std::initializer_list<SharedKey> shared, Read read) {
    std::vector<Config> out(spec.nodes, base);
    for (const sim::FaultSpec& f : spec.faults) {
        if (f.type != sim::FaultSpec::Type::Params) continue;
        const std::string path = f.path + "/params";
        const Params p(f.params, path, allowed);
        refuse_shared_keys(f.params, path, shared);
        read(p, out[f.node]);
    }
    return out;
}

}  // namespace proto
