// Shared by the MAPE-K tests that drive its parts by hand: a loop of n = 4 nodes (f = 1) over
// one workflow, "checkout" (latency 100,000), with scale_out past 200,000 (300ms to land) and a
// 4x latency spike from 1s until `spike_until`.
#pragma once

#include <memory>

#include "protocols/mapek/config.hpp"
#include "protocols/mapek/messages.hpp"
#include "tests/recording_context.hpp"

namespace testing {

inline std::shared_ptr<const mapek::Config> spike_config(sim::SimTime spike_until) {
    mapek::Config c;
    c.n = 4;
    c.f = 1;
    c.workflows.push_back({"checkout", {100'000, 50, 1000, 10}});
    c.actions.push_back(
        {"scale_out", mapek::Metric::Latency, 200'000, false, sim::milliseconds(300)});
    c.anomalies.push_back({0,
                           mapek::AnomalyType::Spike,
                           mapek::Metric::Latency,
                           sim::seconds(1),
                           spike_until,
                           4.0,
                           {}});
    c.lies.assign(4, {});
    return std::make_shared<const mapek::Config>(std::move(c));
}

// A scale_out decision on "checkout" at `round` by node 0: readings of 400,000 + i from nodes
// 0, 1 and 2, each signed by its node's agent (node n + i).
inline mapek::Decision spiked_decision(RecordingContext& ctx, std::uint64_t round) {
    mapek::Decision d{0, mapek::Metric::Latency, 0, round, 400'001, 0, {}};
    for (std::uint32_t i = 0; i < 3; ++i) {
        mapek::Reading r{i, 0, mapek::Metric::Latency, round, 400'000 + i, {}};
        r.sig = ctx.keys().sign(sim::NodeId(4 + i), mapek::reading_digest(r));
        d.evidence.push_back(r);
    }
    return d;
}

}  // namespace testing
