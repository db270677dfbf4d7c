#include "reports/sweep_html.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "reports/html.hpp"

namespace reports {

namespace {

using html::escape;

// Worse outcomes win a bin: error, nondeterministic, violation, safe.
int severity(const std::string& outcome) {
    if (outcome == "error") return 3;
    if (outcome == "nondeterministic") return 2;
    if (outcome == "violation") return 1;
    return 0;
}

const char* colour(int severity) {
    static constexpr const char* kColours[] = {"#66bb6a", "#e53935", "#8e24aa", "#212121"};
    return kColours[severity];
}

// One column per seed, or per bin of seeds when there are more than kColumns.
std::string outcomes_svg(const std::vector<SweepPageRow>& rows) {
    constexpr std::size_t kColumns = 1000;
    constexpr double kWidth = 1000, kHeight = 40;
    const std::size_t per = std::max<std::size_t>(1, (rows.size() + kColumns - 1) / kColumns);
    const std::size_t columns = (rows.size() + per - 1) / per;
    std::string out = fmt::format(
        R"(<svg id="outcomes" xmlns="http://www.w3.org/2000/svg" width="{:.0f}" height="{:.0f}">)",
        kWidth, kHeight + 16);
    const double w = columns ? kWidth / static_cast<double>(columns) : kWidth;
    for (std::size_t c = 0; c < columns; ++c) {
        const std::size_t from = c * per, to = std::min(rows.size(), from + per);
        int worst = 0;
        std::size_t failing = 0;
        for (std::size_t i = from; i < to; ++i) {
            worst = std::max(worst, severity(rows[i].outcome));
            failing += rows[i].outcome != "safe" ? 1 : 0;
        }
        out += fmt::format(
            R"(<rect class="seed" x="{:.2f}" y="0" width="{:.2f}" height="{:.0f}" fill="{}"><title>seeds {}..{}: {} failing</title></rect>)",
            w * static_cast<double>(c), std::max(w, 0.5), kHeight, colour(worst), rows[from].seed,
            rows[to - 1].seed, failing);
    }
    if (!rows.empty()) {
        out += fmt::format(R"(<text x="0" y="{:.0f}" class="small">seed {}</text>)", kHeight + 13,
                           rows.front().seed);
        out += fmt::format(
            R"(<text x="{:.0f}" y="{:.0f}" text-anchor="end" class="small">seed {}</text>)", kWidth,
            kHeight + 13, rows.back().seed);
    }
    return out + "</svg>";
}

std::string by_invariant(const std::vector<SweepPageRow>& rows) {
    std::map<std::string, std::size_t> counts;
    for (const SweepPageRow& r : rows)
        if (r.outcome != "safe") ++counts[r.outcome == "violation" ? r.invariant : r.outcome];
    if (counts.empty()) return "<p>No seed failed.</p>";
    std::size_t peak = 1;
    for (const auto& [name, n] : counts) peak = std::max(peak, n);
    std::string out = "<table id=\"invariants\"><tr><th>invariant</th><th>seeds</th><th></th></tr>";
    for (const auto& [name, n] : counts)
        out += fmt::format(
            R"(<tr><th>{}</th><td>{}</td><td><svg width="300" height="12"><rect width="{:.0f}" height="12" fill="#e53935"/></svg></td></tr>)",
            escape(name), n, 300.0 * static_cast<double>(n) / static_cast<double>(peak));
    return out + "</table>";
}

std::string failure_list(const std::vector<SweepPageRow>& rows) {
    std::string out = "<ul id=\"failures\">";
    std::size_t shown = 0;
    for (const SweepPageRow& r : rows) {
        if (r.outcome == "safe") continue;
        if (++shown > 200) break;
        out += fmt::format(
            R"(<li>seed {}: {}{} &middot; <a href="failures/seed-{}.json">scenario</a>{}</li>)",
            r.seed, escape(r.outcome), r.invariant.empty() ? "" : " of " + escape(r.invariant),
            r.seed,
            r.has_report
                ? fmt::format(R"( &middot; <a href="reports/seed-{}/report.html">report</a>)",
                              r.seed)
                : "");
    }
    return out + "</ul>";
}

}  // namespace

std::string sweep_html(const std::vector<SweepPageRow>& rows, const SweepPageMeta& meta) {
    std::size_t failing = 0;
    for (const SweepPageRow& r : rows) failing += r.outcome != "safe" ? 1 : 0;
    const double rate =
        meta.wall_seconds > 0 ? static_cast<double>(rows.size()) / meta.wall_seconds : 0;
    std::string page = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
    page += fmt::format(
        "<title>byzsim sweep: {}</title><style>body{{font:14px/1.4 system-ui,sans-serif;"
        "margin:24px}} td,th{{border:1px solid #ddd;padding:2px 6px}} table{{border-collapse:"
        "collapse}} svg text{{font:10px system-ui;fill:#555}}</style></head><body>",
        escape(meta.title));
    page += fmt::format(
        "<h1>Sweep of {}</h1><p>{} &middot; byzsim {} &middot; {} seeds, {} failing &middot; "
        "{:.1f} s wall with {} worker(s), {:.0f} seeds/s{}</p>",
        escape(meta.title), escape(meta.scenario_file), escape(meta.version), rows.size(), failing,
        meta.wall_seconds, meta.jobs, rate, meta.complete ? "" : " &middot; <b>not finished</b>");
    page +=
        "<h2>Outcome per seed</h2><p>green safe, red violation, purple nondeterministic, "
        "black error (a bin shows its worst)</p>";
    page += outcomes_svg(rows);
    page += "<h2>Failures by invariant</h2>" + by_invariant(rows);
    page += "<h2>Failing seeds</h2>" + failure_list(rows);
    return page + "</body></html>\n";
}

}  // namespace reports
