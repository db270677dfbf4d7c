// Counterexample shrinking (`byzsim shrink`): reduce a failing concrete scenario while the same
// invariant still fails. Greedy and deterministic: candidate simplifications are tried in a
// fixed order, each one kept if the run still violates the same invariant, until a whole pass
// keeps nothing (or the run budget is spent).
//
// Candidates, in order: drop the faults after the violation and end the run at it; drop fault
// entries (halves, then quarters, ..., then one at a time; a crash goes with its recovery);
// drop a behaviour's parameters; shorten fault windows (halve them, start them later); lower
// requests and clients; lower n (keeping n >= 3f+1 unless the scenario allows unsafe f);
// simplify the network (fixed delay, no loss, duplication, corruption, reordering, queue
// bound, explicit links or GST); drop protocol parameters (but never `mutations`). When a
// whole pass keeps nothing, each fault entry is tried once more without it under the next
// `reseeds` seeds (the seed after the file's first), and the passes start again if one fails.
#pragma once

#include <csignal>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tools {

struct ShrinkOptions {
    std::filesystem::path out;  // where the smallest scenario goes; empty: not written
    bool verbose = true;        // print each kept step to stdout
    std::uint64_t max_runs = 4000;
    // Seeds tried for each fault entry the greedy passes could not drop: without the entry,
    // the same run under another seed (its delays, losses and Byzantine draws) may still fail.
    std::uint64_t reseeds = 256;
    // Seeded bugs that mask the one hunted (hunt's "bug+mask"): a candidate counts as failing
    // only if it does not fail with these alone in /protocol/mutations.
    std::vector<std::string> masks;
    // Once set (Ctrl-C), shrinking stops and keeps the smallest failing scenario found so far.
    const volatile std::sig_atomic_t* interrupt = nullptr;
};

// How big a scenario is, in the terms shrinking reduces.
struct ScenarioSize {
    std::uint64_t faults = 0, nodes = 0, requests = 0, clients = 0, network_settings = 0,
                  protocol_params = 0, window_ms = 0;
    std::uint64_t total() const;  // the sum of the counts, windows in seconds rounded up
    nlohmann::json to_json() const;
};
ScenarioSize scenario_size(const nlohmann::json& doc);

struct ShrinkResult {
    std::string invariant;
    nlohmann::json minimal;
    ScenarioSize before, after;
    std::vector<std::string> steps;  // what each kept step removed
    std::uint64_t runs = 0;          // simulations run, the first included
    std::uint64_t fingerprint = 0;   // of the minimal scenario's run
    // Stopped by ShrinkOptions::interrupt; `minimal` is null if it came before the first run
    // showed the failure.
    bool interrupted = false;
};

// Shrinks a concrete scenario document (no "randomize" section). Throws std::runtime_error if
// it does not fail, and sim::ScenarioError if it is not a valid scenario.
ShrinkResult shrink_document(const nlohmann::json& doc, const ShrinkOptions& opts);
// Reads `file` (a failure file or any failing scenario), shrinks it and, with opts.out, writes
// the minimal scenario there and a report of the steps next to it (<out stem>.shrink.json),
// also when interrupted after the first run.
ShrinkResult shrink_file(const std::string& file, const ShrinkOptions& opts);

}  // namespace tools
