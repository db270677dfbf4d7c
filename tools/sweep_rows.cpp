#include "tools/sweep_rows.hpp"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>

#include "reports/report.hpp"
#include "sim/hash.hpp"
#include "tools/seed_run.hpp"

namespace tools::sweeping {

namespace fs = std::filesystem;
using nlohmann::json;

// What identifies a sweep, for --resume and merge: the scenario document, the range, the
// shard, the mode.
json sweep_identity(const sim::ScenarioSpec& spec, const SweepOptions& o) {
    const std::string text = spec.source.dump();
    return {{"scenario_hash", reports::fingerprint_hex(sim::Hasher().add(text).value())},
            {"first_seed", o.first},
            {"last_seed", o.last},
            {"stop_on_first", o.stop_on_first},
            {"check_determinism", o.check_determinism}};
}

Rows read_rows(const fs::path& file, bool tolerate_torn_end) {
    Rows rows;
    std::ifstream in(file, std::ios::binary);
    if (!in) return rows;
    std::string line;
    bool header = file.extension() == ".csv";
    while (std::getline(in, line)) {
        if (header) {
            header = false;
            continue;
        }
        const bool complete = !in.eof();  // getline stopped at a newline
        const auto row = parse_sweep_csv_line(line);
        if (!row || (!complete && tolerate_torn_end)) {
            if (tolerate_torn_end && !complete) break;  // a row cut short by an interruption
            throw std::runtime_error(fmt::format("{}: malformed row '{}'", file.string(), line));
        }
        rows[row->seed] = sweep_csv_line(*row);
    }
    return rows;
}

std::string csv_of(const Rows& rows, std::optional<std::uint64_t> cutoff) {
    std::string out = sweep_csv_header();
    for (const auto& [seed, line] : rows) {
        if (cutoff && seed > *cutoff) break;
        out += line;
    }
    return out;
}

bool failing(const std::string& line) {
    const auto row = parse_sweep_csv_line(line.substr(0, line.size() - 1));
    return row && row->outcome != "safe";
}

std::optional<std::uint64_t> lowest_failure(const Rows& rows) {
    for (const auto& [seed, line] : rows)
        if (failing(line)) return seed;
    return std::nullopt;
}

SweepSummary summarize(const Rows& rows, std::optional<std::uint64_t> cutoff) {
    SweepSummary s;
    for (const auto& [seed, line] : rows) {
        if (cutoff && seed > *cutoff) break;
        ++s.seeds_done;
        const auto row = parse_sweep_csv_line(line.substr(0, line.size() - 1));
        if (row->outcome == "safe") continue;
        ++s.failures;
        if (row->outcome == "violation") ++s.violations;
        if (!s.first_failure) {
            s.first_failure = seed;
            s.first_invariant = row->invariant;
        }
    }
    return s;
}

void write_failure(const fs::path& dir, std::uint64_t seed, const json& doc) {
    reports::write_atomic(dir / "failures" / fmt::format("seed-{}.json", seed), doc.dump(2) + "\n");
}

Progress::Progress(bool on, std::uint64_t total) : on_(on && ::isatty(2)), total_(total) {}

void Progress::update(std::uint64_t done, std::uint64_t failures, double elapsed, bool force) {
    if (!on_) return;
    const auto now = Clock::now();
    if (!force && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    const double rate = elapsed > 0 ? static_cast<double>(done - start_done_) / elapsed : 0;
    const std::uint64_t left = total_ > done ? total_ - done : 0;
    const int width = 30;
    const int filled =
        total_ ? static_cast<int>(static_cast<double>(done) / static_cast<double>(total_) * width)
               : width;
    std::string eta =
        rate > 0 ? fmt::format("{:.0f}s left", static_cast<double>(left) / rate) : "--";
    fmt::print(stderr, "\r[{}{}] {}/{} seeds  {} failing  {:.0f} seeds/s  {}   ",
               std::string(static_cast<std::size_t>(filled), '#'),
               std::string(static_cast<std::size_t>(width - filled), '.'), done, total_, failures,
               rate, eta);
    std::fflush(stderr);
}

void Progress::finish() {
    if (on_) fmt::print(stderr, "\n");
}

}  // namespace tools::sweeping
