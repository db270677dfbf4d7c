// Merges the benchmark outputs into the one JSON document tools/bench prints, and checks each
// figure against its target.
//
//   bench_report --mode full --micro micro.json --pbft n4.json n16.json n64.json
//                --memory small.json large.json
//                --hotstuff hs4.json hs16.json hs64.json --hotstuff-memory small.json large.json
//
// --micro is Google Benchmark's --benchmark_out JSON (medians when it ran with repetitions);
// the others are the one-line outputs of bench_runs (protocol runs, then memory runs, short
// first). The document goes to stdout.
#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "byzsim_version.h"

namespace {

namespace po = boost::program_options;
using nlohmann::json;

constexpr double kLoopEventsPerS = 15e6;
constexpr double kPbftN4MessagesPerS = 4e6;
constexpr double kPbftN64MessagesPerS = 2e6;
// HotStuff's traffic is linear in n, so its queue stays short at n = 64.
constexpr double kHotstuffN64MessagesPerS = 3e6;
constexpr double kSimSignatureNs = 100;
// "Flat": the 10x longer run may peak at most this much higher than the short one.
constexpr double kMemoryFlatRatio = 1.5;
// Issue 4: a 4-node sweep with faults runs at least 100 seeds per second per core.
constexpr double kSweepSeedsPerSPerCore = 100;

json read_json(const std::string& file) {
    std::ifstream in(file);
    if (!in) throw std::runtime_error(file + ": cannot read");
    try {
        return json::parse(in);
    } catch (const json::exception& e) {
        throw std::runtime_error(file + ": " + e.what());
    }
}

// items_per_second per benchmark name: the "median" aggregate when there is one, else the
// median of the plain runs.
std::map<std::string, double> items_per_s(const json& micro) {
    std::map<std::string, double> median;
    std::map<std::string, std::vector<double>> plain;
    for (const json& b : micro.at("benchmarks")) {
        if (b.contains("error_occurred") && b.at("error_occurred").get<bool>())
            throw std::runtime_error("benchmark " + b.value("name", "?") + " failed");
        const std::string name = b.value("run_name", b.value("name", ""));
        const double v = b.value("items_per_second", 0.0);
        if (b.value("run_type", "") == "aggregate") {
            if (b.value("aggregate_name", "") == "median") median[name] = v;
        } else {
            plain[name].push_back(v);
        }
    }
    for (auto& [name, values] : plain) {
        if (median.count(name) != 0 || values.empty()) continue;
        std::sort(values.begin(), values.end());
        median[name] = values[values.size() / 2];
    }
    return median;
}

double need(const std::map<std::string, double>& m, const std::string& name) {
    const auto it = m.find(name);
    if (it == m.end()) throw std::runtime_error("micro benchmarks: no result for " + name);
    return it->second;
}

std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("model name", 0) == 0) {
            const auto colon = line.find(':');
            return colon == std::string::npos ? line : line.substr(colon + 2);
        }
    return "unknown";
}

#if defined(__clang__)
constexpr const char* kCompiler = "clang " __clang_version__;
#else
constexpr const char* kCompiler = "gcc " __VERSION__;
#endif

json target(double value, double limit, bool at_least, const std::string& unit) {
    const bool met = at_least ? value >= limit : value <= limit;
    return {{"value", value}, {at_least ? "min" : "max", limit}, {"unit", unit}, {"met", met}};
}

// Creation and verification of one QC per second, by signature scheme and n.
json qc_rates(const std::map<std::string, double>& ips) {
    json out;
    for (const std::string scheme : {"simulated", "ed25519"})
        for (const std::string n : {"4", "64"})
            out[scheme]["n" + n] = {
                {"create_per_s", need(ips, "qc_create/" + scheme + "/n:" + n)},
                {"verify_per_s", need(ips, "qc_verify/" + scheme + "/n:" + n)},
            };
    return out;
}

// Two memory runs, short first: their peaks and how much the longer one grew.
json memory_summary(const std::vector<json>& memory, const std::string& unit) {
    const double small = memory[0].at("peak_rss_kb").get<double>();
    const double large = memory[1].at("peak_rss_kb").get<double>();
    const double growth_small = memory[0].at("peak_growth_kb").get<double>();
    const double growth_large = memory[1].at("peak_growth_kb").get<double>();
    json out = {
        {"runs", memory},
        {"peak_ratio", large / small},
        {"growth_ratio", growth_small > 0 ? growth_large / growth_small : 0.0},
        {"requests_ratio",
         memory[1].at("requests").get<double>() / memory[0].at("requests").get<double>()},
    };
    const std::string key = unit + "_committed";
    if (memory[0].contains(key) && memory[1].contains(key))
        out[unit + "_ratio"] = memory[1].at(key).get<double>() / memory[0].at(key).get<double>();
    return out;
}

bool runs_ok(const std::vector<json>& runs) {
    bool ok = true;
    for (const json& run : runs)
        ok &= run.at("safe").get<bool>() && run.at("deterministic").get<bool>();
    return ok;
}

bool memory_ok(const std::vector<json>& runs) {
    bool ok = true;
    for (const json& run : runs) ok &= run.at("safe").get<bool>();
    return ok;
}

std::string fmt_jobs(double jobs) {
    return "sweep_jobs" + std::to_string(static_cast<int>(jobs)) + "_seeds_per_s_per_core";
}

// Seeds per second from hyperfine's medians, one entry per --jobs value.
json sweep_rates(const json& hyperfine, std::uint64_t seeds) {
    json out = json::array();
    for (const json& r : hyperfine.at("results")) {
        const double jobs = std::stod(r.at("parameters").at("jobs").get<std::string>());
        const double median = r.at("median").get<double>();
        out.push_back({{"jobs", jobs},
                       {"seeds", seeds},
                       {"median_s", median},
                       {"seeds_per_s", static_cast<double>(seeds) / median},
                       {"seeds_per_s_per_core", static_cast<double>(seeds) / median / jobs}});
    }
    return out;
}

json machine(const json& ctx) {
    return {{"cpu", cpu_model()},
            {"nproc", std::thread::hardware_concurrency()},
            {"mhz_per_cpu", ctx.value("mhz_per_cpu", 0)},
            {"cpu_scaling_enabled", ctx.value("cpu_scaling_enabled", false)},
            {"load_avg", ctx.value("load_avg", json::array())},
            {"compiler", kCompiler},
            {"date", ctx.value("date", "")}};
}

// Messages per second of PBFT at n = 4 and 64 and of HotStuff at n = 64.
void add_run_targets(json& targets, const std::vector<json>& pbft,
                     const std::vector<json>& hotstuff) {
    for (const json& run : pbft) {
        const auto n = run.at("n").get<int>();
        if (n == 4 || n == 64)
            targets["pbft_n" + std::to_string(n) + "_messages_per_s"] =
                target(run.at("messages_per_s").get<double>(),
                       n == 4 ? kPbftN4MessagesPerS : kPbftN64MessagesPerS, true, "messages/s");
    }
    for (const json& run : hotstuff)
        if (run.at("n").get<int>() == 64)
            targets["hotstuff_n64_messages_per_s"] =
                target(run.at("messages_per_s").get<double>(), kHotstuffN64MessagesPerS, true,
                       "messages/s");
}

// A MAPE-K run costs at most twice its protocol's plain run per committed command: in the
// protocol's messages, and in wall time (which also pays for sampling and readings). Returns
// whether every MAPE-K run was safe.
bool add_mapek_targets(json& targets, const std::vector<json>& mapek) {
    bool safe = true;
    for (const json& run : mapek) {
        std::string name = "mapek_";
        name += run.at("protocol").get<std::string>();
        name += "_n";
        name += std::to_string(run.at("nodes").get<int>());
        targets[name + "_messages_per_command_ratio"] =
            target(run.at("ratio_messages").get<double>(), 2.0, false, "x");
        targets[name + "_wall_per_command_ratio"] =
            target(run.at("ratio_wall").get<double>(), 2.0, false, "x");
        safe &= run.at("safe").get<bool>();
    }
    return safe;
}

json report(const std::string& mode, const json& micro, const std::vector<json>& pbft,
            const std::vector<json>& memory, const std::vector<json>& hotstuff,
            const std::vector<json>& hotstuff_memory, const json& sweep, std::uint64_t seeds,
            const std::vector<json>& mapek) {
    const auto ips = items_per_s(micro);
    const double loop_64 = need(ips, "event_loop_hold/pending:64");
    const double loop_4096 = need(ips, "event_loop_hold/pending:4096");
    const auto ns = [&](const std::string& name) { return 1e9 / need(ips, name); };
    const json signatures = {
        {"simulated_sign", ns("sign/simulated")},
        {"simulated_verify", ns("verify/simulated")},
        {"ed25519_sign", ns("sign/ed25519")},
        {"ed25519_verify", ns("verify/ed25519")},
    };
    json doc = {
        {"version", BYZSIM_VERSION},
        {"mode", mode},
        {"machine", machine(micro.at("context"))},
        {"event_loop",
         {{"pending_64_events_per_s", loop_64}, {"pending_4096_events_per_s", loop_4096}}},
        {"signatures_ns", signatures},
        {"qc_per_s", qc_rates(ips)},
        {"pbft", pbft},
        {"hotstuff", hotstuff},
    };
    json targets = {
        {"event_loop_pending_64", target(loop_64, kLoopEventsPerS, true, "events/s")},
        {"event_loop_pending_4096", target(loop_4096, kLoopEventsPerS, true, "events/s")},
        {"simulated_sign", target(signatures["simulated_sign"], kSimSignatureNs, false, "ns")},
        {"simulated_verify", target(signatures["simulated_verify"], kSimSignatureNs, false, "ns")},
    };
    add_run_targets(targets, pbft, hotstuff);
    if (memory.size() == 2) {
        doc["memory"] = memory_summary(memory, "slots");
        targets["memory_flat_peak_ratio"] =
            target(doc["memory"]["peak_ratio"].get<double>(), kMemoryFlatRatio, false, "x");
    }
    if (hotstuff_memory.size() == 2) {
        doc["hotstuff_memory"] = memory_summary(hotstuff_memory, "blocks");
        targets["hotstuff_memory_flat_peak_ratio"] = target(
            doc["hotstuff_memory"]["peak_ratio"].get<double>(), kMemoryFlatRatio, false, "x");
    }
    if (!sweep.is_null()) {
        doc["sweep"] = sweep_rates(sweep, seeds);
        for (const json& r : doc["sweep"])
            targets[fmt_jobs(r.at("jobs").get<double>())] =
                target(r.at("seeds_per_s_per_core").get<double>(), kSweepSeedsPerSPerCore, true,
                       "seeds/s per core");
    }
    doc["mapek"] = mapek;
    const bool mapek_safe = add_mapek_targets(targets, mapek);
    bool all = runs_ok(pbft) && runs_ok(hotstuff) && memory_ok(memory) &&
               memory_ok(hotstuff_memory) && mapek_safe;
    for (const auto& [name, t] : targets.items()) all &= t.at("met").get<bool>();
    doc["targets"] = targets;
    doc["all_targets_met"] = all;
    return doc;
}

}  // namespace

int main(int argc, char** argv) {
    std::string mode = "full", micro;
    std::vector<std::string> pbft, memory, hotstuff, hotstuff_memory, mapek;
    std::string sweep;
    std::uint64_t sweep_seeds = 0;
    po::options_description options("bench_report [options]");
    // clang-format off
    options.add_options()
        ("mode", po::value(&mode), "quick or full, recorded in the document")
        ("micro", po::value(&micro)->required(), "Google Benchmark JSON")
        ("pbft", po::value(&pbft)->multitoken(), "bench_runs pbft outputs")
        ("memory", po::value(&memory)->multitoken(), "two bench_runs memory outputs, short first")
        ("hotstuff", po::value(&hotstuff)->multitoken(), "bench_runs --protocol hotstuff outputs")
        ("hotstuff-memory", po::value(&hotstuff_memory)->multitoken(),
         "two bench_runs memory --protocol hotstuff outputs, short first")
        ("sweep", po::value(&sweep), "hyperfine JSON of byzsim sweep, parameter jobs")
        ("sweep-seeds", po::value(&sweep_seeds), "seeds per sweep run")
        ("mapek", po::value(&mapek)->multitoken(), "bench_mapek outputs");
    // clang-format on
    try {
        po::variables_map vm;
        po::store(po::parse_command_line(argc, argv, options), vm);
        po::notify(vm);
        const auto read_all = [](const std::vector<std::string>& files) {
            std::vector<json> docs;
            for (const auto& f : files) docs.push_back(read_json(f));
            return docs;
        };
        std::cout << report(mode, read_json(micro), read_all(pbft), read_all(memory),
                            read_all(hotstuff), read_all(hotstuff_memory),
                            sweep.empty() ? json() : read_json(sweep), sweep_seeds, read_all(mapek))
                         .dump(2)
                  << '\n';
        return 0;
    } catch (const po::error& e) {
        std::cerr << "error: " << e.what() << '\n' << options;
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << '\n';
        return 1;
    }
}
