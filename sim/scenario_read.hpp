// Internal to the scenario parser: the readers that sim/scenario.cpp and the other
// sim/scenario_*.cpp files share. Each throws ScenarioError naming the JSON path.
#pragma once

#include <string>

#include "sim/json_read.hpp"
#include "sim/scenario.hpp"

namespace sim {

// The link properties a fault or link entry may set.
extern const jsonr::Keys kLinkProps;

// A duration ("5ms") or a delay object with "dist".
DelaySpec read_delay(const nlohmann::json& v, const std::string& path);
// Overrides the link properties present in `o`; returns how many were given.
int read_link_props(const jsonr::Fields& o, LinkSpec& spec);
// A round number or an inclusive range [lo, hi].
RoundRange read_round_range(const nlohmann::json& v, const std::string& path);
// A rule's "match" and "action" (the entry `o` starts at `at`).
RuleSpec read_rule(const jsonr::Fields& o, const ScenarioSpec& s, SimTime at);
// Reads "/faults" into s.faults, sorted by time, with crashes and recoveries alternating.
void read_faults(const nlohmann::json& v, ScenarioSpec& s);
// Reads "/expect".
void read_expect(const nlohmann::json& v, ExpectSpec& e);

}  // namespace sim
