// What every protocol's Byzantine strategies share: reading the scenario's "byzantine" entries.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "sim/scenario.hpp"

namespace proto {

// The position of f.behavior in `names`; an unknown name is a ScenarioError at its JSON path.
inline std::size_t behavior_index(const sim::FaultSpec& f, const std::vector<std::string>& names,
                                  const char* protocol) {
    auto it = std::find(names.begin(), names.end(), f.behavior);
    if (it != names.end()) return static_cast<std::size_t>(it - names.begin());
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    throw sim::ScenarioError(
        f.path + "/behavior",
        fmt::format("unknown {} behaviour '{}'; expected one of: {}", protocol, f.behavior, list));
}

// Every "byzantine" entry, parsed by `parse(entry, spec)` and grouped by replica.
template <class Parse>
auto behaviors_by_node(const sim::ScenarioSpec& spec, Parse parse) {
    using B = decltype(parse(spec.faults.front(), spec));
    std::vector<std::vector<B>> by_node(spec.nodes);
    for (const auto& f : spec.faults)
        if (f.type == sim::FaultSpec::Type::Byzantine) by_node[f.node].push_back(parse(f, spec));
    return by_node;
}

}  // namespace proto
