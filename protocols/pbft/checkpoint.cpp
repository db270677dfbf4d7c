// PBFT checkpoints, watermarks and garbage collection (PROTOCOLS.md §1.4).
#include <algorithm>

#include "protocols/pbft/replica.hpp"

namespace pbft {

void Replica::on_checkpoint(sim::Context& ctx, const MessageRef& m) {
    const Checkpoint& c = *as<Checkpoint>(*m);
    // A digest that does not name the state the message carries is a forgery: never a proof.
    if (!consistent(c)) return;
    if (c.n > last_exec_) note_ahead(ctx, View{}, c.n);
    // Far-future checkpoints are not kept, so a Byzantine peer cannot grow the table at will;
    // a replica that far behind catches up with a STATUS (catch_up.cpp).
    if (c.n <= h_) return;
    // Bounded: numbers in (h, h + 4L] that are checkpoint numbers, one state per sender each,
    // so a sender holds at most 4L/K entries however many states it makes up.
    const bool unbounded = cfg_.mutations.has(Mutation::UnboundedBuffers);
    if (!unbounded &&
        (c.n.v > h_.v + 4 * cfg_.watermark_window || c.n.v % cfg_.checkpoint_interval != 0))
        return refuse(ctx, refused_.checkpoints, "pbft.checkpoints");
    auto& by_state = checkpoints_[c.n];
    for (const auto& [state, held] : by_state)
        for (const auto& p : held)
            if (p->signer == m->signer && (state == c.state || !unbounded)) {
                if (state != c.state) refuse(ctx, refused_.checkpoints, "pbft.checkpoints");
                return;
            }
    auto& proofs = by_state[c.state];
    proofs.push_back(m);
    ctx.holding("pbft.checkpoints", ++checkpoint_entries_);
    // Stable once q CHECKPOINTs from distinct replicas match in both n and d.
    if (proofs.size() >= cfg_.quorum.q()) make_stable(ctx, c.n, c.state, proofs);
}

void Replica::make_stable(sim::Context& ctx, Seq n, Digest state, std::vector<MessageRef> proof,
                          const proto::AppData& data) {
    if (n <= h_) return;
    if (last_exec_ < n) {
        if (!cfg_.state_transfer) return;
        // Behind a stable checkpoint: take the certified state instead of replaying the log.
        if (!transfer_state(ctx, n, proof, data)) return;
        h_data_ = data;
    } else if (auto own = own_snapshots_.find(n); own != own_snapshots_.end()) {
        h_data_ = own->second.data;
    }
    own_snapshots_.erase(own_snapshots_.begin(), own_snapshots_.upper_bound(n));
    const Seq old_h = h_;
    h_ = n;
    h_state_ = state;
    h_proof_ = std::move(proof);
    const auto end = checkpoints_.upper_bound(n);
    for (auto it = checkpoints_.begin(); it != end; ++it)
        for (const auto& [d, msgs] : it->second) checkpoint_entries_ -= msgs.size();
    checkpoints_.erase(checkpoints_.begin(), end);
    certified_.erase(certified_.begin(), certified_.upper_bound(n));
    // Log entries at or below h are discarded: the ring reuses them (see slot()).
    const std::uint64_t first =
        std::max(old_h.v + 1, n.v >= log_.size() ? n.v - log_.size() + 1 : 1);
    for (std::uint64_t k = first; k <= n.v; ++k) {
        Slot& s = log_[k & (log_.size() - 1)];
        if (s.n.v == k) {
            s.pp = MessageRef();
            s.prepares.clear();
            s.commits.clear();
            s.cert.pre_prepare = MessageRef();
            s.cert.prepares.clear();  // keeps its room for the slot's next sequence number
            s.committed = false;
        }
    }
    if (next_seq_ <= h_) next_seq_ = Seq(h_.v + 1);
    try_execute(ctx);
    try_propose(ctx, false);
}

Checkpoint Replica::checkpoint_now() const {
    Checkpoint c{last_exec_, {}, app_->digest(), {}};
    c.clients.reserve(last_reply_.size());
    for (const auto& [client, cached] : last_reply_) {
        if (!cached.reply) continue;  // an entry with nothing executed yet
        const auto& r = std::get<proto::Reply>(cached.reply->body);
        c.clients.push_back({client, cached.timestamp, r.result, r.index});
    }
    c.state = service_digest(c.chain, c.clients);
    return c;
}

// Every CHECKPOINT in a proof carries the same state (their digests match and each was checked
// against its body), so the first one serves.
bool Replica::transfer_state(sim::Context& ctx, Seq n, const std::vector<MessageRef>& proof,
                             const proto::AppData& data) {
    const Checkpoint* c = proof.empty() ? nullptr : as<Checkpoint>(*proof.front());
    // The service checks the data against the digest the proof certifies: a service whose
    // digest is not all of its state refuses a transfer without data (from CHECKPOINTs alone).
    if (!c || !consistent(*c)) return false;
    if (!app_->restore(proto::AppSnapshot{c->chain, data})) {
        // Data that does not give the certified digest came from a Byzantine sender.
        if (data) refuse(ctx, refused_.catch_ups, "pbft.catch_up_invalid");
        return false;
    }
    last_exec_ = n;
    if (!cfg_.mutations.has(Mutation::TransferWithoutReplyCache)) {
        for (const ClientEntry& e : c->clients) {
            CachedReply& cached = last_reply_[e.client];
            if (e.timestamp <= cached.timestamp) continue;
            cached.timestamp = e.timestamp;
            cached.reply = proto::make_reply(ctx, proto::Reply{view_, e.timestamp, NodeId(e.client),
                                                               ctx.self(), e.result, e.index});
        }
        // Requests the adopted state executed are no longer awaited (§1.6 rule 1).
        for (auto it = waiting_.begin(); it != waiting_.end();) {
            const auto cached = last_reply_.find(it->first.client.v);
            const bool done =
                cached != last_reply_.end() && it->first.timestamp <= cached->second.timestamp;
            it = done ? waiting_.erase(it) : std::next(it);
        }
    }
    ctx.state_transferred(n.v, app_->digest());
    return true;
}

void Replica::resend_checkpoints(sim::Context& ctx) {
    if (cfg_.mutations.has(Mutation::NoCheckpointResend)) return;
    for (const auto& [n, by_state] : checkpoints_)
        for (const auto& [state, proofs] : by_state)
            for (const MessageRef& c : proofs)
                if (c->signer == ctx.self()) ctx.broadcast(c);
}

}  // namespace pbft
