// libFuzzer target: a scenario file as `byzsim validate`, `run` and `shrink` read it (a failure
// file is a scenario too). Text within the JSON bounds is parsed and validated; a valid
// scenario, or the concrete one its seed draws, is built and run for at most 20,000 events.
// Whatever the input, it must end in a scenario or a ScenarioError: an exception of another
// kind escapes and libFuzzer reports it, as it reports a crash, a hang or a sanitizer finding.
// A randomize section is a family: once validate accepts it, every seed must draw a scenario
// that validate accepts too (a refusal then is a finding: it aborts).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "protocols/registry.hpp"
#include "sim/scenario.hpp"
#include "sim/simulator.hpp"

namespace {

std::optional<sim::ScenarioSpec> valid_scenario(std::string_view text) {
    try {
        sim::ScenarioSpec spec = sim::parse_scenario(sim::parse_json_text(text, "input"));
        protocols::validate(spec);
        return spec;
    } catch (const sim::ScenarioError&) {
        return std::nullopt;
    }
}

// The scenario the file's seed runs; a drawn one that validate refuses aborts.
sim::ScenarioSpec drawn(const sim::ScenarioSpec& spec) {
    if (!spec.randomize) return spec;
    try {
        sim::ScenarioSpec c = protocols::concrete_scenario(spec, spec.seed);
        protocols::validate(c);
        return c;
    } catch (const sim::ScenarioError& e) {
        std::fprintf(stderr,
                     "seed %llu of a valid randomize section drew an invalid scenario: "
                     "%s: %s\n",
                     static_cast<unsigned long long>(spec.seed), e.path().c_str(),
                     e.reason().c_str());
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const std::optional<sim::ScenarioSpec> spec = valid_scenario(text);
    if (!spec) return 0;
    const sim::ScenarioSpec run = drawn(*spec);
    // Setting up a thousand replicas is validation's business, not the run's.
    if (run.nodes > 32) return 0;
    sim::SimOptions opts;
    opts.max_events = 20'000;
    opts.keep_request_rows = false;
    protocols::build(run, opts)->run();
    return 0;
}
