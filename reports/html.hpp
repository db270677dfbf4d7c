// report.html: one self-contained page (no network, no script from elsewhere) that shows a run
// the way distributed-systems engineers read one: a space-time diagram of the window (one lane
// per node, one arrow per message), the whole run's traffic above it, the commit timeline,
// request latencies (histogram and CDF), messages per type and node, the fault timeline, and
// for a violation the invariant, the event, the nodes and the replay command at the top.
//
// Pure, like the other report writers: the same inputs give the same bytes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "reports/report.hpp"
#include "reports/trace_window.hpp"
#include "sim/scenario.hpp"
#include "sim/simulator.hpp"

namespace reports {

std::string report_html(const sim::ScenarioSpec& spec, const sim::RunResult& r,
                        const ReportMeta& meta, const TraceWindow& window);

// Pieces of the page, in reports/html_svg.cpp.
namespace html {

// Text for an HTML element or attribute.
std::string escape(std::string_view s);
// A colour per message kind, the same in every report.
std::string kind_colour(std::size_t kind);
// The node's label: r0.., c4.. for clients.
std::string node_label(const sim::RunResult& r, std::uint32_t node);
// Maps v in [lo, hi] (clamped) onto [a, b]; everything onto a when hi <= lo.
double scale(std::int64_t v, std::int64_t lo, std::int64_t hi, double a, double b);

std::string spacetime_svg(const sim::RunResult& r, const TraceWindow& window);
std::string overview_svg(const sim::RunResult& r, const TraceWindow& window);
std::string commits_svg(const sim::RunResult& r, const TraceWindow& window);
std::string latency_svg(const sim::RunResult& r);
std::string faults_svg(const sim::ScenarioSpec& spec, const sim::RunResult& r);

}  // namespace html

}  // namespace reports
