#include "tools/run_outputs.hpp"

#include <unistd.h>

#include <fstream>

#include <fmt/format.h>

#include "reports/html.hpp"
#include "reports/trace_chrome.hpp"
#include "reports/trace_otlp.hpp"
#include "tools/cli.hpp"

namespace cli {

namespace fs = std::filesystem;

// A file written under a temporary name, renamed into place by commit(); removed if never
// committed.
class TraceFile {
public:
    explicit TraceFile(const fs::path& target)
        : target_(target), tmp_(target.string() + ".tmp." + std::to_string(::getpid())) {
        out_.open(tmp_, std::ios::binary | std::ios::trunc);
        if (!out_) throw InputError(fmt::format("cannot create {}", tmp_.string()));
    }
    TraceFile(const TraceFile&) = delete;
    TraceFile& operator=(const TraceFile&) = delete;
    ~TraceFile() {
        if (!committed_) {
            std::error_code ec;
            out_.close();
            fs::remove(tmp_, ec);
        }
    }
    std::ostream& stream() { return out_; }
    void commit() {
        out_.close();
        if (out_.fail()) throw InputError(fmt::format("cannot write {}", tmp_.string()));
        fs::rename(tmp_, target_);
        committed_ = true;
    }

private:
    fs::path target_, tmp_;
    std::ofstream out_;
    bool committed_ = false;
};

std::vector<TraceFormat> parse_trace_formats(const std::string& list) {
    std::vector<TraceFormat> formats;
    std::size_t at = 0;
    while (at <= list.size()) {
        const std::size_t comma = std::min(list.find(',', at), list.size());
        const std::string name = list.substr(at, comma - at);
        TraceFormat f{};
        if (name == "jsonl") {
            f = TraceFormat::Jsonl;
        } else if (name == "chrome") {
            f = TraceFormat::Chrome;
        } else if (name == "otlp") {
            f = TraceFormat::Otlp;
        } else {
            throw UsageError(fmt::format("--trace-format: unknown format '{}'; expected jsonl, "
                                         "chrome or otlp, or several joined by commas",
                                         name),
                             "run");
        }
        if (std::find(formats.begin(), formats.end(), f) == formats.end()) formats.push_back(f);
        at = comma + 1;
    }
    return formats;
}

std::pair<std::int64_t, std::int64_t> parse_window(const std::string& text) {
    const std::size_t dots = text.find("..");
    const auto fail = [&](const std::string& why) {
        return UsageError(
            fmt::format("--window: {} in '{}'; expected A..B, e.g. 1.2s..1.5s", why, text), "run");
    };
    if (dots == std::string::npos) throw fail("no '..'");
    try {
        const std::int64_t a = sim::parse_duration(text.substr(0, dots), "--window").ns;
        const std::int64_t b = sim::parse_duration(text.substr(dots + 2), "--window").ns;
        if (b < a) throw fail("the end comes before the start");
        return {a, b};
    } catch (const sim::ScenarioError& e) {
        throw fail(e.what());
    }
}

RunOutputs::RunOutputs(const fs::path& dir, const sim::ScenarioSpec& spec,
                       const std::vector<TraceFormat>& formats,
                       std::optional<std::pair<std::int64_t, std::int64_t>> window)
    : dir_(dir), window_(window) {
    const std::string role = spec.system == "mapek" ? "agent" : "client";
    for (const TraceFormat f : formats) {
        if (f == TraceFormat::Jsonl) {
            files_.push_back(std::make_unique<TraceFile>(dir / "trace.jsonl"));
            jsonl_ = std::make_unique<sim::JsonlTrace>(files_.back()->stream());
            tee_.add(jsonl_.get());
        } else if (f == TraceFormat::Chrome) {
            files_.push_back(std::make_unique<TraceFile>(dir / "trace.chrome.json"));
            chrome_ = std::make_unique<reports::ChromeTrace>(
                files_.back()->stream(), fmt::format("byzsim: {}", spec.name), spec.nodes, role);
            add_export(*chrome_, window);
        } else {
            files_.push_back(std::make_unique<TraceFile>(dir / "trace.otlp.json"));
            otlp_file_ = files_.back().get();
            otlp_ = std::make_unique<reports::OtlpTrace>(spec.name, spec.seed, spec.nodes, role);
            add_export(*otlp_, window);
        }
    }
    tee_.add(&window_);
}

RunOutputs::~RunOutputs() = default;

// The Chrome and OTLP exports keep to --window when one is given (a long run's whole trace
// would be more than their viewers open).
void RunOutputs::add_export(sim::TraceSink& sink,
                            std::optional<std::pair<std::int64_t, std::int64_t>> window) {
    if (!window) return tee_.add(&sink);
    filters_.push_back(std::make_unique<sim::WindowFilter>(sink, window->first, window->second));
    tee_.add(filters_.back().get());
}

void RunOutputs::finish(const sim::ScenarioSpec& spec, const sim::RunResult& r,
                        const reports::ReportMeta& meta) {
    const std::int64_t end = r.end_time.ns;
    if (chrome_) chrome_->finish(end);
    if (otlp_) otlp_file_->stream() << otlp_->finish(end).dump() << "\n";
    for (const auto& f : files_) f->commit();
    window_.finish(end, r.violation ? std::optional(r.violation->time.ns) : std::nullopt);
    reports::write_atomic(dir_ / "report.html", reports::report_html(spec, r, meta, window_));
}

}  // namespace cli
