// What a MAPE-K run reports: report.json's "mapek" section and mapek.csv.
#include <algorithm>

#include <fmt/format.h>

#include "protocols/mapek/world.hpp"

namespace mapek {

namespace {

using nlohmann::json;

json time_or_null(const std::optional<SimTime>& t) {
    return t ? json(t->ns) : json(nullptr);
}

json since(const std::optional<SimTime>& t, SimTime from) {
    return t ? json(t->ns - from.ns) : json(nullptr);
}

const char* coordination_name(Coordination c) {
    switch (c) {
        case Coordination::Bft:
            return "bft";
        case Coordination::Local:
            return "local";
        case Coordination::Leader:
            return "leader";
    }
    return "?";
}

}  // namespace

json World::anomaly_report() const {
    json out = json::array();
    const auto& states = monitor_.anomalies();
    for (std::size_t i = 0; i < cfg_->anomalies.size(); ++i) {
        const AnomalySpec& a = cfg_->anomalies[i];
        const auto& s = states[i];
        // Mitigated: the first effect on its metric that landed while it lasted.
        std::optional<SimTime> mitigated;
        for (const Effect& e : effects_)
            if (e.workflow == a.workflow && e.metric == a.metric && e.at >= a.at &&
                e.at < a.until && e.at <= end_ && (!mitigated || e.at < *mitigated))
                mitigated = e.at;
        out.push_back({{"workflow", cfg_->workflows[a.workflow].name},
                       {"metric", kMetricNames[static_cast<std::size_t>(a.metric)]},
                       {"at_ns", a.at.ns},
                       {"observed_ns", time_or_null(s.observed)},
                       {"detected_ns", time_or_null(detected_[i])},
                       {"decided_ns", time_or_null(s.acted)},
                       {"mitigated_ns", time_or_null(mitigated)},
                       {"time_to_detect_ns", since(detected_[i], a.at)},
                       {"time_to_decide_ns", since(s.acted, a.at)},
                       {"time_to_mitigate_ns", since(mitigated, a.at)},
                       {"suppressed", s.suppressed}});
    }
    return out;
}

json World::detection_report() const {
    std::uint32_t marked = 0, right = 0, faulty = 0;
    json nodes = json::array();
    for (std::uint32_t i = 0; i < cfg_->n; ++i) {
        faulty += faulty_[i] ? 1 : 0;
        if (marked_[i] == Mark::None) continue;
        ++marked;
        right += faulty_[i] ? 1 : 0;
        nodes.push_back(
            {{"node", i}, {"mark", marked_[i] == Mark::Byzantine ? "byzantine" : "suspected"}});
    }
    // With nothing marked, precision is 1 (no false mark); with no faulty node, recall is 1.
    const double precision = marked ? static_cast<double>(right) / marked : 1.0;
    const double recall = faulty ? static_cast<double>(right) / faulty : 1.0;
    return {{"marked", nodes}, {"precision", precision}, {"recall", recall}};
}

json World::knowledge_report() const {
    json digests = json::array();
    std::uint32_t divergent = 0;
    std::optional<sim::Digest> first;
    for (std::uint32_t i = 0; i < cfg_->n; ++i) {
        digests.push_back(fmt::format("{:016x}", knowledge_[i].v));
        if (i >= honest_.size() || !honest_[i]) continue;
        if (cfg_->coordination == Coordination::Bft) {
            divergent += diverged_[i] ? 1 : 0;
        } else if (!first) {
            first = knowledge_[i];
        } else {
            divergent += knowledge_[i] != *first ? 1 : 0;
        }
    }
    // The actions the knowledge base holds, with the outcome the loop measured for each.
    json actions = json::array();
    for (const KnowledgeBase::Record& r : kb_.records()) {
        const double period_ms = static_cast<double>(cfg_->sample_period.ns) / 1e6;
        actions.push_back({{"workflow", cfg_->workflows[r.workflow].name},
                           {"action", cfg_->actions[r.action].name},
                           {"round", r.round},
                           {"aggregate", r.aggregate},
                           {"proposer", r.proposer},
                           {"cleared_round", r.cleared ? json(r.cleared) : json(nullptr)},
                           {"time_to_clear_ms",
                            r.cleared ? json(static_cast<double>(r.cleared - r.round) * period_ms)
                                      : json(nullptr)}});
    }
    return {{"divergent_nodes", divergent}, {"digests", digests}, {"actions", actions}};
}

json World::report() const {
    std::uint64_t suppressed = 0;
    for (const auto& s : monitor_.anomalies()) suppressed += s.suppressed ? 1 : 0;
    std::uint64_t redundant = 0, actions = 0, false_actions = 0;
    for (const Row& r : rows_) {
        redundant += r.outcome == Outcome::Redundant ? 1 : 0;
        actions += r.outcome == Outcome::Executed ? 1 : 0;
        false_actions += r.false_action ? 1 : 0;
    }
    return {{"coordination", coordination_name(cfg_->coordination)},
            {"consensus", cfg_->consensus},
            {"rounds", end_.ns / cfg_->sample_period.ns},
            {"actions", actions},
            {"false_actions", false_actions},
            {"suppressed_anomalies", suppressed},
            {"redundant_decisions", redundant},
            {"anomalies", anomaly_report()},
            {"knowledge", knowledge_report()},
            {"detection", detection_report()}};
}

std::map<std::string, std::string> World::csv_files() const {
    std::string csv =
        "index,time_ns,node,workflow,metric,action,round,aggregate,readings,outcome,committed,"
        "false_action\n";
    for (const Row& r : rows_) {
        const Decision& d = r.decision;
        const bool known = d.workflow < cfg_->workflows.size() && d.action < cfg_->actions.size();
        csv += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{}\n", r.index, r.at.ns, r.node,
                           known ? cfg_->workflows[d.workflow].name : "?",
                           kMetricNames[static_cast<std::size_t>(d.metric)],
                           known ? cfg_->actions[d.action].name : "?", d.round, d.aggregate,
                           r.readings, kOutcomeNames[static_cast<std::size_t>(r.outcome)],
                           r.committed ? 1 : 0, r.false_action ? 1 : 0);
    }
    return {{"mapek.csv", csv}};
}

}  // namespace mapek
