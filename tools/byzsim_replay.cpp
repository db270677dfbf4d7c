// byzsim replay (re-run a report and check its fingerprint) and byzsim validate (check scenario
// files without running them).
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "byzsim_version.h"
#include "protocols/cost.hpp"
#include "protocols/registry.hpp"
#include "reports/report.hpp"
#include "sim/scenario.hpp"
#include "tools/cli.hpp"
#include "tools/report_read.hpp"
#include "tools/term.hpp"

namespace cli {

namespace fs = std::filesystem;
using nlohmann::json;

// ---- replay --------------------------------------------------------------------------------

namespace {

// The report at `file`, checked; bad input otherwise.
tools::ReportInput read_report(const std::string& file) {
    std::error_code ec;
    if (fs::is_regular_file(file, ec) && fs::file_size(file, ec) > sim::JsonBounds::kBytes)
        throw InputError(fmt::format("{}: larger than any report ({} MiB)", file,
                                     sim::JsonBounds::kBytes >> 20));
    std::ifstream in(file, std::ios::binary);
    if (!in) throw InputError(fmt::format("{}: cannot read the report", file));
    std::ostringstream text;
    text << in.rdbuf();
    try {
        return tools::parse_report(text.str());
    } catch (const sim::ScenarioError& e) {
        throw_input_error(file, e);
    }
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
    const tools::ReportInput rep = read_report(file.string());
    const std::uint64_t seed = rep.spec.seed;
    print_header(seed, file.string(), rep.spec.name);
    const std::string version = rep.doc.value("version", std::string("?"));
    if (version != BYZSIM_VERSION)
        fmt::print("note: the report was written by byzsim {}\n", version);

    sim::SimOptions opts;
    opts.max_events = rep.max_events;  // a run cut at its budget is replayed to the same cut
    const Simulation s = simulate(rep.spec, file.string(), opts, "/scenario");
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
    sim::SimOptions traced;
    traced.trace = &replayed;
    traced.max_events = rep.max_events;
    simulate(rep.spec, file.string(), traced, "/scenario");
    diff_traces(trace, replayed.str());
    return kExitFailed;
}

// ---- validate ------------------------------------------------------------------------------

namespace {

// What a run of `spec` (its seed's draw, for a sweep scenario) is estimated to cost, and
// whether it passes the default budget.
std::string estimate_text(const sim::ScenarioSpec& spec) {
    const protocols::CostEstimate e =
        protocols::estimate_cost(protocols::concrete_scenario(spec, spec.seed));
    std::string out = fmt::format("about {} events and {} of memory",
                                  protocols::count_text(e.events), protocols::bytes_text(e.bytes));
    try {
        protocols::check_budget(e, protocols::Budget{});
    } catch (const sim::ScenarioError&) {
        out += ", over the default budget: run it with --max-events N or --max-memory SIZE";
    }
    return out;
}

}  // namespace

// Every file is checked, whatever the others give: "ok: FILE: NAME" on stdout or the error on
// stderr, one line each; exit 2 if any was refused.
int validate_verb(const Operands& operands, const po::variables_map&) {
    const bool c = term::colour(stdout);
    if (operands.size() == 1) {
        const sim::ScenarioSpec spec = load(operands[0]);
        fmt::print("{} {}\n", term::paint("ok:", term::Tone::Good, c), spec.name);
        fmt::print("estimate: {}\n", estimate_text(spec));
        return kExitOk;
    }
    std::size_t refused = 0;
    std::string hint;
    for (const std::string& file : operands) {
        try {
            const sim::ScenarioSpec spec = load(file);
            fmt::print("{} {}: {} ({})\n", term::paint("ok:", term::Tone::Good, c), file, spec.name,
                       estimate_text(spec));
        } catch (const InputError& e) {
            std::fflush(stdout);
            term::print_error(e.what());
            hint = e.hint();
            ++refused;
        }
    }
    if (!refused) return kExitOk;
    fmt::print(stderr, "{} of {} files refused\n", refused, operands.size());
    if (!hint.empty()) term::print_hint(hint);
    return kExitUsage;
}

}  // namespace cli
