// byzsim's verbs that run many seeds or search a failure: sweep, merge, shrink, hunt.
#include <unistd.h>

#include <thread>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <fmt/format.h>
#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "byzsim_version.h"
#include "protocols/registry.hpp"
#include "reports/report.hpp"
#include "sim/scenario.hpp"
#include "sim/simulator.hpp"
#include "tools/cli.hpp"
#include "tools/hunt.hpp"
#include "tools/interrupt.hpp"
#include "tools/shrink.hpp"
#include "tools/sweep.hpp"

namespace cli {

namespace fs = std::filesystem;
using nlohmann::json;

// ---- sweep, merge, shrink ------------------------------------------------------------------

void add_sweep_options(po::options_description& d) {
    auto add = d.add_options();
    add("seeds", po::value<std::string>()->value_name("A..B")->default_value("1..100"),
        "the seeds to run, inclusive");
    add("jobs,j", po::value<unsigned>()->value_name("N"),
        "worker processes (default: the number of cores)");
    add("time-budget", po::value<std::string>()->value_name("T"),
        "start no seed after this wall time, e.g. 60s or 10m");
    add("stop-on-first", po::bool_switch(),
        "stop at the first failing seed (seeds are kept up to the lowest failing one)");
    add("out", po::value<std::string>()->value_name("DIR")->default_value("sweep"),
        "write sweep.csv, sweep.json and failures/seed-N.json here");
    add("resume", po::bool_switch(), "continue an interrupted sweep in --out");
    add("shard", po::value<std::string>()->value_name("K/M"),
        "run only the K-th of M disjoint slices of the seeds (join them with byzsim merge)");
    add("check-determinism", po::bool_switch(),
        "run every seed twice and fail on the first event whose fingerprint differs");
    add("shrink", po::bool_switch(), "shrink each failure (up to 10) to failures/seed-N.min.json");
    add("no-progress", po::bool_switch(), "no progress bar");
    add("quiet,q", po::bool_switch(), "print only the summary: no failures as found, no progress");
    add("json", po::bool_switch(), "print only the summary, as one JSON document");
}

namespace {

std::pair<std::uint32_t, std::uint32_t> parse_shard(const std::string& text) {
    const std::size_t slash = text.find('/');
    std::uint32_t k = 0, m = 0;
    const char* end = text.data() + text.size();
    bool ok = slash != std::string::npos;
    if (ok) {
        const auto a = std::from_chars(text.data(), text.data() + slash, k);
        const auto b = std::from_chars(text.data() + slash + 1, end, m);
        ok = a.ec == std::errc() && a.ptr == text.data() + slash && b.ec == std::errc() &&
             b.ptr == end && m >= 1 && k >= 1 && k <= m;
    }
    if (!ok)
        throw UsageError(fmt::format("--shard: expected K/M with 1 <= K <= M, got '{}'", text),
                         "sweep");
    return {k, m};
}

// --seeds, --jobs and --time-budget, which sweep and hunt share.
void read_run_options(const po::variables_map& vm, const std::string& verb, std::uint64_t& first,
                      std::uint64_t& last, unsigned& jobs, std::optional<double>& budget_s) {
    try {
        std::tie(first, last) = tools::parse_seed_range(vm["seeds"].as<std::string>());
    } catch (const std::invalid_argument& e) {
        throw UsageError(e.what(), verb);
    }
    jobs = vm.count("jobs") ? vm["jobs"].as<unsigned>()
                            : std::max(1u, std::thread::hardware_concurrency());
    if (jobs == 0 || jobs > 1024) throw UsageError("--jobs: expected 1 to 1024", verb);
    if (vm.count("time-budget")) {
        try {
            const sim::SimTime t = sim::parse_duration(vm["time-budget"].as<std::string>(), "");
            budget_s = static_cast<double>(t.ns) / 1e9;
        } catch (const sim::ScenarioError& e) {
            throw UsageError("--time-budget: " + e.reason(), verb);
        }
    }
}

}  // namespace

namespace {

// What a person reads once the sweep ends, and what to do with a failure.
int print_sweep_end(const tools::SweepSummary& s, const tools::SweepOptions& o) {
    fmt::print("{} seeds done, {} failing ({} violations); {:.1f} s; wrote {}\n", s.seeds_done,
               s.failures, s.violations, s.wall_seconds, (o.out / "sweep.csv").string());
    if (s.first_failure) {
        const std::string failure = shell_quote(
            (o.out / "failures" / fmt::format("seed-{}.json", *s.first_failure)).string());
        fmt::print("first failure: seed {} ({}); reproduce with: byzsim run {}\n", *s.first_failure,
                   s.first_invariant.empty() ? "error" : s.first_invariant, failure);
        if (!o.shrink) fmt::print("make it small: byzsim shrink {}\n", failure);
        fmt::print(
            "see it: byzsim run {} --out DIR, then open DIR/report.html; every failing "
            "seed: {}\n",
            failure, shell_quote((o.out / "sweep.html").string()));
    }
    if (s.interrupted) {
        fmt::print(
            "interrupted: the {} finished seeds are kept; continue with the same command "
            "and --resume\n",
            s.seeds_done);
        return kExitInterrupted;
    }
    return s.failures ? kExitFailed : kExitOk;
}

// What a script reads.
int print_sweep_json(const tools::SweepSummary& s, const tools::SweepOptions& o) {
    const int exit = s.interrupted ? kExitInterrupted : s.failures ? kExitFailed : kExitOk;
    json doc = {{"seeds_done", s.seeds_done},
                {"failures", s.failures},
                {"violations", s.violations},
                {"wall_seconds", s.wall_seconds},
                {"interrupted", s.interrupted},
                {"out", o.out.string()},
                {"first_failure", s.first_failure ? json(*s.first_failure) : json(nullptr)},
                {"first_invariant", s.first_invariant},
                {"exit_code", exit}};
    fmt::print("{}\n", doc.dump(2));
    return exit;
}

}  // namespace

int sweep_verb(const Operands& operands, const po::variables_map& vm) {
    const std::string& file = operands[0];
    tools::SweepOptions o;
    o.scenario_file = file;
    read_run_options(vm, "sweep", o.first, o.last, o.jobs, o.time_budget_s);
    o.stop_on_first = vm["stop-on-first"].as<bool>();
    o.out = vm["out"].as<std::string>();
    o.resume = vm["resume"].as<bool>();
    if (vm.count("shard")) std::tie(o.shard, o.shards) = parse_shard(vm["shard"].as<std::string>());
    o.check_determinism = vm["check-determinism"].as<bool>();
    o.shrink = vm["shrink"].as<bool>();
    o.progress = !vm["no-progress"].as<bool>();
    const bool as_json = vm["json"].as<bool>();
    o.quiet = vm["quiet"].as<bool>();
    if (o.quiet && as_json) throw UsageError("--quiet and --json: choose one", "sweep");

    const sim::ScenarioSpec spec = load(file);
    if (!as_json && !o.quiet) {
        fmt::print("byzsim {} sweep {} ({}) seeds {}..{}{} with {} worker(s){}\n", BYZSIM_VERSION,
                   file, spec.name, o.first, o.last,
                   o.shards > 1 ? fmt::format(" shard {}/{}", o.shard, o.shards) : "", o.jobs,
                   spec.randomize ? ""
                                  : "; note: the scenario has no randomize section, so seeds "
                                    "vary only its random streams");
        std::fflush(stdout);
    }
    tools::SweepSummary s;
    try {
        s = tools::sweep(spec, o);
    } catch (const sim::ScenarioError& e) {
        throw_input_error(file, e);
    } catch (const std::system_error& e) {
        throw InputError(fmt::format("sweep output: {}", e.what()));
    } catch (const std::runtime_error& e) {
        throw InputError(e.what());
    }
    return as_json ? print_sweep_json(s, o) : print_sweep_end(s, o);
}

void add_merge_options(po::options_description& d) {
    d.add_options()("out", po::value<std::string>()->value_name("DIR")->required(),
                    "write the merged sweep.csv, sweep.json and failures/ here");
}

int merge_verb(const Operands& operands, const po::variables_map& vm) {
    std::vector<fs::path> dirs(operands.begin(), operands.end());
    const fs::path out = vm["out"].as<std::string>();
    tools::SweepSummary s;
    try {
        s = tools::merge_sweeps(dirs, out);
    } catch (const std::runtime_error& e) {
        throw InputError(e.what());
    }
    fmt::print("merged {} sweep(s): {} seeds, {} failing ({} violations){}; wrote {}\n",
               dirs.size(), s.seeds_done, s.failures, s.violations,
               s.complete ? "" : " (incomplete: shards missing or unfinished)",
               (out / "sweep.csv").string());
    return s.failures ? kExitFailed : kExitOk;
}

void add_shrink_options(po::options_description& d) {
    auto add = d.add_options();
    add("out", po::value<std::string>()->value_name("FILE"),
        "where the minimal scenario goes (default: FAILURE with .min.json)");
    add("max-runs", po::value<std::uint64_t>()->value_name("N")->default_value(4000),
        "give up shrinking after this many runs");
    add("reseeds", po::value<std::uint64_t>()->value_name("N")->default_value(256),
        "seeds tried without each fault entry the other steps keep (0: none)");
    add("quiet,q", po::bool_switch(), "print only the result");
}

int shrink_verb(const Operands& operands, const po::variables_map& vm) {
    const std::string& file = operands[0];
    tools::ShrinkOptions o;
    if (vm.count("out")) {
        o.out = vm["out"].as<std::string>();
    } else {
        fs::path p = file;
        o.out = p.replace_extension(".min.json");
    }
    o.max_runs = vm["max-runs"].as<std::uint64_t>();
    o.reseeds = vm["reseeds"].as<std::uint64_t>();
    o.verbose = !vm["quiet"].as<bool>();
    const tools::InterruptGuard signals;  // Ctrl-C: keep the smallest failure found so far
    o.interrupt = tools::interrupt_flag();
    tools::ShrinkResult r;
    try {
        r = tools::shrink_file(file, o);
    } catch (const sim::ScenarioError& e) {
        throw_input_error(file, e);
    } catch (const std::system_error& e) {
        throw InputError(fmt::format("cannot write: {}", e.what()));
    } catch (const std::runtime_error& e) {
        throw InputError(fmt::format("{}: {}", file, e.what()));
    }
    if (r.minimal.is_null()) {
        fmt::print("interrupted before the first run showed the failure; nothing written\n");
        return kExitInterrupted;
    }
    fmt::print(
        "shrunk in {} runs, {} steps: size {} -> {} (faults {} -> {}, nodes {} -> {}, "
        "requests {} -> {}, clients {} -> {}, network settings {} -> {}); still fails {}\n",
        r.runs, r.steps.size(), r.before.total(), r.after.total(), r.before.faults, r.after.faults,
        r.before.nodes, r.after.nodes, r.before.requests, r.after.requests, r.before.clients,
        r.after.clients, r.before.network_settings, r.after.network_settings, r.invariant);
    if (r.interrupted) fmt::print("interrupted: kept the smallest failing scenario found so far\n");
    fmt::print("wrote {}; replay with: byzsim run {}\n", o.out.string(),
               shell_quote(o.out.string()));
    return r.interrupted ? kExitInterrupted : kExitOk;
}

// ---- hunt ----------------------------------------------------------------------------------

void add_hunt_options(po::options_description& d) {
    auto add = d.add_options();
    add("seeds", po::value<std::string>()->value_name("A..B")->default_value("1..500"),
        "the seeds each sweep may run (it stops at the first failure)");
    add("jobs,j", po::value<unsigned>()->value_name("N"),
        "worker processes (default: the number of cores)");
    add("time-budget", po::value<std::string>()->value_name("T"),
        "per sweep: start no seed after this wall time");
    add("mutations", po::value<std::string>()->value_name("M,M"),
        "hunt only these mutations (default: every one the protocol has); B+M hunts B with "
        "the mutations M that mask it also on, on seeds M alone does not fail");
    add("skip", po::value<std::string>()->value_name("M,M"),
        "do not hunt these mutations (in any of the sweeps)");
    add("no-honest", po::bool_switch(), "skip the sweep of the honest protocol");
    add("witnesses", po::value<unsigned>()->value_name("N")->default_value(5),
        "shrink up to N failing seeds per bug while the smallest case has more than 3 faults");
    add("out", po::value<std::string>()->value_name("DIR")->default_value("hunt"),
        "write hunt.csv and each sweep's directory here");
    add("no-progress", po::bool_switch(), "no progress bars");
}

int hunt_verb(const Operands& operands, const po::variables_map& vm) {
    tools::HuntOptions o;
    read_run_options(vm, "hunt", o.first, o.last, o.jobs, o.time_budget_s);
    if (vm.count("mutations")) o.only = split_list(vm["mutations"].as<std::string>());
    if (vm.count("skip")) o.skip = split_list(vm["skip"].as<std::string>());
    o.honest = !vm["no-honest"].as<bool>();
    o.witnesses = std::max(1U, vm["witnesses"].as<unsigned>());
    o.out = vm["out"].as<std::string>();
    o.progress = !vm["no-progress"].as<bool>();
    std::vector<nlohmann::json> docs;
    std::set<std::string> known_anywhere;
    for (const std::string& file : operands) {
        const sim::ScenarioSpec spec = load(file);
        if (!spec.randomize)
            throw InputError(
                fmt::format("{}: a hunt needs a scenario with a randomize section", file));
        const auto known = protocols::mutation_names(spec);
        for (const std::string& m : o.only) {
            const std::vector<std::string> parts = split_list(m, '+');
            if (fmt::format("{}", fmt::join(parts, "+")) != m)
                throw UsageError(fmt::format("--mutations: '{}' has an empty part", m), "hunt");
            for (const std::string& part : parts) {
                if (std::find(known.begin(), known.end(), part) == known.end())
                    throw UsageError(fmt::format("--mutations: {} has no mutation '{}'; it has: {}",
                                                 spec.protocol, part, fmt::join(known, ", ")),
                                     "hunt");
            }
        }
        docs.push_back(spec.source);
        for (const std::string& m : protocols::mutation_names(spec)) known_anywhere.insert(m);
    }
    for (const std::string& m : o.skip)
        if (!known_anywhere.count(m))
            throw UsageError(fmt::format("--skip: no sweep given has a mutation '{}'", m), "hunt");
    std::vector<tools::HuntRow> rows;
    try {
        rows = tools::hunt(operands, docs, o);
    } catch (const sim::ScenarioError& e) {
        throw InputError(fmt::format("hunt: {}: {}", e.path(), e.reason()));
    } catch (const std::system_error& e) {
        throw InputError(fmt::format("hunt output: {}", e.what()));
    } catch (const std::runtime_error& e) {
        throw InputError(e.what());
    }
    int missed = 0;
    for (const tools::HuntRow& r : rows) missed += (r.mutation == "none") == r.found;
    fmt::print("wrote {}; {}\n", (o.out / "hunt.csv").string(),
               missed ? fmt::format("{} sweep(s) did not come out as they should", missed)
                      : "every mutation found, nothing found in the honest protocols");
    return missed ? kExitFailed : kExitOk;
}

}  // namespace cli
