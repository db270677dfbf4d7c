// report.html's charts over the whole run: commits per node, request latencies, faults.
#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "reports/html.hpp"

namespace reports::html {

namespace {

using K = sim::TraceRecord::Kind;

std::string ms(std::int64_t ns) {
    return fmt::format("{:.3f}ms", static_cast<double>(ns) / 1e6);
}

constexpr double kWidth = 900, kLeft = 60;

std::string fault_label(const sim::FaultSpec& f) {
    using T = sim::FaultSpec::Type;
    switch (f.type) {
        case T::Crash:
            return fmt::format("crash r{}", f.node);
        case T::Recover:
            return fmt::format("recover r{}{}", f.node, f.lose_state ? " (state lost)" : "");
        case T::Partition:
            return "partition";
        case T::OneWay:
            return "one-way partition";
        case T::Isolate:
            return fmt::format("isolate r{}", f.node);
        case T::Link:
            return "link change";
        case T::Byzantine:
            return fmt::format("r{} {}", f.node, f.behavior);
        case T::Rule:
            return "network rule";
        case T::Params:
            return fmt::format("r{} parameters", f.node);
    }
    return "fault";
}

// A time axis under a chart of `height`, from 0 to `end`.
std::string time_axis(std::int64_t end, double y) {
    std::string out;
    for (int tick = 0; tick <= 5; ++tick) {
        const std::int64_t t = end * tick / 5;
        out += fmt::format(
            R"(<text x="{:.1f}" y="{:.1f}" class="small" text-anchor="middle">{}</text>)",
            scale(t, 0, end, kLeft, kWidth), y, ms(t));
    }
    return out;
}

}  // namespace

double scale(std::int64_t v, std::int64_t lo, std::int64_t hi, double a, double b) {
    if (hi <= lo) return a;
    const double x = static_cast<double>(std::clamp(v, lo, hi) - lo) / static_cast<double>(hi - lo);
    return a + x * (b - a);
}

std::string escape(std::string_view s) {
    std::string out;
    for (const char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string kind_colour(std::size_t kind) {
    static constexpr std::array<const char*, 12> kPalette = {
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
        "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#ad494a"};
    return kPalette[kind % kPalette.size()];
}

std::string node_label(const sim::RunResult& r, std::uint32_t node) {
    return node < r.replicas ? fmt::format("r{}", node) : fmt::format("c{}", node);
}

std::string commits_svg(const sim::RunResult& r, const TraceWindow& window) {
    const double row = 22, height = row * r.replicas + 30;
    const std::int64_t end = std::max<std::int64_t>(r.end_time.ns, 1);
    std::string out = fmt::format(
        R"(<svg id="commits" xmlns="http://www.w3.org/2000/svg" width="{:.0f}" height="{:.0f}">)",
        kWidth + 20, height);
    for (std::uint32_t i = 0; i < r.replicas; ++i)
        out += fmt::format(R"(<text x="4" y="{:.1f}" class="small">{} ({})</text>)", row * i + 15,
                           node_label(r, i),
                           i < r.commits_per_node.size() ? r.commits_per_node[i] : 0);
    for (const TraceWindow::Mark& m : window.marks()) {
        if (m.what != K::Commit || m.node >= r.replicas) continue;
        out += fmt::format(
            R"(<circle class="commit" cx="{:.1f}" cy="{:.1f}" r="2.5"><title>{} commits {} at {}</title></circle>)",
            scale(m.at, 0, end, kLeft, kWidth), row * m.node + 11, node_label(r, m.node), m.value,
            ms(m.at));
    }
    out += time_axis(end, height - 4);
    return out + "</svg>";
}

// A histogram of request latencies (30 bins) and, over it, their CDF.
std::string latency_svg(const sim::RunResult& r) {
    const double height = 180;
    std::string out = fmt::format(
        R"(<svg id="latency" xmlns="http://www.w3.org/2000/svg" width="{:.0f}" height="{:.0f}">)",
        kWidth + 20, height + 30);
    if (r.latencies_ns.empty())
        return out + R"(<text x="10" y="20">no request was accepted</text></svg>)";
    std::vector<std::int64_t> lat = r.latencies_ns;
    std::sort(lat.begin(), lat.end());
    const std::int64_t lo = lat.front(), hi = std::max(lat.back(), lo + 1);
    constexpr std::size_t kBins = 30;
    std::array<std::size_t, kBins> bins{};
    for (const std::int64_t v : lat)
        ++bins[std::min(kBins - 1, static_cast<std::size_t>((v - lo) * kBins / (hi - lo)))];
    const std::size_t peak = *std::max_element(bins.begin(), bins.end());
    const double bar = (kWidth - kLeft) / kBins;
    for (std::size_t i = 0; i < kBins; ++i) {
        const double h = height * static_cast<double>(bins[i]) / static_cast<double>(peak);
        out += fmt::format(
            R"(<rect class="bar" x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}"><title>{} requests from {}</title></rect>)",
            kLeft + bar * i, height - h, bar - 1, h, bins[i],
            ms(lo + (hi - lo) * static_cast<std::int64_t>(i) / static_cast<std::int64_t>(kBins)));
    }
    std::string points;
    for (std::size_t i = 0; i < lat.size(); ++i)
        points += fmt::format("{:.1f},{:.1f} ", scale(lat[i], lo, hi, kLeft, kWidth),
                              height - height * static_cast<double>(i + 1) / lat.size());
    out +=
        fmt::format(R"(<polyline class="cdf" points="{}"><title>CDF</title></polyline>)", points);
    out += fmt::format(R"(<text x="{:.0f}" y="{:.0f}" class="small">{}</text>)", kLeft, height + 16,
                       ms(lo));
    out += fmt::format(R"(<text x="{:.0f}" y="{:.0f}" class="small" text-anchor="end">{}</text>)",
                       kWidth, height + 16, ms(hi));
    return out + "</svg>";
}

// Crashes, partitions, rules and Byzantine windows from the scenario, and GST: one row each,
// its label on the left.
std::string faults_svg(const sim::ScenarioSpec& spec, const sim::RunResult& r) {
    const double row = 20, left = 170;
    const std::int64_t end = std::max<std::int64_t>(r.end_time.ns, 1);
    const double height = row * (static_cast<double>(spec.faults.size()) + 1) + 30;
    std::string out = fmt::format(
        R"(<svg id="faults" xmlns="http://www.w3.org/2000/svg" width="{:.0f}" height="{:.0f}">)",
        kWidth + 20, height);
    if (spec.faults.empty()) out += R"(<text x="4" y="14" class="small">no faults</text>)";
    std::size_t i = 0;
    for (const sim::FaultSpec& f : spec.faults) {
        const std::int64_t from = f.at.ns;
        const std::int64_t to =
            f.until ? f.until->ns : (f.type == sim::FaultSpec::Type::Crash ? end : from);
        const double y = row * static_cast<double>(i++) + 4;
        const double x1 = scale(from, 0, end, left, kWidth);
        const double x2 = std::max(scale(to, 0, end, left, kWidth), x1 + 3);
        out += fmt::format(
            R"(<text x="4" y="{:.1f}" class="small">{}</text><rect class="fault" x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}"><title>{} ({}): {} to {}</title></rect>)",
            y + 11, escape(fault_label(f)), x1, y, x2 - x1, row - 6, escape(fault_label(f)),
            escape(f.path), ms(from), f.until ? ms(to) : std::string("the end"));
    }
    if (spec.network.gst) {
        const double x = scale(spec.network.gst->ns, 0, end, left, kWidth);
        out += fmt::format(
            R"(<line class="gst" x1="{:.1f}" y1="0" x2="{:.1f}" y2="{:.0f}"/><text x="{:.1f}" y="{:.0f}" class="small">GST</text>)",
            x, x, height - 20, x + 3, height - 22);
    }
    for (int tick = 0; tick <= 5; ++tick) {
        const std::int64_t t = end * tick / 5;
        out += fmt::format(
            R"(<text x="{:.1f}" y="{:.1f}" class="small" text-anchor="middle">{}</text>)",
            scale(t, 0, end, left, kWidth), height - 4, ms(t));
    }
    return out + "</svg>";
}

}  // namespace reports::html
