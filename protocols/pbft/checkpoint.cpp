// PBFT checkpoints, watermarks and garbage collection (PROTOCOLS.md §1.4).
#include <algorithm>

#include "protocols/pbft/replica.hpp"

namespace pbft {

void Replica::on_checkpoint(sim::Context& ctx, const MessageRef& m) {
    const Checkpoint& c = *as<Checkpoint>(*m);
    // Far-future checkpoints are ignored so a Byzantine peer cannot grow the table at will.
    if (c.n <= h_ || c.n.v > h_.v + 4 * cfg_.watermark_window) return;
    auto& proofs = checkpoints_[c.n][c.state];
    for (const auto& p : proofs)
        if (p->signer == m->signer) return;
    proofs.push_back(m);
    // Stable once q CHECKPOINTs from distinct replicas match in both n and d.
    if (proofs.size() >= cfg_.quorum.q()) make_stable(ctx, c.n, c.state, proofs);
}

void Replica::make_stable(sim::Context& ctx, Seq n, Digest state, std::vector<MessageRef> proof) {
    if (n <= h_) return;
    if (last_exec_ < n) {
        if (!cfg_.state_transfer) return;
        // Behind a stable checkpoint: take the certified state instead of replaying the log.
        // The client reply cache is not transferred.
        last_exec_ = n;
        state_ = state;
        ctx.state_transferred(n.v, state);
    }
    const Seq old_h = h_;
    h_ = n;
    h_state_ = state;
    h_proof_ = std::move(proof);
    checkpoints_.erase(checkpoints_.begin(), checkpoints_.upper_bound(n));
    // Log entries at or below h are discarded: the ring reuses them (see slot()).
    const std::uint64_t first =
        std::max(old_h.v + 1, n.v >= log_.size() ? n.v - log_.size() + 1 : 1);
    for (std::uint64_t k = first; k <= n.v; ++k) {
        Slot& s = log_[k & (log_.size() - 1)];
        if (s.n.v == k) {
            s.pp = MessageRef();
            s.prepares.clear();
            s.commits.clear();
            s.cert = PreparedCert{};
            s.committed = false;
        }
    }
    if (next_seq_ <= h_) next_seq_ = Seq(h_.v + 1);
    try_execute(ctx);
    try_propose(ctx, false);
}

}  // namespace pbft
