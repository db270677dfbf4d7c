// libFuzzer target: a line of a sweep's journal or sweep.csv as `byzsim sweep --resume` and
// `byzsim merge` read it. A line is a row or nothing; a row written back reads as itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "tools/seed_run.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string line(reinterpret_cast<const char*>(data), size);
    const auto row = tools::parse_sweep_csv_line(line);
    if (!row) return 0;
    const std::string again = tools::sweep_csv_line(*row);
    const auto back = tools::parse_sweep_csv_line(again.substr(0, again.size() - 1));
    if (!back || tools::sweep_csv_line(*back) != again) std::abort();
    return 0;
}
