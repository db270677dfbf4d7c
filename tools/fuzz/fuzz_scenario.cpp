// libFuzzer target: a scenario file as `byzsim validate`, `run` and `shrink` read it (a failure
// file is a scenario too). Text within the JSON bounds is parsed and validated; a valid
// scenario, or the concrete one its seed draws, is built and run for at most 20,000 events.
// Whatever the input, it must end in a scenario or a ScenarioError: an exception of another
// kind escapes and libFuzzer reports it, as it reports a crash, a hang or a sanitizer finding.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocols/registry.hpp"
#include "sim/scenario.hpp"
#include "sim/simulator.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        sim::ScenarioSpec spec = sim::parse_scenario(sim::parse_json_text(text, "input"));
        protocols::validate(spec);
        if (spec.randomize) spec = protocols::concrete_scenario(spec, spec.seed);
        // Setting up a thousand replicas is validation's business, not the run's.
        if (spec.nodes > 32) return 0;
        sim::SimOptions opts;
        opts.max_events = 20'000;
        opts.keep_request_rows = false;
        protocols::build(spec, opts)->run();
    } catch (const sim::ScenarioError&) {
    }
    return 0;
}
