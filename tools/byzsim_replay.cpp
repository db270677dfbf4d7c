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
#include "protocols/registry.hpp"
#include "reports/report.hpp"
#include "sim/scenario.hpp"
#include "tools/cli.hpp"
#include "tools/term.hpp"

namespace cli {

namespace fs = std::filesystem;
using nlohmann::json;

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
    std::error_code ec;
    if (fs::is_regular_file(file, ec) && fs::file_size(file, ec) > sim::JsonBounds::kBytes)
        throw InputError(fmt::format("{}: larger than any report ({} MiB)", file,
                                     sim::JsonBounds::kBytes >> 20));
    std::ifstream in(file, std::ios::binary);
    if (!in) throw InputError(fmt::format("{}: cannot read the report", file));
    std::ostringstream text;
    text << in.rdbuf();
    Report rep;
    try {
        rep.doc = sim::parse_json_text(text.str(), "the report");
    } catch (const sim::ScenarioError& e) {
        throw_input_error(file, e);
    }
    if (!rep.doc.is_object()) throw InputError(fmt::format("{}: expected a JSON object", file));
    if (const auto v = rep.doc.find("version"); v != rep.doc.end() && !v->is_string())
        throw InputError(fmt::format("{}: /version: expected a string", file));
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

    const Simulation s = simulate(rep.spec, file.string(), {}, "/scenario");
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
    simulate(rep.spec, file.string(), traced, "/scenario");
    diff_traces(trace, replayed.str());
    return kExitFailed;
}

// ---- validate ------------------------------------------------------------------------------

// Every file is checked, whatever the others give: "ok: FILE: NAME" on stdout or the error on
// stderr, one line each; exit 2 if any was refused.
int validate_verb(const Operands& operands, const po::variables_map&) {
    const bool c = term::colour(stdout);
    if (operands.size() == 1) {
        const sim::ScenarioSpec spec = load(operands[0]);
        fmt::print("{} {}\n", term::paint("ok:", term::Tone::Good, c), spec.name);
        return kExitOk;
    }
    std::size_t refused = 0;
    std::string hint;
    for (const std::string& file : operands) {
        try {
            const sim::ScenarioSpec spec = load(file);
            fmt::print("{} {}: {}\n", term::paint("ok:", term::Tone::Good, c), file, spec.name);
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
