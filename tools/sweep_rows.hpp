// A sweep's output directory and bookkeeping: its identity (for --resume and merge), its rows
// (sweep.csv, sweep.journal), the seeds still to run, and the progress bar.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "tools/sweep.hpp"

namespace tools::sweeping {

using Rows = std::map<std::uint64_t, std::string>;  // seed -> its sweep.csv line
using Clock = std::chrono::steady_clock;  // progress and time budget only; never in results

// What identifies a sweep: the scenario document, the range, the shard, the mode.
nlohmann::json sweep_identity(const sim::ScenarioSpec& spec, const SweepOptions& o);
// The rows of sweep.csv or sweep.journal (a journal's torn last line tolerated).
Rows read_rows(const std::filesystem::path& file, bool tolerate_torn_end);
std::string csv_of(const Rows& rows, std::optional<std::uint64_t> cutoff);
bool failing(const std::string& line);
std::optional<std::uint64_t> lowest_failure(const Rows& rows);
SweepSummary summarize(const Rows& rows, std::optional<std::uint64_t> cutoff);
void write_failure(const std::filesystem::path& dir, std::uint64_t seed, const nlohmann::json& doc);

// The seeds of this shard, ascending, skipping the finished ones.
class SeedCursor {
public:
    SeedCursor(const SweepOptions& o, const Rows& done)
        : o_(o), done_(done), next_(o.first + (o.shard - 1)), end_(next_ > o.last) {
        skip();
    }
    std::optional<std::uint64_t> peek() const {
        return end_ ? std::nullopt : std::optional<std::uint64_t>(next_);
    }
    void advance() {
        step();
        skip();
    }
    // Seeds of this shard from the current one to the end, finished or not.
    std::uint64_t remaining_upper_bound() const {
        return end_ ? 0 : (o_.last - next_) / o_.shards + 1;
    }

private:
    void step() {
        if (o_.last - next_ < o_.shards) {
            end_ = true;
        } else {
            next_ += o_.shards;
        }
    }
    void skip() {
        while (!end_ && done_.count(next_)) step();
    }
    const SweepOptions& o_;
    const Rows& done_;
    std::uint64_t next_;
    bool end_;
};

// A progress bar on stderr, when it is a terminal.
class Progress {
public:
    Progress(bool on, std::uint64_t total);
    void update(std::uint64_t done, std::uint64_t failures, double elapsed, bool force = false);
    void start_at(std::uint64_t done) { start_done_ = done; }
    void finish();

private:
    bool on_;
    std::uint64_t total_, start_done_ = 0;
    Clock::time_point last_{};
};

}  // namespace tools::sweeping
