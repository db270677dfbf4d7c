// Simulator::NodeContext: the Context the simulator hands to every handler. Private to the
// simulator's sources (sim/simulator*.cpp); actors see only sim::Context.
#pragma once

#include <algorithm>

#include <fmt/format.h>

#include "sim/simulator.hpp"

namespace sim {

// The Context handed to a handler. One object serves every node: handlers never nest, since a
// message to oneself is delivered by a later event.
class Simulator::NodeContext final : public Context {
public:
    explicit NodeContext(Simulator& s) : s_(s) {}

    void enter(std::uint32_t node, SimTime base_cost) {
        node_ = node;
        cost_ = base_cost;
    }
    SimTime cost() const { return cost_; }

    SimTime now() const override { return s_.now_; }
    NodeId self() const override { return NodeId(node_); }
    std::uint32_t replica_count() const override { return s_.spec_.nodes; }
    std::uint32_t fault_threshold() const override { return s_.spec_.f; }

    void send(NodeId to, PayloadRef msg) override {
        s_.send_from(node_, to.v, std::move(msg), s_.now_ + cost_);
    }
    void broadcast(PayloadRef msg) override {
        for (std::uint32_t r = 0; r < s_.spec_.nodes; ++r)
            if (r != node_) s_.send_from(node_, r, msg, s_.now_ + cost_);
    }
    // A timer past the largest time never fires (it would be after any stop time).
    TimerId set_timer(SimTime after, std::uint64_t tag) override {
        return s_.add_timer(node_, deadline_after(s_.now_ + cost_, after), tag);
    }
    void cancel_timer(TimerId id) override { s_.cancel(id); }

    Signature sign(Digest d) override {
        charge(s_.spec_.costs.per_sign, 1);
        return s_.keys_.sign(NodeId(node_), d);
    }
    bool verify(NodeId signer, Digest d, const Signature& sig) override {
        charge(s_.spec_.costs.per_verify, 1);
        return s_.keys_.verify(signer, d, sig);
    }

    std::optional<Signature> aggregate(std::span<const Signature> sigs) override {
        return s_.keys_.aggregate(sigs);
    }
    bool verify_aggregate(std::span<const NodeId> signers, Digest d,
                          const Signature& agg) override {
        charge(s_.spec_.costs.per_verify, 1);
        return s_.keys_.verify_aggregate(signers, d, agg);
    }
    void charge_verify(std::uint32_t count) override { charge(s_.spec_.costs.per_verify, count); }
    bool verified_before(std::uint64_t key) const override { return s_.verified_.contains(key); }
    void remember_verified(std::uint64_t key) override {
        // Bounded: forgetting only costs a check done again, never a different result.
        if (s_.verified_.size() >= kVerifiedKept) s_.verified_.clear();
        s_.verified_.insert(key);
    }
    void refused(std::string_view table, std::uint64_t count) override {
        auto& m = s_.result_.refused;
        if (auto it = m.find(table); it != m.end()) {
            it->second += count;
        } else {
            m.emplace(std::string(table), count);
        }
    }
    void holding(std::string_view table, std::uint64_t size) override {
        if (!s_.checker_.honest(NodeId(node_))) return;  // a Byzantine replica's are its own
        auto& m = s_.result_.held;
        if (auto it = m.find(table); it != m.end()) {
            it->second = std::max(it->second, size);
        } else {
            m.emplace(std::string(table), size);
        }
        s_.checker_.on_holding(NodeId(node_), table, size, s_.now_, s_.result_.events);
    }
    void evidence(NodeId culprit, std::string_view what) override {
        auto& st = s_.result_.states;
        if (culprit.v < st.size()) st[culprit.v] = NodeState::Byzantine;
        ++s_.result_.evidence;
        s_.fold(0xe7, node_, culprit.v, 0, 0);
        s_.checker_.on_evidence(NodeId(node_), culprit, what, s_.now_, s_.result_.events);
        if (s_.env_) s_.env_->on_evidence(culprit.v);
        if (tracing()) trace(fmt::format("evidence against {}: {}", culprit.v, what));
    }

    void certified(std::uint8_t kind, std::uint64_t view, std::uint64_t slot, Digest value,
                   std::uint32_t signers) override {
        s_.checker_.on_certified(NodeId(node_), kind, view, slot, value, signers, s_.now_,
                                 s_.result_.events);
    }
    void invariant_failed(std::string_view invariant, std::string_view detail) override {
        s_.checker_.on_invariant_failed(NodeId(node_), invariant, detail, s_.now_,
                                        s_.result_.events);
    }

    void commit(const CommitRecord& rec) override {
        auto& r = s_.result_;
        ++r.commits_per_node[node_];
        if (s_.opts_.keep_commit_log) r.commit_log.push_back({node_, rec.index, rec.view, s_.now_});
        s_.fold(0xc0, node_, rec.index, rec.digest.v, rec.state.v);
        s_.checker_.on_commit(NodeId(node_), rec, s_.now_, r.events);
        if (s_.env_ && s_.checker_.honest(NodeId(node_)))
            s_.checker_.on_finding(s_.env_->on_commit(s_.now_, node_, rec), s_.now_, r.events);
        if (s_.rules_active_ && s_.rules_.on_commit(node_, rec.index)) s_.release_due_ = true;
        if (s_.tracing_) {
            const std::string line =
                s_.notes_ ? fmt::format("commit index={} view={} digest={:016x} requests={}",
                                        rec.index, rec.view, rec.digest.v, rec.requests.size())
                          : std::string();
            record(TraceRecord::Kind::Commit, rec.index, line);
        }
    }
    Environment* environment() override { return s_.env_.get(); }
    void state_transferred(std::uint64_t index, Digest state) override {
        s_.fold(0x57, node_, index, state.v, 0);
        s_.checker_.on_state_transfer(NodeId(node_), index, state, s_.now_, s_.result_.events);
    }
    void view_entered(std::uint64_t view) override {
        if (s_.tracing_) record(TraceRecord::Kind::View, view, {});
        auto& r = s_.result_;
        r.view_per_node[node_] = view;
        if (s_.rules_active_ && s_.rules_.on_view(node_, view)) s_.release_due_ = true;
        // Views are recorded the first time any honest replica enters one beyond all before.
        if (!s_.nodes_[node_].byzantine && (view > s_.max_view_seen_ || r.views.empty())) {
            s_.max_view_seen_ = std::max(s_.max_view_seen_, view);
            if (view > 0) ++r.view_changes;
            if (r.views.size() < RunResult::kViewsKept) r.views.emplace_back(view, s_.now_);
        }
    }
    void suspect(NodeId node) override {
        auto& st = s_.result_.states;
        if (node.v < st.size() && st[node.v] == NodeState::Active)
            st[node.v] = NodeState::Suspected;
    }

    void issue(RequestKey key, Digest digest) override {
        ++s_.result_.issued;
        s_.submit_time_[(static_cast<std::uint64_t>(key.client.v) << 40) | key.timestamp] = s_.now_;
        s_.checker_.on_issue(key, digest);
    }
    void request_sent(RequestKey key) override {
        if (s_.tracing_) record(TraceRecord::Kind::Request, key.timestamp, {});
        s_.checker_.on_request_sent(key, s_.now_);
    }
    void accept(RequestKey key, Digest result, std::uint64_t view, std::uint64_t index) override {
        auto& r = s_.result_;
        if (s_.tracing_) record(TraceRecord::Kind::Accept, key.timestamp, {});
        ++r.accepted;
        const std::uint64_t k = (static_cast<std::uint64_t>(key.client.v) << 40) | key.timestamp;
        const SimTime* issued = s_.submit_time_.find(k);
        const SimTime submit = issued ? *issued : s_.now_;
        if (issued) s_.submit_time_.erase(k);
        r.latencies_ns.push_back((s_.now_ - submit).ns);
        if (s_.opts_.keep_request_rows)
            r.requests.push_back({key.client.v, key.timestamp, submit, s_.now_, view, index});
        s_.fold(0xac, key.client.v, key.timestamp, result.v, index);
        s_.checker_.on_accept(key, result, s_.now_, r.events);
    }

    RandomStream& rng() override { return *s_.nodes_[node_].rng; }
    void trace(std::string_view line) override {
        if (s_.notes_) record(TraceRecord::Kind::Note, 0, line);
    }
    bool tracing() const override { return s_.notes_; }

private:
    // A record of this node at now_.
    void record(TraceRecord::Kind kind, std::uint64_t tag, std::string_view text) {
        TraceRecord r;
        r.event = s_.result_.events;
        r.t = s_.now_.ns;
        r.kind = kind;
        r.from = r.to = node_;
        r.tag = tag;
        r.text = text;
        s_.tee_.record(r);
    }

    static constexpr std::size_t kVerifiedKept = 4096;
    Simulator& s_;
    std::uint32_t node_ = 0;
    SimTime cost_{};

    // One handler's CPU time is at most kMaxDuration (sim/types.hpp: no sum overflows).
    void charge(SimTime each, std::uint64_t count) {
        const std::int64_t room = kMaxDuration.ns - cost_.ns;
        const auto most = static_cast<std::uint64_t>(room > 0 ? room : 0);
        if (each.ns > 0 && count > most / static_cast<std::uint64_t>(each.ns)) {
            cost_ = kMaxDuration;
        } else {
            cost_.ns += each.ns * static_cast<std::int64_t>(count);
        }
    }
};

}  // namespace sim
