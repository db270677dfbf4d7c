// byzsim: the command line. `byzsim <verb> [operands] [options]`; one row of kVerbs per verb.
//
// Exit codes: 0 ok (no violation, or the scenario's expectations met), 1 a violation or a failed
// expectation or a replay mismatch, 2 bad input or usage, 3 an internal error.
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
#include "tools/compare.hpp"
#include "tools/hunt.hpp"
#include "tools/shrink.hpp"
#include "tools/sweep.hpp"

namespace {

namespace fs = std::filesystem;
namespace po = boost::program_options;
using nlohmann::json;
using Operands = std::vector<std::string>;

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitInternal = 3;

// Bad input (a scenario, a report, an output directory): "error: <what>", exit 2.
class InputError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A malformed command line: "error: <what>" and a hint to the verb's help, exit 2.
class UsageError : public std::runtime_error {
public:
    UsageError(const std::string& what, std::string verb)
        : std::runtime_error(what), verb_(std::move(verb)) {}
    const std::string& verb() const { return verb_; }

private:
    std::string verb_;
};

constexpr std::size_t kOneOrMore = 0;  // Verb::operand_count: any number but zero

struct Verb {
    std::string_view name;
    std::string_view operands;  // for the usage line, e.g. "SCENARIO"
    std::size_t operand_count;  // exactly this many are required, or kOneOrMore
    std::string_view summary;
    void (*add_options)(po::options_description&);
    int (*run)(const Operands& operands, const po::variables_map& vm);
};

// ---- helpers -------------------------------------------------------------------------------

// "error: <file>: <path>: <reason>"; the path is left out for file-level errors.
[[noreturn]] void throw_input_error(const std::string& file, const sim::ScenarioError& e,
                                    std::string_view path_prefix = "") {
    const std::string path = std::string(path_prefix) + e.path();
    throw InputError(path.empty() ? fmt::format("{}: {}", file, e.reason())
                                  : fmt::format("{}: {}: {}", file, path, e.reason()));
}

// A word the shell passes through unchanged, or the word in single quotes.
std::string shell_quote(std::string_view word) {
    const auto plain = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               std::string_view("_-./=:,+@%").find(c) != std::string_view::npos;
    };
    if (!word.empty() && std::all_of(word.begin(), word.end(), plain)) return std::string(word);
    std::string out = "'";
    for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

std::uint64_t parse_seed(const std::string& text) {
    std::uint64_t seed = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, seed);
    if (text.empty() || ec != std::errc() || ptr != end) {
        throw UsageError(fmt::format("--seed: expected an integer in 0..18446744073709551615, "
                                     "got '{}'",
                                     text),
                         "run");
    }
    return seed;
}

// Loads and fully validates a scenario file, engine and protocol parts both.
sim::ScenarioSpec load(const std::string& file) {
    try {
        sim::ScenarioSpec spec = sim::load_scenario(file);
        protocols::validate(spec);
        return spec;
    } catch (const sim::ScenarioError& e) {
        throw_input_error(file, e);
    }
}

struct Simulation {
    std::unique_ptr<sim::Simulator> sim;
    const sim::RunResult* result = nullptr;
};

// Builds and runs; scenario errors found only now are still reported against `file`.
Simulation simulate(const sim::ScenarioSpec& spec, const std::string& file,
                    std::ostream* trace = nullptr, std::string_view path_prefix = "") {
    sim::SimOptions opts;
    opts.trace = trace;
    try {
        Simulation s;
        s.sim = protocols::build(spec, opts);
        s.result = &s.sim->run();
        return s;
    } catch (const sim::ScenarioError& e) {
        throw_input_error(file, e, path_prefix);
    }
}

void print_header(std::uint64_t seed, const std::string& file, const std::string& name) {
    fmt::print("byzsim {} seed {} scenario {} ({})\n", BYZSIM_VERSION, seed, file, name);
    std::fflush(stdout);  // shown even if the run never returns
}

// ---- run -----------------------------------------------------------------------------------

// The trace of a run with --out: written to a temporary file, renamed into place only once
// the run has finished, so an interrupted run leaves no partial trace.jsonl.
class TraceFile {
public:
    explicit TraceFile(const fs::path& target)
        : target_(target), tmp_(target.string() + ".tmp." + std::to_string(::getpid())) {
        out_.open(tmp_, std::ios::binary | std::ios::trunc);
        if (!out_) throw InputError(fmt::format("cannot create {}", tmp_.string()));
    }
    TraceFile(const TraceFile&) = delete;
    TraceFile& operator=(const TraceFile&) = delete;
    ~TraceFile() {
        if (!committed_) {
            std::error_code ec;
            out_.close();
            fs::remove(tmp_, ec);
        }
    }
    std::ostream* stream() { return &out_; }
    void commit() {
        out_.close();
        if (out_.fail()) throw InputError(fmt::format("cannot write {}", tmp_.string()));
        fs::rename(tmp_, target_);
        committed_ = true;
    }

private:
    fs::path target_, tmp_;
    std::ofstream out_;
    bool committed_ = false;
};

void add_run_options(po::options_description& d) {
    auto add = d.add_options();
    add("seed", po::value<std::string>()->value_name("N"), "override the scenario's seed");
    add("out", po::value<std::string>()->value_name("DIR"),
        "write report.json, requests.csv, messages.csv here");
    add("trace", po::bool_switch(), "also write trace.jsonl (needs --out)");
    add("quiet,q", po::bool_switch(), "print one line instead of the summary");
}

// Checks the scenario's "expect" block against the run; prints what it found. Without an
// "expect" block, any violation fails the run.
int judge(const sim::ScenarioSpec& spec, const sim::RunResult& r) {
    const std::optional<sim::Violation>& v = r.violation;
    const sim::ExpectSpec& e = spec.expect;
    if (!e.present) return v ? kExitFailed : kExitOk;
    std::vector<std::string> failed;
    const std::string wanted =
        e.invariant.empty() ? "a violation" : "a violation of " + e.invariant;
    if (e.safe && v) {
        failed.push_back("expected outcome safe, found a violation of " + v->invariant);
    } else if (!e.safe && !v) {
        failed.push_back("expected " + wanted + ", but the run was safe");
    } else if (!e.safe && !e.invariant.empty() && v->invariant != e.invariant) {
        failed.push_back("expected " + wanted + ", found a violation of " + v->invariant);
    } else if (!e.safe) {
        fmt::print("expected violation found: {}\n", v->invariant);
    }
    if (r.accepted < e.min_commits) {
        failed.push_back(fmt::format("expected at least {} accepted requests (min_commits), got {}",
                                     e.min_commits, r.accepted));
    }
    for (const std::string& f : failed) fmt::print("expectation failed: {}\n", f);
    if (failed.empty()) fmt::print("expectations met\n");
    return failed.empty() ? kExitOk : kExitFailed;
}

void write_reports(const fs::path& dir, const sim::ScenarioSpec& spec, const sim::RunResult& r,
                   const reports::ReportMeta& meta) {
    reports::write_atomic(dir / "report.json", reports::report_json(spec, r, meta).dump(2) + "\n");
    reports::write_atomic(dir / "requests.csv", reports::requests_csv(r));
    reports::write_atomic(dir / "messages.csv", reports::messages_csv(r, spec.nodes));
}

int run_verb(const Operands& operands, const po::variables_map& vm) {
    const std::string& file = operands[0];
    const bool trace = vm["trace"].as<bool>();
    const bool quiet = vm["quiet"].as<bool>();
    const std::optional<fs::path> out =
        vm.count("out") ? std::optional<fs::path>(vm["out"].as<std::string>()) : std::nullopt;
    if (trace && !out) throw UsageError("--trace needs --out DIR to write trace.jsonl to", "run");
    const std::optional<std::uint64_t> seed =
        vm.count("seed") ? std::optional(parse_seed(vm["seed"].as<std::string>())) : std::nullopt;

    sim::ScenarioSpec spec = load(file);
    if (spec.randomize) {
        // A sweep scenario: run the concrete scenario this seed draws, as a sweep would.
        try {
            spec = protocols::concrete_scenario(spec, seed.value_or(spec.seed));
        } catch (const sim::ScenarioError& e) {
            throw_input_error(file, e);
        }
        const std::size_t at = spec.description.rfind(" drew: ");
        std::string drawn =
            at == std::string::npos ? spec.description : spec.description.substr(at + 7);
        if (!drawn.empty() && drawn.back() == ']') drawn.pop_back();
        fmt::print("randomize: seed {} drew: {}\n", spec.seed, drawn);
    } else if (seed) {
        spec.seed = *seed;
        spec.source["seed"] = *seed;
    }
    reports::ReportMeta meta{BYZSIM_VERSION, file, "", spec.seed};
    meta.replay_command = fmt::format("byzsim run {} --seed {}", shell_quote(file), spec.seed);
    if (out)
        meta.replay_command += "; byzsim replay " + shell_quote((*out / "report.json").string());

    print_header(spec.seed, file, spec.name);
    std::unique_ptr<TraceFile> trace_file;
    try {
        if (out) fs::create_directories(*out);
        if (trace) trace_file = std::make_unique<TraceFile>(*out / "trace.jsonl");
    } catch (const fs::filesystem_error& e) {
        throw InputError(fmt::format("cannot create output directory: {}", e.what()));
    }
    const Simulation s = simulate(spec, file, trace_file ? trace_file->stream() : nullptr);
    const sim::RunResult& r = *s.result;
    try {
        if (trace_file) trace_file->commit();
        if (out) write_reports(*out, spec, r, meta);
    } catch (const std::system_error& e) {  // filesystem_error is one too
        throw InputError(fmt::format("cannot write the reports: {}", e.what()));
    }

    if (quiet) {
        fmt::print("{} fingerprint {} events {}\n",
                   r.violation ? "VIOLATION: " + r.violation->invariant : std::string("SAFE"),
                   reports::fingerprint_hex(r.fingerprint), r.events);
    } else {
        fmt::print("{}", reports::summary_text(spec, r, meta));
        if (out) fmt::print("wrote {}\n", out->string());
    }
    return judge(spec, r);
}

// ---- replay --------------------------------------------------------------------------------

struct Report {
    json doc;
    sim::ScenarioSpec spec;
    std::string fingerprint;
};

// A report field that must be there, with the right type; otherwise bad input.
const json& report_field(const json& doc, const std::string& file, const std::string& key,
                         bool (json::*is_type)() const noexcept, std::string_view type) {
    const auto it = doc.find(key);
    if (it == doc.end()) throw InputError(fmt::format("{}: /{}: missing required key", file, key));
    if (!((*it).*is_type)()) throw InputError(fmt::format("{}: /{}: expected {}", file, key, type));
    return *it;
}

Report read_report(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw InputError(fmt::format("{}: cannot read the report", file));
    Report rep;
    try {
        rep.doc = json::parse(in);
    } catch (const json::exception& e) {
        throw InputError(fmt::format("{}: not a valid JSON report: {}", file, e.what()));
    }
    if (!rep.doc.is_object()) throw InputError(fmt::format("{}: expected a JSON object", file));
    json scenario = report_field(rep.doc, file, "scenario", &json::is_object, "an object");
    const json& seed =
        report_field(rep.doc, file, "seed", &json::is_number_unsigned, "an unsigned integer");
    rep.fingerprint =
        report_field(rep.doc, file, "fingerprint", &json::is_string, "a string").get<std::string>();
    scenario["seed"] = seed;
    try {
        rep.spec = sim::parse_scenario(scenario);
        protocols::validate(rep.spec);
    } catch (const sim::ScenarioError& e) {
        throw_input_error(file, e, "/scenario");
    }
    return rep;
}

// The event number of a trace line: the value of its "ev" field, or "?".
std::string event_of(const std::string& line) {
    constexpr std::string_view kKey = "\"ev\":";
    const std::size_t at = line.find(kKey);
    if (at == std::string::npos) return "?";
    std::size_t end = at + kKey.size();
    while (end < line.size() && line[end] >= '0' && line[end] <= '9') ++end;
    return end == at + kKey.size() ? "?" : line.substr(at + kKey.size(), end - at - kKey.size());
}

// Prints the first line where the recorded trace and the replayed one differ.
void diff_traces(const fs::path& recorded_file, const std::string& replayed_text) {
    std::ifstream recorded(recorded_file, std::ios::binary);
    std::istringstream replayed(replayed_text);
    std::string a, b;
    for (std::uint64_t line = 1;; ++line) {
        const bool has_a = static_cast<bool>(std::getline(recorded, a));
        const bool has_b = static_cast<bool>(std::getline(replayed, b));
        if (!has_a && !has_b) {
            fmt::print("the traces are identical ({} lines), yet the fingerprints differ\n",
                       line - 1);
            return;
        }
        if (has_a && has_b && a == b) continue;
        fmt::print("first difference at trace line {} (event {}):\n", line,
                   event_of(has_a ? a : b));
        fmt::print("  recorded: {}\n", has_a ? a : "<end of trace>");
        fmt::print("  replayed: {}\n", has_b ? b : "<end of trace>");
        return;
    }
}

int replay_verb(const Operands& operands, const po::variables_map&) {
    fs::path file = operands[0];
    if (fs::is_directory(file)) file /= "report.json";
    const Report rep = read_report(file.string());
    const std::uint64_t seed = rep.spec.seed;
    print_header(seed, file.string(), rep.spec.name);
    const std::string version = rep.doc.value("version", std::string("?"));
    if (version != BYZSIM_VERSION)
        fmt::print("note: the report was written by byzsim {}\n", version);

    const Simulation s = simulate(rep.spec, file.string(), nullptr, "/scenario");
    const std::string now = reports::fingerprint_hex(s.result->fingerprint);
    if (now == rep.fingerprint) {
        fmt::print("replay OK: fingerprint {} matches\n", now);
        return kExitOk;
    }
    fmt::print("replay MISMATCH: the report has fingerprint {}, the replay {} ({} events)\n",
               rep.fingerprint, now, s.result->events);
    const fs::path trace = file.parent_path() / "trace.jsonl";
    if (!fs::exists(trace)) {
        fmt::print(
            "no {} next to the report to name the first differing event; re-run with "
            "--out DIR --trace to record one\n",
            trace.string());
        return kExitFailed;
    }
    std::ostringstream replayed;
    simulate(rep.spec, file.string(), &replayed, "/scenario");
    diff_traces(trace, replayed.str());
    return kExitFailed;
}

// ---- validate ------------------------------------------------------------------------------

int validate_verb(const Operands& operands, const po::variables_map&) {
    const sim::ScenarioSpec spec = load(operands[0]);
    fmt::print("ok: {}\n", spec.name);
    return kExitOk;
}

void no_options(po::options_description&) {}

void add_compare_options(po::options_description& d) {
    auto add = d.add_options();
    add("protocols", po::value<std::string>()->value_name("P,P")->default_value("pbft,hotstuff"),
        "protocols to compare");
    add("nodes", po::value<std::string>()->value_name("N,N")->default_value("4,7,16,31,64"),
        "replica counts");
    add("out", po::value<std::string>()->value_name("DIR"), "write compare.csv here");
}

std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t comma = std::min(text.find(',', start), text.size());
        if (comma > start) out.push_back(text.substr(start, comma - start));
        start = comma + 1;
    }
    return out;
}

int compare_verb(const Operands& operands, const po::variables_map& vm) {
    const std::string& file = operands[0];
    const sim::ScenarioSpec spec = load(file);
    const auto protocols = split_list(vm["protocols"].as<std::string>());
    std::vector<std::uint32_t> sizes;
    for (const auto& word : split_list(vm["nodes"].as<std::string>())) {
        if (word.empty() || word.size() > 4 || word.find_first_not_of("0123456789") != word.npos ||
            std::stoul(word) < 1 || std::stoul(word) > 1024)
            throw UsageError(
                fmt::format("--nodes: '{}' is not a replica count from 1 to 1024", word),
                "compare");
        sizes.push_back(static_cast<std::uint32_t>(std::stoul(word)));
    }
    if (protocols.empty() || sizes.empty())
        throw UsageError("--protocols and --nodes need at least one value each", "compare");
    std::vector<tools::CompareRow> rows;
    try {
        rows = tools::compare(spec.source, protocols, sizes);
    } catch (const sim::ScenarioError& e) {
        throw_input_error(file, e);
    }
    fmt::print("{}", tools::compare_table(rows));
    if (vm.count("out")) {
        const fs::path dir = vm["out"].as<std::string>();
        reports::write_atomic(dir / "compare.csv", tools::compare_csv(rows));
        fmt::print("wrote {}\n", (dir / "compare.csv").string());
    }
    for (const auto& r : rows)
        if (r.outcome != "safe") return kExitFailed;
    return kExitOk;
}

// ---- sweep, merge, shrink ------------------------------------------------------------------

constexpr int kExitInterrupted = 130;

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
}

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

    const sim::ScenarioSpec spec = load(file);
    fmt::print("byzsim {} sweep {} ({}) seeds {}..{}{} with {} worker(s){}\n", BYZSIM_VERSION, file,
               spec.name, o.first, o.last,
               o.shards > 1 ? fmt::format(" shard {}/{}", o.shard, o.shards) : "", o.jobs,
               spec.randomize ? ""
                              : "; note: the scenario has no randomize section, so seeds "
                                "vary only its random streams");
    std::fflush(stdout);
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
    fmt::print("{} seeds done, {} failing ({} violations); {:.1f} s; wrote {}\n", s.seeds_done,
               s.failures, s.violations, s.wall_seconds, (o.out / "sweep.csv").string());
    if (s.first_failure) {
        fmt::print(
            "first failure: seed {} ({}); reproduce with: byzsim run {}\n", *s.first_failure,
            s.first_invariant.empty() ? "error" : s.first_invariant,
            shell_quote(
                (o.out / "failures" / fmt::format("seed-{}.json", *s.first_failure)).string()));
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
    fmt::print(
        "shrunk in {} runs, {} steps: size {} -> {} (faults {} -> {}, nodes {} -> {}, "
        "requests {} -> {}, clients {} -> {}, network settings {} -> {}); still fails {}\n",
        r.runs, r.steps.size(), r.before.total(), r.after.total(), r.before.faults, r.after.faults,
        r.before.nodes, r.after.nodes, r.before.requests, r.after.requests, r.before.clients,
        r.after.clients, r.before.network_settings, r.after.network_settings, r.invariant);
    fmt::print("wrote {}; replay with: byzsim run {}\n", o.out.string(),
               shell_quote(o.out.string()));
    return kExitOk;
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
        "hunt only these mutations (default: every one the protocol has)");
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
    o.honest = !vm["no-honest"].as<bool>();
    o.witnesses = std::max(1U, vm["witnesses"].as<unsigned>());
    o.out = vm["out"].as<std::string>();
    o.progress = !vm["no-progress"].as<bool>();
    std::vector<nlohmann::json> docs;
    for (const std::string& file : operands) {
        const sim::ScenarioSpec spec = load(file);
        if (!spec.randomize)
            throw InputError(
                fmt::format("{}: a hunt needs a scenario with a randomize section", file));
        for (const std::string& m : o.only) {
            const auto known = protocols::mutation_names(spec.protocol);
            if (std::find(known.begin(), known.end(), m) == known.end())
                throw UsageError(fmt::format("--mutations: {} has no mutation '{}'; it has: {}",
                                             spec.protocol, m, fmt::join(known, ", ")),
                                 "hunt");
        }
        docs.push_back(spec.source);
    }
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

// ---- the table of verbs and the dispatcher -------------------------------------------------

// New verbs (compare, sweep, shrink, merge, hunt) are one row each.
const Verb kVerbs[] = {
    {"run", "SCENARIO", 1, "run a scenario, print its summary, optionally write reports",
     add_run_options, run_verb},
    {"replay", "REPORT", 1, "re-run a report.json (or its directory); check the fingerprint",
     no_options, replay_verb},
    {"validate", "SCENARIO", 1, "check a scenario file without running it", no_options,
     validate_verb},
    {"compare", "SCENARIO", 1,
     "run one workload under several protocols and sizes; a table and compare.csv",
     add_compare_options, compare_verb},
    {"sweep", "SCENARIO", 1,
     "run many seeds in worker processes; sweep.csv and failures/seed-N.json", add_sweep_options,
     sweep_verb},
    {"merge", "DIR...", kOneOrMore, "join the output directories of a sharded sweep",
     add_merge_options, merge_verb},
    {"shrink", "FAILURE", 1, "reduce a failing scenario while the same invariant still fails",
     add_shrink_options, shrink_verb},
    {"hunt", "SCENARIO...", kOneOrMore,
     "sweep each seeded bug (mutation) of the protocol until found, and shrink it; hunt.csv",
     add_hunt_options, hunt_verb},
};

const Verb* find_verb(std::string_view name) {
    for (const Verb& v : kVerbs)
        if (v.name == name) return &v;
    return nullptr;
}

po::options_description options_of(const Verb& verb) {
    po::options_description d("options");
    d.add_options()("help,h", "show this help");
    verb.add_options(d);
    return d;
}

std::string verb_usage(const Verb& verb) {
    std::ostringstream opts;
    opts << options_of(verb);
    return fmt::format("usage: byzsim {} {} [options]\n\n{}\n\n{}", verb.name, verb.operands,
                       verb.summary, opts.str());
}

std::string general_usage() {
    std::string out = "usage: byzsim <verb> [operands] [options]\n\nverbs:\n";
    for (const Verb& v : kVerbs) {
        out += fmt::format("  {:<20}{}\n", fmt::format("{} {}", v.name, v.operands), v.summary);
    }
    out += fmt::format("  {:<20}{}\n", "help [VERB]", "show this help, or a verb's");
    out +=
        "\noptions:\n  -h, --help          show this help\n"
        "  --version           print the version\n"
        "\nexit codes: 0 ok or expectations met, 1 violation, failed expectation or replay "
        "mismatch,\n            2 bad input or usage, 3 internal error\n";
    return out;
}

int help_verb(const Operands& operands, const po::variables_map&) {
    if (operands.empty()) {
        fmt::print("{}", general_usage());
        return kExitOk;
    }
    const Verb* v = find_verb(operands[0]);
    if (!v) throw UsageError(fmt::format("no help for unknown verb '{}'", operands[0]), "");
    fmt::print("{}", verb_usage(*v));
    return kExitOk;
}

int run_verb_line(const Verb& verb, const Operands& args) {
    po::options_description visible = options_of(verb);
    po::options_description all;
    all.add(visible).add_options()("operand", po::value<Operands>(), "");
    po::positional_options_description positional;
    positional.add("operand", -1);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        throw UsageError(e.what(), std::string(verb.name));
    }
    if (vm.count("help")) {
        fmt::print("{}", verb_usage(verb));
        return kExitOk;
    }
    const Operands operands = vm.count("operand") ? vm["operand"].as<Operands>() : Operands{};
    if (verb.operand_count == kOneOrMore ? operands.empty()
                                         : operands.size() != verb.operand_count) {
        const std::string count = verb.operand_count == kOneOrMore
                                      ? std::string("one or more")
                                      : std::to_string(verb.operand_count);
        throw UsageError(fmt::format("'{}' takes {} operand(s) ({}), got {}", verb.name, count,
                                     verb.operands, operands.size()),
                         std::string(verb.name));
    }
    return verb.run(operands, vm);
}

int dispatch(const Operands& args) {
    if (args.empty()) {
        fmt::print(stderr, "{}", general_usage());
        return kExitUsage;
    }
    const std::string& first = args[0];
    const Operands rest(args.begin() + 1, args.end());
    if (first == "--help" || first == "-h" || first == "help") {
        if (rest.size() > 1) throw UsageError("help takes at most one verb", "");
        return help_verb(rest, {});
    }
    if (first == "--version") {
        fmt::print("byzsim {}\n", BYZSIM_VERSION);
        return kExitOk;
    }
    const Verb* verb = find_verb(first);
    if (!verb) throw UsageError(fmt::format("unknown verb '{}'", first), "");
    return run_verb_line(*verb, rest);
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return dispatch(Operands(argv + 1, argv + argc));
    } catch (const UsageError& e) {
        fmt::print(stderr, "error: {}\n", e.what());
        fmt::print(stderr, "run 'byzsim help{}' for usage\n",
                   e.verb().empty() ? "" : " " + e.verb());
        return kExitUsage;
    } catch (const InputError& e) {
        fmt::print(stderr, "error: {}\n", e.what());
        return kExitUsage;
    } catch (const sim::ScenarioError& e) {
        // Every path above names the file; this is a net for one that does not.
        fmt::print(stderr, "error: {}\n", e.what());
        return kExitUsage;
    } catch (const std::exception& e) {
        std::fflush(stdout);
        fmt::print(stderr, "internal error: {}\n", e.what());
        return kExitInternal;
    } catch (...) {
        std::fflush(stdout);
        fmt::print(stderr, "internal error: unknown exception\n");
        return kExitInternal;
    }
}
