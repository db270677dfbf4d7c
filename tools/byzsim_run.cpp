// byzsim run: one scenario (or the concrete scenario a sweep's seed draws), its summary on
// stdout (one line with --quiet, one JSON document with --json), reports under --out, and a
// progress line on a terminal while a long run goes on.
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "byzsim_version.h"
#include "protocols/cost.hpp"
#include "protocols/registry.hpp"
#include "reports/report.hpp"
#include "sim/scenario.hpp"
#include "sim/simulator.hpp"
#include "tools/cli.hpp"
#include "tools/interrupt.hpp"
#include "tools/run_outputs.hpp"
#include "tools/term.hpp"

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

// What the command line asked of `run`.
struct RunRequest {
    std::string file;
    bool quiet = false;
    bool as_json = false;
    std::optional<fs::path> out;
    std::vector<TraceFormat> formats;
    std::optional<std::pair<std::int64_t, std::int64_t>> window;
    std::optional<std::uint64_t> seed;
    protocols::Budget budget;  // events 0: no event budget
};

RunRequest read_request(const Operands& operands, const po::variables_map& vm) {
    RunRequest q;
    q.file = operands[0];
    q.quiet = vm["quiet"].as<bool>();
    q.as_json = vm["json"].as<bool>();
    if (vm.count("out")) q.out = fs::path(vm["out"].as<std::string>());
    if (vm["trace"].as<bool>()) q.formats.push_back(TraceFormat::Jsonl);
    if (vm.count("trace-format"))
        for (const TraceFormat f : parse_trace_formats(vm["trace-format"].as<std::string>()))
            if (std::find(q.formats.begin(), q.formats.end(), f) == q.formats.end())
                q.formats.push_back(f);
    if (vm.count("window")) q.window = parse_window(vm["window"].as<std::string>());
    if (!q.formats.empty() && !q.out)
        throw UsageError("--trace and --trace-format need --out DIR to write the traces to", "run");
    if (q.window && !q.out)
        throw UsageError("--window needs --out DIR (it draws report.html)", "run");
    if (q.quiet && q.as_json) throw UsageError("--quiet and --json: choose one", "run");
    if (vm.count("seed")) q.seed = parse_seed(vm["seed"].as<std::string>());
    q.budget = read_budget(vm, "run");
    return q;
}

// The scenario to run: the file's, with the seed overridden, or for a sweep scenario the
// concrete one the seed draws (`drawn` then says what it drew).
sim::ScenarioSpec scenario_for(const RunRequest& q, std::optional<std::string>& drawn) {
    sim::ScenarioSpec spec = load(q.file);
    if (spec.randomize) {
        try {
            spec = protocols::concrete_scenario(spec, q.seed.value_or(spec.seed));
        } catch (const sim::ScenarioError& e) {
            throw_input_error(q.file, e);
        }
        const std::size_t at = spec.description.rfind(" drew: ");
        drawn = at == std::string::npos ? spec.description : spec.description.substr(at + 7);
        if (!drawn->empty() && drawn->back() == ']') drawn->pop_back();
    } else if (q.seed) {
        spec.seed = *q.seed;
        spec.source["seed"] = *q.seed;
    }
    return spec;
}

// The scenario's "expect" block against the run. Without one, any violation fails the run.
struct Verdict {
    int exit = kExitOk;
    bool checked = false;             // the scenario has an "expect" block
    std::string found;                // the violation it expected, found
    std::vector<std::string> failed;  // what it expected and did not get
};

Verdict judge(const sim::ScenarioSpec& spec, const sim::RunResult& r) {
    const std::optional<sim::Violation>& v = r.violation;
    const sim::ExpectSpec& e = spec.expect;
    Verdict out;
    out.checked = e.present;
    if (!e.present) {
        out.exit = v ? kExitFailed : kExitOk;
        return out;
    }
    const std::string wanted =
        e.invariant.empty() ? "a violation" : "a violation of " + e.invariant;
    if (e.safe && v) {
        out.failed.push_back("expected outcome safe, found a violation of " + v->invariant);
    } else if (!e.safe && !v) {
        out.failed.push_back("expected " + wanted + ", but the run was safe");
    } else if (!e.safe && !e.invariant.empty() && v->invariant != e.invariant) {
        out.failed.push_back("expected " + wanted + ", found a violation of " + v->invariant);
    } else if (!e.safe) {
        out.found = v->invariant;
    }
    if (r.accepted < e.min_commits) {
        out.failed.push_back(
            fmt::format("expected at least {} accepted requests (min_commits), got {}",
                        e.min_commits, r.accepted));
    }
    out.exit = out.failed.empty() ? kExitOk : kExitFailed;
    return out;
}

void write_reports(const fs::path& dir, const sim::ScenarioSpec& spec, const sim::RunResult& r,
                   const reports::ReportMeta& meta) {
    reports::write_atomic(dir / "report.json", reports::report_json(spec, r, meta).dump(2) + "\n");
    reports::write_atomic(dir / "requests.csv", reports::requests_csv(r));
    reports::write_atomic(dir / "messages.csv", reports::messages_csv(r, spec.nodes));
    for (const auto& [name, text] : r.system_csv()) reports::write_atomic(dir / name, text);
}

// The summary's outcome line in green or red.
std::string tint_outcome(const std::string& summary, bool on) {
    if (!on) return summary;
    const std::size_t line = summary.find("outcome");
    if (line == std::string::npos) return summary;
    const std::size_t from = line + 14, to = summary.find('\n', from);
    const std::string word = summary.substr(from, to - from);
    const term::Tone tone = word == "SAFE" ? term::Tone::Good : term::Tone::Bad;
    return summary.substr(0, from) + term::paint(word, tone, true) + summary.substr(to);
}

// What a person reads: the summary (or one line), the verdict, and where to look next.
void print_human(const RunRequest& q, const sim::ScenarioSpec& spec, const sim::RunResult& r,
                 const reports::ReportMeta& meta, const Verdict& v) {
    const bool c = term::colour(stdout);
    const std::string outcome =
        r.violation ? "VIOLATION: " + r.violation->invariant : std::string("SAFE");
    if (q.quiet) {
        fmt::print("{} fingerprint {} events {}\n",
                   term::paint(outcome, r.violation ? term::Tone::Bad : term::Tone::Good, c),
                   reports::fingerprint_hex(r.fingerprint), r.events);
    } else {
        fmt::print("{}", tint_outcome(reports::summary_text(spec, r, meta), c));
        if (q.out) fmt::print("wrote {}\n", q.out->string());
        if (r.violation && q.out) {
            fmt::print("{:<14}open {} (the messages before the violation, drawn)\n", "see it",
                       shell_quote((*q.out / "report.html").string()));
        } else if (r.violation) {
            fmt::print("{:<14}byzsim run {} --seed {} --out DIR, then open DIR/report.html\n",
                       "see it", shell_quote(q.file), spec.seed);
        }
    }
    if (!v.found.empty()) fmt::print("expected violation found: {}\n", v.found);
    for (const std::string& f : v.failed)
        fmt::print("{} {}\n", term::paint("expectation failed:", term::Tone::Bad, c), f);
    if (v.checked && v.failed.empty())
        fmt::print("{}\n", term::paint("expectations met", term::Tone::Good, c));
}

// What a script reads: report.json's document, with the verdict and the output directory.
json summary_json(const RunRequest& q, const sim::ScenarioSpec& spec, const sim::RunResult& r,
                  const reports::ReportMeta& meta, const Verdict& v) {
    json doc = reports::report_json(spec, r, meta);
    doc["expect"] = {{"checked", v.checked}, {"met", v.failed.empty()}, {"failed", v.failed}};
    doc["out"] = q.out ? json(q.out->string()) : json(nullptr);
    doc["exit_code"] = v.exit;
    return doc;
}

// The reports' directory and the trace writers, opened before the run.
std::unique_ptr<RunOutputs> open_outputs(const RunRequest& q, const sim::ScenarioSpec& spec) {
    try {
        if (!q.out) return nullptr;
        fs::create_directories(*q.out);
        return std::make_unique<RunOutputs>(*q.out, spec, q.formats, q.window);
    } catch (const fs::filesystem_error& e) {
        throw InputError(fmt::format("cannot create output directory: {}", e.what()));
    }
}

// The commands that reproduce the run: a run cut at `cut_events` (its budget or Ctrl-C) is
// the run with that event budget.
std::string replay_command(const RunRequest& q, const sim::ScenarioSpec& spec,
                           std::uint64_t cut_events) {
    std::string out = fmt::format("byzsim run {} --seed {}", shell_quote(q.file), spec.seed);
    if (cut_events) out += fmt::format(" --max-events {}", cut_events);
    if (q.out) out += "; byzsim replay " + shell_quote((*q.out / "report.json").string());
    return out;
}

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
    add_budget_options(d);
    add("json", po::bool_switch(),
        "print only the summary as one JSON document (report.json's, with the verdict)");
}

int run_verb(const Operands& operands, const po::variables_map& vm) {
    const RunRequest q = read_request(operands, vm);
    std::optional<std::string> drawn;
    const sim::ScenarioSpec spec = scenario_for(q, drawn);
    try {
        protocols::check_budget(protocols::estimate_cost(spec), q.budget);
    } catch (const sim::ScenarioError& e) {
        throw_input_error(q.file, e);
    }
    if (!q.as_json) {
        if (drawn) fmt::print("randomize: seed {} drew: {}\n", spec.seed, *drawn);
        print_header(spec.seed, q.file, spec.name);
    }
    std::unique_ptr<RunOutputs> outputs = open_outputs(q, spec);
    const std::uint64_t requests =
        spec.stop.when_done ? spec.workload.requests + spec.workload.schedule.size() : 0;
    term::RunProgress progress(!q.quiet && !q.as_json, spec.stop.at, requests);
    const tools::InterruptGuard signals;  // Ctrl-C: stop, write the reports, exit 130
    sim::SimOptions opts;
    opts.sink = outputs ? outputs->sink() : nullptr;
    opts.max_events = q.budget.events;
    opts.interrupt = tools::interrupt_flag();
    if (progress.on())
        opts.progress = [&progress](sim::SimTime now, const sim::RunResult& so_far) {
            progress.update(now, so_far.events, so_far.accepted);
        };
    const Simulation s = simulate(spec, q.file, std::move(opts));
    progress.finish();
    const sim::RunResult& r = *s.result;
    const bool cut = r.stop_reason == "interrupted" || r.stop_reason == "event budget";
    reports::ReportMeta meta{BYZSIM_VERSION, q.file, "", spec.seed};
    meta.replay_command = replay_command(q, spec, cut ? r.events : 0);
    try {
        if (outputs) outputs->finish(spec, r, meta);
        if (q.out) write_reports(*q.out, spec, r, meta);
    } catch (const std::system_error& e) {  // filesystem_error is one too
        throw InputError(fmt::format("cannot write the reports: {}", e.what()));
    }
    Verdict v = judge(spec, r);
    if (r.stop_reason == "interrupted") v.exit = kExitInterrupted;
    if (q.as_json) {
        fmt::print("{}\n", summary_json(q, spec, r, meta, v).dump(2));
    } else {
        print_human(q, spec, r, meta, v);
        if (r.stop_reason == "interrupted")
            fmt::print("interrupted after {} events{}\n", r.events,
                       q.out ? "; the reports hold the run so far, and replay reproduces it" : "");
    }
    return v.exit;
}

}  // namespace cli
