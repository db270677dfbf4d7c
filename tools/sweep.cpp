#include "tools/sweep.hpp"

#include <poll.h>
#include <unistd.h>

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "byzsim_version.h"
#include "protocols/registry.hpp"
#include "reports/report.hpp"
#include "reports/sweep_html.hpp"
#include "tools/interrupt.hpp"
#include "tools/run_outputs.hpp"
#include "tools/shrink.hpp"
#include "tools/sweep_rows.hpp"
#include "tools/sweep_workers.hpp"

namespace tools {

using namespace sweeping;

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A JSON file byzsim wrote, read within sim::JsonBounds; std::runtime_error if it is not.
json read_json(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error(fmt::format("{}: cannot read it", file.string()));
    std::ostringstream text;
    text << in.rdbuf();
    try {
        return sim::parse_json_text(text.str(), file.string());
    } catch (const sim::ScenarioError& e) {
        throw std::runtime_error(fmt::format("{}: {}{}{}", file.string(), e.path(),
                                             e.path().empty() ? "" : ": ", e.reason()));
    }
}

// A failing seed's scenario run again with its reports, into `dir`; false if it no longer
// runs (an error seed).
bool write_failure_report(const fs::path& file, const fs::path& dir) {
    try {
        const sim::ScenarioSpec spec = sim::load_scenario(file.string());
        fs::create_directories(dir);
        cli::RunOutputs outputs(dir, spec, {}, std::nullopt);
        sim::SimOptions opts;
        opts.sink = outputs.sink();
        auto simulator = protocols::build(spec, opts);
        const sim::RunResult& r = simulator->run();
        const reports::ReportMeta meta{BYZSIM_VERSION, file.string(),
                                       fmt::format("byzsim run {}", file.string()), spec.seed};
        outputs.finish(spec, r, meta);
        reports::write_atomic(dir / "report.json",
                              reports::report_json(spec, r, meta).dump(2) + "\n");
        return true;
    } catch (const std::exception&) {
        return false;
    }
}

// One invocation of `byzsim sweep` on its output directory.
class SweepRun {
public:
    SweepRun(const sim::ScenarioSpec& spec, const SweepOptions& o)
        : spec_(spec),
          o_(o),
          meta_file_(o.out / "sweep.json"),
          journal_file_(o.out / "sweep.journal"),
          csv_file_(o.out / "sweep.csv") {}

    SweepSummary run();

private:
    double elapsed() const {
        return std::chrono::duration<double>(Clock::now() - started_).count();
    }
    void open_directory();
    std::optional<std::uint64_t> next_seed();
    void record(const json& msg);
    void dispatch(std::vector<Worker>& workers);
    void work();
    void on_answer(Worker& w, std::vector<Worker>& workers);
    void shrink_failures();
    void write_pages(const SweepSummary& s);
    SweepSummary close();

    const sim::ScenarioSpec& spec_;
    const SweepOptions& o_;
    const Clock::time_point started_ = Clock::now();
    const fs::path meta_file_, journal_file_, csv_file_;
    json meta_;
    Rows rows_;
    int journal_ = -1;
    std::optional<std::uint64_t> cutoff_;  // with --stop-on-first: the lowest failing seed
    std::unique_ptr<SeedCursor> cursor_;
    std::deque<std::uint64_t> retry_;  // seeds whose worker died before answering
    std::uint64_t failures_ = 0, ran_ = 0;
    bool out_of_time_ = false;
};

// Reads what a resumed sweep finished (refusing another sweep's directory), marks the sweep
// unfinished, and starts the journal.
void SweepRun::open_directory() {
    json identity = sweep_identity(spec_, o_);
    identity["shard"] = o_.shard;
    identity["shards"] = o_.shards;
    if (fs::exists(meta_file_)) {
        if (!o_.resume)
            throw std::runtime_error(fmt::format(
                "{} holds a sweep already; add --resume to continue it, or choose another --out",
                o_.out.string()));
        const json old = read_json(meta_file_);
        for (const auto& [key, value] : identity.items())
            if (!old.contains(key) || old[key] != value)
                throw std::runtime_error(fmt::format(
                    "cannot resume: {} was written for a different sweep ({} differs: {} there, "
                    "{} now)",
                    meta_file_.string(), key, old.contains(key) ? old[key].dump() : "nothing",
                    value.dump()));
        rows_ = read_rows(csv_file_, false);
        for (auto& [seed, line] : read_rows(journal_file_, true)) rows_.emplace(seed, line);
    }
    fs::create_directories(o_.out / "failures");
    meta_ = identity;
    meta_["version"] = BYZSIM_VERSION;
    meta_["scenario"] = o_.scenario_file;
    meta_["finished"] = false;
    reports::write_atomic(meta_file_, meta_.dump(2) + "\n");
    // Rows recovered from the journal go into sweep.csv before anything new runs, so the
    // journal only ever holds rows beyond it.
    reports::write_atomic(csv_file_, csv_of(rows_, std::nullopt));
    journal_ = ::open(journal_file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (journal_ < 0)
        throw std::runtime_error(
            fmt::format("cannot create {}: {}", journal_file_.string(), std::strerror(errno)));
}

std::optional<std::uint64_t> SweepRun::next_seed() {
    if (tools::interrupted()) return std::nullopt;
    if (o_.time_budget_s && elapsed() > *o_.time_budget_s) {
        out_of_time_ = true;
        return std::nullopt;
    }
    if (!retry_.empty()) {
        const std::uint64_t s = retry_.front();
        retry_.pop_front();
        return s;
    }
    const std::optional<std::uint64_t> s = cursor_->peek();
    if (!s || (cutoff_ && *s > *cutoff_)) return std::nullopt;
    cursor_->advance();
    return s;
}

// A worker's answer: its row into the journal at once, its failure file, its line on stderr.
void SweepRun::record(const json& msg) {
    const std::string line = msg.at("row").get<std::string>();
    const auto row = parse_sweep_csv_line(line.substr(0, line.size() - 1));
    if (!row) throw std::runtime_error("a worker sent a malformed row: " + line);
    write_all(journal_, line);
    rows_[row->seed] = line;
    ++ran_;
    if (row->outcome == "safe") return;
    ++failures_;
    if (msg.contains("scenario")) write_failure(o_.out, row->seed, msg["scenario"]);
    if (o_.stop_on_first && (!cutoff_ || row->seed < *cutoff_)) cutoff_ = row->seed;
    if (!o_.quiet) {
        if (::isatty(2)) fmt::print(stderr, "\r\033[K");
        fmt::print(stderr, "seed {}: {}{}: {}\n", row->seed, row->outcome,
                   row->invariant.empty() ? "" : " of " + row->invariant,
                   msg.value("detail", std::string()));
    }
}

void SweepRun::dispatch(std::vector<Worker>& workers) {
    for (Worker& w : workers) {
        if (w.seed) continue;
        w.seed = next_seed();
        if (w.seed) write_all(w.to, fmt::format("{}\n", *w.seed));
    }
}

// What a worker wrote; a worker that died on a seed gives that seed an error row (the
// simulator crashed), and a fresh worker takes its place.
void SweepRun::on_answer(Worker& w, std::vector<Worker>& workers) {
    const bool alive = w.reader->fill();
    std::string line;
    while (w.reader->take(line)) {
        record(json::parse(line));
        w.seed.reset();
    }
    if (alive) return;
    const std::optional<std::uint64_t> seed = w.seed;
    stop_worker(w, true);
    if (seed) {
        SeedRow row;
        row.seed = *seed;
        row.outcome = "error";
        row.fingerprint = reports::fingerprint_hex(0);
        record({{"row", sweep_csv_line(row)},
                {"detail", "the worker process died running this seed"}});
    }
    w = spawn(spec_, o_.check_determinism, workers);
}

void SweepRun::work() {
    std::vector<Worker> workers;
    Progress progress(o_.progress && !o_.quiet, rows_.size() + cursor_->remaining_upper_bound());
    progress.start_at(rows_.size());
    try {
        for (unsigned i = 0; i < std::max(1u, o_.jobs); ++i)
            workers.push_back(spawn(spec_, o_.check_determinism, workers));
        for (;;) {
            dispatch(workers);
            std::vector<pollfd> fds;
            std::vector<Worker*> busy;
            for (Worker& w : workers) {
                if (!w.seed) continue;
                fds.push_back({w.from, POLLIN, 0});
                busy.push_back(&w);
            }
            if (busy.empty() || tools::interrupted()) break;
            const int n = ::poll(fds.data(), fds.size(), 100);
            if (n < 0 && errno != EINTR)
                throw std::runtime_error(fmt::format("poll: {}", std::strerror(errno)));
            for (std::size_t i = 0; n > 0 && i < fds.size(); ++i)
                if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) on_answer(*busy[i], workers);
            progress.update(rows_.size(), failures_, elapsed());
        }
    } catch (...) {
        for (Worker& w : workers) stop_worker(w, true);
        throw;
    }
    for (Worker& w : workers) stop_worker(w, tools::interrupted());
    progress.update(rows_.size(), failures_, elapsed(), true);
    progress.finish();
}

void SweepRun::shrink_failures() {
    std::uint64_t shrunk = 0;
    for (const auto& [seed, line] : rows_) {
        if (!failing(line) || shrunk == 10) continue;
        const fs::path file = o_.out / "failures" / fmt::format("seed-{}.json", seed);
        if (!fs::exists(file)) continue;
        ShrinkOptions so;
        so.out = o_.out / "failures" / fmt::format("seed-{}.min.json", seed);
        so.verbose = false;
        const ShrinkResult r = shrink_file(file.string(), so);
        if (!o_.quiet)
            fmt::print(stderr, "seed {}: shrunk in {} runs to {}\n", seed, r.runs, so.out.string());
        ++shrunk;
    }
}

// Each of the first kReportedFailures failing seeds run again with its report
// (reports/seed-N/report.json and report.html), and sweep.html linking to them.
constexpr std::size_t kReportedFailures = 20;

void SweepRun::write_pages(const SweepSummary& s) {
    std::vector<reports::SweepPageRow> page;
    std::size_t reported = 0;
    for (const auto& [seed, line] : rows_) {
        const auto row = parse_sweep_csv_line(line.substr(0, line.size() - 1));
        if (!row) continue;
        reports::SweepPageRow p{seed, row->outcome, row->invariant, row->events, false};
        const fs::path file = o_.out / "failures" / fmt::format("seed-{}.json", seed);
        if (row->outcome != "safe" && reported < kReportedFailures && fs::exists(file) &&
            !tools::interrupted()) {
            p.has_report =
                write_failure_report(file, o_.out / "reports" / fmt::format("seed-{}", seed));
            reported += p.has_report ? 1 : 0;
        }
        page.push_back(std::move(p));
    }
    const reports::SweepPageMeta meta{spec_.name,     o_.scenario_file,      BYZSIM_VERSION,
                                      s.wall_seconds, std::max(1u, o_.jobs), s.complete};
    reports::write_atomic(o_.out / "sweep.html", reports::sweep_html(page, meta));
}

// sweep.csv in place of the journal, the failures shrunk if asked, sweep.json finished.
SweepSummary SweepRun::close() {
    const bool interrupted = tools::interrupted();
    // Seeds past the first failure ran only because they were in flight: drop them, so the
    // result does not depend on --jobs.
    if (cutoff_) {
        for (auto it = rows_.upper_bound(*cutoff_); it != rows_.end();) {
            std::error_code ec;
            fs::remove(o_.out / "failures" / fmt::format("seed-{}.json", it->first), ec);
            it = rows_.erase(it);
        }
    }
    reports::write_atomic(csv_file_, csv_of(rows_, std::nullopt));
    ::close(journal_);
    journal_ = -1;
    fs::remove(journal_file_);
    SweepSummary s = summarize(rows_, std::nullopt);
    s.interrupted = interrupted;
    s.wall_seconds = elapsed();
    s.complete = !interrupted && !out_of_time_;
    if (o_.shrink && !interrupted) shrink_failures();
    write_pages(s);
    meta_["finished"] = s.complete;
    meta_["stopped_early"] = (o_.stop_on_first && cutoff_) || interrupted || out_of_time_;
    meta_["seeds_done"] = s.seeds_done;
    meta_["seeds_run"] = ran_;  // by this invocation: a resume repeats no finished seed
    meta_["failures"] = s.failures;
    meta_["violations"] = s.violations;
    meta_["wall_seconds"] = s.wall_seconds;
    reports::write_atomic(meta_file_, meta_.dump(2) + "\n");
    return s;
}

SweepSummary SweepRun::run() {
    open_directory();
    if (o_.stop_on_first) cutoff_ = lowest_failure(rows_);
    cursor_ = std::make_unique<SeedCursor>(o_, rows_);
    for (const auto& [seed, line] : rows_) failures_ += failing(line);
    {
        InterruptGuard signals;
        try {
            work();
        } catch (...) {
            ::close(journal_);
            throw;
        }
    }
    return close();
}

// A shard's sweep.json, as the identity the others must share (what varies per shard and
// per invocation left out).
json read_shard_meta(const fs::path& dir) {
    try {
        return read_json(dir / "sweep.json");
    } catch (const std::exception&) {
        throw std::runtime_error(
            fmt::format("{}: not a sweep directory (no readable sweep.json)", dir.string()));
    }
}

json shard_identity(json meta) {
    for (const char* k : {"shard", "version", "scenario", "finished", "stopped_early", "seeds_done",
                          "seeds_run", "failures", "violations", "wall_seconds"})
        meta.erase(k);
    return meta;
}

}  // namespace

std::pair<std::uint64_t, std::uint64_t> parse_seed_range(const std::string& text) {
    const std::size_t dots = text.find("..");
    bool ok_a = false, ok_b = false;
    const std::uint64_t a = parse_u64(text.substr(0, dots), ok_a);
    const std::uint64_t b = dots == std::string::npos ? a : parse_u64(text.substr(dots + 2), ok_b);
    if (dots == std::string::npos) ok_b = ok_a;
    if (!ok_a || !ok_b || b < a)
        throw std::invalid_argument(fmt::format(
            "--seeds: expected FIRST..LAST (FIRST <= LAST) or one seed, got '{}'", text));
    return {a, b};
}

SweepSummary sweep(const sim::ScenarioSpec& spec, const SweepOptions& o) {
    return SweepRun(spec, o).run();
}

// ---- merge ---------------------------------------------------------------------------------

namespace {

struct Shards {
    Rows rows;
    json identity, scenario;
    std::set<std::uint64_t> seen;
    std::uint64_t shards = 0;
    bool finished = true;
};

Shards read_shards(const std::vector<fs::path>& dirs) {
    Shards s;
    for (const fs::path& dir : dirs) {
        const json meta = read_shard_meta(dir);
        const json id = shard_identity(meta);
        if (s.seen.empty()) {
            s.identity = id;
            s.shards = meta.value("shards", 1u);
            s.scenario = meta.value("scenario", json());
        } else if (id != s.identity) {
            throw std::runtime_error(fmt::format(
                "{} belongs to a different sweep than {} (scenario, seeds or options differ)",
                dir.string(), dirs.front().string()));
        }
        const std::uint64_t k = meta.value("shard", 1u);
        if (!s.seen.insert(k).second)
            throw std::runtime_error(fmt::format("{}: shard {} is given twice", dir.string(), k));
        s.finished = s.finished && meta.value("finished", false);
        for (auto& [seed, line] : read_rows(dir / "sweep.csv", false))
            if (!s.rows.emplace(seed, line).second)
                throw std::runtime_error(
                    fmt::format("{}: seed {} is in two shards", dir.string(), seed));
    }
    return s;
}

}  // namespace

SweepSummary merge_sweeps(const std::vector<fs::path>& dirs, const fs::path& out) {
    if (dirs.empty()) throw std::runtime_error("merge needs at least one sweep directory");
    const Shards in = read_shards(dirs);
    std::optional<std::uint64_t> cutoff;
    if (in.identity.value("stop_on_first", false)) cutoff = lowest_failure(in.rows);
    fs::create_directories(out / "failures");
    for (const fs::path& dir : dirs) {
        for (const auto& [seed, line] : in.rows) {
            if (cutoff && seed > *cutoff) break;
            const fs::path name = fmt::format("seed-{}.json", seed);
            if (fs::exists(dir / "failures" / name))
                fs::copy_file(dir / "failures" / name, out / "failures" / name,
                              fs::copy_options::overwrite_existing);
        }
    }
    reports::write_atomic(out / "sweep.csv", csv_of(in.rows, cutoff));
    SweepSummary s = summarize(in.rows, cutoff);
    s.complete = in.seen.size() == in.shards && in.finished;
    json meta = in.identity;
    meta["shard"] = 1;
    meta["shards"] = 1;
    meta["version"] = BYZSIM_VERSION;
    meta["scenario"] = in.scenario;
    meta["finished"] = s.complete;
    meta["merged_from"] = in.seen.size();
    meta["seeds_done"] = s.seeds_done;
    meta["failures"] = s.failures;
    meta["violations"] = s.violations;
    reports::write_atomic(out / "sweep.json", meta.dump(2) + "\n");
    return s;
}

}  // namespace tools
