// A scenario: everything a run needs, parsed and validated from JSON before anything runs.
//
// The engine's parts (network, workload, faults, stop, expectations) are parsed here. The
// protocol's own parameters and each Byzantine behaviour's parameters stay as JSON and are
// validated by the protocol (protocols/registry), which reports errors with the same JSON paths.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/types.hpp"

namespace sim {

struct RandomizeSpec;  // sim/randomize.hpp

// Raised for any bad input; `path` is a JSON pointer ("/network/delay/min"), `reason` a sentence.
class ScenarioError : public std::runtime_error {
public:
    ScenarioError(std::string path, std::string reason)
        : std::runtime_error(path + ": " + reason),
          path_(std::move(path)),
          reason_(std::move(reason)) {}
    const std::string& path() const { return path_; }
    const std::string& reason() const { return reason_; }

private:
    std::string path_;
    std::string reason_;
};

struct DelaySpec {
    enum class Dist { Fixed, Uniform, Normal, Lognormal, Exponential };
    Dist dist = Dist::Fixed;
    SimTime value = milliseconds(1);  // fixed
    SimTime min{}, max{};             // uniform
    SimTime mean{}, stddev{};         // normal (truncated at 0), exponential (mean)
    SimTime median{};                 // lognormal: median, with shape sigma
    double sigma = 0.5;
};

// Link properties; ppm = parts per million.
struct LinkSpec {
    DelaySpec delay;
    std::uint32_t loss_ppm = 0;
    std::uint32_t duplicate_ppm = 0;
    std::uint32_t corrupt_ppm = 0;
    bool reorder = false;  // false: FIFO per link
};

struct ExplicitLink {
    std::uint32_t from = 0, to = 0;
    bool bidirectional = true;
    LinkSpec spec;
};

struct NetworkSpec {
    LinkSpec defaults;
    std::uint32_t queue_capacity = 0;  // 0: unbounded inbound queue
    std::vector<ExplicitLink> links;   // empty: complete graph with `defaults`
    std::optional<SimTime> gst;        // after GST, delays are at most delta, no loss
    SimTime delta = milliseconds(10);
};

struct CostSpec {
    SimTime per_message{}, per_sign{}, per_verify{};
};

// One request a client issues at a chosen time (workload.schedule), besides its share of
// `requests`. `op` names the operation; its hash is the request's operation word.
struct ScheduledRequest {
    std::uint32_t client = 0;
    SimTime at{};
    std::string op;
};

struct WorkloadSpec {
    enum class Mode { Closed, Open };
    std::uint32_t clients = 1;
    std::uint64_t requests = 10;  // in total, spread round-robin over clients
    Mode mode = Mode::Closed;
    double rate_per_s = 1000.0;  // open loop: Poisson arrivals over all clients
    SimTime think{};             // closed loop: pause between accept and next request
    SimTime retry_timeout = milliseconds(500);
    SimTime start{};
    std::vector<ScheduledRequest> schedule;  // sorted by (at, client), stable
};

// An inclusive range of protocol rounds (views, sequence numbers, heights).
struct RoundRange {
    std::uint64_t lo = 0, hi = 0;
    bool contains(std::uint64_t x) const { return x >= lo && x <= hi; }
};

// Which nodes a rule matches on one side of a message: listed replicas, and/or every client.
struct NodeMatch {
    bool any = true;  // no constraint
    bool clients = false;
    std::vector<std::uint32_t> replicas;  // sorted
    bool matches(std::uint32_t node, std::uint32_t replica_count) const {
        if (any) return true;
        if (node >= replica_count) return clients;
        return std::binary_search(replicas.begin(), replicas.end(), node);
    }
};

// A network rule (fault type "rule"): what happens to each message that matches, while the
// rule's window [at, until) holds the send time. Kinds are names from the protocol's table,
// checked by the protocol; a message lacking a round field never matches a range on it.
struct RuleSpec {
    NodeMatch from, to;
    std::vector<std::string> kinds;  // empty: every kind
    bool kind_list = false;          // "kind" was given as a list (for error paths)
    std::optional<RoundRange> view, seq, height;

    enum class Action { Drop, Delay, Duplicate, Hold };
    Action action = Action::Drop;
    DelaySpec delay;           // Delay: added to the network's own delay
    std::uint32_t copies = 2;  // Duplicate: copies delivered in all (each routed on its own)
    // Hold: kept aside, released in send order once the condition holds.
    enum class Release { Time, Committed, View };
    Release release = Release::Time;
    SimTime release_at{};             // Time
    std::uint32_t release_node = 0;   // Committed, View: the replica watched
    std::uint64_t release_value = 0;  // Committed: a log index it executed; View: at least
};

// One entry of the fault timeline. Times are absolute virtual times.
struct FaultSpec {
    enum class Type { Crash, Recover, Partition, OneWay, Isolate, Link, Byzantine, Rule, Params };
    Type type = Type::Crash;
    std::string path;       // JSON pointer of this entry, for later error messages
    std::size_t order = 0;  // its position in the document (the timeline is sorted by `at`)
    SimTime at{};
    std::optional<SimTime> until;  // partition/one_way/isolate/link/byzantine: end of window
    std::uint32_t node = 0;        // crash, recover, isolate, byzantine
    bool lose_state = false;       // recover
    // partition: every replica is in exactly one group; the unlisted ones form the last group.
    std::vector<std::vector<std::uint32_t>> groups;
    std::vector<std::uint32_t> from, to;  // one_way; link uses from[0], to[0]
    // link: the new properties of from[0] -> to[0], complete (unset ones are those of the
    // explicit link it changes, else the network defaults).
    std::optional<LinkSpec> link;
    bool both_ways = false;  // link: also to[0] -> from[0]
    // partition: applies only while the sender's view is in this range (Twins), not by time.
    std::optional<RoundRange> views;
    std::optional<RuleSpec> rule;                      // rule
    std::string behavior;                              // byzantine
    nlohmann::json params = nlohmann::json::object();  // byzantine: behaviour parameters;
                                                       // params: the replica's protocol overrides
};

struct StopSpec {
    SimTime at = seconds(60);
    bool when_done = true;  // stop early once every request is accepted
};

struct ExpectSpec {
    bool present = false;
    bool safe = true;               // "outcome": "safe" or "violation"
    std::string invariant;          // with "violation": which invariant must be reported
    std::uint64_t min_commits = 0;  // requests accepted by clients
};

struct ScenarioSpec {
    std::string name, description;
    std::uint64_t seed = 1;
    std::uint32_t nodes = 4;
    std::uint32_t f = 1;
    bool allow_unsafe_f = false;
    // "consensus": clients' requests ordered by the protocol; "mapek": an autonomic MAPE-K loop
    // on top of it (protocols/mapek), its section kept as given and read there.
    std::string system = "consensus";
    nlohmann::json mapek;
    std::string protocol = "pbft";
    nlohmann::json protocol_params = nlohmann::json::object();  // "/protocol" minus "name"
    bool ed25519 = false;
    CostSpec costs;
    NetworkSpec network;
    WorkloadSpec workload;
    std::vector<FaultSpec> faults;  // sorted by `at`, stable
    StopSpec stop;
    SimTime liveness_bound = seconds(30);
    ExpectSpec expect;
    // The "randomize" section, if any: sweeps draw one concrete scenario per seed from it
    // (sim/randomize.hpp); a run draws from its own seed.
    std::shared_ptr<const RandomizeSpec> randomize;
    nlohmann::json source;  // the document as given, for reports
};

// Parses and validates (format: scenarios/FORMAT.md); throws ScenarioError naming the JSON
// path on the first problem. A missing required key is reported at the key's own path.
ScenarioSpec parse_scenario(const nlohmann::json& doc);
// Reads a file; a missing file or bad JSON syntax is a ScenarioError with path "", a key given
// twice in one object is refused at its path.
ScenarioSpec load_scenario(const std::string& file);

// What byzsim reads as JSON (scenarios, failures, reports, sweep metadata) is at most this
// large; beyond, it is refused before it is used, at the path where the bound was passed.
struct JsonBounds {
    static constexpr std::size_t kBytes = 16u << 20;   // a whole file
    static constexpr std::size_t kDepth = 32;          // objects and arrays inside each other
    static constexpr std::size_t kString = 64u << 10;  // one string, or one key
    static constexpr std::size_t kElements = 100'000;  // one array's or one object's
};
// Parses JSON text within JsonBounds, refusing a key given twice in one object (JSON would
// keep only the last). Errors are ScenarioErrors: at the offending path, or at path "" for
// bad syntax, with `what` (e.g. "scenario file 'x.json'") and the parser's line and column.
nlohmann::json parse_json_text(std::string_view text, std::string_view what);

// "250ms", "3s", "1.5s", "200us", "10ns", "2m"; throws ScenarioError(path, ...) otherwise.
// Exact: a value finer than 1 ns, negative, or beyond SimTime::max() is refused.
SimTime parse_duration(const nlohmann::json& v, const std::string& path);
// The shortest exact form that parse_duration reads back, with no "0." ("500ms", not "0.5s").
std::string format_duration(SimTime t);

}  // namespace sim
