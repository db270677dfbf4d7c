// libFuzzer target: a report.json as `byzsim replay` reads it. Text within the JSON bounds is
// checked field by field and its scenario validated (tools/report_read.hpp); an accepted
// report's scenario is run again for at most 20,000 events, or to the budget it stopped at.
// Whatever the input, it must end in a report or a ScenarioError: an exception of another kind
// escapes and libFuzzer reports it, as it reports a crash, a hang or a sanitizer finding.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocols/registry.hpp"
#include "sim/simulator.hpp"
#include "tools/report_read.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    tools::ReportInput rep;
    try {
        rep = tools::parse_report(text);
    } catch (const sim::ScenarioError&) {
        return 0;
    }
    if (rep.spec.nodes > 32) return 0;
    sim::SimOptions opts;
    opts.max_events = rep.max_events ? std::min<std::uint64_t>(rep.max_events, 20'000) : 20'000;
    opts.keep_request_rows = false;
    protocols::build(rep.spec, opts)->run();
    return 0;
}
