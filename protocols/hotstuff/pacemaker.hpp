// The pacemaker (PROTOCOLS.md §2.6), apart from the safety core: leader rotation (round-robin
// or a per-view schedule), the per-view timer, and view synchronisation.
//
// The timer of view v lasts T0 * 2^(v - 1 - view of the highest QC), so it doubles with each
// view in a row without a QC and resets on progress; replicas that share a highest QC use the
// same timer for the same view, which keeps them together. NEW-VIEW messages carry high_qc; a
// leader proposes with n-f of them for its view. A replica that hears of views above its own from
// f+1 replicas joins the lowest view that f+1 of them have reached (one of them is honest).
// Safety never depends on any of this.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "protocols/common/ids.hpp"
#include "sim/actor.hpp"

namespace hotstuff {

class Pacemaker {
public:
    Pacemaker(proto::Quorum quorum, proto::SimTime base_timeout, std::vector<std::uint32_t> leaders)
        : quorum_(quorum), base_(base_timeout), leaders_(std::move(leaders)) {}

    // leader(v): the scenario's schedule where it has one, else v mod n. Asked several times
    // per message, mostly for views v and v+1: a two-entry cache by parity spares the division.
    proto::NodeId leader(std::uint64_t view) const {
        Cached& c = cached_[view & 1];
        if (!c.valid || c.view != view) c = Cached{true, view, compute_leader(view)};
        return c.leader;
    }

    // (Re)arms the view timer for `view` given the view of the highest QC known.
    void arm(sim::Context& ctx, std::uint64_t tag, std::uint64_t view, std::uint64_t qc_view);
    void disarm(sim::Context& ctx);
    bool armed() const { return armed_; }
    void fired() { armed_ = false; }

    // Records a NEW-VIEW for `view` from `from`; returns how many distinct senders it has.
    std::size_t new_view_from(std::uint64_t view, std::uint32_t from);
    // The view to join given what others reported, if f+1 of them are beyond `current`.
    std::optional<std::uint64_t> join(std::uint64_t current) const;
    void forget_below(std::uint64_t view);

private:
    proto::NodeId compute_leader(std::uint64_t view) const;

    proto::Quorum quorum_;
    proto::SimTime base_;
    std::vector<std::uint32_t> leaders_;
    sim::TimerId timer_ = 0;
    bool armed_ = false;
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
