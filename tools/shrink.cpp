#include "tools/shrink.hpp"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "protocols/registry.hpp"
#include "reports/report.hpp"
#include "sim/scenario.hpp"
#include "tools/seed_run.hpp"

namespace tools {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::int64_t kMs = 1'000'000;

std::int64_t time_of(const json& v) {
    return sim::parse_duration(v, "").ns;
}

std::string text_of(std::int64_t ns) {
    return sim::format_duration(sim::SimTime{ns});
}

// Rounds up to a whole millisecond, so shrunk files keep readable times.
std::int64_t ceil_ms(std::int64_t ns) {
    return (ns + kMs - 1) / kMs * kMs;
}

// A fault entry in a few words, for the step log.
std::string describe_fault(const json& f) {
    std::string out = f.value("type", std::string("?"));
    if (f.contains("node")) out += fmt::format(" of replica {}", f["node"].dump());
    if (f.contains("behavior")) out += " " + f["behavior"].get<std::string>();
    if (f.contains("groups")) out += " " + f["groups"].dump();
    if (f.contains("from")) out += " " + f["from"].dump() + "->" + f["to"].dump();
    if (f.contains("at")) out += " at " + f["at"].get<std::string>();
    if (f.contains("until")) out += " until " + f["until"].get<std::string>();
    if (f.value("state", "") == "lost") out += " (state lost)";
    return out;
}

// The recovery that ends the crash at `i`: the next recover entry of that replica.
std::optional<std::size_t> recovery_of(const json& faults, std::size_t i) {
    if (faults[i].value("type", "") != "crash") return std::nullopt;
    for (std::size_t j = i + 1; j < faults.size(); ++j)
        if (faults[j].value("type", "") == "recover" && faults[j]["node"] == faults[i]["node"])
            return j;
    return std::nullopt;
}

class Shrinker {
public:
    Shrinker(json doc, const ShrinkOptions& o, ShrinkResult& res)
        : best_(std::move(doc)), o_(o), res_(res) {}

    // Runs `doc`; true if it violates the target invariant (or, for the first run, any).
    bool fails(const json& doc) {
        ++res_.runs;
        sim::ScenarioSpec spec;
        try {
            spec = sim::parse_scenario(doc);
            protocols::validate(spec);
        } catch (const sim::ScenarioError&) {
            return false;  // a candidate that is not a valid scenario
        }
        if (spec.randomize || stopped()) return false;
        const RunOutcome r = run_concrete(spec, nullptr, o_.interrupt);
        if (r.interrupted || !r.violation) return false;
        if (!res_.invariant.empty() && r.violation->invariant != res_.invariant) return false;
        if (fails_masked_alone(doc)) return false;
        res_.invariant = r.violation->invariant;
        violation_time_ = r.violation->time.ns;
        res_.fingerprint = r.fingerprint;
        return true;
    }

    bool fails_masked_alone(json doc) {
        if (o_.masks.empty()) return false;
        ++res_.runs;
        doc["protocol"]["mutations"] = o_.masks;
        return run_concrete(sim::parse_scenario(doc), nullptr, o_.interrupt).violation.has_value();
    }

    // Keeps `candidate` if it still fails.
    bool attempt(json candidate, const std::string& what) {
        if (!budget_left() || candidate == best_) return false;
        if (!fails(candidate)) return false;
        best_ = std::move(candidate);
        res_.steps.push_back(what);
        if (o_.verbose) {
            fmt::print("step {:>3} (run {:>4}): {} -- still fails {}\n", res_.steps.size(),
                       res_.runs, what, res_.invariant);
            std::fflush(stdout);
        }
        return true;
    }

    void run() {
        bool changed = true;
        while (changed && budget_left()) {
            changed = greedy_passes();
            if (!changed) changed = drop_faults_reseeded();
        }
    }

    const json& best() const { return best_; }
    bool stopped() const { return o_.interrupt && *o_.interrupt; }

private:
    bool budget_left() const { return res_.runs < o_.max_runs && !stopped(); }

    bool greedy_passes() {
        bool any = false;
        for (bool changed = true; changed && budget_left();) {
            changed = false;
            changed |= end_at_violation();
            changed |= merge_crash_windows();
            changed |= drop_faults();
            changed |= drop_params();
            changed |= shorten_windows();
            changed |= lower_workload();
            changed |= lower_nodes();
            changed |= simplify_network();
            changed |= drop_protocol_params();
            any |= changed;
        }
        return any;
    }

    json faults() const { return best_.value("faults", json::array()); }

    bool with_faults(json list, const std::string& what) {
        json c = best_;
        c["faults"] = std::move(list);
        return attempt(std::move(c), what);
    }

    // Nothing after the violation can matter: drop those faults and stop the run there.
    bool end_at_violation() {
        const std::int64_t stop = ceil_ms(violation_time_) + kMs;
        const std::int64_t old_stop = best_.contains("stop") && best_["stop"].contains("at")
                                          ? time_of(best_["stop"]["at"])
                                          : 60'000 * kMs;
        if (stop >= old_stop) return false;
        json c = best_;
        c["stop"]["at"] = text_of(stop);
        json kept = json::array();
        std::size_t dropped = 0;
        for (const json& f : faults()) {
            if (f.contains("at") && time_of(f["at"]) > stop) {
                ++dropped;
                continue;
            }
            json g = f;
            if (g.contains("until") && time_of(g["until"]) > stop) {
                g.erase("until");
                g.erase("state");  // a crash's recovery, past the end
            }
            kept.push_back(std::move(g));
        }
        c["faults"] = kept;
        if (c.contains("network") && c["network"].contains("gst") &&
            time_of(c["network"]["gst"]["at"]) > stop)
            c["network"]["gst"]["at"] = text_of(stop);
        return attempt(std::move(c), fmt::format("end the run at {} (the violation is at {}); "
                                                 "drop {} later fault(s)",
                                                 text_of(stop), text_of(violation_time_), dropped));
    }

    // A crash and its recover entry become one crash entry with `until` and `state`.
    bool merge_crash_windows() {
        bool any = false;
        for (std::size_t i = 0; i < faults().size(); ++i) {
            json list = faults();
            const std::optional<std::size_t> rec = recovery_of(list, i);
            if (!rec) continue;
            list[i]["until"] = list[*rec]["at"];
            list[i]["state"] = list[*rec].value("state", json("kept"));
            list.erase(*rec);
            any |= with_faults(std::move(list), "one entry for " + describe_fault(faults()[i]) +
                                                    " and its recovery");
        }
        return any;
    }

    bool drop_faults() {
        bool any = false;
        for (std::size_t chunk = std::max<std::size_t>(faults().size() / 2, 1); chunk >= 1;
             chunk /= 2) {
            for (std::size_t start = 0; start < faults().size();) {
                const json list = faults();
                std::set<std::size_t> gone;
                for (std::size_t i = start; i < std::min(start + chunk, list.size()); ++i) {
                    gone.insert(i);
                    if (auto r = recovery_of(list, i)) gone.insert(*r);
                }
                json kept = json::array();
                std::string what;
                for (std::size_t i = 0; i < list.size(); ++i) {
                    if (!gone.count(i)) {
                        kept.push_back(list[i]);
                    } else {
                        what += (what.empty() ? "" : "; ") + describe_fault(list[i]);
                    }
                }
                if (with_faults(std::move(kept), "drop " + what)) {
                    any = true;
                } else {
                    start += chunk;
                }
            }
            if (chunk == 1) break;
        }
        return any;
    }

    // A fault entry (with its recovery) gone, under each of the next o_.reseeds seeds.
    bool drop_faults_reseeded() {
        const std::uint64_t seed = best_.value("seed", std::uint64_t{1});
        for (std::size_t i = 0; i < faults().size(); ++i) {
            const json list = faults();
            const std::optional<std::size_t> rec = recovery_of(list, i);
            json kept = json::array();
            for (std::size_t k = 0; k < list.size(); ++k)
                if (k != i && (!rec || k != *rec)) kept.push_back(list[k]);
            for (std::uint64_t s = 1; s <= o_.reseeds && budget_left(); ++s) {
                json c = best_;
                c["faults"] = kept;
                c["seed"] = seed + s;
                if (attempt(std::move(c), fmt::format("drop {} and take seed {}",
                                                      describe_fault(list[i]), seed + s)))
                    return true;
            }
        }
        return false;
    }

    bool drop_params() {
        bool any = false;
        const json list = faults();
        for (std::size_t i = 0; i < list.size(); ++i) {
            if (!list[i].contains("params")) continue;
            json c = faults();
            c[i].erase("params");
            any |= with_faults(std::move(c), "default parameters for " + describe_fault(list[i]));
        }
        return any;
    }

    // Halves windows (crash downtimes too), or starts them later, down to a millisecond.
    bool shorten_windows() {
        bool any = false;
        for (std::size_t i = 0; i < faults().size(); ++i) {
            for (;;) {
                const json list = faults();
                const json& f = list[i];
                const std::optional<std::size_t> rec = recovery_of(list, i);
                const bool window = f.contains("until") && f.contains("at");
                if (!window && !rec) break;
                const std::int64_t at = time_of(f["at"]);
                const std::int64_t end = rec ? time_of(list[*rec]["at"]) : time_of(f["until"]);
                const std::int64_t half = ceil_ms((end - at) / 2);
                if (end - at <= kMs || half >= end - at) break;
                json shorter = list, later = list;
                if (rec) {
                    shorter[*rec]["at"] = text_of(at + half);
                } else {
                    shorter[i]["until"] = text_of(at + half);
                    later[i]["at"] = text_of(end - half);
                }
                if (with_faults(
                        std::move(shorter),
                        fmt::format("shorten {} to {}", describe_fault(f), text_of(half)))) {
                    any = true;
                    continue;
                }
                if (!rec && with_faults(std::move(later),
                                        fmt::format("start {} later, at {}", describe_fault(f),
                                                    text_of(end - half)))) {
                    any = true;
                    continue;
                }
                break;
            }
        }
        return any;
    }

    bool lower_count(const char* key, std::uint64_t current, std::uint64_t floor) {
        if (current <= floor) return false;
        for (const std::uint64_t v : {floor, current / 4, current / 2, current - 1}) {
            if (v < floor || v >= current) continue;
            json c = best_;
            c["workload"][key] = v;
            if (attempt(std::move(c), fmt::format("{} {} -> {}", key, current, v))) return true;
        }
        return false;
    }

    bool lower_workload() {
        bool any = false;
        for (;;) {
            const json w = best_.value("workload", json::object());
            const bool a = lower_count("requests", w.value("requests", 10u), 1);
            const bool b = lower_count("clients", w.value("clients", 1u), 1);
            if (!a && !b) return any;
            any = true;
        }
    }

    bool lower_nodes() {
        bool any = false;
        while (best_.value("nodes", 0u) > 1) {
            const std::uint32_t n = best_["nodes"];
            json c = best_;
            c["nodes"] = n - 1;
            if (!attempt(std::move(c), fmt::format("nodes {} -> {}", n, n - 1))) break;
            any = true;
        }
        return any;
    }

    // The fixed delay a distribution is replaced by: its mean (median for lognormal).
    static std::optional<std::string> fixed_delay(const json& d) {
        if (!d.is_object()) return std::nullopt;
        const std::string dist = d.value("dist", "");
        if (dist == "fixed") return d.value("value", json("1ms")).get<std::string>();
        if (dist == "uniform") return text_of((time_of(d["min"]) + time_of(d["max"])) / 2);
        if (dist == "normal" || dist == "exponential") return d["mean"].get<std::string>();
        if (dist == "lognormal") return d["median"].get<std::string>();
        return std::nullopt;
    }

    bool simplify_network() {
        if (!best_.contains("network") || !best_["network"].is_object()) return false;
        bool any = false;
        if (auto fixed = fixed_delay(best_["network"].value("delay", json()))) {
            json c = best_;
            c["network"]["delay"] = *fixed;
            any |= attempt(std::move(c), "fixed delay " + *fixed);
        }
        for (const char* key :
             {"loss", "duplicate", "corrupt", "reorder", "queue_capacity", "links", "gst"}) {
            if (!best_["network"].contains(key)) continue;
            json c = best_;
            c["network"].erase(key);
            any |= attempt(std::move(c), fmt::format("no network {}", key));
        }
        if (best_.contains("costs")) {
            json c = best_;
            c.erase("costs");
            any |= attempt(std::move(c), "no processing costs");
        }
        return any;
    }

    bool drop_protocol_params() {
        if (!best_.contains("protocol") || !best_["protocol"].is_object()) return false;
        bool any = false;
        std::vector<std::string> keys;
        for (const auto& [k, v] : best_["protocol"].items())
            if (k != "name" && k != "mutations") keys.push_back(k);
        for (const std::string& k : keys) {
            json c = best_;
            c["protocol"].erase(k);
            any |= attempt(std::move(c), fmt::format("default protocol {}", k));
        }
        return any;
    }

    json best_;
    const ShrinkOptions& o_;
    ShrinkResult& res_;
    std::int64_t violation_time_ = 0;
};

std::uint64_t window_ms(const json& faults) {
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < faults.size(); ++i) {
        const json& f = faults[i];
        if (f.contains("until") && f.contains("at"))
            total += static_cast<std::uint64_t>((time_of(f["until"]) - time_of(f["at"])) / kMs);
        if (auto r = recovery_of(faults, i))
            total +=
                static_cast<std::uint64_t>((time_of(faults[*r]["at"]) - time_of(f["at"])) / kMs);
    }
    return total;
}

}  // namespace

std::uint64_t ScenarioSize::total() const {
    return faults + nodes + requests + clients + network_settings + protocol_params +
           (window_ms + 999) / 1000;
}

json ScenarioSize::to_json() const {
    return {{"faults", faults},
            {"nodes", nodes},
            {"requests", requests},
            {"clients", clients},
            {"network_settings", network_settings},
            {"protocol_params", protocol_params},
            {"window_ms", window_ms},
            {"total", total()}};
}

ScenarioSize scenario_size(const json& doc) {
    ScenarioSize s;
    const json faults = doc.value("faults", json::array());
    s.faults = faults.size();
    s.nodes = doc.value("nodes", 0u);
    const json w = doc.value("workload", json::object());
    s.requests = w.value("requests", 10u);
    s.clients = w.value("clients", 1u);
    const json net = doc.value("network", json::object());
    for (const auto& [k, v] : net.items()) {
        if (k == "delay" && !v.is_object()) continue;  // a fixed delay is the simplest
        if (k == "reorder" && v == false) continue;
        if ((k == "loss" || k == "duplicate" || k == "corrupt" || k == "queue_capacity") && v == 0)
            continue;
        ++s.network_settings;
    }
    if (doc.contains("protocol") && doc["protocol"].is_object())
        for (const auto& [k, v] : doc["protocol"].items())
            if (k != "name" && k != "mutations") ++s.protocol_params;
    s.window_ms = window_ms(faults);
    return s;
}

ShrinkResult shrink_document(const json& doc, const ShrinkOptions& opts) {
    ShrinkResult res;
    Shrinker s(doc, opts, res);
    const bool failed = s.fails(doc);
    if (s.stopped()) res.interrupted = true;
    if (!failed && res.interrupted) return res;
    if (!failed) {
        // Tell a valid safe scenario from an invalid one.
        sim::ScenarioSpec spec = sim::parse_scenario(doc);
        protocols::validate(spec);
        if (spec.randomize)
            throw std::runtime_error(
                "the scenario has a randomize section; shrink a concrete "
                "failure file (failures/seed-N.json of a sweep) instead");
        throw std::runtime_error("the scenario does not fail: no invariant is violated");
    }
    res.before = scenario_size(doc);
    if (opts.verbose) {
        fmt::print("shrinking: the scenario fails {} (size {}); up to {} runs\n", res.invariant,
                   res.before.total(), opts.max_runs);
        std::fflush(stdout);
    }
    s.run();
    res.interrupted = s.stopped();
    res.minimal = expect_violation(s.best(), res.invariant);
    res.minimal["name"] = doc.value("name", std::string("scenario")) + "-min";
    res.minimal["description"] =
        fmt::format("Shrunk by byzsim shrink in {} runs ({} steps{}) from '{}': still fails {}.",
                    res.runs, res.steps.size(), res.interrupted ? ", interrupted" : "",
                    doc.value("name", std::string("scenario")), res.invariant);
    res.after = scenario_size(res.minimal);
    return res;
}

ShrinkResult shrink_file(const std::string& file, const ShrinkOptions& opts) {
    const sim::ScenarioSpec spec = sim::load_scenario(file);  // refuses bad files with a path
    ShrinkResult res = shrink_document(spec.source, opts);
    if (!opts.out.empty() && !res.minimal.is_null()) {
        reports::write_atomic(opts.out, res.minimal.dump(2) + "\n");
        fs::path report = opts.out;
        report.replace_extension(".shrink.json");
        const json doc = {{"input", file},
                          {"output", opts.out.string()},
                          {"invariant", res.invariant},
                          {"runs", res.runs},
                          {"interrupted", res.interrupted},
                          {"fingerprint", reports::fingerprint_hex(res.fingerprint)},
                          {"before", res.before.to_json()},
                          {"after", res.after.to_json()},
                          {"steps", res.steps}};
        reports::write_atomic(report, doc.dump(2) + "\n");
    }
    return res;
}

}  // namespace tools
