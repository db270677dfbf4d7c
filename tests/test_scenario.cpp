// Scenario parsing: defaults, durations, and every class of bad input refused with its path.
#include <doctest/doctest.h>

#include <unistd.h>
#include <cstdio>
#include <fstream>
#include <string>

#include "sim/scenario.hpp"
#include "tests/scenario_doc.hpp"

using nlohmann::json;
using sim::milliseconds;
using sim::ScenarioError;
using sim::seconds;
using testing::doc_with;
using testing::refusal;

namespace {

sim::SimTime duration(const std::string& text) {
    return sim::parse_duration(text, "/d");
}

std::string duration_refusal(const json& v) {
    try {
        sim::parse_duration(v, "/d");
    } catch (const ScenarioError& e) {
        return e.reason();
    }
    return "<accepted>";
}

// A file under /tmp, unique to this process and test, removed when the test ends.
struct TempFile {
    std::string name;
    explicit TempFile(const std::string& text) {
        static int count = 0;
        name = "/tmp/byzsim_test_scenario_" + std::to_string(::getpid()) + "_" +
               std::to_string(++count) + ".json";
        std::ofstream(name) << text;
    }
    ~TempFile() { std::remove(name.c_str()); }
};

}  // namespace

TEST_CASE("scenario: a minimal document parses with the documented defaults") {
    const sim::ScenarioSpec s = sim::parse_scenario(doc_with(json::object()));
    CHECK(s.name == "t");
    CHECK(s.description.empty());
    CHECK(s.seed == 1);
    CHECK(s.nodes == 4);
    CHECK(s.f == 1);
    CHECK_FALSE(s.allow_unsafe_f);
    CHECK(s.protocol == "pbft");
    CHECK(s.protocol_params == json::object());
    CHECK_FALSE(s.ed25519);
    CHECK(s.costs.per_message == sim::SimTime{});
    CHECK(s.network.defaults.delay.dist == sim::DelaySpec::Dist::Fixed);
    CHECK(s.network.defaults.delay.value == milliseconds(1));
    CHECK(s.network.defaults.loss_ppm == 0);
    CHECK_FALSE(s.network.defaults.reorder);
    CHECK(s.network.queue_capacity == 0);
    CHECK(s.network.links.empty());
    CHECK_FALSE(s.network.gst.has_value());
    CHECK(s.workload.clients == 1);
    CHECK(s.workload.requests == 10);
    CHECK(s.workload.mode == sim::WorkloadSpec::Mode::Closed);
    CHECK(s.workload.retry_timeout == milliseconds(500));
    CHECK(s.faults.empty());
    CHECK(s.stop.at == seconds(60));
    CHECK(s.stop.when_done);
    CHECK(s.liveness_bound == seconds(30));
    CHECK_FALSE(s.expect.present);
    CHECK(s.source == doc_with(json::object()));
}

TEST_CASE("scenario: f defaults to floor((n-1)/3)") {
    CHECK(sim::parse_scenario(doc_with({{"nodes", 1}})).f == 0);
    CHECK(sim::parse_scenario(doc_with({{"nodes", 7}})).f == 2);
    CHECK(sim::parse_scenario(doc_with({{"nodes", 10}})).f == 3);
}

TEST_CASE("scenario: a full document is read into every field") {
    const json doc = json::parse(R"({
        "name": "full", "description": "d", "seed": 18446744073709551615, "nodes": 4,
        "protocol": {"name": "hotstuff", "pacemaker": "round_robin"}, "crypto": "ed25519",
        "costs": {"message": "10us", "sign": "50us", "verify": "100us"},
        "network": {"delay": {"dist": "uniform", "min": "1ms", "max": "3ms"}, "loss": 0.0000007,
                    "duplicate": 0.5, "corrupt": 1, "reorder": true, "queue_capacity": 64,
                    "gst": {"at": "2s", "delta": "5ms"},
                    "links": [{"from": 0, "to": 1, "loss": 0.25}, {"from": 1, "to": 2},
                              {"from": 3, "to": 2, "bidirectional": false}]},
        "workload": {"clients": 3, "requests": 100, "mode": "open", "rate": "50/ms",
                     "think": "1ms", "retry_timeout": "2s", "start": "100ms"},
        "faults": [{"type": "recover", "node": 1, "at": "2s", "state": "lost"},
                   {"type": "crash", "node": 1, "at": "1s"},
                   {"type": "byzantine", "node": 3, "behavior": "equivocate",
                    "params": {"victims": [0]}},
                   {"type": "partition", "at": "1s", "until": "1.5s", "groups": [[0], [2, 1]]},
                   {"type": "one_way", "at": "3s", "from": [0, 1], "to": [2]},
                   {"type": "isolate", "at": "4s", "node": 2, "until": "5s"},
                   {"type": "link", "at": "6s", "from": 1, "to": 0, "delay": "9ms"}],
        "stop": {"at": "10s", "when_done": false},
        "invariants": {"liveness_bound": "5s"},
        "expect": {"outcome": "violation", "invariant": "agreement", "min_commits": 3}
    })");
    const sim::ScenarioSpec s = sim::parse_scenario(doc);
    CHECK(s.seed == 18446744073709551615ull);
    CHECK(s.protocol == "hotstuff");
    CHECK(s.protocol_params == json{{"pacemaker", "round_robin"}});
    CHECK(s.ed25519);
    CHECK(s.costs.per_verify == sim::microseconds(100));
    const sim::LinkSpec& net = s.network.defaults;
    CHECK(net.delay.dist == sim::DelaySpec::Dist::Uniform);
    CHECK(net.delay.max == milliseconds(3));
    CHECK(net.loss_ppm == 1);  // 0.7 ppm rounds to nearest
    CHECK(net.duplicate_ppm == 500000);
    CHECK(net.corrupt_ppm == 1000000);
    CHECK(s.network.queue_capacity == 64);
    CHECK(s.network.gst == seconds(2));
    CHECK(s.network.delta == milliseconds(5));
    REQUIRE(s.network.links.size() == 3);
    CHECK(s.network.links[0].spec.loss_ppm == 250000);
    CHECK(s.network.links[1].spec.loss_ppm == 1);  // inherited
    CHECK(s.network.links[1].spec.reorder);
    CHECK_FALSE(s.network.links[2].bidirectional);
    CHECK(s.workload.mode == sim::WorkloadSpec::Mode::Open);
    CHECK(s.workload.rate_per_s == doctest::Approx(50000.0));
    CHECK(s.workload.start == milliseconds(100));
    REQUIRE(s.faults.size() == 7);
    // Stable sort by time: byzantine (0s), crash (1s), partition (1s), recover (2s), ...
    CHECK(s.faults[0].type == sim::FaultSpec::Type::Byzantine);
    CHECK(s.faults[0].path == "/faults/2");
    CHECK(s.faults[0].params == json{{"victims", {0}}});
    CHECK(s.faults[1].path == "/faults/1");
    CHECK(s.faults[2].type == sim::FaultSpec::Type::Partition);
    CHECK(s.faults[2].groups == std::vector<std::vector<std::uint32_t>>{{0}, {2, 1}, {3}});
    CHECK(s.faults[2].until == milliseconds(1500));
    CHECK(s.faults[3].lose_state);
    CHECK(s.faults[4].from == std::vector<std::uint32_t>{0, 1});
    REQUIRE(s.faults[6].link.has_value());
    CHECK(s.faults[6].link->delay.value == milliseconds(9));
    CHECK(s.faults[6].link->loss_ppm == 250000);  // from link 0-1, which it changes
    CHECK_FALSE(s.stop.when_done);
    CHECK(s.liveness_bound == seconds(5));
    CHECK(s.expect.present);
    CHECK_FALSE(s.expect.safe);
    CHECK(s.expect.invariant == "agreement");
    CHECK(s.expect.min_commits == 3);
}

TEST_CASE("scenario: durations parse exactly in every unit") {
    CHECK(duration("250ms") == milliseconds(250));
    CHECK(duration("1.5s") == milliseconds(1500));
    CHECK(duration("0ms") == sim::SimTime{});
    CHECK(duration("200us") == sim::microseconds(200));
    CHECK(duration("10ns") == sim::nanoseconds(10));
    CHECK(duration("2m") == seconds(120));
    CHECK(duration("0.1m") == seconds(6));
    CHECK(duration("1.000000001s") == sim::nanoseconds(1000000001));
    CHECK(duration("0.0000000001m") == sim::nanoseconds(6));
    CHECK(duration("1.50000000000000000000000s") == milliseconds(1500));
    // The longest a scenario may give: no sum of times in a run overflows (sim/types.hpp).
    CHECK(duration("1000000s") == sim::kMaxDuration);
    CHECK(duration("999999.999999999s") == sim::kMaxDuration - sim::nanoseconds(1));
    CHECK(duration("16666m") == seconds(999960));
}

TEST_CASE("scenario: bad durations are refused with a reason") {
    CHECK(duration_refusal(250).find("needs a unit") != std::string::npos);
    CHECK(duration_refusal(250).find("\"250ms\"") != std::string::npos);
    CHECK(duration_refusal("250").find("missing unit") != std::string::npos);
    CHECK(duration_refusal("-5ms").find("negative") != std::string::npos);
    CHECK(duration_refusal("5h").find("unknown unit 'h'") != std::string::npos);
    CHECK(duration_refusal("5 ms").find("unknown unit") != std::string::npos);
    CHECK(duration_refusal("1.5ns").find("more precise than 1ns") != std::string::npos);
    CHECK(duration_refusal("0.0000000001s").find("more precise") != std::string::npos);
    CHECK(duration_refusal("0.00000000001m").find("more precise") != std::string::npos);
    CHECK(duration_refusal("1.s").find("digits after") != std::string::npos);
    CHECK(duration_refusal(".5s").find("expected a number") != std::string::npos);
    CHECK(duration_refusal("").find("expected a number") != std::string::npos);
    CHECK(duration_refusal("1000000.000000001s").find("at most 1000000s") != std::string::npos);
    CHECK(duration_refusal("16667m").find("too large") != std::string::npos);
    CHECK(duration_refusal("9223372036854775807ns").find("too large") != std::string::npos);
    CHECK(duration_refusal("9223372036854775808ns").find("too large") != std::string::npos);
    CHECK(duration_refusal("153722867.29m").find("too large") != std::string::npos);
    CHECK(duration_refusal("99999999999999999999999s").find("too large") != std::string::npos);
    CHECK(duration_refusal(true).find("expected a duration string") != std::string::npos);
    CHECK(duration_refusal("0.5s") == "<accepted>");
}

TEST_CASE("scenario: durations format in their shortest exact form") {
    CHECK(sim::format_duration(sim::SimTime{}) == "0s");
    CHECK(sim::format_duration(milliseconds(1500)) == "1.5s");
    CHECK(sim::format_duration(milliseconds(250)) == "250ms");
    CHECK(sim::format_duration(milliseconds(500)) == "500ms");
    CHECK(sim::format_duration(sim::microseconds(1500)) == "1.5ms");
    CHECK(sim::format_duration(sim::nanoseconds(7)) == "7ns");
    CHECK(sim::format_duration(seconds(120)) == "2m");
    CHECK(sim::format_duration(seconds(90)) == "90s");
    CHECK(sim::format_duration(sim::nanoseconds(1000000001)) == "1.000000001s");
    CHECK(sim::format_duration(sim::nanoseconds(-2000)) == "-2us");
    for (const char* text :
         {"1.5s", "250ms", "7ns", "2m", "1.000000001s", "999999.999999999s", "1000000s"}) {
        CHECK(sim::format_duration(duration(text)) == text);
    }
}

TEST_CASE("scenario: probabilities become parts per million, rounded to nearest") {
    const auto loss = [](double p) {
        return sim::parse_scenario(doc_with({{"network", {{"loss", p}}}}))
            .network.defaults.loss_ppm;
    };
    CHECK(loss(0) == 0);
    CHECK(loss(1) == 1000000);
    CHECK(loss(0.1) == 100000);
    CHECK(loss(0.0000014) == 1);
    CHECK(loss(0.0000016) == 2);
    CHECK_REFUSED(doc_with({{"network", {{"loss", 1.5}}}}), "/network/loss",
                  "expected a number between 0 and 1, got 1.5");
    CHECK_REFUSED(doc_with({{"network", {{"corrupt", -0.1}}}}), "/network/corrupt", "got -0.1");
    CHECK_REFUSED(doc_with({{"network", {{"duplicate", "1%"}}}}), "/network/duplicate",
                  "got the string \"1%\"");
}

TEST_CASE("scenario: an unknown key is refused with its JSON path") {
    CHECK_REFUSED(doc_with({{"nodess", 4}}), "/nodess", "unknown key 'nodess'");
    CHECK_REFUSED(doc_with({{"network", {{"lossy", 0.1}}}}), "/network/lossy",
                  "unknown key 'lossy'; expected one of: delay, loss, duplicate");
    CHECK_REFUSED(doc_with({{"network", {{"gst", {{"at", "1s"}, {"dt", "1ms"}}}}}}),
                  "/network/gst/dt", "unknown key 'dt'");
    CHECK_REFUSED(doc_with({{"network", {{"links", {{{"from", 0}, {"to", 1}, {"x", 1}}}}}}}),
                  "/network/links/0/x", "unknown key 'x'");
    CHECK_REFUSED(
        doc_with({{"faults", {{{"type", "recover"}, {"at", "1s"}, {"node", 0}, {"until", "2s"}}}}}),
        "/faults/0/until", "unknown key 'until'");
    CHECK_REFUSED(doc_with({{"a/b~c", 1}}), "/a~1b~0c", "unknown key 'a/b~c'");
}

TEST_CASE("scenario: protocol parameters and byzantine params are kept as given") {
    const json doc = doc_with(
        {{"protocol", {{"name", "pbft"}, {"anything", {{"goes", 1}}}}},
         {"faults",
          {{{"type", "byzantine"}, {"node", 0}, {"behavior", "silent"}, {"params", {{"x", 1}}}}}}});
    const sim::ScenarioSpec s = sim::parse_scenario(doc);
    CHECK(s.protocol_params == json{{"anything", {{"goes", 1}}}});
    CHECK(s.faults.at(0).params == json{{"x", 1}});
    CHECK(sim::parse_scenario(doc_with({{"protocol", "hotstuff"}})).protocol == "hotstuff");
    CHECK_REFUSED(doc_with({{"protocol", ""}}), "/protocol", "non-empty string");
    CHECK_REFUSED(doc_with({{"protocol", {{"view", 1}}}}), "/protocol/name", "missing");
    CHECK_REFUSED(doc_with({{"protocol", 3}}), "/protocol", "protocol name");
}

TEST_CASE("scenario: a value of the wrong type is refused with its path") {
    CHECK_REFUSED(json::array(), "", "expected an object, got an array");
    CHECK_REFUSED(doc_with({{"name", 5}}), "/name", "expected a non-empty string, got 5");
    CHECK_REFUSED(doc_with({{"nodes", "4"}}), "/nodes", "got the string \"4\"");
    CHECK_REFUSED(doc_with({{"nodes", 4.0}}), "/nodes", "expected an integer");
    CHECK_REFUSED(doc_with({{"seed", -1}}), "/seed", "expected an integer >= 0, got -1");
    CHECK_REFUSED(doc_with({{"network", {{"reorder", "yes"}}}}), "/network/reorder",
                  "expected true or false");
    CHECK_REFUSED(doc_with({{"network", {{"links", json::array({5})}}}}), "/network/links/0",
                  "expected an object, got 5");
    CHECK_REFUSED(doc_with({{"stop", "10s"}}), "/stop", "expected an object");
    CHECK_REFUSED(doc_with({{"workload", {{"mode", "batch"}}}}), "/workload/mode",
                  "unknown value \"batch\"; expected one of: closed, open");
    CHECK_REFUSED(doc_with({{"crypto", "rsa"}}), "/crypto", "expected one of: simulated, ed25519");
    CHECK_REFUSED(doc_with({{"costs", {{"sign", 5}}}}), "/costs/sign", "needs a unit");
    CHECK_REFUSED(doc_with({{"faults", {{"type", "crash"}}}}), "/faults", "an array of faults");
}

TEST_CASE("scenario: a missing required key is refused at the key's path") {
    CHECK_REFUSED(json::object({{"nodes", 4}}), "/name", "missing required key 'name'");
    CHECK_REFUSED(json::object({{"name", "t"}}), "/nodes", "missing required key 'nodes'");
    CHECK_REFUSED(doc_with({{"faults", {{{"type", "crash"}, {"node", 1}}}}}), "/faults/0/at",
                  "missing required key 'at'");
    CHECK_REFUSED(doc_with({{"faults", {{{"at", "1s"}}}}}), "/faults/0/type",
                  "missing required key 'type'");
    CHECK_REFUSED(doc_with({{"expect", {{"min_commits", 1}}}}), "/expect/outcome",
                  "missing required key 'outcome'");
}

TEST_CASE("scenario: an out-of-range value is refused with its path") {
    CHECK_REFUSED(doc_with({{"nodes", 0}}), "/nodes", "between 1 and 1024, got 0");
    CHECK_REFUSED(doc_with({{"nodes", 1025}}), "/nodes", "between 1 and 1024");
    CHECK_REFUSED(doc_with({{"workload", {{"clients", 0}}}}), "/workload/clients",
                  "between 1 and 10000");
    CHECK_REFUSED(doc_with({{"workload", {{"retry_timeout", "0s"}}}}), "/workload/retry_timeout",
                  "expected a duration > 0");
    CHECK_REFUSED(doc_with({{"workload", {{"rate", 0}}}}), "/workload/rate", "a rate > 0");
    CHECK_REFUSED(doc_with({{"workload", {{"rate", "10/h"}}}}), "/workload/rate", "a rate > 0");
    CHECK_REFUSED(doc_with({{"stop", {{"at", "0s"}}}}), "/stop/at", "expected a duration > 0");
    CHECK_REFUSED(doc_with({{"invariants", {{"liveness_bound", "0ms"}}}}),
                  "/invariants/liveness_bound", "> 0");
    CHECK_REFUSED(doc_with({{"network", {{"gst", {{"at", "1s"}, {"delta", "0s"}}}}}}),
                  "/network/gst/delta", "> 0");
    CHECK_REFUSED(doc_with({{"network", {{"queue_capacity", -1}}}}), "/network/queue_capacity",
                  "between 0 and");
    CHECK(sim::parse_scenario(doc_with({{"workload", {{"rate", "60/m"}}}})).workload.rate_per_s ==
          doctest::Approx(1.0));
}

TEST_CASE("scenario: f above floor((n-1)/3) is refused unless allow_unsafe_f") {
    CHECK_REFUSED(doc_with({{"f", 2}}), "/f",
                  "f = 2 exceeds floor((n-1)/3) = 1 for n = 4; set allow_unsafe_f");
    const sim::ScenarioSpec s = sim::parse_scenario(doc_with({{"f", 2}, {"allow_unsafe_f", true}}));
    CHECK(s.f == 2);
    CHECK(s.allow_unsafe_f);
    CHECK_REFUSED(doc_with({{"f", 4}, {"allow_unsafe_f", true}}), "/f",
                  "f = 4 must be less than n = 4");
    CHECK_REFUSED(doc_with({{"f", 99999999999}}), "/f", "must be less than n = 4");
}

TEST_CASE("scenario: load_scenario reads a file and sets the source") {
    const TempFile file(R"({"name": "from file", "nodes": 7})");
    const sim::ScenarioSpec s = sim::load_scenario(file.name);
    CHECK(s.name == "from file");
    CHECK(s.f == 2);
    CHECK(s.source == json{{"name", "from file"}, {"nodes", 7}});
}

TEST_CASE("scenario: load_scenario refuses malformed JSON naming the file and the line") {
    const TempFile file("{\n  \"name\": \"x\",\n  \"nodes\": 4,\n}\n");
    try {
        sim::load_scenario(file.name);
        FAIL("accepted malformed JSON");
    } catch (const ScenarioError& e) {
        INFO("reason: " << e.reason());
        CHECK(e.path().empty());
        CHECK(e.reason().find(file.name) != std::string::npos);
        CHECK(e.reason().find("not valid JSON: parse error at line 4") != std::string::npos);
    }
}

TEST_CASE("scenario: load_scenario refuses a duplicate key with its path") {
    const TempFile file(R"({"name": "x", "nodes": 4, "network": {"links": [{"from": 0, "to": 1},
        {"from": 1, "to": 2, "to": 3}]}})");
    try {
        sim::load_scenario(file.name);
        FAIL("accepted a duplicate key");
    } catch (const ScenarioError& e) {
        CHECK(e.path() == "/network/links/1/to");
        CHECK(e.reason().find("duplicate key 'to'") != std::string::npos);
    }
}

TEST_CASE("scenario: load_scenario refuses a missing file naming it") {
    const std::string name = "/tmp/byzsim_no_such_scenario_" + std::to_string(::getpid()) + ".json";
    try {
        sim::load_scenario(name);
        FAIL("accepted a missing file");
    } catch (const ScenarioError& e) {
        INFO("reason: " << e.reason());
        CHECK(e.path().empty());
        CHECK(e.reason().find(name) != std::string::npos);
        CHECK(e.reason().find("No such file") != std::string::npos);
    }
}

namespace {

// The error parse_json_text refuses `text` with; path "<accepted>" if it was accepted.
ScenarioError json_refusal(const std::string& text) {
    try {
        sim::parse_json_text(text, "t");
    } catch (const ScenarioError& e) {
        return e;
    }
    return ScenarioError("<accepted>", "");
}

}  // namespace

TEST_CASE("scenario: JSON beyond the bounds is refused where the bound is passed") {
    using B = sim::JsonBounds;
    // Nesting: 32 levels are read, the 33rd is refused at the path of the 32nd.
    const auto nested = [](std::size_t depth) {
        return std::string(depth, '[') + std::string(depth, ']');
    };
    CHECK(json_refusal(nested(B::kDepth)).path() == "<accepted>");
    const ScenarioError deep = json_refusal(nested(B::kDepth + 1));
    std::string path;
    for (std::size_t i = 0; i < B::kDepth; ++i) path += "/0";
    CHECK(deep.path() == path);  // the 33rd array, element 0 of the 32nd
    CHECK(deep.reason().find("nested deeper than 32") != std::string::npos);
    CHECK(json_refusal(std::string(1'000'000, '[')).reason().find("nested deeper") !=
          std::string::npos);
    // A string, and a key, of 64 KiB are read; one byte more is refused at its path.
    const std::string at_bound(B::kString, 'x'), over(B::kString + 1, 'x');
    CHECK(json_refusal(R"({"a": ")" + at_bound + "\"}").path() == "<accepted>");
    CHECK(json_refusal(R"({"a": [1, ")" + over + "\"]}").path() == "/a/1");
    CHECK(json_refusal("{\"" + over + "\": 1}").reason().find("a key longer") != std::string::npos);
    // An array of 100,000 elements is read, one more is refused at the element past the bound.
    std::string array = "{\"a\": [0";
    for (std::size_t i = 1; i < B::kElements; ++i) array += ",0";
    CHECK(json_refusal(array + "]}").path() == "<accepted>");
    const ScenarioError many = json_refusal(array + ",0]}");
    CHECK(many.path() == "/a/100000");
    CHECK(many.reason().find("more than 100000 elements") != std::string::npos);
    // A whole text above 16 MiB is refused before it is parsed.
    const ScenarioError large = json_refusal(std::string(B::kBytes + 1, ' '));
    CHECK(large.path().empty());
    CHECK(large.reason().find("larger than 16 MiB") != std::string::npos);
}
