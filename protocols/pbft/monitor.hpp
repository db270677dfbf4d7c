// PBFT's wire monitor, written from OSDI'99 §4.2 apart from the replica it checks: an honest
// primary assigns one batch to each (view, sequence number), so it signs at most one
// PRE-PREPARE for it, and an honest replica signs at most one PREPARE and one COMMIT for it.
// Quorum intersection assumes exactly this; a replica that breaks it (for instance a primary
// that orders old requests before the new view's O is installed) is caught here, whether or
// not the conflicting messages reach anyone.
//
// Across replicas (OSDI'99 §4.2-4.4; PROTOCOLS.md §3 P1 and P5), from the COMMITs honest replicas
// send, since an honest replica commits only what it prepared:
// - prepared_once: two honest COMMITs for one (view, seq) name one digest (P1: at most one
//   digest is prepared per (v, n) among honest replicas);
// - committed_kept: once f+1 honest replicas sent COMMIT(v, n, d), d is committed at n, and no
//   honest replica pre-prepares, prepares or commits another digest at n in a later view
//   (P5: every later view's O carries it);
// - committed_local: an honest replica executes (v, n, d) only once f+1 honest replicas sent
//   COMMIT(v, n, d) (P2: committed-local implies committed), as far as the table still holds
//   (v, n);
// - view_change_timer: an honest replica asks for a later view than its last VIEW-CHANGE's only
//   when a timer of §1.6 expired, its request timer or its view-change timer, so not sooner than
//   the shorter of the two after that VIEW-CHANGE, or when f+1 others asked for that view or a
//   later one (rule 3). A timer of a view it left, firing for the view it is in, breaks it.
//   The view-change timer runs only once q replicas asked for the view (rule 2), and the request
//   timer only in a view entered by a NEW-VIEW: asking past a view that fewer than q replicas
//   asked for and no NEW-VIEW started, without f+1 others asking, breaks it too.
//
// It reads PRE-PREPARE, PREPARE and COMMIT as their signer sends them (and the PRE-PREPAREs of
// a NEW-VIEW's O as its primary sends them), and remembers each honest replica's digests per
// kind and sequence number modulo 256 (past a watermark window of the default 200), for the
// two latest views it signed that number in, and per sequence number modulo 256 the honest
// COMMITs of its two latest views and its committed digest: memory stays flat however long the
// run, and a check costs no hashing. A replica that restarted without its state no longer
// counts as honest for the checks across replicas (it may sign what it signed before,
// forgotten).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "sim/monitor.hpp"

namespace pbft {

class Monitor final : public sim::WireMonitor {
public:
    // `timeouts`: per replica, the shorter of its request and view-change timeouts (empty:
    // PBFT's defaults, 1s).
    explicit Monitor(const sim::MonitorEnv& env, std::vector<sim::SimTime> timeouts = {});

    std::uint64_t kinds() const override;
    std::optional<sim::Finding> on_send(std::uint32_t from, const sim::Payload& msg) override;
    std::optional<sim::Finding> on_commit(std::uint32_t replica,
                                          const sim::CommitRecord& rec) override;
    void on_state_lost(std::uint32_t replica) override;

private:
    static constexpr std::uint64_t kSlots = 256;  // per replica and kind, by seq mod kSlots
    static constexpr std::uint64_t kWays = 2;     // views remembered per slot
    struct Signed {
        std::uint64_t view = 0, seq = 0;  // seq 0: unused (PBFT numbers from 1)
        sim::Digest digest{};
        std::uint32_t life = 0;  // the replica's life (restarts without state) when it signed
    };
    // Honest COMMITs for one (view, seq), all for `digest` (else prepared_once fired).
    struct Commits {
        std::uint64_t view = 0, seq = 0;
        sim::Digest digest{};
        std::uint32_t count = 0;
    };
    struct Committed {
        std::uint64_t view = 0, seq = 0;  // the first view it was committed in
        sim::Digest digest{};
    };
    // kind: 0 PRE-PREPARE, 1 PREPARE, 2 COMMIT. `fresh` is set when the replica had not signed
    // this one before.
    std::optional<sim::Finding> record(std::uint32_t replica, std::uint32_t kind,
                                       std::uint64_t view, std::uint64_t seq, sim::Digest d,
                                       bool& fresh);
    std::optional<sim::Finding> check(std::uint32_t replica, std::uint32_t kind, std::uint64_t view,
                                      std::uint64_t seq, sim::Digest d);
    std::optional<sim::Finding> count_commit(std::uint32_t replica, std::uint64_t view,
                                             std::uint64_t seq, sim::Digest d);
    std::optional<sim::Finding> kept(std::uint32_t replica, std::uint32_t kind, std::uint64_t view,
                                     std::uint64_t seq, sim::Digest d) const;

    std::uint32_t f_;
    std::vector<bool> honest_;
    std::vector<bool> amnesic_;        // restarted without its state at least once
    std::vector<std::uint32_t> life_;  // per replica: restarts without state so far
    std::vector<Signed> signed_;       // replica * 3 + kind, then seq mod kSlots, then way
    std::vector<Commits> commits_;     // seq mod kSlots, then way
    // Per seq mod kSlots: the (seq, highest view) whose count left the table. A COMMIT for that
    // seq at that view or below starts no count again: it would start from zero, and P2 would
    // then see fewer COMMITs than were sent.
    std::vector<Commits> forgotten_;
    std::vector<Committed> committed_;  // seq mod kSlots
    // §1.6: per replica its last VIEW-CHANGE's view and time, and the highest view it asked for.
    std::optional<sim::Finding> view_change(std::uint32_t replica, std::uint64_t view);
    std::vector<sim::SimTime> timeouts_;
    std::vector<std::uint64_t> asked_view_, asked_high_;
    std::vector<sim::SimTime> asked_at_;
    std::optional<sim::Finding> timer_without_quorum(std::uint32_t replica, std::uint64_t view,
                                                     std::uint64_t last);
    // Per view (a ring by view mod kViews): which replicas sent a VIEW-CHANGE for it, and
    // whether a NEW-VIEW for it was sent, which §1.6 rule 2's timer needs first.
    static constexpr std::uint64_t kViews = 64;
    struct ViewSeen {
        std::uint64_t view = 0;  // 0: unused (no VIEW-CHANGE asks for view 0)
        std::vector<bool> asked;
        std::uint32_t count = 0;
        bool new_view = false;
    };
    ViewSeen& seen(std::uint64_t view);
    std::vector<ViewSeen> views_;
};

}  // namespace pbft
