#include "tools/seed_run.hpp"

#include <algorithm>
#include <charconv>
#include <iterator>
#include <stdexcept>

#include <fmt/format.h>

#include "protocols/cost.hpp"
#include "protocols/registry.hpp"
#include "reports/report.hpp"

namespace tools {

using nlohmann::json;

namespace {

std::int64_t parse_i64(std::string_view text, bool& ok) {
    std::int64_t v = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    ok = !text.empty() && ec == std::errc() && ptr == text.data() + text.size();
    return v;
}

// The failure file: the drawn scenario, expecting the failure it showed, so that it is a
// regression scenario as it stands.
json failure_document(const json& drawn, const SeedRow& row) {
    if (row.outcome == "violation") return expect_violation(drawn, row.invariant);
    json doc = drawn;
    doc.erase("expect");
    return doc;
}

}  // namespace

std::uint64_t parse_u64(std::string_view text, bool& ok) {
    std::uint64_t v = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    ok = !text.empty() && ec == std::errc() && ptr == text.data() + text.size();
    return v;
}

json expect_violation(const json& doc, const std::string& invariant) {
    json out = doc;
    out["expect"] = {{"outcome", "violation"}, {"invariant", invariant}};
    try {
        sim::parse_scenario(out);
    } catch (const sim::ScenarioError&) {
        out["expect"].erase("invariant");  // an invariant name `expect` does not know
    }
    return out;
}

std::string sweep_csv_header() {
    return "seed,outcome,invariant,events,commits,virtual_time_ns,fingerprint\n";
}

std::string sweep_csv_line(const SeedRow& r) {
    return fmt::format("{},{},{},{},{},{},{}\n", r.seed, r.outcome, r.invariant, r.events,
                       r.commits, r.virtual_time_ns, r.fingerprint);
}

std::optional<SeedRow> parse_sweep_csv_line(const std::string& line) {
    std::vector<std::string_view> f;
    std::size_t start = 0;
    for (;;) {
        const std::size_t comma = line.find(',', start);
        f.emplace_back(std::string_view(line).substr(start, comma - start));
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    if (f.size() != 7) return std::nullopt;
    SeedRow r;
    bool ok[5];
    r.seed = parse_u64(f[0], ok[0]);
    r.outcome = f[1];
    r.invariant = f[2];
    r.events = parse_u64(f[3], ok[1]);
    r.commits = parse_u64(f[4], ok[2]);
    r.virtual_time_ns = parse_i64(f[5], ok[3]);
    r.fingerprint = f[6];
    ok[4] = r.fingerprint.size() == 16;
    if (!std::all_of(std::begin(ok), std::end(ok), [](bool b) { return b; })) return std::nullopt;
    if (r.outcome != "safe" && r.outcome != "violation" && r.outcome != "nondeterministic" &&
        r.outcome != "error")
        return std::nullopt;
    return r;
}

RunOutcome run_concrete(const sim::ScenarioSpec& spec, std::vector<std::uint64_t>* log,
                        const volatile std::sig_atomic_t* interrupt) {
    sim::SimOptions opts;
    opts.keep_request_rows = false;
    opts.fingerprint_log = log;
    opts.max_events = protocols::Budget::kDefaultEvents;  // as `byzsim run` by default
    opts.interrupt = interrupt;
    auto simulator = protocols::build(spec, opts);
    const sim::RunResult& r = simulator->run();
    RunOutcome out;
    out.violation = r.violation;
    out.interrupted = r.stop_reason == "interrupted";
    out.events = r.events;
    out.accepted = r.accepted;
    out.fingerprint = r.fingerprint;
    out.end = r.end_time;
    return out;
}

SeedRow run_seed(const sim::ScenarioSpec& spec, std::uint64_t seed, bool check_determinism,
                 json* drawn, std::string* detail) {
    SeedRow row;
    row.seed = seed;
    row.fingerprint = reports::fingerprint_hex(0);
    sim::ScenarioSpec concrete;
    try {
        concrete = protocols::concrete_scenario(spec, seed);
        protocols::check_budget(protocols::estimate_cost(concrete), protocols::Budget{});
        std::vector<std::uint64_t> first, second;
        const RunOutcome a = run_concrete(concrete, check_determinism ? &first : nullptr);
        row.events = a.events;
        row.commits = a.accepted;
        row.virtual_time_ns = a.end.ns;
        row.fingerprint = reports::fingerprint_hex(a.fingerprint);
        row.outcome = a.violation ? "violation" : "safe";
        if (a.violation) {
            row.invariant = a.violation->invariant;
            if (detail) *detail = a.violation->detail;
        }
        if (check_determinism) {
            const RunOutcome b = run_concrete(concrete, &second);
            if (first != second || a.fingerprint != b.fingerprint) {
                std::size_t i = 0;
                while (i < first.size() && i < second.size() && first[i] == second[i]) ++i;
                row.outcome = "nondeterministic";
                row.invariant = fmt::format("event {}", i + 1);
                if (detail)
                    *detail = fmt::format(
                        "two runs of seed {} differ from event {} on "
                        "({} and {} events)",
                        seed, i + 1, first.size(), second.size());
            }
        }
    } catch (const std::exception& e) {
        row.outcome = "error";
        row.invariant = "";
        if (detail) *detail = e.what();
    }
    if (row.outcome != "safe" && drawn && concrete.source.is_object())
        *drawn = failure_document(concrete.source, row);
    return row;
}

}  // namespace tools
