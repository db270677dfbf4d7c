// The simulator: one single-threaded event loop in virtual time that runs every actor, the
// network model, the fault timeline and the invariant checker, and folds each event into the
// trace fingerprint.
//
// Usage: construct from a validated scenario and the protocol's message-kind names, add one
// actor per node (replicas 0..n-1, then clients), then run(). The simulator never includes
// protocol code; Byzantine behaviour arrives as actors that wrap honest ones.
#pragma once

#include <array>
#include <csignal>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "sim/actor.hpp"
#include "sim/checker.hpp"
#include "sim/crypto.hpp"
#include "sim/environment.hpp"
#include "sim/event_queue.hpp"
#include "sim/flat_map.hpp"
#include "sim/flat_set.hpp"
#include "sim/hash.hpp"
#include "sim/monitor.hpp"
#include "sim/network.hpp"
#include "sim/rules.hpp"
#include "sim/scenario.hpp"
#include "sim/trace.hpp"

namespace sim {

enum class NodeState : std::uint8_t { Active, Suspected, Byzantine, Offline };
const char* node_state_name(NodeState s);

struct KindCounters {
    std::uint64_t sent = 0, delivered = 0, dropped = 0, corrupted = 0;
    std::uint64_t bytes = 0;  // bytes sent
};

struct RequestRow {
    std::uint32_t client = 0;
    std::uint64_t timestamp = 0;
    SimTime submit{}, commit{};
    std::uint64_t view = 0, index = 0;
};

// One executed log slot at one replica, kept when SimOptions::keep_commit_log is set.
struct CommitEntry {
    std::uint32_t node = 0;
    std::uint64_t index = 0, view = 0;
    SimTime time{};
};

struct RunResult {
    std::optional<Violation> violation;
    std::uint64_t fingerprint = 0;
    std::uint64_t events = 0;
    SimTime end_time{};
    std::string stop_reason;  // "all requests done", "stop time", "violation", "queue empty"
    std::uint32_t nodes_total = 0;
    std::uint32_t replicas = 0;  // nodes 0..replicas-1; clients follow
    std::vector<std::string> kind_names;
    std::vector<KindCounters> counters;  // [node * kinds + kind]
    std::array<std::uint64_t, static_cast<std::size_t>(DropReason::Count)> drops{};
    std::uint64_t local_messages = 0;             // sends to self: not network messages
    std::uint64_t held_by_rules = 0;              // messages a rule's hold kept aside
    std::vector<std::uint64_t> commits_per_node;  // log slots executed per replica
    std::vector<std::uint64_t> view_per_node;     // current view per replica
    // First honest entry of each new highest view; the list keeps the first kViewsKept (a
    // HotStuff run enters a view per block), the count all of them beyond view 0.
    static constexpr std::size_t kViewsKept = 1024;
    std::vector<std::pair<std::uint64_t, SimTime>> views;
    std::uint64_t view_changes = 0;
    std::vector<NodeState> states;
    std::vector<RequestRow> requests;     // accepted requests, in accept order
    std::vector<CommitEntry> commit_log;  // with SimOptions::keep_commit_log
    std::vector<std::int64_t> latencies_ns;
    std::uint64_t issued = 0, accepted = 0;
    std::uint64_t evidence = 0;  // proofs of misbehaviour reported by replicas
    // What honest replicas' bounded tables refused, per table (Context::refused).
    std::map<std::string, std::uint64_t, std::less<>> refused;
    // The most entries an honest replica held at once in each table its peers fill
    // (Context::holding).
    std::map<std::string, std::uint64_t, std::less<>> held;
    // The simulated system's own report section and CSV files (a MAPE-K run's), if any (null,
    // none), made when asked for from the system the result keeps: a sweep's seeds need
    // neither.
    std::shared_ptr<const Environment> environment;
    nlohmann::json system() const;
    std::map<std::string, std::string> system_csv() const;

    KindCounters total_for_kind(std::size_t kind) const;
};

struct SimOptions {
    std::ostream* trace = nullptr;  // trace.jsonl: one JSON line per event when set
    TraceSink* sink = nullptr;      // typed trace records (reports' exports) when set
    bool keep_request_rows = true;
    bool keep_commit_log = false;  // for tests that check when each replica committed what
    // The fingerprint after each event, for locating the first event where two runs differ.
    std::vector<std::uint64_t>* fingerprint_log = nullptr;
    // Told the virtual time and the result so far (events, requests accepted) every 65,536
    // events, for a progress bar. It may read the wall clock; nothing it does reaches the run.
    std::function<void(SimTime now, const RunResult& so_far)> progress;
    // Stop cleanly after this many events (stop reason "event budget"); 0: no budget.
    std::uint64_t max_events = 0;
    // Stop cleanly before the next event once this flag is set (stop reason "interrupted"):
    // a signal handler's, for Ctrl-C. The run up to there is the run of max_events = events.
    const volatile std::sig_atomic_t* interrupt = nullptr;
};

// The checker's view of a scenario: who is Byzantine, and from when liveness is owed (after
// GST and after the last windowed fault, if at most f replicas stay faulty).
CheckerConfig checker_config_for(const ScenarioSpec& spec);

class Simulator {
public:
    using Factory = std::function<std::unique_ptr<Actor>(NodeId)>;

    Simulator(const ScenarioSpec& spec, std::vector<std::string> kind_names, SimOptions opts = {});
    ~Simulator();
    Simulator(const Simulator&) = delete;
    Simulator& operator=(const Simulator&) = delete;

    // Adds the next node (ids in order). `byzantine` marks it faulty for the checker and states.
    void add_actor(std::unique_ptr<Actor> actor, bool byzantine = false);
    // Rebuilds a node's actor for a recovery that loses state.
    void set_factory(Factory f) { factory_ = std::move(f); }
    // The agreement check also compares the state each replica reaches at an index (for
    // protocols that order one log; see CheckerConfig::compare_states).
    void set_compare_states(bool on) { checker_.set_compare_states(on); }
    // The most entries an honest replica may hold in one table its peers fill (0: unchecked).
    void set_held_bound(std::uint64_t bound) { checker_.set_held_bound(bound); }
    // The protocol's own monitor, built once every replica is added (it needs to know which
    // are honest).
    void set_wire_monitor(const WireMonitorFactory& make);
    // The world the nodes observe and act on (sim/environment.hpp), set after every node.
    void set_environment(std::unique_ptr<Environment> env);

    // Runs to the stop condition. Call once.
    const RunResult& run();
    const RunResult& result() const { return result_; }
    const ScenarioSpec& spec() const { return spec_; }
    std::uint32_t replicas() const { return spec_.nodes; }
    // Read-only access to a node's actor, for tests that inspect protocol state.
    const Actor& actor(std::uint32_t node) const { return *nodes_[node].actor; }
    // The simulated world, if the run has one (tests read its model).
    const Environment* environment() const { return env_.get(); }

private:
    class NodeContext;
    struct InFlight {
        PayloadRef msg;
        std::int64_t sent = 0;  // its departure, for the trace
        std::uint32_t from = 0;
        bool corrupted = false;
    };
    struct TimerRec {
        std::uint64_t tag = 0;
        std::uint32_t gen = 0;
        std::uint32_t epoch = 0;
        bool live = false;
    };
    struct InboxItem {
        EventKind kind;
        std::uint32_t slot;
    };
    struct Node {
        std::unique_ptr<Actor> actor;
        bool up = true;
        bool byzantine = false;
        bool ready_scheduled = false;
        std::uint32_t epoch = 0;
        SimTime busy_until{};
        std::vector<InboxItem> inbox;  // a ring: [head, head+size)
        std::size_t inbox_head = 0, inbox_size = 0;
        std::unique_ptr<RandomStream> rng;
    };

    static constexpr std::uint64_t kProgressMask = (1u << 16) - 1;
    void prepare();
    void loop();
    void conclude();
    void step(const Event& e);
    void deliver(const Event& e);
    void fire_timer(const Event& e);
    void ready(const Event& e);
    void apply_fault(const FaultSpec& f, bool begin);
    void recover(const FaultSpec& f);
    void dispatch(std::uint32_t node, InboxItem item);
    bool enqueue(Node& n, InboxItem item);
    void schedule_ready(std::uint32_t node);
    void drop_inflight(std::uint32_t slot, std::uint32_t to, DropReason why);
    void release_inflight(std::uint32_t slot);
    // Defined in simulator.cpp, used there only. Its msg is still empty.
    inline std::uint32_t new_inflight(std::uint32_t from, bool corrupted, SimTime depart);
    // A few integers per event, combined linearly with odd constants, then one avalanche.
    void fold(std::uint64_t a, std::uint64_t b, std::uint64_t c, std::uint64_t d, std::uint64_t e) {
        const std::uint64_t x = static_cast<std::uint64_t>(now_.ns) * 0x9e3779b97f4a7c15ULL +
                                a * 0xc2b2ae3d27d4eb4fULL + b * 0x165667b19e3779f9ULL +
                                c * 0xd6e8feb86659fd93ULL + d * 0xff51afd7ed558ccdULL +
                                e * 0xc4ceb9fe1a85ec53ULL;
        result_.fingerprint = mix64(result_.fingerprint ^ x) + 0x2545f4914f6cdd1dULL;
    }
    // A trace record at now_ (only when tracing_).
    void trace_event(TraceRecord::Kind kind, std::uint32_t from, std::uint32_t to,
                     const Payload* msg, std::uint64_t tag, std::int64_t sent = -1,
                     bool corrupted = false);

    // Called by NodeContext.
    void send_from(std::uint32_t from, std::uint32_t to, PayloadRef msg, SimTime depart);
    // The network's part of a send: route, then queue each copy's delivery (`extra` later).
    void route(std::uint32_t from, std::uint32_t to, PayloadRef msg, SimTime depart,
               SimTime extra = {});
    // The same, inlined into the send path (defined in simulator.cpp, used there only).
    inline void route_inline(std::uint32_t from, std::uint32_t to, PayloadRef&& msg, SimTime depart,
                             SimTime extra);
    // A network rule's verdict on a send; true when the rule took the message.
    bool apply_rules(std::uint32_t from, std::uint32_t to, PayloadRef& msg, SimTime depart);
    void release_held();
    TimerId add_timer(std::uint32_t node, SimTime at, std::uint64_t tag);
    void cancel(TimerId id);
    void drop_dead_timers();

    ScenarioSpec spec_;
    SimOptions opts_;
    RandomStream root_;
    Network net_;
    MessageRules rules_;
    bool rules_active_ = false;
    // The trace's sinks: trace.jsonl's writer and SimOptions::sink. tracing_: any at all;
    // notes_: actors' free-form lines are wanted.
    std::unique_ptr<JsonlTrace> jsonl_;
    TraceTee tee_;
    bool tracing_ = false, notes_ = false;
    bool release_due_ = false;
    KeyRing keys_;
    Checker checker_;
    std::shared_ptr<Environment> env_;
    EventQueue queue_;
    std::vector<Node> nodes_;
    std::vector<InFlight> inflight_;
    std::vector<std::uint32_t> inflight_free_;
    std::vector<TimerRec> timers_;
    std::vector<std::uint32_t> timers_free_;
    std::size_t cancelled_ = 0;  // timers cancelled since the last drop_dead_timers
    FlatMap<std::uint64_t, SimTime, U64Hash> submit_time_;  // (client, timestamp) -> issued
    U64Set verified_;                                       // Context::verified_before
    std::unique_ptr<NodeContext> ctx_;
    Factory factory_;
    SimTime now_{};
    std::uint64_t expected_requests_ = 0;
    std::uint64_t max_view_seen_ = 0;
    RunResult result_;
    bool ran_ = false;
};

}  // namespace sim
