// sweep.html: a sweep at a glance, self-contained like report.html: the outcome of every seed
// (binned when there are many), violations by invariant, seeds per second, and a link to each
// failing seed's scenario file and, where the sweep drew it, its report page.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace reports {

struct SweepPageRow {
    std::uint64_t seed = 0;
    std::string outcome;  // safe, violation, nondeterministic, error
    std::string invariant;
    std::uint64_t events = 0;
    bool has_report = false;  // reports/seed-N/report.html exists
};

struct SweepPageMeta {
    std::string title;  // the scenario's name
    std::string scenario_file, version;
    double wall_seconds = 0;
    unsigned jobs = 1;
    bool complete = true;
};

std::string sweep_html(const std::vector<SweepPageRow>& rows, const SweepPageMeta& meta);

}  // namespace reports
