// false_catch_up (byzantine.hpp): each CATCH-UP its honest core sends is replaced by one that
// breaks one of the asker's checks (catch_up.cpp), in turn, so each check meets a message made
// to fail it alone. Every message is signed with the replica's own key, claims another node
// under that key (a forgery), or keeps another's signature over another body (a splice). Where
// the service has data of its own, every other answer is the honest one with that data edited.
#include "protocols/pbft/byzantine_craft.hpp"
#include "protocols/pbft/replica.hpp"

namespace pbft {

// A certificate for n of its own making: the null request as the primary of a view it leads
// (so the PRE-PREPARE is authentic), its own COMMIT and COMMITs it forged for the others.
CommitCert Crafter::own_cert(sim::Context& ctx, const Replica& inner, Seq n) const {
    const proto::Quorum& quorum = inner.config().quorum;
    View v = inner.view();
    while (quorum.primary(v) != ctx.self()) v = View(v.v + 1);
    CommitCert c{make_message(ctx, PrePrepare{v, n, null_digest(), {}}),
                 {make_message(ctx, Commit{v, n, null_digest()})}};
    for (std::uint32_t r = 0; r < quorum.n && c.commits.size() < quorum.q(); ++r)
        if (r != ctx.self().v)
            c.commits.push_back(make_forged(ctx, Commit{v, n, null_digest()}, NodeId(r)));
    return c;
}

sim::PayloadRef Crafter::false_catch_up(sim::Context& ctx, const Replica& inner, NodeId to,
                                        const Message& honest) {
    CatchUp lie = *as<CatchUp>(honest);
    if (lie.app_data && service_lies_++ % 2 == 0) {
        // The honest proof with the service's data edited: it no longer gives the certified
        // digest (a service without data of its own sends none, and this lie does not occur).
        auto edited = std::make_shared<std::vector<std::uint8_t>>(*lie.app_data);
        edited->push_back(0x5a);
        lie.app_data = std::move(edited);
        return make_message(ctx, std::move(lie));
    }
    const auto asked = asker_n_.find(to.v);
    const Seq next(asked == asker_n_.end() ? 1 : asked->second.v + 1);
    const std::uint64_t variant = lies_++ % 5;
    if (variant == 4) {
        // A proof of a state it made up, far ahead: its own CHECKPOINT q times.
        const std::uint64_t L = inner.config().watermark_window;
        const Checkpoint c{Seq(next.v + 8 * L),
                           service_digest(Digest(lie.n.v ^ 0x11e), {}),
                           Digest(lie.n.v ^ 0x11e),
                           {}};
        lie.n = c.n;
        lie.state = c.state;
        lie.C.assign(inner.config().quorum.q(), make_message(ctx, c));
        lie.certs.clear();
        return make_message(ctx, std::move(lie));
    }
    if (lie.certs.empty() || variant == 2) lie.certs = {own_cert(ctx, inner, next)};
    for (CommitCert& c : lie.certs) {
        if (variant == 0) c.commits.pop_back();                  // one short of q
        if (variant == 1) c.commits.back() = c.commits.front();  // one replica twice
        if (variant == 3) {
            // Its own PRE-PREPARE of the null request, the COMMITs spliced to its digest.
            const View v = as<PrePrepare>(*c.pre_prepare)->v;  // copied: the PRE-PREPARE goes
            const Seq n = as<PrePrepare>(*c.pre_prepare)->n;
            c.pre_prepare = make_message(ctx, PrePrepare{v, n, null_digest(), {}});
            for (MessageRef& m : c.commits) m = make_spliced(Commit{v, n, null_digest()}, *m);
        }
    }
    return make_message(ctx, std::move(lie));
}

}  // namespace pbft
