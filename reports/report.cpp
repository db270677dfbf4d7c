#include "reports/report.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace reports {

namespace {

using nlohmann::json;

// The smallest value with at least `pct` percent of the sorted values at or below it.
std::int64_t nearest_rank(const std::vector<std::int64_t>& sorted, std::size_t pct) {
    const std::size_t rank = std::max<std::size_t>(1, (pct * sorted.size() + 99) / 100);
    return sorted[rank - 1];
}

std::string_view role_of(std::uint32_t node, std::uint32_t replicas) {
    return node < replicas ? "replica" : "client";
}

const sim::KindCounters& counters_at(const sim::RunResult& r, std::size_t node, std::size_t kind) {
    return r.counters[node * r.kind_names.size() + kind];
}

sim::KindCounters node_total(const sim::RunResult& r, std::size_t node) {
    sim::KindCounters t;
    for (std::size_t k = 0; k < r.kind_names.size(); ++k) {
        const sim::KindCounters& c = counters_at(r, node, k);
        t.sent += c.sent;
        t.delivered += c.delivered;
        t.dropped += c.dropped;
        t.corrupted += c.corrupted;
    }
    return t;
}

bool any(const sim::KindCounters& c) {
    return c.sent != 0 || c.delivered != 0 || c.dropped != 0 || c.corrupted != 0;
}

json counters_json(const sim::KindCounters& c) {
    return {{"sent", c.sent},
            {"delivered", c.delivered},
            {"dropped", c.dropped},
            {"corrupted", c.corrupted}};
}

json messages_json(const sim::RunResult& r, std::uint32_t replicas) {
    json by_type = json::object();
    for (std::size_t k = 0; k < r.kind_names.size(); ++k)
        by_type[r.kind_names[k]] = counters_json(r.total_for_kind(k));
    json by_node = json::array();
    for (std::uint32_t n = 0; n < r.nodes_total; ++n) {
        json row = counters_json(node_total(r, n));
        row["node"] = n;
        row["role"] = role_of(n, replicas);
        by_node.push_back(std::move(row));
    }
    json drops = json::object();
    for (std::size_t why = 1; why < r.drops.size(); ++why)
        drops[sim::drop_reason_name(static_cast<sim::DropReason>(why))] = r.drops[why];
    return {{"by_type", std::move(by_type)},       {"by_node", std::move(by_node)},
            {"drops_by_reason", std::move(drops)}, {"local", r.local_messages},
            {"held_by_rules", r.held_by_rules},    {"refused_by_bounds", r.refused},
            {"peak_held_by_tables", r.held}};
}

// Views entered after the initial one: each is one view change.
std::vector<std::pair<std::uint64_t, sim::SimTime>> view_changes(const sim::RunResult& r) {
    std::vector<std::pair<std::uint64_t, sim::SimTime>> out;
    for (const auto& v : r.views)
        if (v.first > 0) out.push_back(v);
    return out;
}

std::uint32_t replica_count(const sim::ScenarioSpec& spec, const sim::RunResult& r) {
    return std::min(spec.nodes, r.nodes_total);
}

std::string ms(std::int64_t ns) {
    return fmt::format("{:.3f}ms", static_cast<double>(ns) / 1e6);
}

std::string join_nodes(const std::vector<std::uint32_t>& nodes) {
    if (nodes.empty()) return "-";
    return fmt::format("{}", fmt::join(nodes, ", "));
}

// The replay commands, one per line, each under the same label column.
void append_replay(std::string& out, std::string_view label, std::string_view commands) {
    std::size_t start = 0;
    while (start <= commands.size()) {
        std::size_t end = commands.find("; ", start);
        if (end == std::string_view::npos) end = commands.size();
        out += fmt::format("{:<14}{}\n", label, commands.substr(start, end - start));
        label = "";
        start = end + 2;
    }
}

void append_violation(std::string& out, const sim::Violation& v) {
    out += fmt::format("{:<14}VIOLATION: {}\n", "outcome", v.invariant);
    out += fmt::format("{:<14}{}\n", "  detail", v.detail);
    out += fmt::format("{:<14}{} (event {})\n", "  at", sim::format_duration(v.time), v.event);
    out += fmt::format("{:<14}{}\n", "  nodes", join_nodes(v.nodes));
}

void append_messages(std::string& out, const sim::RunResult& r) {
    std::size_t width = 4;
    for (const auto& name : r.kind_names) width = std::max(width, name.size());
    out += fmt::format("{:<14}{:<{}}  {:>10}  {:>10}  {:>10}\n", "messages", "type", width, "sent",
                       "delivered", "dropped");
    for (std::size_t k = 0; k < r.kind_names.size(); ++k) {
        const sim::KindCounters c = r.total_for_kind(k);
        if (!any(c)) continue;
        out += fmt::format("{:<14}{:<{}}  {:>10}  {:>10}  {:>10}\n", "", r.kind_names[k], width,
                           c.sent, c.delivered, c.dropped);
    }
    out += fmt::format("{:<14}{} local (to self), not on the network\n", "", r.local_messages);
    if (!r.refused.empty()) {
        out += fmt::format("{:<14}", "refused");
        for (const auto& [table, n] : r.refused) out += fmt::format("{}={} ", table, n);
        out += "(by bounded tables of honest replicas)\n";
    }
    if (!r.held.empty()) {
        out += fmt::format("{:<14}", "held");
        for (const auto& [table, n] : r.held) out += fmt::format("{}={} ", table, n);
        out += "(the most one honest replica held in each table its peers fill)\n";
    }
}

}  // namespace

Percentiles percentiles(std::vector<std::int64_t> values) {
    Percentiles p;
    if (values.empty()) return p;
    std::sort(values.begin(), values.end());
    p.p50 = nearest_rank(values, 50);
    p.p90 = nearest_rank(values, 90);
    p.p99 = nearest_rank(values, 99);
    p.max = values.back();
    // Summed in double: exact up to 2^53 ns in total, and no overflow beyond.
    double sum = 0.0;
    for (std::int64_t v : values) sum += static_cast<double>(v);
    p.mean = sum / static_cast<double>(values.size());
    return p;
}

std::string fingerprint_hex(std::uint64_t fingerprint) {
    return fmt::format("{:016x}", fingerprint);
}

void write_atomic(const std::filesystem::path& file, std::string_view content) {
    if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path());
    std::filesystem::path tmp = file;
    tmp += ".tmp." + std::to_string(::getpid());
    const auto fail = [&](const char* what) {
        const int err = errno;
        ::unlink(tmp.c_str());
        throw std::system_error(err, std::generic_category(),
                                fmt::format("{} {}", what, tmp.string()));
    };
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) fail("cannot create");
    std::size_t done = 0;
    while (done < content.size()) {
        const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            ::close(fd);
            fail("cannot write");
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) {
        ::close(fd);
        fail("cannot fsync");
    }
    if (::close(fd) != 0) fail("cannot close");
    if (::rename(tmp.c_str(), file.c_str()) != 0) fail("cannot rename into place");
    // Make the rename itself durable; a directory that cannot be opened only costs durability.
    const std::filesystem::path dir = file.has_parent_path() ? file.parent_path() : ".";
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
}

json report_json(const sim::ScenarioSpec& spec, const sim::RunResult& r, const ReportMeta& meta) {
    const std::uint32_t replicas = replica_count(spec, r);
    json scenario = spec.source;
    if (scenario.is_object()) scenario["seed"] = meta.seed;

    json violations = json::array();
    if (r.violation) {
        const sim::Violation& v = *r.violation;
        violations.push_back({{"invariant", v.invariant},
                              {"detail", v.detail},
                              {"time_ns", v.time.ns},
                              {"event", v.event},
                              {"nodes", v.nodes}});
    }
    const Percentiles lat = percentiles(r.latencies_ns);
    json views = json::array();
    const auto changes = view_changes(r);
    for (const auto& [view, at] : changes) views.push_back({{"view", view}, {"time_ns", at.ns}});
    json states = json::array();
    for (std::uint32_t n = 0; n < replicas && n < r.states.size(); ++n)
        states.push_back({{"node", n}, {"state", sim::node_state_name(r.states[n])}});
    const auto commits_end =
        r.commits_per_node.begin() + std::min<std::size_t>(replicas, r.commits_per_node.size());

    json out = {
        {"version", meta.version},
        {"scenario", std::move(scenario)},
        {"scenario_file", meta.scenario_file},
        {"seed", meta.seed},
        {"outcome", r.violation ? "violation" : "safe"},
        {"violations", std::move(violations)},
        {"fingerprint", fingerprint_hex(r.fingerprint)},
        {"events", r.events},
        {"virtual_time_ns", r.end_time.ns},
        {"stop_reason", r.stop_reason},
        {"messages", messages_json(r, replicas)},
        {"commits_per_node", std::vector<std::uint64_t>(r.commits_per_node.begin(), commits_end)},
        {"requests", {{"issued", r.issued}, {"accepted", r.accepted}}},
        {"latency_ns",
         {{"p50", lat.p50},
          {"p90", lat.p90},
          {"p99", lat.p99},
          {"max", lat.max},
          {"mean", lat.mean}}},
        {"view_changes", {{"count", r.view_changes}, {"views", std::move(views)}}},
        {"node_states", std::move(states)},
        {"replay", meta.replay_command},
    };
    if (nlohmann::json system = r.system(); !system.is_null()) out[spec.system] = std::move(system);
    return out;
}

std::string requests_csv(const sim::RunResult& r) {
    std::string out = "client,submit_ns,commit_ns,latency_ns,view,sequence,timestamp\n";
    for (const sim::RequestRow& row : r.requests) {
        out += fmt::format("{},{},{},{},{},{},{}\n", row.client, row.submit.ns, row.commit.ns,
                           row.commit.ns - row.submit.ns, row.view, row.index, row.timestamp);
    }
    return out;
}

std::string messages_csv(const sim::RunResult& r, std::uint32_t replicas) {
    std::string out = "node,role,type,sent,delivered,dropped,corrupted\n";
    for (std::uint32_t n = 0; n < r.nodes_total; ++n) {
        for (std::size_t k = 0; k < r.kind_names.size(); ++k) {
            const sim::KindCounters& c = counters_at(r, n, k);
            if (!any(c)) continue;
            out += fmt::format("{},{},{},{},{},{},{}\n", n, role_of(n, replicas), r.kind_names[k],
                               c.sent, c.delivered, c.dropped, c.corrupted);
        }
    }
    return out;
}

namespace {

std::string since_ms(const json& v) {
    if (!v.is_number()) return "never";
    const std::int64_t ns = v.get<std::int64_t>();
    return ns < 0 ? fmt::format("-{}", ms(-ns)) : fmt::format("+{}", ms(ns));
}

// A MAPE-K run's own lines: its actions, each anomaly's timings, knowledge and detection.
void append_system(std::string& out, const json& m) {
    if (!m.is_object()) return;
    out += fmt::format(
        "{:<14}{} over {}: {} actions, {} false, {} suppressed anomalies, {} "
        "redundant decisions\n",
        "mapek", m["coordination"].get<std::string>(), m["consensus"].get<std::string>(),
        m["actions"].get<std::uint64_t>(), m["false_actions"].get<std::uint64_t>(),
        m["suppressed_anomalies"].get<std::uint64_t>(),
        m["redundant_decisions"].get<std::uint64_t>());
    std::size_t i = 0;
    for (const json& a : m["anomalies"]) {
        out += fmt::format("{:<14}{} {} at {}: detected {} decided {} mitigated {}{}\n",
                           fmt::format("  anomaly {}", i++), a["workflow"].get<std::string>(),
                           a["metric"].get<std::string>(),
                           sim::format_duration(sim::SimTime{a["at_ns"].get<std::int64_t>()}),
                           since_ms(a["time_to_detect_ns"]), since_ms(a["time_to_decide_ns"]),
                           since_ms(a["time_to_mitigate_ns"]),
                           a["suppressed"].get<bool>() ? " (suppressed)" : "");
    }
    const std::uint64_t divergent = m["knowledge"]["divergent_nodes"].get<std::uint64_t>();
    std::size_t cleared = 0;
    const json& actions = m["knowledge"]["actions"];
    for (const json& a : actions) cleared += a["cleared_round"].is_number() ? 1 : 0;
    out += fmt::format("{:<14}{}; {} of its {} actions measured cleared\n", "knowledge",
                       divergent == 0 ? std::string("identical on every honest node")
                                      : fmt::format("{} honest nodes diverge", divergent),
                       cleared, actions.size());
    std::string marked;
    for (const json& n : m["detection"]["marked"])
        marked +=
            fmt::format("r{}={} ", n["node"].get<std::uint32_t>(), n["mark"].get<std::string>());
    out += fmt::format("{:<14}marked {}precision {:.2f} recall {:.2f}\n", "detection",
                       marked.empty() ? std::string("none ") : marked,
                       m["detection"]["precision"].get<double>(),
                       m["detection"]["recall"].get<double>());
}

}  // namespace

std::string summary_text(const sim::ScenarioSpec& spec, const sim::RunResult& r,
                         const ReportMeta& meta) {
    const std::uint32_t replicas = replica_count(spec, r);
    std::string out;
    out += fmt::format("{:<14}{}\n", "seed", meta.seed);
    out += fmt::format("{:<14}{}\n", "version", meta.version);
    out += fmt::format("{:<14}{} ({})\n", "scenario", spec.name, meta.scenario_file);
    out += fmt::format("{:<14}{}  n={} f={}\n", "protocol", spec.protocol, spec.nodes, spec.f);
    if (r.violation) {
        append_violation(out, *r.violation);
    } else {
        out += fmt::format("{:<14}SAFE\n", "outcome");
    }
    out += fmt::format("{:<14}{}\n", "events", r.events);
    out += fmt::format("{:<14}{} (stop: {})\n", "virtual time", sim::format_duration(r.end_time),
                       r.stop_reason);
    out += fmt::format("{:<14}{}/{} accepted\n", "requests", r.accepted, r.issued);

    std::string commits;
    for (std::uint32_t n = 0; n < replicas && n < r.commits_per_node.size(); ++n)
        commits += fmt::format("{}r{}={}", n == 0 ? "" : " ", n, r.commits_per_node[n]);
    out += fmt::format("{:<14}{}\n", "commits", commits.empty() ? "-" : commits);

    const Percentiles lat = percentiles(r.latencies_ns);
    out += fmt::format("{:<14}p50 {}  p90 {}  p99 {}  max {}\n", "latency", ms(lat.p50),
                       ms(lat.p90), ms(lat.p99), ms(lat.max));
    append_messages(out, r);
    append_system(out, r.system());

    const auto changes = view_changes(r);
    std::string views;
    for (std::size_t k = 0; k < changes.size() && k < 8; ++k)
        views += fmt::format(" v{}@{}", changes[k].first, sim::format_duration(changes[k].second));
    if (changes.size() > 8) views += " ...";
    out += fmt::format("{:<14}{}{}\n", "view changes", r.view_changes, views);

    std::string states;
    for (std::uint32_t n = 0; n < replicas && n < r.states.size(); ++n)
        states += fmt::format("{}r{}={}", n == 0 ? "" : " ", n, sim::node_state_name(r.states[n]));
    out += fmt::format("{:<14}{}\n", "node states", states.empty() ? "-" : states);
    out += fmt::format("{:<14}{}\n", "fingerprint", fingerprint_hex(r.fingerprint));
    append_replay(out, "replay", meta.replay_command);
    return out;
}

}  // namespace reports
