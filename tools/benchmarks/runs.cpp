// Whole-run benchmarks: PBFT or HotStuff runs with every invariant and the fingerprint on (the
// engine's defaults), timed on the wall clock. Prints one JSON object on stdout.
//
//   bench_runs protocol --protocol pbft --nodes 4 --clients 8 --requests 60000 [--repetitions 3]
//       the median over the repetitions of wall seconds and of messages delivered, requests
//       accepted, commits (PBFT log slots, HotStuff blocks: the most any replica executed) and
//       events per wall second; the runs are deterministic, so each repetition does the same
//       work and they must share one fingerprint. `pbft` is an alias of `protocol`.
//   bench_runs memory --protocol hotstuff --requests 100000 [--nodes 4 --clients 8]
//       one run; the process's peak resident memory (VmHWM) and its resident memory before
//       the simulator was built. Run each size in its own process, so peaks do not mix.
//
// --protocol is pbft (the default) or hotstuff. HotStuff runs with batches of one request sent
// to every replica, so every view carries a command and one block is about one request.
//
// Exit codes: 0 ok, 1 a run was unsafe or left requests unaccepted, 2 bad usage.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "protocols/registry.hpp"
#include "sim/scenario.hpp"
#include "sim/simulator.hpp"

namespace {

namespace po = boost::program_options;
using nlohmann::json;

struct Workload {
    std::string protocol = "pbft";
    std::uint32_t nodes = 4;
    std::uint32_t clients = 8;
    std::uint64_t requests = 10'000;
};

// Fault-free, fixed 1ms delay, closed loop. PBFT checkpoints every 128 slots in a 256-slot
// window; HotStuff proposes one request a block, and clients send to all replicas so that
// whichever replica leads next already holds a command.
sim::ScenarioSpec scenario(const Workload& w) {
    const json protocol =
        w.protocol == "hotstuff"
            ? json{{"name", "hotstuff"}, {"clients_send_to", "all"}, {"batch_size", 1}}
            : json{{"name", "pbft"}, {"checkpoint_interval", 128}, {"watermark_window", 256}};
    const json doc = {
        {"name", "bench-" + w.protocol + "-n" + std::to_string(w.nodes)},
        {"nodes", w.nodes},
        {"protocol", protocol},
        {"network", {{"delay", "1ms"}}},
        {"workload", {{"clients", w.clients}, {"requests", w.requests}}},
        // Far beyond any run here: the run ends when every request is accepted.
        {"stop", {{"at", "1000m"}}},
    };
    return sim::parse_scenario(doc);
}

struct Measured {
    double wall_s = 0;
    std::uint64_t events = 0, delivered = 0, local = 0, accepted = 0, fingerprint = 0;
    std::uint64_t commits = 0;  // the most log slots or blocks any replica executed
    bool safe = false;
    std::string violation;  // "invariant: detail" when unsafe
};

Measured run_once(const sim::ScenarioSpec& spec) {
    auto simulator = protocols::build(spec, sim::SimOptions{.keep_request_rows = false});
    const auto start = std::chrono::steady_clock::now();
    const sim::RunResult& r = simulator->run();
    const auto stop = std::chrono::steady_clock::now();
    Measured m;
    m.wall_s = std::chrono::duration<double>(stop - start).count();
    m.events = r.events;
    for (const sim::KindCounters& c : r.counters) m.delivered += c.delivered;
    m.local = r.local_messages;
    m.accepted = r.accepted;
    for (std::uint32_t node = 0; node < r.replicas && node < r.commits_per_node.size(); ++node)
        m.commits = std::max(m.commits, r.commits_per_node[node]);
    m.fingerprint = r.fingerprint;
    m.safe = !r.violation.has_value();
    if (r.violation) m.violation = r.violation->invariant + ": " + r.violation->detail;
    return m;
}

// As the reports print it, and exact in JSON readers that hold numbers as doubles.
std::string fingerprint_hex(std::uint64_t fingerprint) {
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(fingerprint));
    return text;
}

// PBFT commits log slots (a batch each), HotStuff blocks.
std::string commit_unit(const Workload& w) {
    return w.protocol == "hotstuff" ? "blocks" : "slots";
}

int bench_protocol(const Workload& w, std::uint32_t repetitions) {
    const sim::ScenarioSpec spec = scenario(w);
    std::vector<Measured> runs;
    for (std::uint32_t i = 0; i < repetitions; ++i) runs.push_back(run_once(spec));
    std::vector<double> walls;
    bool deterministic = true, ok = true;
    for (const Measured& m : runs) {
        walls.push_back(m.wall_s);
        deterministic &= m.fingerprint == runs[0].fingerprint && m.events == runs[0].events;
        ok &= m.safe && m.accepted == w.requests;
    }
    std::sort(walls.begin(), walls.end());
    const double wall_s = walls[walls.size() / 2];
    const Measured& m = runs[0];
    json out = {
        {"protocol", w.protocol},
        {"n", w.nodes},
        {"clients", w.clients},
        {"requests", w.requests},
        {"seed", spec.seed},
        {"repetitions", repetitions},
        {"wall_s", wall_s},
        {"wall_s_all", walls},
        {"messages_per_s", static_cast<double>(m.delivered) / wall_s},
        {"requests_per_s", static_cast<double>(m.accepted) / wall_s},
        {"events_per_s", static_cast<double>(m.events) / wall_s},
        {"messages_delivered", m.delivered},
        {"local_messages", m.local},
        {"requests_accepted", m.accepted},
        {"events", m.events},
        {"fingerprint", fingerprint_hex(m.fingerprint)},
        {"safe", m.safe},
        {"deterministic", deterministic},
    };
    if (!m.safe) out["violation"] = m.violation;
    out[commit_unit(w) + "_per_s"] = static_cast<double>(m.commits) / wall_s;
    out[commit_unit(w) + "_committed"] = m.commits;
    std::cout << out.dump() << '\n';
    return ok && deterministic ? 0 : 1;
}

// A "Vm...:   1234 kB" line of /proc/self/status, in kB; 0 when unreadable.
std::uint64_t proc_status_kb(const std::string& key) {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(key + ":", 0) == 0) return std::stoull(line.substr(key.size() + 1));
    return 0;
}

std::uint64_t peak_rss_kb() {
    if (const std::uint64_t kb = proc_status_kb("VmHWM")) return kb;
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<std::uint64_t>(usage.ru_maxrss);  // kB on Linux
}

int bench_memory(const Workload& w) {
    const sim::ScenarioSpec spec = scenario(w);
    const std::uint64_t before_kb = proc_status_kb("VmRSS");
    const Measured m = run_once(spec);
    const std::uint64_t peak_kb = peak_rss_kb();
    json out = {
        {"protocol", w.protocol},
        {"n", w.nodes},
        {"clients", w.clients},
        {"requests", w.requests},
        {"seed", spec.seed},
        {"peak_rss_kb", peak_kb},
        {"rss_before_run_kb", before_kb},
        {"peak_growth_kb", peak_kb > before_kb ? peak_kb - before_kb : 0},
        {"wall_s", m.wall_s},
        {"requests_accepted", m.accepted},
        {"safe", m.safe},
    };
    out[commit_unit(w) + "_committed"] = m.commits;
    if (!m.safe) out["violation"] = m.violation;
    std::cout << out.dump() << '\n';
    return m.safe && m.accepted == w.requests ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    Workload w;
    std::uint32_t repetitions = 3;
    std::string mode;
    po::options_description options("bench_runs protocol|pbft|memory [options]");
    // clang-format off
    options.add_options()
        ("help", "this text")
        ("mode", po::value(&mode)->required(), "protocol (alias pbft) or memory")
        ("protocol", po::value(&w.protocol)->default_value(w.protocol), "pbft or hotstuff")
        ("nodes", po::value(&w.nodes)->default_value(w.nodes), "replicas")
        ("clients", po::value(&w.clients)->default_value(w.clients), "closed-loop clients")
        ("requests", po::value(&w.requests)->default_value(w.requests), "requests in total")
        ("repetitions", po::value(&repetitions)->default_value(repetitions), "protocol: runs");
    // clang-format on
    po::positional_options_description positional;
    positional.add("mode", 1);
    try {
        po::variables_map vm;
        po::store(po::command_line_parser(argc, argv).options(options).positional(positional).run(),
                  vm);
        if (vm.count("help")) {
            std::cout << options;
            return 0;
        }
        po::notify(vm);
        if (repetitions == 0 || w.requests == 0)
            throw po::error("need at least one run and request");
        if (w.protocol != "pbft" && w.protocol != "hotstuff")
            throw po::error("unknown protocol '" + w.protocol + "'; expected pbft or hotstuff");
        if (mode == "protocol" || mode == "pbft") return bench_protocol(w, repetitions);
        if (mode == "memory") return bench_memory(w);
        throw po::error("unknown mode '" + mode + "'; expected protocol, pbft or memory");
    } catch (const po::error& e) {
        std::cerr << "error: " << e.what() << '\n' << options;
        return 2;
    } catch (const sim::ScenarioError& e) {
        std::cerr << "error: " << e.what() << '\n';
        return 2;
    }
}
