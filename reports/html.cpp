#include "reports/html.hpp"

#include <fmt/format.h>

namespace reports {

namespace {

using html::escape;

constexpr const char* kStyle = R"(
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 28px 0 6px; }
.verdict { padding: 10px 14px; border-radius: 6px; margin: 12px 0; }
.safe { background: #e8f5e9; } .violation-box { background: #ffebee; border: 1px solid #e53935; }
code, pre { font: 12px ui-monospace, monospace; background: #f4f4f4; padding: 2px 4px; }
table { border-collapse: collapse; font-size: 12px; } td, th { border: 1px solid #ddd; padding: 2px 6px; text-align: right; }
th { background: #f4f4f4; } .note { color: #666; font-size: 12px; }
svg text { font: 11px system-ui, sans-serif; } svg .small { font-size: 10px; fill: #555; }
svg .label { font-weight: 600; } svg .byz { fill: #c62828; font-weight: 600; }
svg .lane { stroke: #999; stroke-width: 1; }
svg .arrow { stroke-width: 1.2; marker-end: url(#head); opacity: .85; }
svg .arrow.dropped { stroke-dasharray: 3 3; marker-end: none; }
svg .arrow.held { stroke-dasharray: 1 3; marker-end: none; }
svg .arrow.crafted { stroke-width: 2.6; }
svg .arrow.corrupted { stroke: #c62828 !important; stroke-dasharray: 6 2; }
svg .view line { stroke: #000; stroke-width: 2; } svg .commit { fill: #2e7d32; }
svg .crashed { fill: #bbb; opacity: .6; } svg .violation { stroke: #c62828; stroke-width: 2; }
svg .bar { fill: #90a4ae; } svg .window { fill: #ffb300; opacity: .35; }
svg .cdf { fill: none; stroke: #1565c0; stroke-width: 2; } svg .fault { fill: #ef9a9a; }
svg .gst { stroke: #6a1b9a; stroke-dasharray: 4 2; }
)";

// Counts what the page shows, for people and for the suite's browser test: lanes, arrows, and
// script errors (none expected: this is the page's only script).
constexpr const char* kSelfCheck = R"(<script>
(function () {
  var errors = 0;
  window.addEventListener('error', function () { errors++; });
  var original = console.error;
  console.error = function () { errors++; original.apply(console, arguments); };
  window.addEventListener('load', function () {
    var d = document.getElementById('diagram');
    document.getElementById('selfcheck').textContent =
      'lanes=' + d.querySelectorAll('.lane').length +
      ' arrows=' + d.querySelectorAll('.arrow').length + ' errors=' + errors;
  });
})();
</script>)";

std::string verdict(const sim::RunResult& r, const ReportMeta& meta) {
    if (!r.violation)
        return fmt::format(
            R"(<div class="verdict safe">safe: no invariant violated in {} events ({}). Replay: <code>{}</code></div>)",
            r.events, escape(r.stop_reason), escape(meta.replay_command));
    const sim::Violation& v = *r.violation;
    std::string nodes;
    for (const std::uint32_t n : v.nodes)
        nodes += (nodes.empty() ? "" : ", ") + html::node_label(r, n);
    return fmt::format(
        R"(<div class="verdict violation-box"><b>{} violated</b> at event {} ({} ns){}<br>{}<br>Replay: <code>{}</code></div>)",
        escape(v.invariant), v.event, v.time.ns,
        nodes.empty() ? "" : fmt::format(", nodes {}", nodes), escape(v.detail),
        escape(meta.replay_command));
}

// Messages sent per type (rows) and node (columns), shaded by count.
std::string message_table(const sim::RunResult& r) {
    std::uint64_t peak = 1;
    for (const sim::KindCounters& c : r.counters) peak = std::max(peak, c.sent);
    std::string out = "<table id=\"messages\"><tr><th>type</th>";
    for (std::uint32_t n = 0; n < r.nodes_total; ++n)
        out += fmt::format("<th>{}</th>", html::node_label(r, n));
    out += "<th>total</th></tr>";
    for (std::size_t k = 0; k < r.kind_names.size(); ++k) {
        const sim::KindCounters total = r.total_for_kind(k);
        if (total.sent == 0) continue;
        out += fmt::format(R"(<tr><th style="color:{}">{}</th>)", html::kind_colour(k),
                           escape(r.kind_names[k]));
        for (std::uint32_t n = 0; n < r.nodes_total; ++n) {
            const std::uint64_t sent = r.counters[n * r.kind_names.size() + k].sent;
            out += fmt::format(R"x(<td style="background:rgba(33,150,243,{:.2f})">{}</td>)x",
                               0.6 * static_cast<double>(sent) / static_cast<double>(peak), sent);
        }
        out += fmt::format("<td>{}</td></tr>", total.sent);
    }
    return out + "</table>";
}

std::string window_note(const TraceWindow& window) {
    const auto w = window.bounds();
    std::string note = fmt::format("{} messages between {} ns and {} ns", window.messages().size(),
                                   w.first, w.second);
    if (!window.complete())
        note += fmt::format(" (the first {} of a window with more)", TraceWindow::kMaxMessages);
    if (window.marks_left_out() > 0)
        note += fmt::format("; {} view and commit marks beyond the first {} not drawn",
                            window.marks_left_out(), TraceWindow::kMaxMarks);
    return note;
}

}  // namespace

std::string report_html(const sim::ScenarioSpec& spec, const sim::RunResult& r,
                        const ReportMeta& meta, const TraceWindow& window) {
    std::string page = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
    page += fmt::format("<title>byzsim: {}</title><style>{}</style></head><body>\n",
                        escape(spec.name), kStyle);
    page += fmt::format(
        "<h1>{}</h1><div class=\"note\">{} n={} f={} seed {} &middot; byzsim {} &middot; "
        "fingerprint {} &middot; {} events, {} virtual ns &middot; {} of {} requests "
        "accepted</div>\n",
        escape(spec.name), escape(spec.protocol), spec.nodes, spec.f, meta.seed,
        escape(meta.version), fingerprint_hex(r.fingerprint), r.events, r.end_time.ns, r.accepted,
        r.issued);
    page += verdict(r, meta);
    page += "<h2>The whole run: messages over time, and the window drawn below</h2>";
    page += html::overview_svg(r, window);
    page += fmt::format(
        "<h2>Space-time diagram</h2><div class=\"note\">{}. Thick arrows: sent by a "
        "Byzantine node; dashed: dropped or held; red: corrupted.</div>",
        window_note(window));
    page += html::spacetime_svg(r, window);
    page += "<h2>Commits per replica</h2>" + html::commits_svg(r, window);
    page += "<h2>Request latency: histogram and CDF</h2>" + html::latency_svg(r);
    page += "<h2>Messages sent, per type and node</h2>" + message_table(r);
    page += "<h2>Faults</h2>" + html::faults_svg(spec, r);
    page += "<p class=\"note\">Page check: <span id=\"selfcheck\">not run</span></p>";
    page += kSelfCheck;
    return page + "</body></html>\n";
}

}  // namespace reports
