// HotStuff replica: dispatch, client requests and the mempool, block storage and execution
// (shared by the chained and basic forms; sync.cpp has state sync and pruning).
#include "protocols/hotstuff/replica.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "sim/hash.hpp"

namespace hotstuff {

namespace {
constexpr std::size_t kMaxParked = 1024;
constexpr std::size_t kMaxParkedParents = 256;
// QCs a replica remembers having verified: one seen again costs nothing.
constexpr std::size_t kVerifiedQcsKept = 4096;
}  // namespace

Replica::Replica(Config cfg)
    : cfg_(cfg),
      b_lock_(genesis_block()),
      b_exec_(genesis_block()),
      pacemaker_(cfg.quorum, cfg.view_timeout, cfg.leaders),
      qc_high_(genesis_qc()),
      locked_qc_(genesis_qc()),
      detector_(kProposalStatement),
      prepare_qc_(genesis_qc()) {
    blocks_[genesis_block()->digest] = genesis_block();
    by_height_.emplace_back(0, genesis_block()->digest);
    app_ = proto::make_application(cfg_.app);
    // Chained: 2^3 at most. Basic HotStuff keeps 2^16: its views need every replica in the view
    // the leader's NEW-VIEWs are for, and replicas a view apart under equal capped timers stay
    // apart for good (the basic WAN sweep: one silent, one a view ahead of the other two).
    const bool uncapped = cfg_.basic || cfg_.mutations.has(Mutation::UncappedViewTimer);
    pacemaker_.set_max_doublings(uncapped ? 16 : 3);
}

void Replica::on_start(sim::Context& ctx) {
    // Basic HotStuff starts like every view: NEW-VIEW(genesis QC) to the first leader.
    if (cfg_.basic) {
        const NodeId leader = pacemaker_.leader(1);
        if (leader == ctx.self()) {
            pacemaker_.new_view_from(1, ctx.self().v);
        } else {
            ctx.send(leader, make_message(ctx, NewView{1, prepare_qc_}));
        }
    }
    enter_view(ctx, 1);
}

void Replica::on_recover(sim::Context& ctx) {
    if (cfg_.mutations.has(Mutation::ForgetLockAfterRestart)) {
        b_lock_ = genesis_block();
        locked_qc_ = genesis_qc();
    }
    // The timers died with the crash; time out of the current view to resynchronise.
    idle_.lost();
    on_view_timeout(ctx);
}

void Replica::on_message(sim::Context& ctx, NodeId from, const sim::Payload& msg) {
    handle(ctx, from, msg);
    report_refused(ctx);
}

void Replica::report_refused(sim::Context& ctx) {
    // Nearly always nothing new: one sum, not a footprint per message.
    const std::uint64_t total = refused_votes_ + refused_proposals_ + pacemaker_.refused() +
                                refused_blocks_ + refused_syncs_ + refused_parked_;
    if (total == reported_total_) return;
    reported_total_ = total;
    const Footprint now = footprint();
    const auto pass = [&](std::uint64_t now_n, std::uint64_t& was, const char* table) {
        if (now_n != was) ctx.refused(table, now_n - was);
        was = now_n;
    };
    pass(now.refused_votes, reported_.refused_votes, "hotstuff.votes");
    pass(now.refused_new_views, reported_.refused_new_views, "hotstuff.new_views");
    pass(now.refused_proposals, reported_.refused_proposals, "hotstuff.proposals");
    pass(now.refused_blocks, reported_.refused_blocks, "hotstuff.unsolicited_blocks");
    pass(now.refused_syncs, reported_.refused_syncs, "hotstuff.sync_replies");
    pass(now.refused_parked, reported_.refused_parked, "hotstuff.parked");
}

void Replica::handle(sim::Context& ctx, NodeId from, const sim::Payload& msg) {
    if (proto::is_client_message(msg)) {
        const auto& cm = static_cast<const proto::ClientMessage&>(msg);
        if (std::holds_alternative<proto::Request>(cm.body))
            on_request(ctx, from, ClientMessageRef(&cm));
        return;
    }
    MessageRef m(&static_cast<const Message&>(msg));
    if (!authentic(ctx, *m) || m->signer != from) return;
    if (as<Proposal>(*m)) return on_proposal(ctx, from, m);
    if (const auto* v = as<Vote>(*m)) {
        // Beyond the window (pacemaker.hpp), or older than the detector keeps: refused before
        // its signature costs anything and before the detector holds it.
        if (!in_window(v->vote.stmt.view)) {
            ++refused_votes_;
            return;
        }
        if (!recent(v->vote.stmt.view)) return;
        if (v->vote.signer != from || !proto::verify_vote(ctx, v->vote, vote_digest(v->vote.stmt)))
            return;
        observe(ctx, v->vote);
        // The leader's statement travels with each vote, so the next leader sees conflicting
        // proposals of one view even when each voter saw only one of them.
        const auto& p = v->proposal;
        if (p.stmt.kind == kProposalStatement && p.stmt.view == v->vote.stmt.view &&
            p.signer == pacemaker_.leader(p.stmt.view) && verify_carried_statement(ctx, p))
            observe(ctx, p);
        return cfg_.basic ? basic_on_vote(ctx, v->vote) : on_vote(ctx, v->vote);
    }
    if (const auto* nv = as<NewView>(*m)) return on_new_view(ctx, from, *nv);
    if (const auto* pq = as<PhaseQc>(*m)) return basic_on_phase(ctx, from, *pq);
    if (const auto* f = as<Fetch>(*m)) return on_fetch(ctx, from, *f);
    if (const auto* b = as<BlockReply>(*m)) return on_block(ctx, from, b->block);
    if (const auto* r = as<SyncRequest>(*m)) return on_sync_request(ctx, from, *r);
    if (const auto* r = as<SyncReply>(*m)) return on_sync_reply(ctx, from, *r);
}

// The n-f votes of a view all carry its leader's statement: the one identical to the statement
// verified last is charged the same verification cost without computing it again.
bool Replica::verify_carried_statement(sim::Context& ctx, const proto::SignedVote& p) {
    if (p == last_carried_statement_) {
        ctx.charge_verify(1);
        return true;
    }
    if (!proto::verify_vote(ctx, p)) return false;
    last_carried_statement_ = p;
    return true;
}

Digest Replica::vote_digest(const proto::Statement& s) {
    if (!vote_digest_.valid || !(s == vote_digest_.stmt)) vote_digest_ = {true, s, s.digest()};
    return vote_digest_.digest;
}

void Replica::on_timer(sim::Context& ctx, std::uint64_t tag) {
    if (tag == kViewTimer && pacemaker_.fire(ctx, tag)) on_view_timeout(ctx);
    if (tag == kIdleTimer) on_idle_timer(ctx);
}

void Replica::on_request(sim::Context& ctx, NodeId from, const ClientMessageRef& m) {
    const auto& req = std::get<proto::Request>(m->body);
    if (req.client.v < ctx.replica_count() || !proto::authentic(ctx, *m)) return;
    if (req.data && !app_->admits(ctx, req, m->digest))
        return ctx.refused("hotstuff.inadmissible_request");
    if (const auto* last = last_reply_.find(req.client.v)) {
        if (req.timestamp < last->first) return;
        if (req.timestamp == last->first) return ctx.send(req.client, last->second);
    }
    const bool fresh = mempool_.add(proto::request_key(req), m);
    // A request straight from its client also goes to the leader that proposes next.
    const NodeId leader = pacemaker_.leader(view_);
    if (fresh && from == req.client && leader != ctx.self() && !cfg_.clients_send_to_all)
        ctx.send(leader, m);
    maybe_arm(ctx);
    if (cfg_.basic) return basic_try_propose(ctx);
    try_propose(ctx);
}

void Replica::on_fetch(sim::Context& ctx, NodeId from, const Fetch& f) {
    if (BlockRef b = find(f.hash)) ctx.send(from, make_message(ctx, BlockReply{b}));
}

void Replica::on_block(sim::Context& ctx, NodeId from, const BlockRef& b) {
    if (!b || lookup(b->digest)) return;
    // Only a block we asked for: otherwise a peer could fill the store with forks on any QC.
    const auto asked = fetching_.find(b->digest);
    if (asked == fetching_.end()) {
        ++refused_blocks_;
        return;
    }
    if (!well_formed(ctx, *b)) return;
    fetching_.erase(asked);
    if (b->height <= b_exec_->height) return;  // already decided past it
    if (!store(ctx, from, b, MessageRef())) return;
    // The block may be what a proposal of ours was waiting for.
    if (cfg_.basic) return basic_try_propose(ctx);
    try_propose(ctx);
}

// The block names its parent by the QC it carries, which also certifies the parent's height
// (the voters signed it), so its own height is that + 1 even before the parent arrives.
bool Replica::well_formed(sim::Context& ctx, const Block& b) {
    const bool height_ok = b.height == b.justify.stmt.slot + 1 ||
                           (b.height > 0 && cfg_.mutations.has(Mutation::TrustBlockHeight));
    const bool trust = trust_author_caches();
    return height_ok && b.digest_matches(trust) && b.justify.stmt.value == b.parent &&
           b.view > b.justify.stmt.view && valid_qc(ctx, b.justify, b.justify_key(trust)) &&
           commands_valid(ctx, b);
}

// PROTOCOLS.md §4.12: each command a block carries is a request signed by the client it names
// (a replica id names none). Every replica checks every block; the block keeps the answer, so
// the first does the work and the others charge the same cost.
bool Replica::commands_valid(sim::Context& ctx, const Block& b) {
    if (cfg_.mutations.has(Mutation::TrustBlockCommands) || b.cmds.empty()) return true;
    bool checked = false;
    const bool ok = b.commands_valid(ctx, checked, trust_author_caches());
    if (!checked) ctx.charge_verify(static_cast<std::uint32_t>(b.cmds.size()));
    if (!ok) return false;
    // The service's own rule on each command: its answer depends on the command alone.
    for (const ClientMessageRef& c : b.cmds) {
        const auto* req = std::get_if<proto::Request>(&c->body);
        if (req && req->data && !app_->admits(ctx, *req, c->digest)) return false;
    }
    return true;
}

bool Replica::valid_qc(sim::Context& ctx, const QuorumCert& qc) {
    if (is_genesis_qc(qc)) return true;
    return valid_qc(ctx, qc, qc_key(qc));
}

bool Replica::valid_qc(sim::Context& ctx, const QuorumCert& qc, const QcKey& key) {
    if (is_genesis_qc(qc)) return true;
    // A QC newer than every one remembered cannot be among them (the steady state).
    if (qc.stmt.view <= verified_qcs_view_ &&
        std::find(verified_qcs_.begin(), verified_qcs_.end(), key.content) != verified_qcs_.end())
        return true;
    // accept_small_qc: f+1 valid signers pass, where n-f are needed.
    if (cfg_.mutations.has(Mutation::AcceptSmallQc))
        return proto::verify_qc(ctx, qc, key.stmt_digest, cfg_.quorum.weak(),
                                ctx.replica_count()) == proto::QcCheck::Ok;
    // Every replica checks every QC; the first does the work, the others charge the same cost.
    // The run-wide key names all verify_qc reads: the QC's content and the quorum.
    const std::uint64_t run_key = sim::Hasher(key.content).add(cfg_.votes_needed()).value();
    if (ctx.verified_before(run_key)) {
        ctx.charge_verify(proto::verify_qc_cost(qc));
    } else {
        if (proto::verify_qc(ctx, qc, key.stmt_digest, cfg_.votes_needed(), ctx.replica_count()) !=
            proto::QcCheck::Ok)
            return false;
        ctx.remember_verified(run_key);
    }
    if (verified_qcs_.size() > kVerifiedQcsKept) {
        verified_qcs_.clear();
        verified_qcs_view_ = 0;
    }
    verified_qcs_.push_back(key.content);
    verified_qcs_view_ = std::max(verified_qcs_view_, qc.stmt.view);
    return true;
}

bool Replica::store(sim::Context& ctx, NodeId from, const BlockRef& b, const MessageRef& m) {
    if (lookup(b->digest)) return true;
    if (!lookup(b->parent)) {
        // Bounded: kMaxParkedParents missing parents, kMaxParked blocks waiting on each.
        auto it = parked_.find(b->parent);
        if (it == parked_.end() && parked_.size() >= kMaxParkedParents) {
            ++refused_parked_;
        } else if (auto& parked = parked_[b->parent]; parked.size() < kMaxParked) {
            parked.push_back({from, m, b});
        } else {
            ++refused_parked_;
        }
        fetch(ctx, b->parent, from);
        if (b->height > b_exec_->height + kSyncGap) request_sync(ctx, b->height);
        return false;
    }
    blocks_[b->digest] = b;
    index_height(*b);
    unpark(ctx, b->digest);
    return true;
}

void Replica::index_height(const Block& b) {
    // Heights mostly grow, so this is usually an append.
    if (by_height_.empty() || by_height_.back().first <= b.height) {
        by_height_.emplace_back(b.height, b.digest);
        return;
    }
    auto at = std::upper_bound(by_height_.begin(), by_height_.end(), b.height,
                               [](std::uint64_t h, const auto& e) { return h < e.first; });
    by_height_.emplace(at, b.height, b.digest);
}

void Replica::unpark(sim::Context& ctx, Digest hash) {
    // What waited for this block can go on now: stored blocks first, then messages.
    auto it = parked_.find(hash);
    if (it != parked_.end()) {
        auto waiting = std::move(it->second);
        parked_.erase(it);
        for (const Parked& p : waiting) {
            if (p.msg) {
                on_message(ctx, p.from, *p.msg);
            } else {
                store(ctx, p.from, p.block, MessageRef());
            }
        }
    }
}

BlockRef Replica::find(Digest hash) const {
    const BlockRef* b = blocks_.find(hash);
    return b ? *b : BlockRef();
}

bool Replica::extends(const Block& b, const Block& ancestor) const {
    const Block* cur = &b;
    while (cur->height > ancestor.height) {
        cur = lookup(cur->parent);
        if (!cur) return false;
    }
    return cur->digest == ancestor.digest;
}

// Executes b and its uncommitted ancestors, oldest first (Algorithm 4, onCommit).
void Replica::commit_chain(sim::Context& ctx, const Block& b) {
    if (b.height <= b_exec_->height) return;
    std::vector<const Block*>& chain = chain_scratch_;
    chain.clear();
    for (const Block* cur = &b; cur && cur->height > b_exec_->height; cur = lookup(cur->parent))
        chain.push_back(cur);
    // H2: what commits extends what was committed before.
    if (chain.empty() || chain.back()->parent != b_exec_->digest) {
        ctx.invariant_failed("committed_chain_extends",
                             fmt::format("block at height {} does not extend executed height {}",
                                         b.height, b_exec_->height));
        return;
    }
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) execute(ctx, **it);
    chain.clear();
    note_executed(ctx);
    // Pruning every few heights keeps memory as flat and costs a fraction of doing it on each
    // (prune_without_snapshots prunes on each, as it did).
    if (b_exec_->height >= next_prune_ || cfg_.mutations.has(Mutation::PruneWithoutSnapshots)) {
        prune();
        next_prune_ = b_exec_->height + kPruneEvery;
    }
}

void Replica::execute(sim::Context& ctx, const Block& b) {
    std::vector<sim::ExecutedRequest>& done = done_scratch_;
    done.clear();
    std::uint32_t position = 0;
    for (const auto& r : b.cmds) {
        ++position;
        // A REPLY where a request belongs gets here only if commands go unchecked.
        if (!std::holds_alternative<proto::Request>(r->body)) continue;
        const auto& req = std::get<proto::Request>(r->body);
        auto& last = last_reply_[req.client.v];
        mempool_.remove(proto::request_key(req));
        if (req.timestamp <= last.first) continue;  // exactly once
        const Digest result = app_->execute(req, r->digest, b.height, position);
        done.push_back({proto::request_key(req), r->digest, result, req.data.get()});
        last.first = req.timestamp;
        last.second =
            proto::make_reply(ctx, proto::Reply{proto::View(b.view), req.timestamp, req.client,
                                                ctx.self(), result, b.height});
        ctx.send(req.client, last.second);
    }
    const Digest state = app_->seal(b.height, b.digest);
    b_exec_ = find(b.digest);
    if (b.height % kSnapshotEvery == 0) take_snapshot();
    ctx.commit(sim::CommitRecord{b.height, b.view, b.digest, state, done});
}

bool Replica::chain_has_cmds(const Block* from) const {
    const Block* cur = from;
    for (; cur && cur->height > b_exec_->height; cur = lookup(cur->parent))
        if (!cur->cmds.empty()) return true;
    if (cfg_.basic || cfg_.mutations.has(Mutation::IdleByOwnCommit)) return false;
    // What this replica executed, the others may not have committed: it may have formed the QC
    // that completed a 3-chain in a proposal they never received. The chain itself shows what
    // everyone holding it has committed; below that, nothing is left to finish (found by a sweep).
    const std::uint64_t done = chain_commit_height(from);
    for (; cur && cur->height > done; cur = lookup(cur->parent))
        if (!cur->cmds.empty()) return true;
    return false;
}

// b of the highest 3-chain b <- b' <- b'' (direct parents, consecutive views) whose QCs the
// chain below the certified block `top` carries: what update() commits on reading the chain.
std::uint64_t Replica::chain_commit_height(const Block* top) const {
    for (const Block* b2 = top; b2 && b2->height > 0;) {
        const Block* b1 = lookup(b2->justify.stmt.value);
        if (!b1 || b1->height == 0) return 0;
        const Block* b0 = lookup(b1->justify.stmt.value);
        if (b0 && b2->parent == b1->digest && b1->parent == b0->digest &&
            directly_after(b1->view, b2->view) && directly_after(b0->view, b1->view))
            return b0->height;
        b2 = b1;
    }
    return 0;
}

bool Replica::has_work() const {
    return !mempool_.empty() || chain_has_cmds(lookup(qc_high_.stmt.value));
}

std::vector<ClientMessageRef> Replica::next_batch(const BlockRef& parent) const {
    std::set<sim::RequestKey> in_chain;
    for (const Block* cur = parent.get(); cur && cur->height > b_exec_->height;
         cur = lookup(cur->parent))
        for (const auto& c : cur->cmds)
            in_chain.insert(proto::request_key(std::get<proto::Request>(c->body)));
    std::vector<ClientMessageRef> batch;
    mempool_.for_each([&](const ClientMessageRef& req) {
        if (batch.size() >= cfg_.batch_size) return false;
        if (!in_chain.count(proto::request_key(std::get<proto::Request>(req->body))))
            batch.push_back(req);
        return true;
    });
    return batch;
}

void Replica::send_vote(sim::Context& ctx, const proto::Statement& stmt, NodeId to,
                        const proto::SignedVote& proposal) {
    const Digest digest = stmt.digest();
    proto::SignedVote v = proto::sign_vote(ctx, stmt, digest);
    last_vote_ = v;
    last_vote_proposal_ = proposal;
    if (to == ctx.self()) {
        cfg_.basic ? basic_on_vote(ctx, v) : on_vote(ctx, v);
    } else {
        ctx.send(to, make_vote_message(ctx, Vote{v, proposal}, digest));
    }
}

void Replica::observe(sim::Context& ctx, const proto::SignedVote& v) {
    const proto::Evidence* e = detector_.observe(v);
    if (!e || !proto::verify_evidence(ctx, *e)) return;
    ctx.evidence(v.signer, fmt::format("two {} in view {}",
                                       v.stmt.kind == kProposalStatement ? "proposals" : "votes",
                                       v.stmt.view));
    if (v.stmt.kind == kProposalStatement && !cfg_.basic) {
        equivocated_views_.push_back(v.stmt.view);
        if (equivocated_views_.size() > 64) equivocated_views_.erase(equivocated_views_.begin());
        check_split(ctx, v.stmt.view);
    }
}

void Replica::propose(sim::Context& ctx, const BlockRef& parent,
                      std::vector<ClientMessageRef> batch) {
    proposed_view_ = view_;
    BlockRef b = make_block(parent, view_, qc_high_, std::move(batch), ctx.self());
    if (ctx.tracing())
        ctx.trace(fmt::format("hotstuff propose view {} height {} on QC of view {} ({} cmds)",
                              b->view, b->height, qc_high_.stmt.view, b->cmds.size()));
    const proto::SignedVote stmt =
        proto::sign_vote(ctx, proposal_statement(*b), b->proposal_digest());
    MessageRef m = make_message(ctx, Proposal{b, stmt});
    ctx.broadcast(m);
    store(ctx, ctx.self(), b, MessageRef());
    if (cfg_.basic) {
        proposals_[b->digest] = stmt;  // basic HotStuff's phases carry the leader statement
        return basic_on_proposal(ctx, b, stmt);
    }
    process_proposal(ctx, b, stmt, m);
}

void Replica::fetch(sim::Context& ctx, Digest hash, NodeId from) {
    auto [it, fresh] = fetching_.try_emplace(hash, ctx.now());
    const proto::SimTime retry{cfg_.view_timeout.ns / 4};
    if (!fresh && ctx.now() - it->second < retry) return;
    it->second = ctx.now();
    if (fetching_.size() > 4096) fetching_.erase(fetching_.begin());
    ctx.send(from, make_message(ctx, Fetch{hash}));
}

void Replica::maybe_arm(sim::Context& ctx) {
    if (!pacemaker_.armed() && has_work())
        pacemaker_.arm(ctx, kViewTimer, view_, qc_high_.stmt.view);
}

}  // namespace hotstuff
