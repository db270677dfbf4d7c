// The pictures of report.html, as SVG written here (no script draws anything): each element
// carries a <title>, which browsers show on hover.
#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "reports/html.hpp"

namespace reports::html {

namespace {

using K = sim::TraceRecord::Kind;

// Nanoseconds as a short human time.
std::string when(std::int64_t ns) {
    if (ns < 10'000) return fmt::format("{}ns", ns);
    if (ns < 10'000'000) return fmt::format("{:.1f}us", static_cast<double>(ns) / 1e3);
    if (ns < 10'000'000'000) return fmt::format("{:.2f}ms", static_cast<double>(ns) / 1e6);
    return fmt::format("{:.3f}s", static_cast<double>(ns) / 1e9);
}

bool byzantine(const sim::RunResult& r, std::uint32_t node) {
    return node < r.states.size() && r.states[node] == sim::NodeState::Byzantine;
}

struct Lanes {
    double left = 60, width = 110, top = 70, height = 600;
    double x(std::uint32_t node) const { return left + width * (node + 0.5); }
};

std::string lane_headers(const sim::RunResult& r, const Lanes& l) {
    std::string out;
    for (std::uint32_t i = 0; i < r.nodes_total; ++i) {
        const bool bad = byzantine(r, i);
        out += fmt::format(
            R"(<text x="{:.1f}" y="{:.1f}" text-anchor="middle" class="label{}">{}{}</text>)"
            R"(<line class="lane" data-node="{}" x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}"/>)",
            l.x(i), l.top - 30, bad ? " byz" : "", node_label(r, i), bad ? " (byzantine)" : "", i,
            l.x(i), l.top - 20, l.x(i), l.top + l.height + 10);
    }
    return out;
}

std::string arrow(const sim::RunResult& r, const TraceWindow::Message& m, const Lanes& l,
                  std::pair<std::int64_t, std::int64_t> w) {
    const double x1 = l.x(m.from), y1 = scale(m.sent, w.first, w.second, l.top, l.top + l.height);
    double x2 = l.x(m.to), y2 = scale(m.at, w.first, w.second, l.top, l.top + l.height);
    std::string cls = "arrow";
    const char* how = "arrived";
    if (m.what == K::Drop || m.what == K::RuleDrop) {
        cls += " dropped";
        how = m.what == K::Drop ? "dropped" : "dropped by a rule";
        x2 = (x1 + x2) / 2;
        y2 = y1 + 12;
    } else if (m.what == K::Hold) {
        cls += " held";
        how = "held by a rule";
        x2 = x1 + (x2 - x1) / 4;
        y2 = y1 + 8;
    }
    if (m.corrupted) cls += " corrupted";
    if (byzantine(r, m.from)) cls += " crafted";
    return fmt::format(
        R"(<line class="{}" x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" stroke="{}">)"
        R"(<title>{} {} to {}: sent {}, {} {} (event {})</title></line>)",
        cls, x1, y1, x2, y2, kind_colour(m.kind),
        escape(m.kind < r.kind_names.size() ? r.kind_names[m.kind] : "?"), node_label(r, m.from),
        node_label(r, m.to), when(m.sent), how, when(m.at), m.event);
}

std::string marks(const sim::RunResult& r, const TraceWindow& window, const Lanes& l,
                  std::pair<std::int64_t, std::int64_t> w) {
    std::string out;
    std::vector<std::optional<std::int64_t>> down(r.nodes_total);
    const auto crashed_box = [&](std::uint32_t node, std::int64_t from, std::int64_t to) {
        const double y1 = scale(from, w.first, w.second, l.top, l.top + l.height);
        const double y2 = scale(to, w.first, w.second, l.top, l.top + l.height);
        if (y2 > y1)
            out += fmt::format(
                R"(<rect class="crashed" x="{:.1f}" y="{:.1f}" width="12" height="{:.1f}"><title>{} crashed</title></rect>)",
                l.x(node) - 6, y1, y2 - y1, node_label(r, node));
    };
    for (const TraceWindow::Mark& m : window.marks()) {
        if (m.node >= r.nodes_total) continue;
        if (m.what == K::Crash) down[m.node] = m.at;
        if (m.what == K::Recover && down[m.node]) {
            crashed_box(m.node, *down[m.node], m.at);
            down[m.node].reset();
        }
        if (m.at < w.first || m.at > w.second) continue;
        const double y = scale(m.at, w.first, w.second, l.top, l.top + l.height);
        if (m.what == K::View)
            out += fmt::format(
                R"(<g class="view"><line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}"/><text x="{:.1f}" y="{:.1f}">v{}</text><title>{} enters view {} at {}</title></g>)",
                l.x(m.node) - 14, y, l.x(m.node) + 14, y, l.x(m.node) + 16, y + 4, m.value,
                node_label(r, m.node), m.value, when(m.at));
        if (m.what == K::Commit)
            out += fmt::format(
                R"(<circle class="commit" cx="{:.1f}" cy="{:.1f}" r="3"><title>{} commits {} at {}</title></circle>)",
                l.x(m.node), y, node_label(r, m.node), m.value, when(m.at));
    }
    for (std::uint32_t i = 0; i < r.nodes_total; ++i)
        if (down[i]) crashed_box(i, *down[i], w.second);
    return out;
}

std::string legend(const sim::RunResult& r, double y) {
    std::string out;
    double x = 10;
    for (std::size_t k = 0; k < r.kind_names.size(); ++k) {
        if (r.total_for_kind(k).sent == 0) continue;
        out += fmt::format(
            R"(<rect x="{:.0f}" y="{:.0f}" width="12" height="12" fill="{}"/><text x="{:.0f}" y="{:.0f}" class="small">{}</text>)",
            x, y, kind_colour(k), x + 16, y + 10, escape(r.kind_names[k]));
        x += 24 + 7.5 * static_cast<double>(r.kind_names[k].size());
    }
    return out;
}

}  // namespace

std::string spacetime_svg(const sim::RunResult& r, const TraceWindow& window) {
    Lanes l;
    const auto w = window.bounds();
    l.height = std::clamp(static_cast<double>(window.messages().size()) * 7.0, 400.0, 4000.0);
    const double width = l.left * 2 + l.width * r.nodes_total;
    std::string out = fmt::format(
        R"(<svg id="diagram" xmlns="http://www.w3.org/2000/svg" width="{:.0f}" height="{:.0f}" data-window-start="{}" data-window-end="{}" data-messages="{}">)",
        std::max(width, 700.0), l.top + l.height + 60, w.first, w.second, window.messages().size());
    out += R"(<defs><marker id="head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" )"
           R"(markerHeight="6" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" )"
           R"(fill="#555"/></marker></defs>)";
    out += legend(r, 4);
    out += lane_headers(r, l);
    for (int tick = 0; tick <= 10; ++tick) {
        const std::int64_t t = w.first + (w.second - w.first) * tick / 10;
        const double y = scale(t, w.first, w.second, l.top, l.top + l.height);
        out += fmt::format(R"(<text x="4" y="{:.1f}" class="small">{}</text>)", y + 4, when(t));
    }
    out += marks(r, window, l, w);
    for (const TraceWindow::Message& m : window.messages()) out += arrow(r, m, l, w);
    if (r.violation && r.violation->time.ns >= w.first && r.violation->time.ns <= w.second) {
        const double y = scale(r.violation->time.ns, w.first, w.second, l.top, l.top + l.height);
        out += fmt::format(
            R"(<line class="violation" x1="{:.0f}" y1="{:.1f}" x2="{:.0f}" y2="{:.1f}"/><text x="{:.0f}" y="{:.1f}" class="byz">{} violated (event {})</text>)",
            l.left, y, width - l.left, y, l.left, y - 4, escape(r.violation->invariant),
            r.violation->event);
    }
    return out + "</svg>";
}

std::string overview_svg(const sim::RunResult& r, const TraceWindow& window) {
    const double width = 900, height = 80;
    const auto& d = window.density();
    const std::int64_t end = std::max<std::int64_t>(r.end_time.ns, 1);
    const std::uint64_t peak = std::max<std::uint64_t>(1, *std::max_element(d.begin(), d.end()));
    std::string out = fmt::format(
        R"(<svg id="overview" xmlns="http://www.w3.org/2000/svg" width="{:.0f}" height="{:.0f}">)",
        width, height + 20);
    for (std::size_t i = 0; i < d.size(); ++i) {
        const std::int64_t from = static_cast<std::int64_t>(i) * window.bucket_ns();
        if (from > end) break;
        const double x = scale(from, 0, end, 0, width);
        const double x2 = scale(from + window.bucket_ns(), 0, end, 0, width);
        const double h = height * static_cast<double>(d[i]) / static_cast<double>(peak);
        out += fmt::format(
            R"(<rect class="bar" x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}"><title>{} messages from {}</title></rect>)",
            x, height - h, std::max(x2 - x, 0.5), h, d[i], when(from));
    }
    const auto w = window.bounds();
    out += fmt::format(
        R"(<rect class="window" x="{:.1f}" y="0" width="{:.1f}" height="{:.0f}"><title>the window drawn below: {} to {}</title></rect>)",
        scale(w.first, 0, end, 0, width),
        std::max(scale(w.second, 0, end, 0, width) - scale(w.first, 0, end, 0, width), 2.0), height,
        when(w.first), when(w.second));
    out += fmt::format(R"(<text x="0" y="{:.0f}" class="small">0</text>)", height + 14);
    out += fmt::format(R"(<text x="{:.0f}" y="{:.0f}" text-anchor="end" class="small">{}</text>)",
                       width, height + 14, when(end));
    return out + "</svg>";
}

}  // namespace reports::html
