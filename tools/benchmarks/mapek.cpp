// MAPE-K benchmark: a loop over PBFT or HotStuff watching 8 workflows, each hit by a latency
// spike every 2 virtual seconds (staggered), fault-free on 1ms links; and two plain runs of the
// same protocol: one ordering as many commands at the loop's own rate (open loop, the same
// virtual time: what ordering those commands costs without the loop around them), and one at
// full throughput (closed loop: batched, the protocol's cheapest command). Prints one JSON
// line: MAPE-K rounds per wall second, decision latency (virtual, a decision's request from
// first send to f+1 replies), and the wall time and protocol messages per committed command
// of each run (medians), with the loop's ratios to both (medians of runs taken in turn).
//   bench_mapek --protocol pbft --nodes 16 [--seconds 20] [--repetitions 3] [--only loop|paced]
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "protocols/common/client_messages.hpp"
#include "protocols/registry.hpp"

namespace po = boost::program_options;
using nlohmann::json;

namespace {

struct Options {
    std::string protocol = "pbft";
    std::uint32_t nodes = 4;
    std::uint32_t seconds = 20;
    std::uint32_t repetitions = 3;
    std::string only;  // "loop" or "paced": that run alone, `repetitions` times (for a profiler)
};

json protocol_section(const Options& o) {
    return o.protocol == "hotstuff" ? json{{"name", "hotstuff"}, {"clients_send_to", "all"}}
                                    : json{{"name", "pbft"}};
}

sim::ScenarioSpec mapek_scenario(const Options& o) {
    json workflows = json::array(), anomalies = json::array();
    for (int w = 0; w < 8; ++w) {
        const std::string name = fmt::format("w{}", w);
        workflows.push_back({{"name", name}, {"latency", 100000}});
        for (std::int64_t at = 1000 + 250 * w; at + 1000 < o.seconds * 1000LL; at += 2000)
            anomalies.push_back({{"workflow", name},
                                 {"at", fmt::format("{}ms", at)},
                                 {"until", fmt::format("{}ms", at + 1000)},
                                 {"magnitude", 4}});
    }
    const json doc = {
        {"name", fmt::format("bench-mapek-{}-n{}", o.protocol, o.nodes)},
        {"nodes", o.nodes},
        {"system", "mapek"},
        {"protocol", protocol_section(o)},
        {"mapek",
         {{"consensus", o.protocol},
          {"workflows", workflows},
          {"anomalies", anomalies},
          {"actions",
           {{{"name", "scale_out"},
             {"metric", "latency"},
             {"threshold", 200000},
             {"delay", "300ms"}}}}}},
        {"network", {{"delay", "1ms"}}},
        {"stop", {{"at", fmt::format("{}s", o.seconds)}}},
    };
    return sim::parse_scenario(doc);
}

// `rate` 0: a closed loop of 8 clients; else an open loop at `rate` requests per second.
sim::ScenarioSpec plain_scenario(const Options& o, std::uint64_t requests, std::uint64_t rate) {
    json workload = {{"clients", 8}, {"requests", requests}};
    if (rate > 0) {
        workload["mode"] = "open";
        workload["rate"] = rate;
    }
    const json doc = {
        {"name", fmt::format("bench-plain-{}-n{}", o.protocol, o.nodes)},
        {"nodes", o.nodes},
        {"protocol", protocol_section(o)},
        {"network", {{"delay", "1ms"}}},
        {"workload", workload},
        {"stop", {{"at", "1000m"}}},
    };
    return sim::parse_scenario(doc);
}

struct Measured {
    double wall_s = 0;
    std::uint64_t accepted = 0, consensus_messages = 0;
    std::int64_t latency_p50_ns = 0;
    std::uint64_t rounds = 0, actions = 0;
    bool safe = false;
};

Measured run_once(const sim::ScenarioSpec& spec) {
    auto s = protocols::build(spec);
    const auto start = std::chrono::steady_clock::now();
    const sim::RunResult& r = s->run();
    Measured m;
    m.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    m.accepted = r.accepted;
    m.safe = !r.violation;
    // The protocol's own messages: not REQUEST, REPLY or the agents' READINGs.
    for (std::size_t k = proto::kFirstProtocolKind; k < r.kind_names.size(); ++k)
        if (r.kind_names[k] != "READING") m.consensus_messages += r.total_for_kind(k).sent;
    std::vector<std::int64_t> lat = r.latencies_ns;
    if (!lat.empty()) {
        std::nth_element(lat.begin(), lat.begin() + lat.size() / 2, lat.end());
        m.latency_p50_ns = lat[lat.size() / 2];
    }
    // The loop's report is made after the timed run, as a plain run's is.
    if (const nlohmann::json system = r.system(); system.is_object()) {
        m.rounds = system["rounds"].get<std::uint64_t>();
        m.actions = system["actions"].get<std::uint64_t>();
    }
    return m;
}

// The run of median wall time.
Measured median_of(std::vector<Measured> runs) {
    std::sort(runs.begin(), runs.end(),
              [](const Measured& a, const Measured& b) { return a.wall_s < b.wall_s; });
    return runs[runs.size() / 2];
}

double median_of(std::vector<double> xs) {
    std::sort(xs.begin(), xs.end());
    return xs[xs.size() / 2];
}

double per(double x, std::uint64_t n) {
    return n ? x / static_cast<double>(n) : 0.0;
}

json costs(const Measured& m) {
    return {{"wall_us_per_command", per(m.wall_s * 1e6, m.accepted)},
            {"messages_per_command", per(static_cast<double>(m.consensus_messages), m.accepted)},
            {"commands", m.accepted},
            {"safe", m.safe}};
}

double ratio(const json& a, const json& b, const char* key) {
    return a.at(key).get<double>() / b.at(key).get<double>();
}

// Wall time per command of `a` over `b`'s.
double wall_ratio(const Measured& a, const Measured& b) {
    return per(a.wall_s, a.accepted) / per(b.wall_s, b.accepted);
}

int bench(const Options& o) {
    const sim::ScenarioSpec loop_spec = mapek_scenario(o);
    // A first run of the loop gives its rate (and warms the allocator up).
    const std::uint64_t loop_commands = run_once(loop_spec).accepted;
    const std::uint64_t rate = std::max<std::uint64_t>(1, loop_commands / o.seconds);
    const sim::ScenarioSpec paced_spec = plain_scenario(o, loop_commands, rate);
    // A few thousand commands: enough to time, as short as the loop's.
    const sim::ScenarioSpec full_spec = plain_scenario(o, o.nodes >= 64 ? 400 : 4000, 0);
    if (!o.only.empty()) {
        for (std::uint32_t i = 0; i < o.repetitions; ++i)
            run_once(o.only == "loop" ? loop_spec : paced_spec);
        return 0;
    }
    // The three runs take turns, so that a change in the machine's load between them reaches
    // each pair's ratio less; the ratios are medians of the pairs'.
    std::vector<Measured> loops, paceds, fulls;
    std::vector<double> to_paced, to_full;
    for (std::uint32_t i = 0; i < o.repetitions; ++i) {
        loops.push_back(run_once(loop_spec));
        paceds.push_back(run_once(paced_spec));
        fulls.push_back(run_once(full_spec));
        to_paced.push_back(wall_ratio(loops.back(), paceds.back()));
        to_full.push_back(wall_ratio(loops.back(), fulls.back()));
    }
    const Measured loop = median_of(loops), paced = median_of(paceds), full = median_of(fulls);
    const json mine = costs(loop), same_rate = costs(paced), throughput = costs(full);
    const json out = {
        {"benchmark", "mapek"},
        {"protocol", o.protocol},
        {"nodes", o.nodes},
        {"virtual_s", o.seconds},
        {"safe", loop.safe && paced.safe && full.safe},
        {"rounds", loop.rounds},
        {"rounds_per_wall_s", per(static_cast<double>(loop.rounds), 1) / loop.wall_s},
        {"actions", loop.actions},
        {"committed_decisions", loop.accepted},
        {"decision_latency_p50_ms", static_cast<double>(loop.latency_p50_ns) / 1e6},
        {"mapek", mine},
        {"plain_same_rate", same_rate},
        {"plain_throughput", throughput},
        {"ratio_wall", median_of(to_paced)},
        {"ratio_messages", ratio(mine, same_rate, "messages_per_command")},
        {"ratio_wall_to_throughput", median_of(to_full)},
        {"ratio_messages_to_throughput", ratio(mine, throughput, "messages_per_command")},
    };
    std::cout << out.dump() << "\n";
    return loop.safe && paced.safe && full.safe ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    po::options_description options("bench_mapek [options]");
    options.add_options()("help,h", "this help")(
        "protocol", po::value(&o.protocol)->default_value(o.protocol), "pbft or hotstuff")(
        "nodes", po::value(&o.nodes)->default_value(o.nodes), "replicas (4 to 64)")(
        "seconds", po::value(&o.seconds)->default_value(o.seconds), "virtual seconds")(
        "repetitions", po::value(&o.repetitions)->default_value(o.repetitions), "runs of each")(
        "only", po::value(&o.only), "loop or paced: run that alone (for a profiler)");
    try {
        po::variables_map vm;
        po::store(po::parse_command_line(argc, argv, options), vm);
        if (vm.count("help")) {
            std::cout << options << "\n";
            return 0;
        }
        po::notify(vm);
        if (o.protocol != "pbft" && o.protocol != "hotstuff")
            throw po::error("unknown protocol '" + o.protocol + "'; expected pbft or hotstuff");
        if (!o.only.empty() && o.only != "loop" && o.only != "paced")
            throw po::error("--only loop or --only paced");
        if (o.nodes < 4 || o.nodes > 64 || o.seconds < 4 || o.seconds > 600 || o.repetitions < 1)
            throw po::error("--nodes 4..64, --seconds 4..600, --repetitions at least 1");
        return bench(o);
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 2;
    }
}
