#include "protocols/hotstuff/monitor.hpp"

#include <bit>

#include <fmt/format.h>

namespace hotstuff {

namespace {
constexpr std::size_t kHeadsKept = 64;
}

Monitor::Monitor(const sim::MonitorEnv& env)
    : n_(env.replicas),
      quorum_(env.replicas - env.f),
      honest_(env.honest),
      keys_(*env.keys),
      voters_(env.replicas) {
    const BlockRef g = genesis_block();
    blocks_.put(g->digest, BlockInfo{Digest{}, 0, 0, genesis_qc().stmt});
    certify(genesis_qc().stmt);
    for (Voter& v : voters_) v.lock.block = g->digest;
}

// The QC's signers from its bitmap, n - f of them at least, each a replica, and the signatures
// (one aggregate, or one per signer in id order) valid over the statement.
bool Monitor::verify(const QuorumCert& qc) {
    if (is_genesis_qc(qc)) return true;
    std::vector<sim::NodeId> ids;
    for (std::size_t w = 0; w < qc.signers.size(); ++w) {
        for (std::uint64_t bits = qc.signers[w]; bits != 0; bits &= bits - 1) {
            const std::uint64_t id = w * 64 + static_cast<std::uint64_t>(std::countr_zero(bits));
            if (id >= n_) return false;
            ids.emplace_back(static_cast<std::uint32_t>(id));
        }
    }
    if (ids.size() < quorum_) return false;
    const Digest d = qc.stmt.digest();
    if (qc.aggregated) return qc.sigs.size() == 1 && keys_.verify_aggregate(ids, d, qc.sigs[0]);
    if (qc.sigs.size() != ids.size()) return false;
    for (std::size_t i = 0; i < ids.size(); ++i)
        if (!keys_.verify(ids[i], d, qc.sigs[i])) return false;
    return true;
}

bool Monitor::certified(const proto::Statement& s) const {
    return certified_.find(s.digest()) != nullptr;
}

void Monitor::certify(const proto::Statement& s) {
    certified_.put(s.digest(), true);
}

void Monitor::record_qc(const QuorumCert& qc) {
    if (certified(qc.stmt) || !verify(qc)) return;
    certify(qc.stmt);
    if (qc.stmt.kind == kGeneric) check_three_chain(qc.stmt.value);
    if (qc.stmt.kind == kCommit) {
        heads_.push_back(qc.stmt.value);
        if (heads_.size() > kHeadsKept) heads_.pop_front();
    }
}

void Monitor::record_block(const BlockRef& b) {
    if (!b || !b->digest_matches()) return;
    // A block's digest names its QC's statement, not its signers: each copy's QC counts.
    record_qc(b->justify);
    if (blocks_.find(b->digest)) return;
    blocks_.put(b->digest, BlockInfo{b->parent, b->view, b->height, b->justify.stmt});
    // Its own QC may have come first (a NEW-VIEW's high QC for a block fetched later).
    if (certified(proto::Statement{kGeneric, b->view, b->height, b->digest}))
        check_three_chain(b->digest);
}

// b2 was just certified: if b0 <- b1 <- b2 are direct parents in consecutive views, each
// certified, then b0 and everything below it may commit (H4).
void Monitor::check_three_chain(Digest b2d) {
    const BlockInfo* b2 = blocks_.find(b2d);
    if (!b2 || b2->justify.value != b2->parent || !certified(b2->justify)) return;
    const BlockInfo* b1 = blocks_.find(b2->parent);
    if (!b1 || b1->view + 1 != b2->view) return;
    if (b1->justify.value != b1->parent || !certified(b1->justify)) return;
    const BlockInfo* b0 = blocks_.find(b1->parent);
    if (!b0 || b0->view + 1 != b1->view) return;
    heads_.push_back(b1->parent);
    if (heads_.size() > kHeadsKept) heads_.pop_front();
}

std::uint64_t Monitor::kinds() const {
    std::uint64_t k = 0;
    for (Kind kind :
         {kProposal, kVote, kNewView, kPreCommitMsg, kCommitMsg, kDecideMsg, kBlock, kSyncReply})
        k |= std::uint64_t{1} << kind;
    return k;
}

std::optional<sim::Finding> Monitor::on_send(std::uint32_t from, const sim::Payload& msg) {
    if (proto::is_client_message(msg)) return std::nullopt;
    const auto& m = static_cast<const Message&>(msg);
    const bool honest = from < n_ && honest_[from];
    if (const auto* p = as<Proposal>(m)) {
        record_block(p->block);
    } else if (const auto* v = as<Vote>(m)) {
        if (honest && v->vote.signer.v == from) return on_vote(from, v->vote);
    } else if (const auto* nv = as<NewView>(m)) {
        record_qc(nv->high_qc);
        // The sender's last vote again (a vote it delivered to itself reaches the wire here).
        const proto::SignedVote& last = nv->last_vote;
        if (honest && last.signer.v == from && last.stmt.value != Digest{})
            return on_vote(from, last);
    } else if (const auto* q = as<PhaseQc>(m)) {
        record_qc(q->qc);
    } else if (const auto* b = as<BlockReply>(m)) {
        record_block(b->block);
    } else if (const auto* s = as<SyncReply>(m)) {
        record_block(s->block);
    }
    return std::nullopt;
}

std::optional<sim::Finding> Monitor::on_vote(std::uint32_t replica, const proto::SignedVote& v) {
    const proto::Statement& s = v.stmt;
    if (s.kind == kGeneric || s.kind == kPrepare) {
        const Voted* b = voted(s);
        return b ? on_proposal_vote(replica, v, *b) : std::nullopt;
    }
    if (s.kind != kPreCommit && s.kind != kCommit) return std::nullopt;
    // Basic HotStuff: a PRE-COMMIT vote stands on a prepareQC, a COMMIT vote on a precommitQC,
    // for the same block and view; the COMMIT vote's precommitQC is the replica's lock.
    const auto before = static_cast<std::uint8_t>(s.kind - 1);
    if (!certified(proto::Statement{before, s.view, s.slot, s.value}))
        return sim::Finding{
            "quorum",
            fmt::format("replica {} voted {} for height {} of view {} without a certified QC of "
                        "the phase before (n - f = {} valid signatures)",
                        replica, s.kind == kCommit ? "COMMIT" : "PRE-COMMIT", s.slot, s.view,
                        quorum_),
            {replica}};
    Lock& lock = voters_[replica].lock;
    if (s.kind == kCommit && s.view > lock.view) lock = Lock{s.view, s.value, s.slot};
    return std::nullopt;
}

// The n - f votes for one block arrive in a row: what they share is worked out once. A block
// whose justify is not certified (yet) is worked out again each time.
const Monitor::Voted* Monitor::voted(const proto::Statement& s) {
    if (voted_.block == s.value && voted_.kind == s.kind && voted_.justify_ok) return &voted_;
    const BlockInfo* b = blocks_.find(s.value);
    if (!b) return nullptr;
    voted_ = Voted{s.value, s.kind, b->justify, certified(b->justify), std::nullopt};
    // Chained: processing b* locks on b*.justify.node.justify (Algorithm 4, update).
    if (s.kind == kGeneric)
        if (const BlockInfo* b2 = blocks_.find(b->justify.value))
            if (certified(b2->justify))
                voted_.lock = Lock{b2->justify.view, b2->justify.value, b2->justify.slot};
    return &voted_;
}

namespace {

// What each vote rule reports, built out of the hot path (a finding ends the run).
[[gnu::cold, gnu::noinline]] sim::Finding vote_once_finding(std::uint32_t replica,
                                                            const proto::Statement& s,
                                                            std::uint64_t voted_view) {
    return sim::Finding{
        "vote_once",
        fmt::format("replica {} voted for height {} in view {} after voting in view {}", replica,
                    s.slot, s.view, voted_view),
        {replica}};
}

[[gnu::cold, gnu::noinline]] sim::Finding quorum_finding(std::uint32_t replica,
                                                         const proto::Statement& s,
                                                         std::uint64_t justify_view,
                                                         std::uint32_t quorum) {
    return sim::Finding{
        "quorum",
        fmt::format("replica {} voted for height {} of view {}, whose justify QC (view {}) has "
                    "fewer than n - f = {} valid signatures",
                    replica, s.slot, s.view, justify_view, quorum),
        {replica}};
}

[[gnu::cold, gnu::noinline]] sim::Finding safe_node_finding(std::uint32_t replica,
                                                            const proto::Statement& s,
                                                            std::uint64_t lock_height,
                                                            std::uint64_t lock_view,
                                                            std::uint64_t justify_view) {
    return sim::Finding{
        "safe_node",
        fmt::format("replica {} voted for height {} of view {}: it does not extend the "
                    "replica's lock (height {}, QC of view {}) and its justify QC (view {}) is "
                    "not newer",
                    replica, s.slot, s.view, lock_height, lock_view, justify_view),
        {replica}};
}

}  // namespace

std::optional<sim::Finding> Monitor::on_proposal_vote(std::uint32_t replica,
                                                      const proto::SignedVote& v, const Voted& b) {
    Voter& me = voters_[replica];
    const proto::Statement& s = v.stmt;
    if (me.voted && s.view <= me.view) {
        if (s.view == me.view && s.value == me.value) return std::nullopt;  // the same vote
        return vote_once_finding(replica, s, me.view);
    }
    if (!b.justify_ok) return quorum_finding(replica, s, b.justify.view, quorum_);
    if (b.lock && b.lock->view > me.lock.view) me.lock = *b.lock;
    if (b.justify.view <= me.lock.view) {
        const std::optional<Digest> at = ancestor_at(s.value, me.lock.height);
        if (at && *at != me.lock.block)
            return safe_node_finding(replica, s, me.lock.height, me.lock.view, b.justify.view);
    }
    me.voted = true;
    me.view = s.view;
    me.value = s.value;
    return std::nullopt;
}

std::optional<Digest> Monitor::ancestor_at(Digest head, std::uint64_t height) const {
    Digest d = head;
    const BlockInfo* b = blocks_.find(d);
    while (b && b->height > height) {
        d = b->parent;
        b = blocks_.find(d);
    }
    if (!b) return std::nullopt;
    return b->height == height ? d : Digest{};
}

bool Monitor::covers(Digest head, const BlockInfo& x, Digest xd) const {
    const std::optional<Digest> at = ancestor_at(head, x.height);
    return !at || *at == xd;
}

std::optional<sim::Finding> Monitor::on_commit(std::uint32_t replica,
                                               const sim::CommitRecord& rec) {
    if (replica >= n_) return std::nullopt;
    Voter& me = voters_[replica];
    // The replicas commit one block in a row: one found below a head is below it for all.
    if (rec.digest == last_commit_ && last_commit_head_height_ >= rec.index) {
        me.head = last_commit_head_;
        me.head_height = last_commit_head_height_;
        return std::nullopt;
    }
    const BlockInfo* x = blocks_.find(rec.digest);
    if (!x) return std::nullopt;
    if (me.head_height >= x->height && covers(me.head, *x, rec.digest)) return std::nullopt;
    for (auto it = heads_.rbegin(); it != heads_.rend(); ++it) {
        const BlockInfo* h = blocks_.find(*it);
        if (!h || h->height < x->height || !covers(*it, *x, rec.digest)) continue;
        me.head = last_commit_head_ = *it;
        me.head_height = last_commit_head_height_ = h->height;
        last_commit_ = rec.digest;
        return std::nullopt;
    }
    return sim::Finding{
        "three_chain",
        fmt::format("replica {} committed height {} (view {}) with no certified 3-chain of "
                    "direct parents in consecutive views (nor a commitQC) at or above it",
                    replica, x->height, x->view),
        {replica}};
}

void Monitor::on_state_lost(std::uint32_t replica) {
    if (replica >= n_) return;
    voters_[replica] = Voter{};
    voters_[replica].lock.block = genesis_block()->digest;
}

}  // namespace hotstuff
