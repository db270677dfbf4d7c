// PBFT normal case: request, pre-prepare, prepare, commit, in-order execution, reply
// (PROTOCOLS.md §1.3).
#include <algorithm>

#include "protocols/pbft/replica.hpp"
#include "sim/hash.hpp"

namespace pbft {

namespace {
bool test_bit(const std::vector<std::uint64_t>& b, std::uint32_t i) {
    return (b[i / 64] >> (i % 64)) & 1;
}
void set_bit(std::vector<std::uint64_t>& b, std::uint32_t i) {
    b[i / 64] |= 1ULL << (i % 64);
}
}  // namespace

void Replica::on_request(sim::Context& ctx, NodeId from, const ClientMessageRef& m) {
    const auto& req = std::get<proto::Request>(m->body);
    if (req.client.v < ctx.replica_count() || !proto::authentic(ctx, *m)) return;
    if (req.data && !app_->admits(ctx, req, m->digest))
        return ctx.refused("pbft.inadmissible_request");
    const sim::RequestKey key = proto::request_key(req);
    // §1.3 step 10: an old request is not re-executed; the latest gets its cached reply again.
    if (auto it = last_reply_.find(req.client.v); it != last_reply_.end()) {
        if (req.timestamp < it->second.timestamp) return;
        if (req.timestamp == it->second.timestamp) {
            ctx.send(req.client, it->second.reply);
            return;
        }
    }
    // Every replica that holds an unexecuted request waits for it (§1.6 rule 1). The paper
    // names backups; the primary waits too, so a primary whose own pre-prepared request cannot
    // commit (its COMMITs were lost) still helps the f+1 needed to leave the view.
    const bool fresh = await(key, m);
    if (fresh && !request_running_) restart_request_timer(ctx);
    if (view_changing_) return;
    if (primary(ctx)) {
        if (assigned_.try_emplace(key).second) {
            pending_.push_back(m);
            try_propose(ctx, false);
        }
    } else if (from == req.client) {
        // §1.3 step 11: a backup relays a retransmitted request to the primary.
        ctx.send(cfg_.quorum.primary(view_), m);
    }
}

// The primary orders pending requests while the window (h, h+L] has room (§1.3 step 2).
void Replica::try_propose(sim::Context& ctx, bool flush) {
    if (!primary(ctx) || view_changing_ || installing_) return;
    while (!pending_.empty() && in_window(next_seq_)) {
        if (pending_.size() < cfg_.batch_size && !flush && cfg_.batch_timeout.ns > 0) {
            if (!batch_timer_on_) {
                batch_timer_ = ctx.set_timer(cfg_.batch_timeout, kBatchTimer);
                batch_timer_on_ = true;
            }
            return;
        }
        PrePrepare pp;
        pp.v = view_;
        pp.n = next_seq_;
        while (!pending_.empty() && pp.batch.size() < cfg_.batch_size) {
            pp.batch.push_back(std::move(pending_.front()));
            pending_.pop_front();
        }
        pp.d = batch_digest(pp.batch);
        next_seq_ = Seq(next_seq_.v + 1);
        MessageRef m = make_message(ctx, std::move(pp));
        ctx.broadcast(m);
        accept_pre_prepare(ctx, slot(as<PrePrepare>(*m)->n), m);
    }
}

void Replica::on_pre_prepare(sim::Context& ctx, const MessageRef& m) {
    const PrePrepare& pp = *as<PrePrepare>(*m);
    if (pp.v > view_ || (pp.v == view_ && view_changing_)) return buffer_future(ctx, m, pp.v);
    // §1.3 step 3: (a) signed by the primary of v with a digest of the batch; (b) in view v;
    // (d) within the watermarks.
    if (pp.n.v > h_.v + cfg_.watermark_window) note_ahead(ctx, pp.v, pp.n);
    if (pp.v != view_ || m->signer != cfg_.quorum.primary(pp.v) || !in_window(pp.n)) return;
    if (m->signer == ctx.self()) return;
    if (!batch_valid(ctx, pp, false)) return;
    Slot& s = slot(pp.n);
    // (c) never two different digests for the same (v, n).
    if (s.v == pp.v && s.pp) return;
    accept_pre_prepare(ctx, s, m);
    // A backup prepares what it accepted (§1.3 step 3); the primary sends no PREPARE.
    MessageRef prep = make_message(ctx, Prepare{pp.v, pp.n, pp.d});
    ctx.broadcast(prep);
    on_prepare(ctx, prep);
}

void Replica::accept_pre_prepare(sim::Context& ctx, Slot& s, const MessageRef& m) {
    const PrePrepare& pp = *as<PrePrepare>(*m);
    move_to_view(s, pp.v);
    s.pp = m;
    s.prepare_match = s.commit_match = 0;
    for (const auto& p : s.prepares) s.prepare_match += as<Prepare>(*p)->d == pp.d ? 1 : 0;
    for (const auto& c : s.commits) s.commit_match += as<Commit>(*c)->d == pp.d ? 1 : 0;
    for (const auto& r : pp.batch) {
        // Backups now wait for these requests too (§1.6 rule 1).
        const auto key = proto::request_key(std::get<proto::Request>(r->body));
        auto it = last_reply_.find(key.client.v);
        if (it != last_reply_.end() && it->second.timestamp >= key.timestamp) continue;
        if (await(key, r) && !request_running_) restart_request_timer(ctx);
    }
    count_and_advance(ctx, s);
}

// A sequence number's votes count only within one view: moving a slot to a newer view forgets
// the older view's pre-prepare and votes, but keeps its prepared certificate (§1.5 P).
void Replica::move_to_view(Slot& s, View v) const {
    if (s.v >= v) return;
    s.v = v;
    s.forget_votes(!cfg_.mutations.has(Mutation::ForgetCommittedCert));
}

void Replica::on_prepare(sim::Context& ctx, const MessageRef& m) {
    const Prepare& p = *as<Prepare>(*m);
    if (p.v > view_ || (p.v == view_ && view_changing_)) return buffer_future(ctx, m, p.v);
    // §1.3 step 4; the primary's own pre-prepare stands for its prepare, so it sends none.
    if (p.n.v > h_.v + cfg_.watermark_window) note_ahead(ctx, p.v, p.n);
    if (p.v != view_ || !in_window(p.n) || m->signer == cfg_.quorum.primary(p.v)) return;
    Slot& s = slot(p.n);
    if (s.v > p.v) return;
    move_to_view(s, p.v);
    if (test_bit(s.prepared_by, m->signer.v)) return;
    set_bit(s.prepared_by, m->signer.v);
    s.prepares.push_back(m);
    if (s.pp && as<PrePrepare>(*s.pp)->d == p.d) {
        ++s.prepare_match;
        count_and_advance(ctx, s);
    } else if (cfg_.mutations.has(Mutation::PrepareIgnoresDigest)) {
        count_and_advance(ctx, s);
    }
}

void Replica::on_commit(sim::Context& ctx, const MessageRef& m) {
    const Commit& c = *as<Commit>(*m);
    if (c.v > view_ || (c.v == view_ && view_changing_)) return buffer_future(ctx, m, c.v);
    if (c.n.v > h_.v + cfg_.watermark_window) note_ahead(ctx, c.v, c.n);
    if (c.v != view_ || !in_window(c.n)) return;
    Slot& s = slot(c.n);
    if (s.v > c.v) return;
    move_to_view(s, c.v);
    if (test_bit(s.committed_by, m->signer.v)) return;
    set_bit(s.committed_by, m->signer.v);
    s.commits.push_back(m);
    if (s.pp && as<PrePrepare>(*s.pp)->d == c.d) {
        ++s.commit_match;
        count_and_advance(ctx, s);
    }
    // q replicas committed at n while we could not (a primary that sent us another digest):
    // if we are still behind a moment later, ask (catch_up.cpp).
    if (!s.committed && s.commits.size() >= cfg_.quorum.q()) note_ahead(ctx, c.v, c.n);
}

// prepared: the pre-prepare plus q-1 matching PREPAREs from distinct backups (§1.3 step 5);
// committed-local: prepared plus q matching COMMITs, one's own included (step 7).
void Replica::count_and_advance(sim::Context& ctx, Slot& s) {
    if (!s.pp) return;
    const std::uint32_t q = cfg_.quorum.q();
    const bool any_digest = cfg_.mutations.has(Mutation::PrepareIgnoresDigest);
    const auto prepares =
        any_digest ? static_cast<std::uint32_t>(s.prepares.size()) : s.prepare_match;
    if (!s.prepared && prepares >= q - 1) {
        s.prepared = true;
        const PrePrepare& pp = *as<PrePrepare>(*s.pp);
        s.cert.pre_prepare = s.pp;
        s.cert.prepares.clear();
        for (const auto& p : s.prepares)
            if (any_digest || as<Prepare>(*p)->d == pp.d) s.cert.prepares.push_back(p);
        if (!s.commit_sent) {
            s.commit_sent = true;
            MessageRef c = make_message(ctx, Commit{pp.v, pp.n, pp.d});
            ctx.broadcast(c);
            on_commit(ctx, c);
            return;  // on_commit re-entered count_and_advance with the own commit counted
        }
    }
    const std::uint32_t commit_q = cfg_.mutations.has(Mutation::CommitQuorum2f) ? q - 1 : q;
    if (s.prepared && !s.committed && s.commit_match >= commit_q) {
        s.committed = true;
        if (cfg_.mutations.has(Mutation::OutOfOrderExecution)) execute_out_of_order(ctx, s);
        try_execute(ctx);
    }
}

// The out_of_order_execution mutation: a slot runs as soon as it commits, before the gaps below
// it are filled. last_exec_ still marks the contiguous prefix; try_execute steps over the slot.
void Replica::execute_out_of_order(sim::Context& ctx, Slot& s) {
    if (s.executed_early || s.n.v <= last_exec_.v + 1) return;  // in turn: try_execute runs it
    s.executed_early = true;
    const Seq before = last_exec_;
    execute(ctx, *as<PrePrepare>(*s.pp));
    last_exec_ = before;
}

void Replica::execute_certified(sim::Context& ctx, Slot& s, const CommitCert& c) {
    const PrePrepare& pp = *as<PrePrepare>(*c.pre_prepare);
    if (s.v <= pp.v) {
        move_to_view(s, pp.v);
        s.pp = c.pre_prepare;
        s.commits = c.commits;
        for (const auto& m : c.commits) set_bit(s.committed_by, m->signer.v);
        s.commit_match = static_cast<std::uint32_t>(c.commits.size());
        s.commit_sent = s.committed = true;
    }
    execute(ctx, pp);
}

// Executes strictly in order, without gaps (§1.3 step 8).
void Replica::try_execute(sim::Context& ctx) {
    const Seq before = last_exec_;
    execute_ready(ctx);
    if (last_exec_ > before) note_executed(ctx);
}

void Replica::execute_ready(sim::Context& ctx) {
    while (true) {
        Seq next(last_exec_.v + 1);
        if (!in_window(next)) return;
        Slot& s = slot(next);
        if (s.committed && s.executed_early) {
            last_exec_ = next;
            continue;
        }
        if (s.committed) {
            execute(ctx, *as<PrePrepare>(*s.pp));
        } else if (auto it = certified_.find(next); it != certified_.end()) {
            const CommitCert c = std::move(it->second);  // catch-up: a certificate of any view
            certified_.erase(it);
            execute_certified(ctx, s, c);
        } else {
            return;
        }
    }
}

void Replica::execute(sim::Context& ctx, const PrePrepare& pp) {
    std::vector<sim::ExecutedRequest>& done = executed_scratch_;
    done.clear();
    bool progressed = false;
    std::uint32_t position = 0;
    for (const auto& r : pp.batch) {
        const auto& req = std::get<proto::Request>(r->body);
        const auto key = proto::request_key(req);
        ++position;
        // Exactly once: a request not newer than the client's last executed one is skipped.
        const auto known = last_reply_.find(req.client.v);
        if (known != last_reply_.end() && req.timestamp <= known->second.timestamp) continue;
        if (req.timestamp == 0) continue;  // no client issues timestamp 0: nothing to execute
        CachedReply& cached = last_reply_[req.client.v];
        const Digest result = app_->execute(req, r->digest, pp.n.v, position);
        done.push_back({key, r->digest, result, req.data.get()});
        cached.timestamp = req.timestamp;
        cached.reply = proto::make_reply(
            ctx, proto::Reply{view_, req.timestamp, req.client, ctx.self(), result, pp.n.v});
        ctx.send(req.client, cached.reply);
        progressed |= stop_waiting(key);
        assigned_.erase(key);
    }
    last_exec_ = pp.n;
    const Digest state = app_->seal(pp.n.v, pp.d);
    ctx.commit(sim::CommitRecord{pp.n.v, pp.v.v, pp.d, state, done});
    if (progressed) {
        vc_attempts_ = 0;  // progress resets the view-change back-off
        // The timer is for one request: others executing do not push its deadline back.
        if (!waiting_.contains(timed_) || cfg_.mutations.has(Mutation::OneRequestTimer))
            restart_request_timer(ctx);
    }
    if (last_exec_.v % cfg_.checkpoint_interval == 0) {
        if (proto::AppSnapshot s = app_->snapshot(); s.data) own_snapshots_[last_exec_] = s;
        MessageRef c = make_message(ctx, checkpoint_now());
        ctx.broadcast(c);
        on_checkpoint(ctx, c);
    }
}

}  // namespace pbft
