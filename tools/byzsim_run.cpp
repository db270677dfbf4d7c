// byzsim's verbs that run one scenario: run, replay, validate, compare.
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
#include "tools/cli.hpp"
#include "tools/compare.hpp"
#include "tools/compare_loops.hpp"
#include "tools/run_outputs.hpp"
#include "tools/sweep.hpp"

namespace cli {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

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

struct Simulation {
    std::unique_ptr<sim::Simulator> sim;
    const sim::RunResult* result = nullptr;
};

// Builds and runs; scenario errors found only now are still reported against `file`.
Simulation simulate(const sim::ScenarioSpec& spec, const std::string& file,
                    std::ostream* trace = nullptr, std::string_view path_prefix = "",
                    sim::TraceSink* sink = nullptr) {
    sim::SimOptions opts;
    opts.trace = trace;
    opts.sink = sink;
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

}  // namespace

void add_run_options(po::options_description& d) {
    auto add = d.add_options();
    add("seed", po::value<std::string>()->value_name("N"), "override the scenario's seed");
    add("out", po::value<std::string>()->value_name("DIR"),
        "write report.json, report.html, requests.csv, messages.csv here");
    add("trace", po::bool_switch(), "also write trace.jsonl (needs --out)");
    add("trace-format", po::value<std::string>()->value_name("F,..."),
        "traces to write (needs --out): jsonl (trace.jsonl), chrome (trace.chrome.json, for "
        "Perfetto), otlp (trace.otlp.json, OpenTelemetry)");
    add("window", po::value<std::string>()->value_name("A..B"),
        "the virtual time report.html draws, e.g. 1.2s..1.5s (default: before the violation, "
        "or the run's start)");
    add("quiet,q", po::bool_switch(), "print one line instead of the summary");
}

namespace {

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
    for (const auto& [name, text] : r.system_csv()) reports::write_atomic(dir / name, text);
}

}  // namespace

int run_verb(const Operands& operands, const po::variables_map& vm) {
    const std::string& file = operands[0];
    const bool quiet = vm["quiet"].as<bool>();
    const std::optional<fs::path> out =
        vm.count("out") ? std::optional<fs::path>(vm["out"].as<std::string>()) : std::nullopt;
    std::vector<TraceFormat> formats;
    if (vm["trace"].as<bool>()) formats.push_back(TraceFormat::Jsonl);
    if (vm.count("trace-format"))
        for (const TraceFormat f : parse_trace_formats(vm["trace-format"].as<std::string>()))
            if (std::find(formats.begin(), formats.end(), f) == formats.end()) formats.push_back(f);
    const std::optional<std::pair<std::int64_t, std::int64_t>> window =
        vm.count("window") ? std::optional(parse_window(vm["window"].as<std::string>()))
                           : std::nullopt;
    if (!formats.empty() && !out)
        throw UsageError("--trace and --trace-format need --out DIR to write the traces to", "run");
    if (window && !out) throw UsageError("--window needs --out DIR (it draws report.html)", "run");
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
    std::unique_ptr<RunOutputs> outputs;
    try {
        if (out) fs::create_directories(*out);
        if (out) outputs = std::make_unique<RunOutputs>(*out, spec, formats, window);
    } catch (const fs::filesystem_error& e) {
        throw InputError(fmt::format("cannot create output directory: {}", e.what()));
    }
    const Simulation s = simulate(spec, file, nullptr, "", outputs ? outputs->sink() : nullptr);
    const sim::RunResult& r = *s.result;
    try {
        if (outputs) outputs->finish(spec, r, meta);
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

namespace {

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

}  // namespace

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

void add_compare_options(po::options_description& d) {
    auto add = d.add_options();
    add("protocols", po::value<std::string>()->value_name("P,P")->default_value("pbft,hotstuff"),
        "protocols to compare");
    add("nodes", po::value<std::string>()->value_name("N,N")->default_value("4,7,16,31,64"),
        "replica counts");
    add("coordination",
        po::value<std::string>()->value_name("C,C")->default_value("bft,local,leader"),
        "a MAPE-K scenario: the coordinations to compare (instead of protocols and sizes)");
    add("out", po::value<std::string>()->value_name("DIR"), "write compare.csv here");
}

namespace {

// The table, compare.csv under --out, and exit 1 if a row was not safe.
template <class Row>
int print_compare(const std::string& table, const std::string& csv, const std::vector<Row>& rows,
                  const po::variables_map& vm, const std::string& html = {}) {
    fmt::print("{}", table);
    if (vm.count("out")) {
        const fs::path dir = vm["out"].as<std::string>();
        reports::write_atomic(dir / "compare.csv", csv);
        if (!html.empty()) reports::write_atomic(dir / "compare.html", html);
        fmt::print("wrote {}{}\n", (dir / "compare.csv").string(),
                   html.empty() ? "" : " and compare.html");
    }
    for (const auto& r : rows)
        if (r.outcome != "safe") return kExitFailed;
    return kExitOk;
}

// A MAPE-K scenario under each coordination: one row each.
int compare_loops_verb(const std::string& file, const sim::ScenarioSpec& spec,
                       const po::variables_map& vm) {
    const auto coordinations = split_list(vm["coordination"].as<std::string>());
    for (const auto& c : coordinations)
        if (c != "bft" && c != "local" && c != "leader")
            throw UsageError(fmt::format("--coordination: '{}' is not bft, local or leader", c),
                             "compare");
    std::vector<tools::LoopRow> rows;
    try {
        rows = tools::compare_loops(spec.source, coordinations);
    } catch (const sim::ScenarioError& e) {
        throw_input_error(file, e);
    }
    return print_compare(tools::loops_table(rows), tools::loops_csv(rows), rows, vm);
}

}  // namespace

int compare_verb(const Operands& operands, const po::variables_map& vm) {
    const std::string& file = operands[0];
    const sim::ScenarioSpec spec = load(file);
    if (spec.system == "mapek") return compare_loops_verb(file, spec, vm);
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
    return print_compare(tools::compare_table(rows), tools::compare_csv(rows), rows, vm,
                         tools::compare_html(rows, spec.name));
}

}  // namespace cli
