#include "protocols/pbft/monitor.hpp"

#include <fmt/format.h>

#include "protocols/pbft/messages.hpp"

namespace pbft {

Monitor::Monitor(const sim::MonitorEnv& env)
    : honest_(env.honest), life_(env.replicas, 0), signed_(env.replicas * 3 * kSlots * kWays) {}

std::uint64_t Monitor::kinds() const {
    return (1ULL << kPrePrepare) | (1ULL << kPrepare) | (1ULL << kCommit) | (1ULL << kNewView);
}

namespace {

const char* name_of(std::uint32_t kind) {
    return kind == 0 ? "PRE-PREPARE" : kind == 1 ? "PREPARE" : "COMMIT";
}

}  // namespace

std::optional<sim::Finding> Monitor::on_send(std::uint32_t from, const sim::Payload& msg) {
    // Only what an honest replica signs itself binds it: a relayed message binds its signer.
    if (from >= honest_.size() || !honest_[from]) return std::nullopt;
    const auto& m = static_cast<const Message&>(msg);
    // A new primary's O: the PRE-PREPAREs it signs for the view, inside its NEW-VIEW.
    if (const auto* nv = as<NewView>(m)) {
        for (const MessageRef& om : nv->O) {
            const auto* pp = as<PrePrepare>(*om);
            if (!pp || om->signer.v != from) continue;
            if (auto f = record(from, 0, pp->v.v, pp->n.v, pp->d)) return f;
        }
        return std::nullopt;
    }
    if (m.signer.v != from) return std::nullopt;
    if (const auto* pp = as<PrePrepare>(m)) return record(from, 0, pp->v.v, pp->n.v, pp->d);
    if (const auto* p = as<Prepare>(m)) return record(from, 1, p->v.v, p->n.v, p->d);
    if (const auto* c = as<Commit>(m)) return record(from, 2, c->v.v, c->n.v, c->d);
    return std::nullopt;
}

std::optional<sim::Finding> Monitor::record(std::uint32_t replica, std::uint32_t kind,
                                            std::uint64_t view, std::uint64_t seq, Digest d) {
    Signed* way = &signed_[((replica * 3 + kind) * kSlots + seq % kSlots) * kWays];
    for (std::uint64_t i = 0; i < kWays; ++i) {
        const Signed& e = way[i];
        if (e.seq != seq || e.view != view || e.life != life_[replica]) continue;
        if (e.digest == d) return std::nullopt;
        return sim::Finding{
            "sign_once",
            fmt::format("honest replica {} signed two {}s for view {}, sequence number {}: "
                        "digests {:016x} and {:016x} (OSDI'99 §4.2: one batch per (v, n))",
                        replica, name_of(kind), view, seq, e.digest.v, d.v),
            {replica}};
    }
    // The newest first: a new (view, seq) pushes the older of the two out.
    way[1] = way[0];
    way[0] = Signed{view, seq, d, life_[replica]};
    return std::nullopt;
}

void Monitor::on_state_lost(std::uint32_t replica) {
    if (replica < life_.size()) ++life_[replica];
}

}  // namespace pbft
