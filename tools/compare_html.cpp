// compare.html: `byzsim compare`'s rows plotted, one chart per measure (messages, bytes and
// latency per decision) against n, one line per protocol; self-contained like report.html.
#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "reports/html.hpp"
#include "tools/compare.hpp"

namespace tools {

namespace {

using reports::html::escape;

struct Measure {
    const char* title;
    double (*of)(const CompareRow&);
};

double log_scale(double v, double lo, double hi, double a, double b) {
    if (v <= 0 || hi <= lo) return a;
    const double x = (std::log(v) - std::log(lo)) / (std::log(hi) - std::log(lo));
    return a + std::clamp(x, 0.0, 1.0) * (b - a);
}

// One chart: x = n (log scale), y = the measure (log scale), a polyline per protocol.
std::string chart(const std::vector<CompareRow>& rows, const Measure& m, const char* id) {
    constexpr double kW = 460, kH = 260, kL = 60, kB = 30;
    double xlo = 1e18, xhi = 0, ylo = 1e18, yhi = 0;
    std::map<std::string, std::vector<std::pair<double, double>>> lines;
    for (const CompareRow& r : rows) {
        const double y = m.of(r);
        if (y <= 0) continue;
        lines[r.protocol].emplace_back(r.n, y);
        xlo = std::min(xlo, double(r.n));
        xhi = std::max(xhi, double(r.n));
        ylo = std::min(ylo, y);
        yhi = std::max(yhi, y);
    }
    if (xhi <= xlo) xhi = xlo * 2;
    if (yhi <= ylo) yhi = ylo * 2;
    std::string out = fmt::format(
        R"(<svg id="{}" xmlns="http://www.w3.org/2000/svg" width="{:.0f}" height="{:.0f}"><text x="{:.0f}" y="14" class="title">{}</text>)",
        id, kW + 40, kH + kB + 30, kL, escape(m.title));
    std::size_t p = 0;
    for (const auto& [protocol, points] : lines) {
        std::string pts;
        for (const auto& [x, y] : points) {
            const double px = log_scale(x, xlo, xhi, kL, kW);
            const double py = log_scale(y, ylo, yhi, kH, 24);
            pts += fmt::format("{:.1f},{:.1f} ", px, py);
            out += fmt::format(
                R"(<circle class="point" cx="{:.1f}" cy="{:.1f}" r="3" fill="{}"><title>{} n={}: {:.4g}</title></circle>)",
                px, py, reports::html::kind_colour(p), escape(protocol), x, y);
        }
        out += fmt::format(
            R"(<polyline points="{}" fill="none" stroke="{}" stroke-width="2"><title>{}</title></polyline><text x="{:.0f}" y="{:.0f}" fill="{}">{}</text>)",
            pts, reports::html::kind_colour(p), escape(protocol), kW - 60,
            40 + 14 * static_cast<double>(p), reports::html::kind_colour(p), escape(protocol));
        ++p;
    }
    for (const CompareRow& r : rows)
        out += fmt::format(
            R"(<text x="{:.1f}" y="{:.0f}" text-anchor="middle" class="small">{}</text>)",
            log_scale(r.n, xlo, xhi, kL, kW), kH + 16, r.n);
    out += fmt::format(R"(<text x="4" y="{:.0f}" class="small">{:.4g}</text>)", kH, ylo);
    out += fmt::format(R"(<text x="4" y="30" class="small">{:.4g}</text>)", yhi);
    out += fmt::format(R"(<text x="{:.0f}" y="{:.0f}" class="small">n</text>)", kW / 2, kH + 30);
    return out + "</svg>";
}

}  // namespace

std::string compare_html(const std::vector<CompareRow>& rows, const std::string& title) {
    const Measure measures[] = {
        {"messages per decision", [](const CompareRow& r) { return r.messages_per_decision; }},
        {"bytes per decision", [](const CompareRow& r) { return r.bytes_per_decision; }},
        {"latency p50 (ms)", [](const CompareRow& r) { return r.latency_p50_ms; }},
        {"decisions per virtual second", [](const CompareRow& r) { return r.decisions_per_s; }}};
    const char* ids[] = {"messages", "bytes", "latency", "throughput"};
    std::string page = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
    page += fmt::format(
        "<title>byzsim compare: {}</title><style>body{{font:14px/1.4 system-ui,sans-serif;"
        "margin:24px}} svg{{margin:8px}} svg text{{font:11px system-ui}} .small{{fill:#555;"
        "font-size:10px}} .title{{font-weight:600}} pre{{font:12px monospace}}</style></head>"
        "<body><h1>Compare: {}</h1><p>axes are logarithmic; hover a point for its value</p>",
        escape(title), escape(title));
    for (std::size_t i = 0; i < std::size(measures); ++i) page += chart(rows, measures[i], ids[i]);
    page += "<h2>Rows</h2><pre>" + escape(compare_table(rows)) + "</pre>";
    return page + "</body></html>\n";
}

}  // namespace tools
