// Shared by the MAPE-K tests that drive its parts by hand: a loop of n = 4 nodes (f = 1) over
// one workflow, "checkout" (latency 100,000), with scale_out past 200,000 (300ms to land) and a
// 4x latency spike from 1s until `spike_until`.
#pragma once

#include <memory>

#include "protocols/mapek/config.hpp"

namespace testing {

inline std::shared_ptr<const mapek::Config> spike_config(sim::SimTime spike_until) {
    mapek::Config c;
    c.n = 4;
    c.f = 1;
    c.workflows.push_back({"checkout", {100'000, 50, 1000, 10}});
    c.actions.push_back(
        {"scale_out", mapek::Metric::Latency, 200'000, false, sim::milliseconds(300)});
    c.anomalies.push_back({0, mapek::AnomalyType::Spike, mapek::Metric::Latency, sim::seconds(1),
                           spike_until, 4.0, {}});
    c.lies.assign(4, {});
    return std::make_shared<const mapek::Config>(std::move(c));
}

}  // namespace testing
