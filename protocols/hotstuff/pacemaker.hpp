// The pacemaker (PROTOCOLS.md §2.6), apart from the safety core: leader rotation (round-robin
// or a per-view schedule), the per-view timer, and view synchronisation.
//
// The timer of view v lasts T0 * 2^(v - 1 - view of the highest QC), so it doubles with each
// view in a row without a QC and resets on progress; replicas that share a highest QC use the
// same timer for the same view, which keeps them together. NEW-VIEW messages carry high_qc; a
// leader proposes with n-f of them for its view. A replica that hears of views above its own from
// f+1 replicas joins the lowest view that f+1 of them have reached (one of them is honest).
// Safety never depends on any of this.
//
// Views are numbers a peer chooses: NEW-VIEW tallies are kept only for views within
// view_window() above the replica's own (the floor given to forget_below), so a peer that names
// ever new far views stores nothing; its report still counts towards the join rule, which keeps
// one entry per sender.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "protocols/common/ids.hpp"
#include "sim/actor.hpp"

namespace hotstuff {

// How many views above its own a replica keeps NEW-VIEWs and votes for: 2n. Leaders rotate
// v mod n (PROTOCOLS.md §2.6), so an honest replica needs a message of a later view only as an
// upcoming leader (that view's NEW-VIEWs, the votes of the view before it) or because it lags;
// 2n views cover its next two turns to lead wherever it stands in the rotation. A replica
// further behind catches up without them: the QCs that NEW-VIEWs and proposals carry are
// verified and taken whatever their view, and the f+1 join rule reads one report per sender.
inline std::uint64_t view_window(const proto::Quorum& q) {
    return 2ULL * q.n;
}

// The view after v. Views stop at the largest number instead of wrapping to 0 (PROTOCOLS.md
// §4.12); the window keeps honest replicas far below it.
constexpr std::uint64_t next_view(std::uint64_t v) {
    return v == std::numeric_limits<std::uint64_t>::max() ? v : v + 1;
}

// Whether view b directly follows view a (no wrap past the largest view).
constexpr bool directly_after(std::uint64_t a, std::uint64_t b) {
    return b > a && b - a == 1;
}

// Whether `view` is at most `window` above `base` (no overflow for any view).
constexpr bool within(std::uint64_t view, std::uint64_t base, std::uint64_t window) {
    return view <= base || view - base <= window;
}

class Pacemaker {
public:
    Pacemaker(proto::Quorum quorum, proto::SimTime base_timeout, std::vector<std::uint32_t> leaders)
        : quorum_(quorum),
          base_(base_timeout),
          leaders_(std::move(leaders)),
          window_(view_window(quorum)) {}

    // leader(v): the scenario's schedule where it has one, else v mod n. Asked several times
    // per message, mostly for views v and v+1: a two-entry cache by parity spares the division.
    proto::NodeId leader(std::uint64_t view) const {
        Cached& c = cached_[view & 1];
        if (!c.valid || c.view != view) c = Cached{true, view, compute_leader(view)};
        return c.leader;
    }

    // (Re)arms the view timer for `view` given the view of the highest QC known. The timer is
    // lazy: re-arming moves a deadline; one timer event is pending at most, and when it fires
    // before the deadline it is set again for what is left (no cancel-and-set per view).
    void arm(sim::Context& ctx, std::uint64_t tag, std::uint64_t view, std::uint64_t qc_view);
    // Moves the running timer's deadline to a full length (the one the view was armed with)
    // from now; nothing if no timer runs.
    void restart(sim::Context& ctx, std::uint64_t tag);
    void disarm() { armed_ = false; }
    // A view timer doubles per view missed since the highest QC, this many times at most: after
    // GST delays are bounded, and a timer doubled through a long partition would wait far past
    // any liveness bound once it heals.
    void set_max_doublings(std::uint32_t n) { max_doublings_ = n; }
    bool armed() const { return armed_; }
    // The timer event `tag` fired: true if the view timed out, false if it was early (set
    // again for the deadline) or the timer was disarmed meanwhile.
    bool fire(sim::Context& ctx, std::uint64_t tag);
    // A timeout taken without the timer (a restart): the pending event died with the crash.
    void fired() { armed_ = pending_ = false; }

    // Records a NEW-VIEW for `view` from `from` (a replica id); returns how many distinct
    // senders it has. A view below the floor, or more than the window above it (then counted
    // as refused), is only reported for the join rule: it returns 0.
    std::size_t new_view_from(std::uint64_t view, std::uint32_t from);
    // Who sent a NEW-VIEW for `view` (none below the floor or beyond the window).
    const std::set<std::uint32_t>& senders(std::uint64_t view) const {
        static const std::set<std::uint32_t> kNone;
        const auto it = new_views_.find(view);
        return it == new_views_.end() ? kNone : it->second;
    }
    // The view to join given what others reported, if f+1 of them are beyond `current`.
    std::optional<std::uint64_t> join(std::uint64_t current) const;
    // Drops the tallies below `view`, the replica's own view, which the window is above.
    void forget_below(std::uint64_t view);
    std::size_t tallies() const { return new_views_.size(); }  // views with a NEW-VIEW tally
    std::uint64_t refused() const { return refused_; }         // NEW-VIEWs beyond the window

private:
    proto::NodeId compute_leader(std::uint64_t view) const;
    void set_deadline(sim::Context& ctx, std::uint64_t tag);

    proto::Quorum quorum_;
    proto::SimTime base_;
    std::vector<std::uint32_t> leaders_;
    std::uint64_t window_;
    std::uint64_t floor_ = 0;  // the replica's view, as forget_below last gave it
    std::uint64_t refused_ = 0;
    std::uint32_t max_doublings_ = 16;
    sim::TimerId timer_ = 0;
    bool armed_ = false;    // a view timer is running, to deadline_
    bool pending_ = false;  // a timer event is scheduled, at pending_at_
    proto::SimTime deadline_{}, pending_at_{}, length_{};
    std::map<std::uint64_t, std::set<std::uint32_t>> new_views_;
    std::map<std::uint32_t, std::uint64_t> reported_;  // sender -> highest view it reported
    struct Cached {
        bool valid = false;  // any view number can arrive, so none can mark an empty entry
        std::uint64_t view = 0;
        proto::NodeId leader{};
    };
    mutable std::array<Cached, 2> cached_{};
};

}  // namespace hotstuff
