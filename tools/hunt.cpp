#include "tools/hunt.hpp"

#include <chrono>
#include <cstdio>

#include <fmt/format.h>

#include "protocols/registry.hpp"
#include "reports/report.hpp"
#include "sim/scenario.hpp"
#include "tools/shrink.hpp"
#include "tools/sweep.hpp"

namespace tools {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;  // wall time of each sweep, for the table only

// The scenario with exactly `mutation` switched on (none for "none").
json with_mutation(json doc, const std::string& mutation) {
    if (!doc.contains("protocol")) doc["protocol"] = "pbft";
    if (doc["protocol"].is_string()) doc["protocol"] = {{"name", doc["protocol"]}};
    doc["protocol"].erase("mutations");
    if (mutation != "none") doc["protocol"]["mutations"] = json::array({mutation});
    doc["name"] = fmt::format("{}-{}", doc.value("name", std::string("hunt")), mutation);
    return doc;
}

HuntRow hunt_one(const std::string& file, const json& base, const std::string& mutation,
                 const HuntOptions& o) {
    const auto started = Clock::now();
    HuntRow row;
    row.scenario = file;
    row.mutation = mutation;
    const sim::ScenarioSpec spec = sim::parse_scenario(with_mutation(base, mutation));
    protocols::validate(spec);
    row.protocol = spec.protocol;
    SweepOptions so;
    so.scenario_file = file;
    so.first = o.first;
    so.last = o.last;
    so.jobs = o.jobs;
    so.time_budget_s = o.time_budget_s;
    so.stop_on_first = true;
    so.out = o.out / fmt::format("{}-{}", row.protocol, mutation);
    so.progress = o.progress;
    so.quiet = true;
    fs::remove_all(so.out);
    const SweepSummary s = sweep(spec, so);
    row.seeds_run = s.seeds_done;
    row.found = s.first_failure.has_value();
    row.first_seed = s.first_failure;
    row.invariant = s.first_invariant;
    if (row.found) {
        ShrinkOptions sh;
        sh.verbose = false;
        sh.out = so.out / "failures" / fmt::format("seed-{}.min.json", *s.first_failure);
        const ShrinkResult r = shrink_file(
            (so.out / "failures" / fmt::format("seed-{}.json", *s.first_failure)).string(), sh);
        row.shrunk_faults = r.after.faults;
        row.shrunk_size = r.after.total();
        row.original_size = r.before.total();
        row.shrink_runs = r.runs;
    }
    row.wall_s = std::chrono::duration<double>(Clock::now() - started).count();
    return row;
}

}  // namespace

std::string hunt_csv(const std::vector<HuntRow>& rows) {
    std::string out =
        "scenario,protocol,mutation,found,seeds_to_first,first_seed,wall_s,invariant,"
        "original_size,shrunk_size,shrunk_faults,shrink_runs\n";
    for (const HuntRow& r : rows) {
        out += fmt::format("{},{},{},{},{},{},{:.2f},{},{},{},{},{}\n", r.scenario, r.protocol,
                           r.mutation, r.found ? "yes" : "no", r.seeds_run,
                           r.first_seed ? std::to_string(*r.first_seed) : "", r.wall_s, r.invariant,
                           r.original_size, r.shrunk_size, r.shrunk_faults, r.shrink_runs);
    }
    return out;
}

std::vector<HuntRow> hunt(const std::vector<std::string>& files, const std::vector<json>& docs,
                          const HuntOptions& o) {
    std::vector<HuntRow> rows;
    fs::create_directories(o.out);
    for (std::size_t i = 0; i < files.size(); ++i) {
        const sim::ScenarioSpec base = sim::parse_scenario(docs[i]);
        std::vector<std::string> mutations;
        if (o.honest) mutations.push_back("none");
        for (const std::string& m : protocols::mutation_names(base))
            if (o.only.empty() || std::find(o.only.begin(), o.only.end(), m) != o.only.end())
                mutations.push_back(m);
        for (const std::string& m : mutations) {
            fmt::print("hunt: {} {} ... ", base.protocol, m);
            std::fflush(stdout);
            rows.push_back(hunt_one(files[i], docs[i], m, o));
            const HuntRow& r = rows.back();
            if (r.found) {
                fmt::print(
                    "{} at seed {} after {} seeds ({}); shrunk {} -> {} ({} faults); "
                    "{:.1f} s\n",
                    m == "none" ? "VIOLATION in the honest protocol" : "found", *r.first_seed,
                    r.seeds_run, r.invariant, r.original_size, r.shrunk_size, r.shrunk_faults,
                    r.wall_s);
            } else {
                fmt::print("{} in {} seeds; {:.1f} s\n",
                           m == "none" ? "nothing found, as it should be" : "NOT FOUND",
                           r.seeds_run, r.wall_s);
            }
            // Written after each sweep, so an interrupted hunt keeps the rows it finished.
            reports::write_atomic(o.out / "hunt.csv", hunt_csv(rows));
        }
    }
    return rows;
}

}  // namespace tools
