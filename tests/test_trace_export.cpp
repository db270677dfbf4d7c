// The Chrome trace-event and OTLP exports of a small run: valid JSON with one track (resource)
// per node, one flow per delivered message, a slice per view, a span per request, and counts
// that match the run's own counters; and the HTML report's window.
#include <doctest/doctest.h>

#include <map>
#include <set>
#include <sstream>

#include "helpers.hpp"
#include "reports/html.hpp"
#include "reports/trace_chrome.hpp"
#include "reports/trace_otlp.hpp"
#include "reports/trace_window.hpp"
#include "sim/trace.hpp"

namespace {

using nlohmann::json;

// Messages delivered over the network (not to self), from the run's counters.
std::uint64_t delivered(const sim::RunResult& r) {
    std::uint64_t n = 0;
    for (std::size_t k = 0; k < r.kind_names.size(); ++k) n += r.total_for_kind(k).delivered;
    return n;
}

struct Exported {
    testing::Run run;
    json chrome, otlp;
};

Exported export_run(const json& doc) {
    const sim::ScenarioSpec spec = testing::spec_from(doc);
    std::ostringstream chrome_text;
    reports::ChromeTrace chrome(chrome_text, "test", spec.nodes, "client");
    reports::OtlpTrace otlp(spec.name, spec.seed, spec.nodes, "client");
    sim::TraceTee tee;
    tee.add(&chrome);
    tee.add(&otlp);
    sim::SimOptions opts;
    opts.sink = &tee;
    Exported e{testing::run(doc, opts), {}, {}};
    chrome.finish(e.run.result->end_time.ns);
    e.chrome = json::parse(chrome_text.str());
    e.otlp = otlp.finish(e.run.result->end_time.ns);
    return e;
}

std::size_t count_phase(const json& events, const char* ph) {
    std::size_t n = 0;
    for (const json& ev : events) n += ev.value("ph", "") == ph ? 1 : 0;
    return n;
}

}  // namespace

TEST_CASE("the Chrome trace has a named track per node and a flow per delivered message") {
    const Exported e = export_run(testing::pbft_base(4, 5));
    const sim::RunResult& r = *e.run.result;
    const json& events = e.chrome["traceEvents"];
    REQUIRE(events.is_array());
    std::set<std::string> tracks;
    for (const json& ev : events)
        if (ev.value("name", "") == "thread_name")
            tracks.insert(ev.at("args").at("name").get<std::string>());
    CHECK(tracks ==
          std::set<std::string>{"replica 0", "replica 1", "replica 2", "replica 3", "client 4"});
    // PBFT with one client, n=4, 5 requests, no faults: every message sent is delivered.
    CHECK(count_phase(events, "s") == delivered(r));
    CHECK(count_phase(events, "f") == delivered(r));
    // Every flow's two ends carry the same id, start at the sender and end at the receiver.
    std::map<std::uint64_t, std::pair<int, int>> ends;
    for (const json& ev : events) {
        if (ev.value("ph", "") == "s") ends[ev.at("id")].first = ev.at("tid");
        if (ev.value("ph", "") == "f") ends[ev.at("id")].second = ev.at("tid");
    }
    CHECK(ends.size() == delivered(r));
    // One request slice per request, each begun and ended.
    CHECK(count_phase(events, "b") == r.issued);
    CHECK(count_phase(events, "e") == r.issued);
    // A view slice per replica (each stays in view 0), closed at the end.
    CHECK(count_phase(events, "B") == 4);
    CHECK(count_phase(events, "E") == 4);
}

TEST_CASE("the OTLP export has a resource per node, a span per request and per view") {
    const Exported e = export_run(testing::pbft_base(4, 5));
    const sim::RunResult& r = *e.run.result;
    const json& resources = e.otlp["resourceSpans"];
    REQUIRE(resources.size() == 5);
    std::size_t requests = 0, views = 0, events = 0;
    std::set<std::string> span_ids;
    for (const json& res : resources) {
        const json& spans = res["scopeSpans"][0]["spans"];
        for (const json& s : spans) {
            CHECK(s["traceId"].get<std::string>().size() == 32);
            CHECK(s["spanId"].get<std::string>().size() == 16);
            span_ids.insert(s["spanId"].get<std::string>());
            CHECK(std::stoll(s["endTimeUnixNano"].get<std::string>()) >=
                  std::stoll(s["startTimeUnixNano"].get<std::string>()));
            const std::string name = s["name"];
            requests += name.rfind("request", 0) == 0 ? 1 : 0;
            views += name.rfind("view", 0) == 0 ? 1 : 0;
            events += s["events"].size();
        }
    }
    CHECK(requests == r.issued);
    CHECK(views == 4);
    CHECK(span_ids.size() == requests + views);
    // The replicas' view spans hold the messages they received (well under the cap here).
    std::uint64_t to_replicas = 0;
    for (std::uint32_t n = 0; n < 4; ++n)
        for (std::size_t k = 0; k < r.kind_names.size(); ++k)
            to_replicas += r.counters[n * r.kind_names.size() + k].delivered;
    CHECK(events == to_replicas + r.local_messages);
}

TEST_CASE("the HTML report's window holds the messages before a violation") {
    const sim::ScenarioSpec spec = sim::load_scenario(
        std::string(BYZSIM_SOURCE_ROOT) + "/scenarios/mutations/pbft-commit_quorum_2f.json");
    reports::TraceWindow window;
    sim::SimOptions opts;
    opts.sink = &window;
    auto sim = protocols::build(spec, opts);
    const sim::RunResult& r = sim->run();
    REQUIRE(r.violation);
    window.finish(r.end_time.ns, r.violation ? std::optional(r.violation->time.ns) : std::nullopt);
    const auto [from, to] = window.bounds();
    CHECK(to == r.violation->time.ns);
    CHECK(!window.messages().empty());
    for (const auto& m : window.messages()) {
        CHECK(m.at >= from);
        CHECK(m.at <= to);
    }
    const std::string page =
        reports::report_html(spec, r, {"test", "x.json", "byzsim run x", 1}, window);
    CHECK(page.find("id=\"diagram\"") != std::string::npos);
    std::size_t arrows = 0;
    for (std::size_t at = page.find("class=\"arrow"); at != std::string::npos;
         at = page.find("class=\"arrow", at + 1))
        ++arrows;
    CHECK(arrows == window.messages().size());
}
