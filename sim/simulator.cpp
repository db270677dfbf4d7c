#include "sim/simulator.hpp"
#include "sim/simulator_context.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "sim/hash.hpp"

namespace sim {

const char* node_state_name(NodeState s) {
    switch (s) {
        case NodeState::Active:
            return "active";
        case NodeState::Suspected:
            return "suspected";
        case NodeState::Byzantine:
            return "byzantine";
        case NodeState::Offline:
            return "offline";
    }
    return "?";
}

nlohmann::json RunResult::system() const {
    return environment ? environment->report() : nlohmann::json(nullptr);
}

std::map<std::string, std::string> RunResult::system_csv() const {
    return environment ? environment->csv_files() : std::map<std::string, std::string>{};
}

KindCounters RunResult::total_for_kind(std::size_t kind) const {
    KindCounters t;
    const std::size_t kinds = kind_names.size();
    for (std::size_t n = 0; n < nodes_total; ++n) {
        const KindCounters& c = counters[n * kinds + kind];
        t.sent += c.sent;
        t.delivered += c.delivered;
        t.dropped += c.dropped;
        t.corrupted += c.corrupted;
        t.bytes += c.bytes;
    }
    return t;
}

Simulator::Simulator(const ScenarioSpec& spec, std::vector<std::string> kind_names, SimOptions opts)
    : spec_(spec),
      opts_(opts),
      root_(spec.seed),
      net_(spec.network, spec.nodes, spec.nodes + spec.workload.clients, root_.fork("net")),
      rules_(spec, kind_names, root_.fork("rules")),
      rules_active_(rules_.active()),
      keys_(spec.nodes + spec.workload.clients, spec.ed25519, root_.fork("keys")),
      checker_(checker_config_for(spec)),
      ctx_(std::make_unique<NodeContext>(*this)) {
    result_.kind_names = std::move(kind_names);
    if (opts_.trace) {
        jsonl_ = std::make_unique<JsonlTrace>(*opts_.trace);
        tee_.add(jsonl_.get());
    }
    if (opts_.sink) tee_.add(opts_.sink);
    tracing_ = !tee_.empty();
    notes_ = tee_.wants_notes();
    expected_requests_ = spec.workload.requests + spec.workload.schedule.size();
    queue_.reserve(1024);
}

Simulator::~Simulator() = default;

void Simulator::add_actor(std::unique_ptr<Actor> actor, bool byzantine) {
    Node n;
    n.actor = std::move(actor);
    n.byzantine = byzantine;
    auto id = static_cast<std::uint32_t>(nodes_.size());
    const bool replica = id < spec_.nodes;
    n.rng = std::make_unique<RandomStream>(root_.fork(
        replica ? fmt::format("replica/{}", id) : fmt::format("client/{}", id - spec_.nodes)));
    nodes_.push_back(std::move(n));
}

void Simulator::set_wire_monitor(const WireMonitorFactory& make) {
    if (!make) return;
    MonitorEnv env{spec_.nodes, spec_.f, std::vector<bool>(spec_.nodes, true), &keys_};
    for (std::uint32_t r = 0; r < spec_.nodes && r < nodes_.size(); ++r)
        env.honest[r] = !nodes_[r].byzantine;
    checker_.set_wire_monitor(make(env));
}

void Simulator::set_environment(std::unique_ptr<Environment> env) {
    env_ = std::move(env);
    if (!env_) return;
    std::vector<bool> honest(spec_.nodes, true);
    for (std::uint32_t r = 0; r < spec_.nodes && r < nodes_.size(); ++r)
        honest[r] = !nodes_[r].byzantine;
    env_->set_run(honest, &keys_);
}

void Simulator::trace_event(TraceRecord::Kind kind, std::uint32_t from, std::uint32_t to,
                            const Payload* msg, std::uint64_t tag, std::int64_t sent,
                            bool corrupted) {
    TraceRecord r;
    r.event = result_.events;
    r.t = now_.ns;
    r.kind = kind;
    r.from = from;
    r.to = to;
    if (msg) {
        r.msg = result_.kind_names[msg->kind];
        r.msg_kind = msg->kind;
        r.digest = msg->digest.v;
        r.sent = sent >= 0 ? sent : now_.ns;
    }
    r.tag = tag;
    r.corrupted = corrupted;
    tee_.record(r);
}

const RunResult& Simulator::run() {
    if (ran_) return result_;
    ran_ = true;
    prepare();
    loop();
    conclude();
    return result_;
}

// The result's tables sized, and the first events queued: starts, the fault timeline's
// windows, and the rules' releases at fixed times.
void Simulator::prepare() {
    const std::uint32_t total = static_cast<std::uint32_t>(nodes_.size());
    result_.nodes_total = total;
    result_.replicas = spec_.nodes;
    result_.counters.assign(static_cast<std::size_t>(total) * result_.kind_names.size(), {});
    result_.commits_per_node.assign(total, 0);
    result_.view_per_node.assign(total, 0);
    result_.states.assign(total, NodeState::Active);
    for (std::uint32_t i = 0; i < total; ++i)
        if (nodes_[i].byzantine) result_.states[i] = NodeState::Byzantine;
    if (spec_.network.queue_capacity != 0)
        for (Node& n : nodes_) n.inbox.resize(spec_.network.queue_capacity);

    for (std::uint32_t i = 0; i < total; ++i) queue_.push(Event::make(0, i, 0, EventKind::Start));
    for (std::uint32_t i = 0; i < spec_.faults.size(); ++i) {
        const FaultSpec& f = spec_.faults[i];
        // Behaviours read their own windows; protocol overrides hold for the whole run.
        if (f.type == FaultSpec::Type::Byzantine || f.type == FaultSpec::Type::Params) continue;
        queue_.push(Event::make(f.at.ns, 0, i, EventKind::FaultBegin));
        if (f.until) queue_.push(Event::make(f.until->ns, 0, i, EventKind::FaultEnd));
    }
    for (const auto& [at, rule] : rules_.release_times())
        queue_.push(Event::make(at.ns, 0, rule, EventKind::Release));
}

// One event at a time, each checked, until the stop time, a violation, the work done, or
// nothing left to happen.
void Simulator::loop() {
    result_.stop_reason = "queue empty";
    while (!queue_.empty()) {
        if (queue_.top_time_ns() > spec_.stop.at.ns) {
            result_.stop_reason = "stop time";
            now_ = spec_.stop.at;
            break;
        }
        Event e = queue_.pop();
        now_ = SimTime{e.time_ns};
        ++result_.events;
        step(e);
        if (release_due_) release_held();
        checker_.on_step(now_, result_.events);
        if (env_) checker_.on_finding(env_->on_step(now_), now_, result_.events);
        if (opts_.fingerprint_log) opts_.fingerprint_log->push_back(result_.fingerprint);
        if ((result_.events & kProgressMask) == 0 && opts_.progress) opts_.progress(now_, result_);
        if (checker_.violation()) {
            result_.stop_reason = "violation";
            break;
        }
        if (spec_.stop.when_done && result_.accepted >= expected_requests_ &&
            expected_requests_ > 0 && checker_.settled()) {
            result_.stop_reason = "all requests done";
            break;
        }
        if (result_.events == opts_.max_events) {
            result_.stop_reason = "event budget";
            break;
        }
        if (opts_.interrupt && *opts_.interrupt) {
            result_.stop_reason = "interrupted";
            break;
        }
    }
}

// The checks owed at the end, the final states, and what rules still hold counted as dropped.
void Simulator::conclude() {
    if (!checker_.violation())
        checker_.finish(now_, result_.events, result_.stop_reason == "queue empty");
    if (env_ && !checker_.violation())
        checker_.on_finding(env_->finish(now_), now_, result_.events);
    result_.environment = env_;
    result_.violation = checker_.violation();
    result_.end_time = now_;
    for (std::uint32_t i = 0; i < spec_.nodes; ++i)
        if (!nodes_[i].up) result_.states[i] = NodeState::Offline;
    result_.held_by_rules = rules_.held_total();
    for (const MessageRules::Held& h : rules_.discard_held()) {
        ++result_.counters[h.to * result_.kind_names.size() + h.msg->kind].dropped;
        ++result_.drops[static_cast<std::size_t>(DropReason::Held)];
    }
    // Free what is still in flight, so payload lifetimes end with the run.
    while (!queue_.empty()) queue_.pop();
    inflight_.clear();
}

void Simulator::step(const Event& e) {
    switch (e.kind()) {
        case EventKind::Deliver:
            deliver(e);
            break;
        case EventKind::Timer:
            fire_timer(e);
            break;
        case EventKind::Ready:
            ready(e);
            break;
        case EventKind::FaultBegin:
        case EventKind::FaultEnd: {
            const bool begin = e.kind() == EventKind::FaultBegin;
            fold(0xfa, e.slot, begin ? 0 : 1, 0, 0);
            apply_fault(spec_.faults[e.slot], begin);
            break;
        }
        case EventKind::Release:
            fold(0x4e, e.slot, 0, 0, 0);
            if (rules_.on_time(e.slot)) release_held();
            break;
        case EventKind::Start:
            fold(0x5a, e.target, 0, 0, 0);
            ctx_->enter(e.target, {});
            nodes_[e.target].actor->on_start(*ctx_);
            break;
    }
}

[[gnu::always_inline]] inline std::uint32_t Simulator::new_inflight(std::uint32_t from,
                                                                    bool corrupted,
                                                                    SimTime depart) {
    std::uint32_t slot;
    if (!inflight_free_.empty()) {
        slot = inflight_free_.back();
        inflight_free_.pop_back();
    } else {
        slot = static_cast<std::uint32_t>(inflight_.size());
        inflight_.emplace_back();
    }
    InFlight& f = inflight_[slot];
    f.sent = depart.ns;
    f.from = from;
    f.corrupted = corrupted;
    return slot;
}

[[gnu::always_inline]] inline void Simulator::route_inline(std::uint32_t from, std::uint32_t to,
                                                           PayloadRef&& msg, SimTime depart,
                                                           SimTime extra) {
    Routing r = net_.route(from, to, depart);
    if (r.dropped != DropReason::None) {
        ++result_.counters[to * result_.kind_names.size() + msg->kind].dropped;
        ++result_.drops[static_cast<std::size_t>(r.dropped)];
        if (tracing_)
            trace_event(TraceRecord::Kind::Drop, from, to, msg.get(),
                        static_cast<std::uint64_t>(r.dropped), depart.ns);
        return;
    }
    for (int c = 0; c < r.copies; ++c) {
        const std::uint32_t slot = new_inflight(from, r.corrupted[c], depart);
        // The last copy takes the caller's reference; a duplicate shares it.
        if (c + 1 == r.copies) {
            inflight_[slot].msg = std::move(msg);
        } else {
            inflight_[slot].msg = msg;
        }
        queue_.push(Event::make((r.arrival[c] + extra).ns, to, slot, EventKind::Deliver));
    }
}

void Simulator::route(std::uint32_t from, std::uint32_t to, PayloadRef msg, SimTime depart,
                      SimTime extra) {
    route_inline(from, to, std::move(msg), depart, extra);
}

void Simulator::send_from(std::uint32_t from, std::uint32_t to, PayloadRef msg, SimTime depart) {
    if (to >= nodes_.size()) return;
    msg->seal();  // what goes out is what every receiver gets: answers cached from here on
    checker_.on_send(from, msg, now_, result_.events);
    if (from == to) {
        ++result_.local_messages;
        const std::uint32_t slot = new_inflight(from, false, depart);
        inflight_[slot].msg = std::move(msg);
        queue_.push(Event::make(depart.ns, to, slot, EventKind::Deliver));
        return;
    }
    const std::size_t kinds = result_.kind_names.size();
    KindCounters& counter = result_.counters[from * kinds + msg->kind];
    ++counter.sent;
    counter.bytes += msg->size_bytes;
    if (rules_active_ && apply_rules(from, to, msg, depart)) return;
    route_inline(from, to, std::move(msg), depart, SimTime{});
}

void Simulator::release_inflight(std::uint32_t slot) {
    inflight_[slot].msg = PayloadRef();
    inflight_free_.push_back(slot);
}

void Simulator::drop_inflight(std::uint32_t slot, std::uint32_t to, DropReason why) {
    const InFlight& m = inflight_[slot];
    if (tracing_)
        trace_event(TraceRecord::Kind::Drop, m.from, to, m.msg.get(),
                    static_cast<std::uint64_t>(why), m.sent, m.corrupted);
    auto& c = result_.counters[to * result_.kind_names.size() + m.msg->kind];
    if (why == DropReason::Corrupt) ++c.corrupted;
    ++c.dropped;
    ++result_.drops[static_cast<std::size_t>(why)];
    release_inflight(slot);
}

void Simulator::deliver(const Event& e) {
    const InFlight& m = inflight_[e.slot];
    fold(0xde, m.from, e.target, m.msg->wire_hash(), m.corrupted);
    Node& n = nodes_[e.target];
    if (!n.up) return drop_inflight(e.slot, e.target, DropReason::Offline);
    // A corrupted message fails authentication at the receiver: counted and dropped.
    if (m.corrupted) return drop_inflight(e.slot, e.target, DropReason::Corrupt);
    if (n.busy_until > now_ || n.inbox_size > 0) {
        if (!enqueue(n, {EventKind::Deliver, e.slot}))
            return drop_inflight(e.slot, e.target, DropReason::Overflow);
        schedule_ready(e.target);
        return;
    }
    dispatch(e.target, {EventKind::Deliver, e.slot});
}

void Simulator::fire_timer(const Event& e) {
    TimerRec& t = timers_[e.slot];
    Node& n = nodes_[e.target];
    if (!t.live || t.epoch != n.epoch || !n.up) {
        t.live = false;
        ++t.gen;
        timers_free_.push_back(e.slot);
        return;
    }
    fold(0x71, e.target, t.tag, 0, 0);
    if (n.busy_until > now_ || n.inbox_size > 0) {
        enqueue(n, {EventKind::Timer, e.slot});
        schedule_ready(e.target);
        return;
    }
    dispatch(e.target, {EventKind::Timer, e.slot});
}

bool Simulator::enqueue(Node& n, InboxItem item) {
    const std::size_t cap = spec_.network.queue_capacity;
    if (cap != 0 && item.kind == EventKind::Deliver && n.inbox_size >= cap) return false;
    if (n.inbox_size == n.inbox.size()) {
        // Grow the ring, unrolling it so the head is at 0.
        std::vector<InboxItem> bigger(std::max<std::size_t>(16, n.inbox.size() * 2));
        for (std::size_t i = 0; i < n.inbox_size; ++i)
            bigger[i] = n.inbox[(n.inbox_head + i) % n.inbox.size()];
        n.inbox = std::move(bigger);
        n.inbox_head = 0;
    }
    n.inbox[(n.inbox_head + n.inbox_size) % n.inbox.size()] = item;
    ++n.inbox_size;
    return true;
}

void Simulator::schedule_ready(std::uint32_t node) {
    Node& n = nodes_[node];
    if (n.ready_scheduled || n.inbox_size == 0) return;
    n.ready_scheduled = true;
    queue_.push(Event::make(std::max(now_, n.busy_until).ns, node, 0, EventKind::Ready));
}

void Simulator::ready(const Event& e) {
    Node& n = nodes_[e.target];
    n.ready_scheduled = false;
    if (!n.up || n.inbox_size == 0) return;
    if (n.busy_until > now_) return schedule_ready(e.target);
    InboxItem item = n.inbox[n.inbox_head];
    n.inbox_head = (n.inbox_head + 1) % n.inbox.size();
    --n.inbox_size;
    dispatch(e.target, item);
}

void Simulator::dispatch(std::uint32_t node, InboxItem item) {
    Node& n = nodes_[node];
    if (item.kind == EventKind::Deliver) {
        InFlight m = std::move(inflight_[item.slot]);  // leaves the slot empty
        inflight_free_.push_back(item.slot);
        const bool local = m.from == node;
        if (!local) ++result_.counters[node * result_.kind_names.size() + m.msg->kind].delivered;
        if (tracing_)
            trace_event(local ? TraceRecord::Kind::Local : TraceRecord::Kind::Deliver, m.from, node,
                        m.msg.get(), 0, m.sent);
        ctx_->enter(node, local ? SimTime{} : spec_.costs.per_message);
        n.actor->on_message(*ctx_, NodeId(m.from), *m.msg);
    } else {
        TimerRec& t = timers_[item.slot];
        const bool live = t.live && t.epoch == n.epoch;
        const std::uint64_t tag = t.tag;
        t.live = false;
        ++t.gen;
        timers_free_.push_back(item.slot);
        if (!live) return schedule_ready(node);
        if (tracing_) trace_event(TraceRecord::Kind::Timer, node, node, nullptr, tag);
        ctx_->enter(node, {});
        n.actor->on_timer(*ctx_, tag);
    }
    if (ctx_->cost().ns > 0) n.busy_until = now_ + ctx_->cost();
    if (n.inbox_size != 0) schedule_ready(node);
}

TimerId Simulator::add_timer(std::uint32_t node, SimTime at, std::uint64_t tag) {
    std::uint32_t slot;
    if (!timers_free_.empty()) {
        slot = timers_free_.back();
        timers_free_.pop_back();
    } else {
        slot = static_cast<std::uint32_t>(timers_.size());
        timers_.emplace_back();
    }
    TimerRec& t = timers_[slot];
    t.tag = tag;
    t.epoch = nodes_[node].epoch;
    t.live = true;
    queue_.push(Event::make(at.ns, node, slot, EventKind::Timer));
    return (static_cast<std::uint64_t>(t.gen) << 32) | slot;
}

void Simulator::cancel(TimerId id) {
    auto slot = static_cast<std::uint32_t>(id & 0xffffffffu);
    auto gen = static_cast<std::uint32_t>(id >> 32);
    if (slot >= timers_.size() || timers_[slot].gen != gen || !timers_[slot].live) return;
    timers_[slot].live = false;
    // Cancelled timers stay queued until they come due; protocols that re-arm a long view
    // timer on every view would otherwise fill the queue with them (64 replicas, 1 s timers and
    // 2 ms views keep 32,000 dead events in the heap). Sweep them out once they are half of it.
    if (++cancelled_ >= 128 && 2 * cancelled_ >= queue_.size()) drop_dead_timers();
}

void Simulator::drop_dead_timers() {
    cancelled_ = 0;
    queue_.remove_if([this](const Event& e) {
        if (e.kind() != EventKind::Timer) return false;
        TimerRec& t = timers_[e.slot];
        if (t.live && t.epoch == nodes_[e.target].epoch) return false;
        // As fire_timer does for a dead timer when it comes due.
        t.live = false;
        ++t.gen;
        timers_free_.push_back(e.slot);
        return true;
    });
}

}  // namespace sim
