// The `randomize` section of a scenario: what a sweep may vary from seed to seed. Each seed draws
// one concrete scenario from it ("swarm" testing: besides timings, a seed switches whole fault
// classes on or off, so different seeds exercise different fault mixes). The drawn scenario is
// an ordinary scenario document without `randomize`; `byzsim run` reproduces it exactly.
//
// Format: scenarios/FORMAT.md, section `randomize`.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/scenario.hpp"

namespace sim {

// An inclusive range; durations in ns, probabilities in ppm.
struct DrawRange {
    std::int64_t lo = 0, hi = 0;
};

struct RandomizeSpec {
    bool swarm = true;  // each fault class is on for a seed with probability 1/2

    // One behaviour of a drawn replica; its own window, if set, overrides the section's.
    struct Part {
        nlohmann::json behavior;                // {"behavior": name, "params": {...}}
        std::optional<DrawRange> at, duration;  // window
    };
    struct Byzantine {
        DrawRange count;
        std::vector<std::uint32_t> nodes;          // candidates
        std::vector<std::vector<Part>> behaviors;  // each: one behaviour, or a combination
        std::optional<DrawRange> at, duration;     // window; absent: the whole run
    };
    struct Crashes {
        DrawRange count;
        std::vector<std::uint32_t> nodes;
        DrawRange at, duration;        // crash time, then downtime before recovery
        std::vector<bool> lose_state;  // choices for the recovery
    };
    // ViewSplit: a split keyed by the sender's view (Twins), within `views`.
    enum class PartitionKind { Split, OneWay, Isolate, IsolateLeader, ViewSplit };
    struct Partitions {
        DrawRange count;
        std::vector<PartitionKind> kinds;
        DrawRange at, duration;
        DrawRange views{1, 10};  // view_split: bounds of the drawn view range
    };
    // Network rules per message: each matches `kinds_per_rule` distinct message types (from
    // `kinds`, or any of the protocol's), half the time one sender and one receiver, and a view
    // range (when `views` is given, half the time), and acts for a drawn window; a hold
    // releases at its end.
    struct Rules {
        DrawRange count;
        std::vector<RuleSpec::Action> actions;
        std::vector<std::string> kinds;           // empty: the protocol's (DrawHints::kind_names)
        std::optional<DrawRange> kinds_per_rule;  // absent: one type, named alone
        DrawRange at, duration;
        DrawRange delay{1'000'000, 100'000'000};  // the delay action's added delay
        std::optional<DrawRange> views;
    };
    struct Delay {
        std::vector<DelaySpec::Dist> dists;
        DrawRange bounds;
    };

    std::optional<Byzantine> byzantine;
    std::optional<Crashes> crashes;
    std::optional<Partitions> partitions;
    std::optional<Rules> rules;
    std::optional<Delay> delay;
    std::optional<DrawRange> loss, duplicate, corrupt, gst;
    std::vector<bool> reorder;  // choices; empty: the scenario's own
    // A MAPE-K system's anomalies: each on a drawn workflow and metric, of a drawn type, with
    // a drawn window and magnitude (in thousandths), appended to /mapek/anomalies.
    struct Anomalies {
        DrawRange count;
        std::vector<std::string> workflows, metrics, types;
        DrawRange at, duration;
        DrawRange magnitude{1500, 6000};
    };
    std::optional<Anomalies> anomalies;
    // Leader schedules (Twins): the leaders of the first `views` views, each the drawn Byzantine
    // replica with probability `share` (else any replica), and that replica's choices in the
    // views it leads: with probability `fork` a proposal on the QC of one of the `back` views
    // before (else on its highest QC), and with probability `partial` to a drawn non-empty
    // subset of the other replicas only.
    struct Schedules {
        std::vector<std::uint32_t> nodes;  // candidates for the Byzantine leader
        DrawRange views;
        std::int64_t share = 500'000, fork = 500'000, partial = 500'000;  // ppm
        std::uint64_t back = 4;
    };
    std::optional<Schedules> schedules;
    std::optional<DrawRange> requests, clients;
    std::vector<bool> open_loop;     // workload mode choices (true: open); empty: the scenario's
    std::optional<DrawRange> rate;   // open loop: requests per second over all clients
    std::optional<DrawRange> think;  // closed loop: pause between an answer and the next (ns)
};

// Reads and checks `doc` (the value of "/randomize") against the scenario parsed without it.
RandomizeSpec read_randomize(const nlohmann::json& doc, const ScenarioSpec& base);

// A drawn leader schedule: the leader of each view from view 0, and what the Byzantine leader
// does in the views it leads (views it leads without a step it leads honestly).
struct DrawnSchedule {
    std::vector<std::uint32_t> leaders;
    std::uint32_t byzantine = 0;
    struct Step {
        std::uint64_t view = 0;
        std::optional<std::uint64_t> parent_view;  // the QC it proposes on; none: its highest
        std::vector<std::uint32_t> to;             // empty: every replica
    };
    std::vector<Step> steps;
};

// What the draw needs to know of the protocol.
struct DrawHints {
    std::uint32_t first_leader = 0;       // "isolate_leader" isolates this replica
    std::vector<std::string> kind_names;  // message types a rule may match
    // Writes a drawn leader schedule into the document (the protocol's leaders parameter, a
    // Byzantine fault for the leader's choices); none: the protocol has no leader schedule.
    std::function<void(nlohmann::json& doc, const DrawnSchedule& s)> put_schedule;
};

// The concrete scenario document seed `seed` draws from `spec` (which has a randomize section):
// `spec.source` without "randomize", with "seed" set, the drawn faults appended to the
// scenario's own, the drawn network and workload values in place, and a description that
// says what was drawn. Deterministic in (document, seed).
nlohmann::json draw_document(const ScenarioSpec& spec, std::uint64_t seed,
                             const DrawHints& hints = {});

// The scenario to run for `seed`: drawn when `spec` has a randomize section, else `spec` with
// the seed replaced. Throws ScenarioError if a drawn document does not parse (a bug).
ScenarioSpec concrete_scenario(const ScenarioSpec& spec, std::uint64_t seed,
                               const DrawHints& hints = {});

}  // namespace sim
