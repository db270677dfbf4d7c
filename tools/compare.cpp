#include "tools/compare.hpp"

#include <fmt/format.h>

#include "protocols/common/client_messages.hpp"
#include "protocols/registry.hpp"
#include "reports/report.hpp"
#include "sim/scenario.hpp"

namespace tools {

namespace {

CompareRow measure(const std::string& protocol, std::uint32_t n, const sim::RunResult& r,
                   std::uint32_t f) {
    CompareRow row;
    row.protocol = protocol;
    row.n = n;
    row.f = f;
    row.outcome = r.violation ? r.violation->invariant : "safe";
    row.requests = r.accepted;
    // Decisions: what the most advanced replica executed (every slot or block, empty ones too).
    for (std::uint32_t i = 0; i < r.replicas; ++i)
        row.decisions = std::max(row.decisions, r.commits_per_node[i]);
    for (std::size_t k = proto::kFirstProtocolKind; k < r.kind_names.size(); ++k) {
        const sim::KindCounters c = r.total_for_kind(k);
        row.messages += c.sent;
        row.bytes += c.bytes;
    }
    if (row.decisions > 0) {
        row.messages_per_decision = static_cast<double>(row.messages) / row.decisions;
        row.bytes_per_decision = static_cast<double>(row.bytes) / row.decisions;
    }
    const auto p = reports::percentiles(r.latencies_ns);
    row.latency_p50_ms = static_cast<double>(p.p50) / 1e6;
    row.latency_p99_ms = static_cast<double>(p.p99) / 1e6;
    if (r.end_time.ns > 0)
        row.decisions_per_s = static_cast<double>(row.decisions) * 1e9 / r.end_time.ns;
    return row;
}

}  // namespace

std::vector<CompareRow> compare(const nlohmann::json& scenario,
                                const std::vector<std::string>& protocols,
                                const std::vector<std::uint32_t>& sizes) {
    std::vector<CompareRow> rows;
    for (const auto& protocol : protocols) {
        for (std::uint32_t n : sizes) {
            nlohmann::json doc = scenario;
            doc["protocol"] = {{"name", protocol}};
            doc["nodes"] = n;
            doc.erase("f");
            doc.erase("allow_unsafe_f");
            doc.erase("expect");
            if (doc.contains("faults")) {
                nlohmann::json kept = nlohmann::json::array();
                // Behaviours and overrides are one protocol's; the others would refuse them.
                for (const auto& f : doc["faults"]) {
                    const std::string type = f.value("type", "");
                    if (type != "byzantine" && type != "params") kept.push_back(f);
                }
                doc["faults"] = kept;
            }
            const sim::ScenarioSpec spec = sim::parse_scenario(doc);
            sim::SimOptions opts;
            opts.keep_request_rows = false;
            auto s = protocols::build(spec, opts);
            rows.push_back(measure(protocol, n, s->run(), spec.f));
        }
    }
    return rows;
}

std::string compare_csv(const std::vector<CompareRow>& rows) {
    std::string out =
        "protocol,n,f,outcome,decisions,requests,messages,bytes,messages_per_decision,"
        "bytes_per_decision,latency_p50_ms,latency_p99_ms,decisions_per_s\n";
    for (const auto& r : rows)
        out += fmt::format("{},{},{},{},{},{},{},{},{:.3f},{:.1f},{:.3f},{:.3f},{:.3f}\n",
                           r.protocol, r.n, r.f, r.outcome, r.decisions, r.requests, r.messages,
                           r.bytes, r.messages_per_decision, r.bytes_per_decision, r.latency_p50_ms,
                           r.latency_p99_ms, r.decisions_per_s);
    return out;
}

std::string compare_table(const std::vector<CompareRow>& rows) {
    std::string out =
        fmt::format("{:<10} {:>4} {:>3} {:>8} {:>10} {:>12} {:>10} {:>10} {:>12}\n", "protocol",
                    "n", "f", "outcome", "msgs/dec", "bytes/dec", "p50 ms", "p99 ms", "dec/s");
    for (const auto& r : rows)
        out += fmt::format(
            "{:<10} {:>4} {:>3} {:>8} {:>10.2f} {:>12.1f} {:>10.3f} {:>10.3f} "
            "{:>12.2f}\n",
            r.protocol, r.n, r.f, r.outcome, r.messages_per_decision, r.bytes_per_decision,
            r.latency_p50_ms, r.latency_p99_ms, r.decisions_per_s);
    return out;
}

}  // namespace tools
