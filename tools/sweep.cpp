#include "tools/sweep.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "byzsim_version.h"
#include "protocols/registry.hpp"
#include "reports/report.hpp"
#include "sim/hash.hpp"
#include "tools/shrink.hpp"

namespace tools {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;  // progress and time budget only; never in results

volatile sig_atomic_t g_interrupted = 0;

void on_signal(int) {
    g_interrupted = 1;
}

std::uint64_t parse_u64(std::string_view text, bool& ok) {
    std::uint64_t v = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    ok = !text.empty() && ec == std::errc() && ptr == text.data() + text.size();
    return v;
}

std::int64_t parse_i64(std::string_view text, bool& ok) {
    std::int64_t v = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    ok = !text.empty() && ec == std::errc() && ptr == text.data() + text.size();
    return v;
}

void write_all(int fd, const std::string& data) {
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw std::runtime_error(fmt::format("write failed: {}", std::strerror(errno)));
        done += static_cast<std::size_t>(n);
    }
}

// Lines from a file descriptor, buffered.
class LineReader {
public:
    explicit LineReader(int fd) : fd_(fd) {}
    // Reads what is available (one read call); false at end of file or on an error.
    bool fill() {
        char chunk[65536];
        for (;;) {
            const ssize_t n = ::read(fd_, chunk, sizeof chunk);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;
            buf_.append(chunk, static_cast<std::size_t>(n));
            return true;
        }
    }
    bool take(std::string& line) {
        const std::size_t nl = buf_.find('\n');
        if (nl == std::string::npos) return false;
        line.assign(buf_, 0, nl);
        buf_.erase(0, nl + 1);
        return true;
    }
    // Blocks until a whole line is read; false at end of file.
    bool next(std::string& line) {
        while (!take(line))
            if (!fill()) return false;
        return true;
    }

private:
    int fd_;
    std::string buf_;
};

// The failure file: the drawn scenario, expecting the failure it showed, so that it is a
// regression scenario as it stands.
json failure_document(const json& drawn, const SeedRow& row) {
    if (row.outcome == "violation") return expect_violation(drawn, row.invariant);
    json doc = drawn;
    doc.erase("expect");
    return doc;
}

// ---- workers -------------------------------------------------------------------------------

struct Worker {
    pid_t pid = -1;
    int to = -1, from = -1;  // the worker's stdin and stdout pipes, parent side
    std::unique_ptr<LineReader> reader;
    std::optional<std::uint64_t> seed;  // in flight
};

[[noreturn]] void worker_main(int in, int out, const sim::ScenarioSpec& spec, bool check) {
    LineReader reader(in);
    std::string line;
    while (reader.next(line)) {
        bool ok = false;
        const std::uint64_t seed = parse_u64(line, ok);
        if (!ok) ::_exit(3);
        json drawn;
        std::string detail;
        const SeedRow row = run_seed(spec, seed, check, &drawn, &detail);
        json msg = {{"row", sweep_csv_line(row)}, {"detail", detail}};
        if (!drawn.is_null()) msg["scenario"] = std::move(drawn);
        try {
            write_all(out, msg.dump(-1, ' ', false, json::error_handler_t::replace) + "\n");
        } catch (const std::exception&) {
            ::_exit(3);
        }
    }
    ::_exit(0);
}

Worker spawn(const sim::ScenarioSpec& spec, bool check, const std::vector<Worker>& others) {
    int down[2], up[2];
    if (::pipe2(down, O_CLOEXEC) != 0 || ::pipe2(up, O_CLOEXEC) != 0)
        throw std::runtime_error(fmt::format("cannot create a pipe: {}", std::strerror(errno)));
    std::fflush(stdout);
    std::fflush(stderr);
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(fmt::format("cannot fork: {}", std::strerror(errno)));
    if (pid == 0) {
        ::signal(SIGINT, SIG_IGN);  // the parent decides; a terminal's ^C reaches all of us
        ::signal(SIGTERM, SIG_DFL);
        ::close(down[1]);
        ::close(up[0]);
        for (const Worker& w : others) {
            ::close(w.to);
            ::close(w.from);
        }
        worker_main(down[0], up[1], spec, check);
    }
    ::close(down[0]);
    ::close(up[1]);
    Worker w;
    w.pid = pid;
    w.to = down[1];
    w.from = up[0];
    w.reader = std::make_unique<LineReader>(w.from);
    return w;
}

void stop_worker(Worker& w, bool kill) {
    if (w.pid < 0) return;
    ::close(w.to);
    ::close(w.from);
    w.to = w.from = -1;
    if (kill) ::kill(w.pid, SIGTERM);
    int status = 0;
    while (::waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
    }
    w.pid = -1;
}

// ---- output directory ----------------------------------------------------------------------

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

std::map<std::uint64_t, std::string> read_rows(const fs::path& file, bool tolerate_torn_end) {
    std::map<std::uint64_t, std::string> rows;
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

std::string csv_of(const std::map<std::uint64_t, std::string>& rows,
                   std::optional<std::uint64_t> cutoff) {
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

std::optional<std::uint64_t> lowest_failure(const std::map<std::uint64_t, std::string>& rows) {
    for (const auto& [seed, line] : rows)
        if (failing(line)) return seed;
    return std::nullopt;
}

SweepSummary summarize(const std::map<std::uint64_t, std::string>& rows,
                       std::optional<std::uint64_t> cutoff) {
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

// The seeds of this shard, ascending, skipping the finished ones.
class SeedCursor {
public:
    SeedCursor(const SweepOptions& o, const std::map<std::uint64_t, std::string>& done)
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
    const std::map<std::uint64_t, std::string>& done_;
    std::uint64_t next_;
    bool end_;
};

class Progress {
public:
    Progress(bool on, std::uint64_t total) : on_(on && ::isatty(2)), total_(total) {}
    void update(std::uint64_t done, std::uint64_t failures, double elapsed, bool force = false) {
        if (!on_) return;
        const auto now = Clock::now();
        if (!force && now - last_ < std::chrono::milliseconds(100)) return;
        last_ = now;
        const double rate = elapsed > 0 ? static_cast<double>(done - start_done_) / elapsed : 0;
        const std::uint64_t left = total_ > done ? total_ - done : 0;
        const int width = 30;
        const int filled =
            total_
                ? static_cast<int>(static_cast<double>(done) / static_cast<double>(total_) * width)
                : width;
        std::string eta =
            rate > 0 ? fmt::format("{:.0f}s left", static_cast<double>(left) / rate) : "--";
        fmt::print(stderr, "\r[{}{}] {}/{} seeds  {} failing  {:.0f} seeds/s  {}   ",
                   std::string(static_cast<std::size_t>(filled), '#'),
                   std::string(static_cast<std::size_t>(width - filled), '.'), done, total_,
                   failures, rate, eta);
        std::fflush(stderr);
    }
    void start_at(std::uint64_t done) { start_done_ = done; }
    void finish() {
        if (on_) fmt::print(stderr, "\n");
    }

private:
    bool on_;
    std::uint64_t total_, start_done_ = 0;
    Clock::time_point last_{};
};

void write_failure(const fs::path& dir, std::uint64_t seed, const json& doc) {
    reports::write_atomic(dir / "failures" / fmt::format("seed-{}.json", seed), doc.dump(2) + "\n");
}

}  // namespace

json expect_violation(const json& doc, const std::string& invariant) {
    json out = doc;
    out["expect"] = {{"outcome", "violation"}, {"invariant", invariant}};
    try {
        sim::parse_scenario(out);
    } catch (const sim::ScenarioError&) {
        out["expect"].erase("invariant");  // an invariant name `expect` does not know
    }
    return out;
}

// ---- rows ----------------------------------------------------------------------------------

std::string sweep_csv_header() {
    return "seed,outcome,invariant,events,commits,virtual_time_ns,fingerprint\n";
}

std::string sweep_csv_line(const SeedRow& r) {
    return fmt::format("{},{},{},{},{},{},{}\n", r.seed, r.outcome, r.invariant, r.events,
                       r.commits, r.virtual_time_ns, r.fingerprint);
}

std::optional<SeedRow> parse_sweep_csv_line(const std::string& line) {
    std::vector<std::string_view> f;
    std::size_t start = 0;
    for (;;) {
        const std::size_t comma = line.find(',', start);
        f.emplace_back(std::string_view(line).substr(start, comma - start));
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    if (f.size() != 7) return std::nullopt;
    SeedRow r;
    bool ok[5];
    r.seed = parse_u64(f[0], ok[0]);
    r.outcome = f[1];
    r.invariant = f[2];
    r.events = parse_u64(f[3], ok[1]);
    r.commits = parse_u64(f[4], ok[2]);
    r.virtual_time_ns = parse_i64(f[5], ok[3]);
    r.fingerprint = f[6];
    ok[4] = r.fingerprint.size() == 16;
    if (!std::all_of(std::begin(ok), std::end(ok), [](bool b) { return b; })) return std::nullopt;
    if (r.outcome != "safe" && r.outcome != "violation" && r.outcome != "nondeterministic" &&
        r.outcome != "error")
        return std::nullopt;
    return r;
}

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

// ---- running seeds -------------------------------------------------------------------------

RunOutcome run_concrete(const sim::ScenarioSpec& spec, std::vector<std::uint64_t>* log) {
    sim::SimOptions opts;
    opts.keep_request_rows = false;
    opts.fingerprint_log = log;
    auto simulator = protocols::build(spec, opts);
    const sim::RunResult& r = simulator->run();
    RunOutcome out;
    out.violation = r.violation;
    out.events = r.events;
    out.accepted = r.accepted;
    out.fingerprint = r.fingerprint;
    out.end = r.end_time;
    return out;
}

SeedRow run_seed(const sim::ScenarioSpec& spec, std::uint64_t seed, bool check_determinism,
                 json* drawn, std::string* detail) {
    SeedRow row;
    row.seed = seed;
    row.fingerprint = reports::fingerprint_hex(0);
    sim::ScenarioSpec concrete;
    try {
        concrete = protocols::concrete_scenario(spec, seed);
        std::vector<std::uint64_t> first, second;
        const RunOutcome a = run_concrete(concrete, check_determinism ? &first : nullptr);
        row.events = a.events;
        row.commits = a.accepted;
        row.virtual_time_ns = a.end.ns;
        row.fingerprint = reports::fingerprint_hex(a.fingerprint);
        row.outcome = a.violation ? "violation" : "safe";
        if (a.violation) {
            row.invariant = a.violation->invariant;
            if (detail) *detail = a.violation->detail;
        }
        if (check_determinism) {
            const RunOutcome b = run_concrete(concrete, &second);
            if (first != second || a.fingerprint != b.fingerprint) {
                std::size_t i = 0;
                while (i < first.size() && i < second.size() && first[i] == second[i]) ++i;
                row.outcome = "nondeterministic";
                row.invariant = fmt::format("event {}", i + 1);
                if (detail)
                    *detail = fmt::format(
                        "two runs of seed {} differ from event {} on "
                        "({} and {} events)",
                        seed, i + 1, first.size(), second.size());
            }
        }
    } catch (const std::exception& e) {
        row.outcome = "error";
        row.invariant = "";
        if (detail) *detail = e.what();
    }
    if (row.outcome != "safe" && drawn && concrete.source.is_object())
        *drawn = failure_document(concrete.source, row);
    return row;
}

// ---- the sweep -----------------------------------------------------------------------------

SweepSummary sweep(const sim::ScenarioSpec& spec, const SweepOptions& o) {
    const auto started = Clock::now();
    const auto elapsed = [&] {
        return std::chrono::duration<double>(Clock::now() - started).count();
    };
    const fs::path meta_file = o.out / "sweep.json";
    const fs::path journal_file = o.out / "sweep.journal";
    const fs::path csv_file = o.out / "sweep.csv";
    json identity = sweep_identity(spec, o);
    identity["shard"] = o.shard;
    identity["shards"] = o.shards;

    std::map<std::uint64_t, std::string> rows;
    if (fs::exists(meta_file)) {
        if (!o.resume) {
            throw std::runtime_error(fmt::format(
                "{} holds a sweep already; add --resume to continue it, or choose another --out",
                o.out.string()));
        }
        json old;
        try {
            std::ifstream in(meta_file);
            old = json::parse(in);
        } catch (const json::exception& e) {
            throw std::runtime_error(fmt::format("{}: {}", meta_file.string(), e.what()));
        }
        for (const auto& [key, value] : identity.items()) {
            if (!old.contains(key) || old[key] != value) {
                throw std::runtime_error(fmt::format(
                    "cannot resume: {} was written for a different sweep ({} differs: {} there, "
                    "{} now)",
                    meta_file.string(), key, old.contains(key) ? old[key].dump() : "nothing",
                    value.dump()));
            }
        }
        rows = read_rows(csv_file, false);
        for (auto& [seed, line] : read_rows(journal_file, true)) rows.emplace(seed, line);
    }
    fs::create_directories(o.out / "failures");
    json meta = identity;
    meta["version"] = BYZSIM_VERSION;
    meta["scenario"] = o.scenario_file;
    meta["finished"] = false;
    reports::write_atomic(meta_file, meta.dump(2) + "\n");

    // Rows recovered from the journal go into sweep.csv before anything new runs, so the
    // journal only ever holds rows beyond it.
    reports::write_atomic(csv_file, csv_of(rows, std::nullopt));
    const int journal =
        ::open(journal_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (journal < 0)
        throw std::runtime_error(
            fmt::format("cannot create {}: {}", journal_file.string(), std::strerror(errno)));

    std::optional<std::uint64_t> cutoff;  // with --stop-on-first: the lowest failing seed
    if (o.stop_on_first) cutoff = lowest_failure(rows);

    SeedCursor cursor(o, rows);
    std::deque<std::uint64_t> retry;  // seeds whose worker died before answering
    const std::uint64_t resumed = rows.size();
    Progress progress(o.progress && !o.quiet, resumed + cursor.remaining_upper_bound());
    progress.start_at(resumed);
    std::uint64_t failures = 0, ran = 0;
    for (const auto& [seed, line] : rows) failures += failing(line);

    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    struct sigaction old_int {
    }, old_term{};
    g_interrupted = 0;
    ::sigaction(SIGINT, &sa, &old_int);
    ::sigaction(SIGTERM, &sa, &old_term);
    ::signal(SIGPIPE, SIG_IGN);

    std::vector<Worker> workers;
    bool out_of_time = false;
    const auto next_seed = [&]() -> std::optional<std::uint64_t> {
        if (g_interrupted) return std::nullopt;
        if (o.time_budget_s && elapsed() > *o.time_budget_s) {
            out_of_time = true;
            return std::nullopt;
        }
        std::optional<std::uint64_t> s;
        if (!retry.empty()) {
            s = retry.front();
            retry.pop_front();
            return s;
        }
        s = cursor.peek();
        if (!s || (cutoff && *s > *cutoff)) return std::nullopt;
        cursor.advance();
        return s;
    };
    const auto record = [&](const json& msg) {
        const std::string line = msg.at("row").get<std::string>();
        const auto row = parse_sweep_csv_line(line.substr(0, line.size() - 1));
        if (!row) throw std::runtime_error("a worker sent a malformed row: " + line);
        write_all(journal, line);
        rows[row->seed] = line;
        ++ran;
        if (row->outcome == "safe") return;
        ++failures;
        if (msg.contains("scenario")) write_failure(o.out, row->seed, msg["scenario"]);
        if (o.stop_on_first && (!cutoff || row->seed < *cutoff)) cutoff = row->seed;
        if (!o.quiet) {
            if (::isatty(2)) fmt::print(stderr, "\r\033[K");
            fmt::print(stderr, "seed {}: {}{}: {}\n", row->seed, row->outcome,
                       row->invariant.empty() ? "" : " of " + row->invariant,
                       msg.value("detail", std::string()));
        }
    };

    try {
        for (unsigned i = 0; i < std::max(1u, o.jobs); ++i)
            workers.push_back(spawn(spec, o.check_determinism, workers));
        for (;;) {
            for (Worker& w : workers) {
                if (w.seed) continue;
                w.seed = next_seed();
                if (w.seed) write_all(w.to, fmt::format("{}\n", *w.seed));
            }
            std::vector<pollfd> fds;
            std::vector<Worker*> busy;
            for (Worker& w : workers) {
                if (!w.seed) continue;
                fds.push_back({w.from, POLLIN, 0});
                busy.push_back(&w);
            }
            if (busy.empty() || g_interrupted) break;
            const int n = ::poll(fds.data(), fds.size(), 100);
            if (n < 0 && errno != EINTR)
                throw std::runtime_error(fmt::format("poll: {}", std::strerror(errno)));
            for (std::size_t i = 0; n > 0 && i < fds.size(); ++i) {
                if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
                Worker& w = *busy[i];
                const bool alive = w.reader->fill();
                std::string line;
                while (w.reader->take(line)) {
                    record(json::parse(line));
                    w.seed.reset();
                }
                if (!alive) {
                    // The worker died on this seed: that is an error row for the seed (the
                    // simulator crashed), and a fresh worker takes over.
                    const std::uint64_t seed = w.seed.value_or(0);
                    stop_worker(w, true);
                    if (w.seed) {
                        SeedRow row;
                        row.seed = seed;
                        row.outcome = "error";
                        row.fingerprint = reports::fingerprint_hex(0);
                        record({{"row", sweep_csv_line(row)},
                                {"detail", "the worker process died running this seed"}});
                    }
                    w = spawn(spec, o.check_determinism, workers);
                }
            }
            progress.update(rows.size(), failures, elapsed());
        }
    } catch (...) {
        for (Worker& w : workers) stop_worker(w, true);
        ::close(journal);
        ::sigaction(SIGINT, &old_int, nullptr);
        ::sigaction(SIGTERM, &old_term, nullptr);
        throw;
    }
    const bool interrupted = g_interrupted != 0;
    for (Worker& w : workers) stop_worker(w, interrupted);
    ::sigaction(SIGINT, &old_int, nullptr);
    ::sigaction(SIGTERM, &old_term, nullptr);
    progress.update(rows.size(), failures, elapsed(), true);
    progress.finish();

    // Seeds past the first failure ran only because they were in flight: drop them, so the
    // result does not depend on --jobs.
    if (cutoff) {
        for (auto it = rows.upper_bound(*cutoff); it != rows.end();) {
            std::error_code ec;
            fs::remove(o.out / "failures" / fmt::format("seed-{}.json", it->first), ec);
            it = rows.erase(it);
        }
    }
    reports::write_atomic(csv_file, csv_of(rows, std::nullopt));
    ::close(journal);
    fs::remove(journal_file);

    SweepSummary s = summarize(rows, std::nullopt);
    s.interrupted = interrupted;
    s.wall_seconds = elapsed();
    const bool stopped_early = (o.stop_on_first && cutoff) || interrupted || out_of_time;
    s.complete = !interrupted && !out_of_time;
    if (o.shrink && !interrupted) {
        std::uint64_t shrunk = 0;
        for (const auto& [seed, line] : rows) {
            if (!failing(line) || shrunk == 10) continue;
            const fs::path file = o.out / "failures" / fmt::format("seed-{}.json", seed);
            if (!fs::exists(file)) continue;
            ShrinkOptions so;
            so.out = o.out / "failures" / fmt::format("seed-{}.min.json", seed);
            so.verbose = false;
            const ShrinkResult r = shrink_file(file.string(), so);
            if (!o.quiet)
                fmt::print(stderr, "seed {}: shrunk in {} runs to {}\n", seed, r.runs,
                           so.out.string());
            ++shrunk;
        }
    }
    meta["finished"] = s.complete;
    meta["stopped_early"] = stopped_early;
    meta["seeds_done"] = s.seeds_done;
    meta["seeds_run"] = ran;  // by this invocation: a resume repeats no finished seed
    meta["failures"] = s.failures;
    meta["violations"] = s.violations;
    meta["wall_seconds"] = s.wall_seconds;
    reports::write_atomic(meta_file, meta.dump(2) + "\n");
    return s;
}

// ---- merge ---------------------------------------------------------------------------------

SweepSummary merge_sweeps(const std::vector<fs::path>& dirs, const fs::path& out) {
    if (dirs.empty()) throw std::runtime_error("merge needs at least one sweep directory");
    std::map<std::uint64_t, std::string> rows;
    std::optional<json> identity;
    std::set<std::uint64_t> shards_seen;
    std::uint64_t shards = 0;
    bool finished = true;
    json scenario;
    for (const fs::path& dir : dirs) {
        json meta;
        try {
            std::ifstream in(dir / "sweep.json");
            if (!in) throw std::runtime_error("missing");
            meta = json::parse(in);
        } catch (const std::exception& e) {
            throw std::runtime_error(
                fmt::format("{}: not a sweep directory (no readable sweep.json)", dir.string()));
        }
        json id = meta;
        for (const char* k : {"shard", "version", "scenario", "finished", "stopped_early",
                              "seeds_done", "seeds_run", "failures", "violations", "wall_seconds"})
            id.erase(k);
        if (!identity) {
            identity = id;
            shards = meta.value("shards", 1u);
            scenario = meta.value("scenario", json());
        } else if (id != *identity) {
            throw std::runtime_error(fmt::format(
                "{} belongs to a different sweep than {} (scenario, seeds or options differ)",
                dir.string(), dirs.front().string()));
        }
        const std::uint64_t k = meta.value("shard", 1u);
        if (!shards_seen.insert(k).second)
            throw std::runtime_error(fmt::format("{}: shard {} is given twice", dir.string(), k));
        finished = finished && meta.value("finished", false);
        for (auto& [seed, line] : read_rows(dir / "sweep.csv", false)) {
            if (!rows.emplace(seed, line).second)
                throw std::runtime_error(
                    fmt::format("{}: seed {} is in two shards", dir.string(), seed));
        }
    }
    const bool all_shards = shards_seen.size() == shards;
    std::optional<std::uint64_t> cutoff;
    if ((*identity).value("stop_on_first", false)) cutoff = lowest_failure(rows);
    fs::create_directories(out / "failures");
    for (const fs::path& dir : dirs) {
        for (const auto& [seed, line] : rows) {
            if (cutoff && seed > *cutoff) break;
            const fs::path name = fmt::format("seed-{}.json", seed);
            if (fs::exists(dir / "failures" / name))
                fs::copy_file(dir / "failures" / name, out / "failures" / name,
                              fs::copy_options::overwrite_existing);
        }
    }
    reports::write_atomic(out / "sweep.csv", csv_of(rows, cutoff));
    SweepSummary s = summarize(rows, cutoff);
    s.complete = all_shards && finished;
    json meta = *identity;
    meta["shard"] = 1;
    meta["shards"] = 1;
    meta["version"] = BYZSIM_VERSION;
    meta["scenario"] = scenario;
    meta["finished"] = s.complete;
    meta["merged_from"] = shards_seen.size();
    meta["seeds_done"] = s.seeds_done;
    meta["failures"] = s.failures;
    meta["violations"] = s.violations;
    reports::write_atomic(out / "sweep.json", meta.dump(2) + "\n");
    return s;
}

}  // namespace tools
