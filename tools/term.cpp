#include "tools/term.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

#include "sim/scenario.hpp"

namespace cli::term {

bool colour(std::FILE* stream) {
    const char* no_colour = std::getenv("NO_COLOR");
    if (no_colour && *no_colour) return false;
    const char* terminal = std::getenv("TERM");
    if (terminal && std::string_view(terminal) == "dumb") return false;
    return ::isatty(::fileno(stream)) == 1;
}

std::string paint(std::string_view text, Tone tone, bool on) {
    if (!on) return std::string(text);
    const char* code = tone == Tone::Good ? "32" : tone == Tone::Bad ? "1;31" : "36";
    return fmt::format("\033[{}m{}\033[0m", code, text);
}

void print_error(std::string_view what, std::string_view hint) {
    fmt::print(stderr, "{} {}\n", paint("error:", Tone::Bad, colour(stderr)), what);
    if (!hint.empty()) print_hint(hint);
}

void print_hint(std::string_view hint) {
    fmt::print(stderr, "{} {}\n", paint("hint:", Tone::Note, colour(stderr)), hint);
}

RunProgress::RunProgress(bool wanted, sim::SimTime stop, std::uint64_t requests)
    : on_(wanted && ::isatty(2) == 1),
      stop_(stop),
      requests_(requests),
      start_(Clock::now()),
      last_(start_) {}

RunProgress::~RunProgress() {
    finish();
}

namespace {

// 12345678 -> "12.3M".
std::string short_count(double x) {
    if (x >= 1e9) return fmt::format("{:.1f}G", x / 1e9);
    if (x >= 1e6) return fmt::format("{:.1f}M", x / 1e6);
    if (x >= 1e3) return fmt::format("{:.1f}k", x / 1e3);
    return fmt::format("{:.0f}", x);
}

}  // namespace

void RunProgress::update(sim::SimTime now, std::uint64_t events, std::uint64_t accepted) {
    if (!on_) return;
    const Clock::time_point t = Clock::now();
    if (t - start_ < std::chrono::milliseconds(500) || t - last_ < std::chrono::milliseconds(100))
        return;
    last_ = t;
    shown_ = true;
    const double wall = std::chrono::duration<double>(t - start_).count();
    double part = stop_.ns > 0 ? static_cast<double>(now.ns) / static_cast<double>(stop_.ns) : 0;
    std::string work;
    if (requests_ > 0) {
        part = std::max(part, static_cast<double>(accepted) / static_cast<double>(requests_));
        work = fmt::format("  {}/{} requests", accepted, requests_);
    }
    const int width = 30;
    const int filled = static_cast<int>(std::min(1.0, part) * width);
    fmt::print(stderr, "\r[{}{}] {} of {} virtual{}  {} events  {} events/s\033[K",
               std::string(static_cast<std::size_t>(filled), '#'),
               std::string(static_cast<std::size_t>(width - filled), '.'),
               sim::format_duration(now), sim::format_duration(stop_), work,
               short_count(static_cast<double>(events)),
               short_count(static_cast<double>(events) / wall));
    std::fflush(stderr);
}

void RunProgress::finish() {
    if (shown_) fmt::print(stderr, "\r\033[K");
    std::fflush(stderr);
    shown_ = false;
}

}  // namespace cli::term
