#include "protocols/pbft/monitor.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "protocols/pbft/messages.hpp"
#include "sim/scenario.hpp"

namespace pbft {

Monitor::Monitor(const sim::MonitorEnv& env, std::vector<sim::SimTime> timeouts)
    : f_(env.f),
      honest_(env.honest),
      amnesic_(env.replicas, false),
      life_(env.replicas, 0),
      signed_(env.replicas * 3 * kSlots * kWays),
      commits_(kSlots * kWays),
      forgotten_(kSlots),
      committed_(kSlots),
      timeouts_(std::move(timeouts)),
      asked_view_(env.replicas, 0),
      asked_high_(env.replicas, 0),
      asked_at_(env.replicas),
      views_(kViews) {
    timeouts_.resize(env.replicas, sim::seconds(1));
}

std::uint64_t Monitor::kinds() const {
    return (1ULL << kPrePrepare) | (1ULL << kPrepare) | (1ULL << kCommit) | (1ULL << kNewView) |
           (1ULL << kViewChange);
}

namespace {

const char* name_of(std::uint32_t kind) {
    return kind == 0 ? "PRE-PREPARE" : kind == 1 ? "PREPARE" : "COMMIT";
}

}  // namespace

std::optional<sim::Finding> Monitor::on_send(std::uint32_t from, const sim::Payload& msg) {
    const auto& m = static_cast<const Message&>(msg);
    if (const auto* vc = as<ViewChange>(m); vc && m.signer.v == from && from < asked_high_.size()) {
        // Every replica's requests count for rules 2 and 3, the Byzantine ones' too.
        asked_high_[from] = std::max(asked_high_[from], vc->v.v);
        ViewSeen& e = seen(vc->v.v);
        if (vc->v.v != 0 && e.view == vc->v.v && !e.asked[from]) {
            e.asked[from] = true;
            ++e.count;
        }
        if (!honest_[from] || amnesic_[from]) return std::nullopt;
        return view_change(from, vc->v.v);
    }
    // Any NEW-VIEW sent, relayed or Byzantine, may have started its view somewhere.
    if (const auto* nv = as<NewView>(m); nv && nv->v.v != 0) {
        ViewSeen& e = seen(nv->v.v);
        if (e.view == nv->v.v) e.new_view = true;
    }
    // Only what an honest replica signs itself binds it: a relayed message binds its signer.
    if (from >= honest_.size() || !honest_[from]) return std::nullopt;
    // A new primary's O: the PRE-PREPAREs it signs for the view, inside its NEW-VIEW.
    if (const auto* nv = as<NewView>(m)) {
        for (const MessageRef& om : nv->O) {
            const auto* pp = as<PrePrepare>(*om);
            if (!pp || om->signer.v != from) continue;
            if (auto f = check(from, 0, pp->v.v, pp->n.v, pp->d)) return f;
        }
        return std::nullopt;
    }
    if (m.signer.v != from) return std::nullopt;
    if (const auto* pp = as<PrePrepare>(m)) return check(from, 0, pp->v.v, pp->n.v, pp->d);
    if (const auto* p = as<Prepare>(m)) return check(from, 1, p->v.v, p->n.v, p->d);
    if (const auto* c = as<Commit>(m)) return check(from, 2, c->v.v, c->n.v, c->d);
    return std::nullopt;
}

std::optional<sim::Finding> Monitor::check(std::uint32_t replica, std::uint32_t kind,
                                           std::uint64_t view, std::uint64_t seq, Digest d) {
    bool fresh = false;
    if (auto f = record(replica, kind, view, seq, d, fresh)) return f;
    if (!fresh || amnesic_[replica]) return std::nullopt;
    if (auto f = kept(replica, kind, view, seq, d)) return f;
    return kind == 2 ? count_commit(replica, view, seq, d) : std::nullopt;
}

// P1, and P5's premise: f+1 honest COMMITs for (v, n, d) mean d is committed at n.
std::optional<sim::Finding> Monitor::count_commit(std::uint32_t replica, std::uint64_t view,
                                                  std::uint64_t seq, Digest d) {
    Commits* way = &commits_[(seq % kSlots) * kWays];
    Commits* e = way[0].seq == seq && way[0].view == view   ? &way[0]
                 : way[1].seq == seq && way[1].view == view ? &way[1]
                                                            : nullptr;
    if (!e) {
        Commits& gone = forgotten_[seq % kSlots];
        if (gone.seq == seq && view <= gone.view) return std::nullopt;
        if (way[1].seq != 0 && (gone.seq != way[1].seq || gone.view < way[1].view))
            gone = Commits{way[1].view, way[1].seq, {}, 0};
        way[1] = way[0];
        way[0] = Commits{view, seq, d, 0};
        e = &way[0];
    } else if (e->digest != d) {
        return sim::Finding{
            "prepared_once",
            fmt::format("honest replica {} committed digest {:016x} for view {}, sequence number "
                        "{}, where other honest replicas committed {:016x}: two digests prepared "
                        "at one (v, n) (OSDI'99 §4.2, invariant P1)",
                        replica, d.v, view, seq, e->digest.v),
            {replica}};
    }
    if (++e->count != f_ + 1) return std::nullopt;
    Committed& c = committed_[seq % kSlots];
    if (c.seq != seq || view < c.view) c = Committed{view, seq, d};
    return std::nullopt;
}

// §1.6 rules 2 and 3, from the VIEW-CHANGEs replicas send.
std::optional<sim::Finding> Monitor::view_change(std::uint32_t replica, std::uint64_t view) {
    const std::uint64_t last = asked_view_[replica];
    if (view <= last) return std::nullopt;  // the same request again
    const sim::SimTime since = asked_at_[replica];
    asked_view_[replica] = view;
    asked_at_[replica] = now_;
    if (last == 0) return std::nullopt;
    std::uint32_t others = 0;
    for (std::uint32_t r = 0; r < asked_high_.size(); ++r)
        others += r != replica && asked_high_[r] >= view ? 1 : 0;
    if (others >= f_ + 1) return std::nullopt;
    if (now_ >= since + timeouts_[replica]) return timer_without_quorum(replica, view, last);
    return sim::Finding{
        "view_change_timer",
        fmt::format("honest replica {} asked for view {} {} after asking for view {}, sooner than "
                    "a timer of §1.6 allows ({}), and only {} other replicas asked for it or a "
                    "later one (f+1 = {} make it join): a timer of a view it left fired",
                    replica, view, sim::format_duration(now_ - since), last,
                    sim::format_duration(timeouts_[replica]), others, f_ + 1),
        {replica}};
}

// P2. Only (v, n) the table still holds are checked; a slot executed far behind is not.
std::optional<sim::Finding> Monitor::on_commit(std::uint32_t replica,
                                               const sim::CommitRecord& rec) {
    if (replica >= honest_.size() || !honest_[replica] || amnesic_[replica]) return std::nullopt;
    const Commits* way = &commits_[(rec.index % kSlots) * kWays];
    for (std::uint64_t i = 0; i < kWays; ++i) {
        const Commits& e = way[i];
        if (e.seq != rec.index || e.view != rec.view) continue;
        if (e.digest == rec.digest && e.count >= f_ + 1) return std::nullopt;
        return sim::Finding{
            "committed_local",
            fmt::format("honest replica {} executed digest {:016x} at sequence number {} of "
                        "view {}, where {} honest replicas sent COMMIT for {:016x}, not f+1 = {} "
                        "(OSDI'99 §4.2: committed-local implies committed; invariant P2)",
                        replica, rec.digest.v, rec.index, rec.view, e.count, e.digest.v, f_ + 1),
            {replica}};
    }
    return std::nullopt;
}

// P5: a later view orders what was committed.
std::optional<sim::Finding> Monitor::kept(std::uint32_t replica, std::uint32_t kind,
                                          std::uint64_t view, std::uint64_t seq, Digest d) const {
    const Committed& c = committed_[seq % kSlots];
    if (c.seq != seq || view <= c.view || c.digest == d) return std::nullopt;
    return sim::Finding{
        "committed_kept",
        fmt::format("honest replica {} signed a {} for view {}, sequence number {} with digest "
                    "{:016x}, but f+1 honest replicas committed {:016x} there in view {} "
                    "(OSDI'99 §4.4: a later view's O carries what was committed; invariant P5)",
                    replica, name_of(kind), view, seq, d.v, c.digest.v, c.view),
        {replica}};
}

// Rule 2: the view-change timer for `last` starts with q VIEW-CHANGEs for it, q the smallest
// count any two of which share f+1 replicas; the request timer runs in a view a NEW-VIEW began.
std::optional<sim::Finding> Monitor::timer_without_quorum(std::uint32_t replica, std::uint64_t view,
                                                          std::uint64_t last) {
    const ViewSeen& e = views_[last % kViews];
    const auto n = static_cast<std::uint32_t>(asked_high_.size());
    const std::uint32_t q = (n + f_ + 2) / 2;
    if (e.view != last || e.new_view || e.count >= q) return std::nullopt;
    return sim::Finding{
        "view_change_timer",
        fmt::format("honest replica {} asked for view {} after asking for view {}, which only {} "
                    "replicas asked for (q = {} start the view-change timer, §1.6 rule 2) and no "
                    "NEW-VIEW started, with fewer than f+1 = {} others asking for it: a timer "
                    "with no reason to run fired",
                    replica, view, last, e.count, q, f_ + 1),
        {replica}};
}

Monitor::ViewSeen& Monitor::seen(std::uint64_t view) {
    ViewSeen& e = views_[view % kViews];
    // A newer view takes the place over; an older one finds it taken and is not recorded.
    if (view > e.view) e = ViewSeen{view, std::vector<bool>(asked_high_.size(), false), 0, false};
    return e;
}

std::optional<sim::Finding> Monitor::record(std::uint32_t replica, std::uint32_t kind,
                                            std::uint64_t view, std::uint64_t seq, Digest d,
                                            bool& fresh) {
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
    fresh = true;
    return std::nullopt;
}

// A replica that lost its state no longer holds what it prepared: the COMMITs it sent stop
// backing "f+1 honest replicas prepared", P5's premise (PBFT tolerates it as one of the f
// faulty). The monitor keeps counts, not senders, so every P5 premise goes: it may miss a
// finding for the numbers then recorded, never report one the protocol does not promise. P2's
// counts stay (what was sent was sent).
void Monitor::on_state_lost(std::uint32_t replica) {
    if (replica >= life_.size()) return;
    ++life_[replica];
    amnesic_[replica] = true;
    std::fill(committed_.begin(), committed_.end(), Committed{});
}

}  // namespace pbft
