#include "tools/compare_loops.hpp"

#include <fmt/format.h>

#include "protocols/registry.hpp"
#include "sim/scenario.hpp"

namespace tools {

namespace {

LoopRow measure(const std::string& coordination, const sim::RunResult& r) {
    LoopRow row;
    row.coordination = coordination;
    row.outcome = r.violation ? r.violation->invariant : "safe";
    for (std::size_t k = 0; k < r.kind_names.size(); ++k) row.messages += r.total_for_kind(k).sent;
    const nlohmann::json m = r.system();
    if (!m.is_object()) return row;
    row.actions = m["actions"].get<std::uint64_t>();
    row.false_actions = m["false_actions"].get<std::uint64_t>();
    row.suppressed = m["suppressed_anomalies"].get<std::uint64_t>();
    row.divergent = m["knowledge"]["divergent_nodes"].get<std::uint64_t>();
    double total = 0;
    for (const auto& a : m["anomalies"]) {
        ++row.anomalies;
        if (!a["time_to_mitigate_ns"].is_number()) continue;
        ++row.mitigated;
        total += static_cast<double>(a["time_to_mitigate_ns"].get<std::int64_t>()) / 1e6;
    }
    if (row.mitigated > 0) row.mitigate_ms = total / static_cast<double>(row.mitigated);
    return row;
}

std::string mitigate_text(const LoopRow& r) {
    return r.mitigate_ms ? fmt::format("{:.1f}", *r.mitigate_ms) : std::string("-");
}

}  // namespace

std::vector<LoopRow> compare_loops(const nlohmann::json& scenario,
                                   const std::vector<std::string>& coordinations) {
    std::vector<LoopRow> rows;
    for (const std::string& c : coordinations) {
        nlohmann::json doc = scenario;
        doc["mapek"]["coordination"] = c;
        doc.erase("expect");
        const sim::ScenarioSpec spec = sim::parse_scenario(doc);
        auto s = protocols::build(spec);
        rows.push_back(measure(c, s->run()));
    }
    return rows;
}

std::string loops_csv(const std::vector<LoopRow>& rows) {
    std::string out =
        "coordination,outcome,actions,false_actions,suppressed_anomalies,divergent_nodes,"
        "anomalies,mitigated,mitigate_ms,messages\n";
    for (const LoopRow& r : rows)
        out += fmt::format("{},{},{},{},{},{},{},{},{},{}\n", r.coordination, r.outcome, r.actions,
                           r.false_actions, r.suppressed, r.divergent, r.anomalies, r.mitigated,
                           r.mitigate_ms ? fmt::format("{:.3f}", *r.mitigate_ms) : "", r.messages);
    return out;
}

std::string loops_table(const std::vector<LoopRow>& rows) {
    std::string out = fmt::format("{:<13}{:<20}{:>8}{:>8}{:>12}{:>10}{:>11}{:>14}{:>10}\n",
                                  "coordination", "outcome", "actions", "false", "suppressed",
                                  "diverged", "mitigated", "mitigate ms", "messages");
    for (const LoopRow& r : rows)
        out += fmt::format("{:<13}{:<20}{:>8}{:>8}{:>12}{:>10}{:>11}{:>14}{:>10}\n", r.coordination,
                           r.outcome, r.actions, r.false_actions, r.suppressed, r.divergent,
                           fmt::format("{}/{}", r.mitigated, r.anomalies), mitigate_text(r),
                           r.messages);
    return out;
}

}  // namespace tools
