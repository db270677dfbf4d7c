// PBFT's wire monitor, written from OSDI'99 §4.2 apart from the replica it checks: an honest
// primary assigns one batch to each (view, sequence number), so it signs at most one
// PRE-PREPARE for it, and an honest replica signs at most one PREPARE and one COMMIT for it.
// Quorum intersection assumes exactly this; a replica that breaks it (for instance a primary
// that orders old requests before the new view's O is installed) is caught here, whether or
// not the conflicting messages reach anyone.
//
// It reads PRE-PREPARE, PREPARE and COMMIT as their signer sends them (and the PRE-PREPAREs of
// a NEW-VIEW's O as its primary sends them), and remembers each honest replica's digests per
// kind and sequence number modulo 256 (past a watermark window of the default 200), for the
// two latest views it signed that number in: memory stays flat however long the run, and a
// check costs no hashing.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "sim/monitor.hpp"

namespace pbft {

class Monitor final : public sim::WireMonitor {
public:
    explicit Monitor(const sim::MonitorEnv& env);

    std::uint64_t kinds() const override;
    std::optional<sim::Finding> on_send(std::uint32_t from, const sim::Payload& msg) override;
    std::optional<sim::Finding> on_commit(std::uint32_t, const sim::CommitRecord&) override {
        return std::nullopt;
    }
    void on_state_lost(std::uint32_t replica) override;

private:
    static constexpr std::uint64_t kSlots = 256;  // per replica and kind, by seq mod kSlots
    static constexpr std::uint64_t kWays = 2;     // views remembered per slot
    struct Signed {
        std::uint64_t view = 0, seq = 0;  // seq 0: unused (PBFT numbers from 1)
        sim::Digest digest{};
        std::uint32_t life = 0;  // the replica's life (restarts without state) when it signed
    };
    // kind: 0 PRE-PREPARE, 1 PREPARE, 2 COMMIT.
    std::optional<sim::Finding> record(std::uint32_t replica, std::uint32_t kind,
                                       std::uint64_t view, std::uint64_t seq, sim::Digest d);

    std::vector<bool> honest_;
    std::vector<std::uint32_t> life_;  // per replica: restarts without state so far
    std::vector<Signed> signed_;       // replica * 3 + kind, then seq mod kSlots, then way
};

}  // namespace pbft
