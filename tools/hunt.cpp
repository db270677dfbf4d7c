#include "tools/hunt.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include <fmt/format.h>

#include "protocols/registry.hpp"
#include "reports/report.hpp"
#include "sim/scenario.hpp"
#include "tools/seed_run.hpp"
#include "tools/shrink.hpp"
#include "tools/sweep.hpp"

namespace tools {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;  // wall time of each sweep, for the table only

// The parts of a hunted name: "bug", or "bug+mask+..." for a bug hunted with the old
// behaviour of the fixes that mask it also on.
std::vector<std::string> parts_of(const std::string& mutation) {
    std::vector<std::string> parts;
    for (std::size_t at = 0;;) {
        const std::size_t plus = mutation.find('+', at);
        parts.push_back(mutation.substr(at, plus - at));
        if (plus == std::string::npos) return parts;
        at = plus + 1;
    }
}

// The scenario with exactly `mutation`'s parts switched on (none for "none").
json with_mutation(json doc, const std::string& mutation) {
    if (!doc.contains("protocol")) doc["protocol"] = "pbft";
    if (doc["protocol"].is_string()) doc["protocol"] = {{"name", doc["protocol"]}};
    doc["protocol"].erase("mutations");
    if (mutation != "none") doc["protocol"]["mutations"] = parts_of(mutation);
    doc["name"] = fmt::format("{}-{}", doc.value("name", std::string("hunt")), mutation);
    return doc;
}

struct Witness {
    std::optional<std::uint64_t> seed;
    std::string invariant;
    std::uint64_t seeds_done = 0;
    fs::path dir;  // the sweep's directory, with failures/seed-N.json
};

// What a hunted name's seeds are checked against: for "bug+mask", the sweep with the masks
// alone, which must not fail on a seed for that seed to show the bug.
struct Masks {
    std::vector<std::string> names;
    std::optional<sim::ScenarioSpec> spec;
    bool fail(std::uint64_t seed) const {
        return spec && run_concrete(protocols::concrete_scenario(*spec, seed)).violation;
    }
};

Masks masks_of(const json& base, const std::string& mutation) {
    Masks m;
    const std::size_t plus = mutation.find('+');
    if (plus == std::string::npos) return m;
    const std::string masks = mutation.substr(plus + 1);
    m.names = parts_of(masks);
    m.spec = sim::parse_scenario(with_mutation(base, masks));
    return m;
}

// Sweeps [first, o.last] until its first failure, into `out`.
Witness find_failure(const sim::ScenarioSpec& spec, const std::string& file, std::uint64_t first,
                     const fs::path& out, const HuntOptions& o) {
    SweepOptions so;
    so.scenario_file = file;
    so.first = first;
    so.last = o.last;
    so.jobs = o.jobs;
    so.time_budget_s = o.time_budget_s;
    so.stop_on_first = true;
    so.out = out;
    so.progress = o.progress;
    so.quiet = true;
    fs::remove_all(so.out);
    const SweepSummary s = sweep(spec, so);
    return Witness{s.first_failure, s.first_invariant, s.seeds_done, out};
}

// The first failing seed from `first` on that the masks alone do not fail.
Witness find_shown(const sim::ScenarioSpec& spec, const std::string& file, std::uint64_t first,
                   const fs::path& out, const HuntOptions& o, const Masks& masks) {
    Witness w = find_failure(spec, file, first, out, o);
    while (w.seed && masks.fail(*w.seed)) {
        const std::uint64_t done = w.seeds_done;
        if (*w.seed >= o.last) return Witness{std::nullopt, "", done, out};
        w = find_failure(spec, file, *w.seed + 1, out / fmt::format("from-{}", *w.seed + 1), o);
        w.seeds_done += done;
    }
    return w;
}

// Shrinks failing seeds, the first and then (while the smallest case has more fault entries
// than the goal) the next ones, and keeps the smallest case: fewest faults, then size.
void shrink_witnesses(HuntRow& row, const sim::ScenarioSpec& spec, Witness found,
                      const HuntOptions& o, const Masks& masks) {
    std::uint64_t seed = *found.seed;
    const fs::path out = found.dir;
    fs::path dir = out;
    for (unsigned w = 0; w < o.witnesses; ++w) {
        ShrinkOptions sh;
        sh.verbose = false;
        sh.masks = masks.names;
        sh.out = dir / "failures" / fmt::format("seed-{}.min.json", seed);
        const ShrinkResult r =
            shrink_file((dir / "failures" / fmt::format("seed-{}.json", seed)).string(), sh);
        ++row.witnesses;
        const bool better =
            !row.shrunk_seed || r.after.faults < row.shrunk_faults ||
            (r.after.faults == row.shrunk_faults && r.after.total() < row.shrunk_size);
        if (better) {
            row.shrunk_seed = seed;
            row.shrunk_faults = r.after.faults;
            row.shrunk_size = r.after.total();
            row.original_size = r.before.total();
        }
        row.shrink_runs += r.runs;
        if (row.shrunk_faults <= o.fault_goal || seed >= o.last) return;
        const Witness next = find_shown(spec, row.scenario, seed + 1,
                                        out / fmt::format("from-{}", seed + 1), o, masks);
        if (!next.seed) return;
        seed = *next.seed;
        dir = next.dir;
    }
}

HuntRow hunt_one(const std::string& file, const std::string& name, const json& base,
                 const std::string& mutation, const HuntOptions& o) {
    const auto started = Clock::now();
    HuntRow row;
    row.scenario = file;
    row.mutation = mutation;
    const sim::ScenarioSpec spec = sim::parse_scenario(with_mutation(base, mutation));
    protocols::validate(spec);
    row.protocol = spec.system == "mapek" ? "mapek" : spec.protocol;
    const fs::path out = o.out / fmt::format("{}-{}", name, mutation);
    const Masks masks = masks_of(base, mutation);
    const Witness first = find_shown(spec, file, o.first, out, o, masks);
    row.seeds_run = first.seeds_done;
    row.found = first.seed.has_value();
    row.first_seed = first.seed;
    row.invariant = first.invariant;
    if (row.found) shrink_witnesses(row, spec, first, o, masks);
    row.wall_s = std::chrono::duration<double>(Clock::now() - started).count();
    return row;
}

// Each sweep's directory name: its file's stem (pbft, hotstuff-twins), with its position added
// where two files share one, so no sweep's failures overwrite another's.
std::vector<std::string> sweep_names(const std::vector<std::string>& files) {
    std::vector<std::string> names;
    for (const std::string& f : files) names.push_back(fs::path(f).stem().string());
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (std::count(names.begin(), names.end(), names[i]) > 1)
            names[i] += fmt::format("-{}", i + 1);
    }
    return names;
}

}  // namespace

std::string hunt_csv(const std::vector<HuntRow>& rows) {
    std::string out =
        "scenario,protocol,mutation,found,seeds_to_first,first_seed,wall_s,invariant,"
        "original_size,shrunk_size,shrunk_faults,shrink_runs,shrunk_seed,witnesses\n";
    for (const HuntRow& r : rows) {
        out += fmt::format("{},{},{},{},{},{},{:.2f},{},{},{},{},{},{},{}\n", r.scenario,
                           r.protocol, r.mutation, r.found ? "yes" : "no", r.seeds_run,
                           r.first_seed ? std::to_string(*r.first_seed) : "", r.wall_s, r.invariant,
                           r.original_size, r.shrunk_size, r.shrunk_faults, r.shrink_runs,
                           r.shrunk_seed ? std::to_string(*r.shrunk_seed) : "", r.witnesses);
    }
    return out;
}

std::vector<HuntRow> hunt(const std::vector<std::string>& files, const std::vector<json>& docs,
                          const HuntOptions& o) {
    std::vector<HuntRow> rows;
    fs::create_directories(o.out);
    const std::vector<std::string> names = sweep_names(files);
    for (std::size_t i = 0; i < files.size(); ++i) {
        const sim::ScenarioSpec base = sim::parse_scenario(docs[i]);
        std::vector<std::string> mutations;
        if (o.honest) mutations.push_back("none");
        for (const std::string& m : protocols::mutation_names(base)) {
            const bool skipped = std::find(o.skip.begin(), o.skip.end(), m) != o.skip.end();
            if (!skipped &&
                (o.only.empty() || std::find(o.only.begin(), o.only.end(), m) != o.only.end()))
                mutations.push_back(m);
        }
        for (const std::string& m : o.only)  // a bug with the fixes that mask it undone
            if (m.find('+') != std::string::npos) mutations.push_back(m);
        for (const std::string& m : mutations) {
            fmt::print("hunt: {} {} ... ", base.system == "mapek" ? "mapek" : base.protocol, m);
            std::fflush(stdout);
            rows.push_back(hunt_one(files[i], names[i], docs[i], m, o));
            const HuntRow& r = rows.back();
            if (r.found) {
                fmt::print(
                    "{} at seed {} after {} seeds ({}); shrunk {} -> {} ({} faults, seed {} of "
                    "{} shrunk); {:.1f} s\n",
                    m == "none" ? "VIOLATION in the honest protocol" : "found", *r.first_seed,
                    r.seeds_run, r.invariant, r.original_size, r.shrunk_size, r.shrunk_faults,
                    *r.shrunk_seed, r.witnesses, r.wall_s);
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
