// Report writers: percentiles, CSV shapes, the report.json fields, the summary and atomic writes.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "reports/report.hpp"
#include "tests/helpers.hpp"

using nlohmann::json;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

std::string read_all(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

reports::ReportMeta meta_for(std::uint64_t seed) {
    return {"test-version", "t.json", "byzsim run t.json --seed 1", seed};
}

// A directory under /tmp unique to this process, removed with everything in it at the end.
struct TempDir {
    std::filesystem::path path;
    TempDir() {
        static int count = 0;
        path =
            std::filesystem::temp_directory_path() /
            ("byzsim_test_reports_" + std::to_string(::getpid()) + "_" + std::to_string(++count));
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

}  // namespace

TEST_CASE("percentiles: nearest rank over 1..100 gives p50=50, p90=90, p99=99, max=100") {
    std::vector<std::int64_t> v(100);
    std::iota(v.begin(), v.end(), 1);
    std::reverse(v.begin(), v.end());  // input order does not matter
    const reports::Percentiles p = reports::percentiles(v);
    CHECK(p.p50 == 50);
    CHECK(p.p90 == 90);
    CHECK(p.p99 == 99);
    CHECK(p.max == 100);
    CHECK(p.mean == doctest::Approx(50.5));
}

TEST_CASE("percentiles: on five values nearest rank rounds the rank up") {
    const reports::Percentiles p = reports::percentiles({50, 10, 40, 20, 30});
    CHECK(p.p50 == 30);  // rank ceil(2.5) = 3
    CHECK(p.p90 == 50);  // rank ceil(4.5) = 5
    CHECK(p.p99 == 50);
    CHECK(p.max == 50);
    CHECK(p.mean == doctest::Approx(30.0));
}

TEST_CASE("percentiles: a single value is every percentile, and no values give zeros") {
    const reports::Percentiles one = reports::percentiles({7});
    CHECK(one.p50 == 7);
    CHECK(one.p99 == 7);
    CHECK(one.max == 7);
    const reports::Percentiles none = reports::percentiles({});
    CHECK(none.p50 == 0);
    CHECK(none.p90 == 0);
    CHECK(none.p99 == 0);
    CHECK(none.max == 0);
    CHECK(none.mean == 0.0);
}

TEST_CASE("reports: requests.csv has its header and one row per accepted request") {
    const auto run = testing::run(testing::pbft_base(4, 5));
    const sim::RunResult& r = *run.result;
    const auto lines = lines_of(reports::requests_csv(r));
    REQUIRE(!lines.empty());
    CHECK(lines[0] == "client,submit_ns,commit_ns,latency_ns,view,sequence,timestamp");
    CHECK(lines.size() == r.requests.size() + 1);
    for (std::size_t i = 1; i < lines.size(); ++i)
        CHECK(std::count(lines[i].begin(), lines[i].end(), ',') == 6);
}

TEST_CASE("reports: messages.csv has one row per node and message type with a non-zero counter") {
    const auto run = testing::run(testing::pbft_base(4, 5));
    const sim::RunResult& r = *run.result;
    std::size_t expected = 0;
    std::uint64_t sent = 0;
    for (std::size_t i = 0; i < r.counters.size(); ++i) {
        const sim::KindCounters& c = r.counters[i];
        if (c.sent || c.delivered || c.dropped || c.corrupted) ++expected;
        sent += c.sent;
    }
    const auto lines = lines_of(reports::messages_csv(r, 4));
    REQUIRE(!lines.empty());
    CHECK(lines[0] == "node,role,type,sent,delivered,dropped,corrupted");
    CHECK(lines.size() == expected + 1);
    CHECK(sent > 0);
    // Node 4 is the client.
    bool client_row = false;
    for (const auto& line : lines) client_row |= line.rfind("4,client,", 0) == 0;
    CHECK(client_row);
}

TEST_CASE("reports: report.json carries outcome, fingerprint, counters and the seeded scenario") {
    const auto run = testing::run(testing::pbft_base(4, 5));
    const sim::RunResult& r = *run.result;
    const json rep = reports::report_json(run.sim->spec(), r, meta_for(99));
    for (const char* key :
         {"version", "scenario", "scenario_file", "seed", "outcome", "violations", "fingerprint",
          "events", "virtual_time_ns", "stop_reason", "messages", "commits_per_node", "requests",
          "latency_ns", "view_changes", "node_states", "replay"})
        CHECK_MESSAGE(rep.contains(key), key);
    CHECK(rep["scenario"]["seed"] == 99);
    CHECK(rep["seed"] == 99);
    CHECK(rep["fingerprint"].get<std::string>().size() == 16);
    CHECK(rep["fingerprint"] == reports::fingerprint_hex(r.fingerprint));
    CHECK(rep["outcome"] == (r.violation ? "violation" : "safe"));
    CHECK(rep["violations"].size() == (r.violation ? 1u : 0u));
    CHECK(rep["commits_per_node"].size() == 4);
    CHECK(rep["node_states"].size() == 4);
    CHECK(rep["messages"]["by_node"].size() == 5);
    CHECK(rep["messages"]["by_node"][4]["role"] == "client");
    // loss, partition, offline, overflow, corrupt, rule, held
    CHECK(rep["messages"]["drops_by_reason"].size() == 7);
    CHECK(rep["messages"]["drops_by_reason"].contains("held"));
    CHECK(rep["requests"]["accepted"] == r.accepted);
    CHECK(rep["latency_ns"]["max"] == reports::percentiles(r.latencies_ns).max);
    // Pure: the same inputs give the same document.
    CHECK(rep.dump() == reports::report_json(run.sim->spec(), r, meta_for(99)).dump());
}

TEST_CASE("reports: a violation is reported with its invariant, event and nodes") {
    const auto run = testing::run(testing::pbft_base(4, 2));
    sim::RunResult r = *run.result;
    r.violation = sim::Violation{"agreement",
                                 "replicas 1 and 2 executed different requests",
                                 sim::milliseconds(3),
                                 1234,
                                 {1, 2}};
    const json rep = reports::report_json(run.sim->spec(), r, meta_for(1));
    CHECK(rep["outcome"] == "violation");
    REQUIRE(rep["violations"].size() == 1);
    CHECK(rep["violations"][0]["invariant"] == "agreement");
    CHECK(rep["violations"][0]["event"] == 1234);
    CHECK(rep["violations"][0]["time_ns"] == 3'000'000);
    CHECK(rep["violations"][0]["nodes"] == json::array({1, 2}));
    const std::string text = reports::summary_text(run.sim->spec(), r, meta_for(1));
    CHECK(text.find("VIOLATION: agreement") != std::string::npos);
    CHECK(text.find("event 1234") != std::string::npos);
    CHECK(text.find("1, 2") != std::string::npos);
    CHECK(text.find("byzsim run t.json --seed 1") != std::string::npos);
}

TEST_CASE("reports: the summary names the seed, version, outcome and fingerprint") {
    const auto run = testing::run(testing::pbft_base(4, 5));
    const sim::RunResult& r = *run.result;
    const std::string text = reports::summary_text(run.sim->spec(), r, meta_for(5));
    CHECK(text.find("test-version") != std::string::npos);
    CHECK(text.find(reports::fingerprint_hex(r.fingerprint)) != std::string::npos);
    CHECK(text.find(r.violation ? "VIOLATION" : "SAFE") != std::string::npos);
    CHECK(text.find("pbft") != std::string::npos);
    CHECK(text.back() == '\n');
}

TEST_CASE("reports: write_atomic creates parent directories, replaces content, leaves no .tmp") {
    const TempDir dir;
    const auto file = dir.path / "a" / "b" / "report.json";
    reports::write_atomic(file, "first version, rather long\n");
    CHECK(read_all(file) == "first version, rather long\n");
    reports::write_atomic(file, "second\n");
    CHECK(read_all(file) == "second\n");
    std::size_t entries = 0;
    for (const auto& e : std::filesystem::directory_iterator(file.parent_path())) {
        ++entries;
        CHECK(e.path().filename() == "report.json");
    }
    CHECK(entries == 1);
}

TEST_CASE("reports: write_atomic into an unwritable place throws and leaves nothing behind") {
    const TempDir dir;
    std::filesystem::create_directories(dir.path);
    // The target is a directory: the rename over it must fail.
    const auto target = dir.path / "taken";
    std::filesystem::create_directories(target / "inside");
    CHECK_THROWS_AS(reports::write_atomic(target, "x"), std::system_error);
    std::size_t entries = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path)) ++entries;
    CHECK(entries == 1);
}
