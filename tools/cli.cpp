#include "tools/cli.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <system_error>

#include <fmt/format.h>

#include "byzsim_version.h"
#include "protocols/registry.hpp"

namespace cli {

[[noreturn]] void throw_input_error(const std::string& file, const sim::ScenarioError& e,
                                    std::string_view path_prefix) {
    const std::string path = std::string(path_prefix) + e.path();
    throw InputError(path.empty() ? fmt::format("{}: {}", file, e.reason())
                                  : fmt::format("{}: {}: {}", file, path, e.reason()),
                     "scenarios/FORMAT.md describes every key (scenarios/schema.json checks a "
                     "file as you edit it); `byzsim list` names what a scenario may use");
}

std::string shell_quote(std::string_view word) {
    const auto plain = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               std::string_view("_-./=:,+@%").find(c) != std::string_view::npos;
    };
    if (!word.empty() && std::all_of(word.begin(), word.end(), plain)) return std::string(word);
    std::string out = "'";
    for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

sim::ScenarioSpec load(const std::string& file) {
    try {
        sim::ScenarioSpec spec = sim::load_scenario(file);
        protocols::validate(spec);
        return spec;
    } catch (const sim::ScenarioError& e) {
        throw_input_error(file, e);
    }
}

std::vector<std::string> split_list(const std::string& text, char separator) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t comma = std::min(text.find(separator, start), text.size());
        if (comma > start) out.push_back(text.substr(start, comma - start));
        start = comma + 1;
    }
    return out;
}

Simulation simulate(const sim::ScenarioSpec& spec, const std::string& file, sim::SimOptions opts,
                    std::string_view path_prefix) {
    try {
        Simulation s;
        s.sim = protocols::build(spec, std::move(opts));
        s.result = &s.sim->run();
        return s;
    } catch (const sim::ScenarioError& e) {
        throw_input_error(file, e, path_prefix);
    }
}

void print_header(std::uint64_t seed, const std::string& file, const std::string& name) {
    fmt::print("byzsim {} seed {} scenario {} ({})\n", BYZSIM_VERSION, seed, file, name);
    std::fflush(stdout);  // shown even if the run never returns
}

void add_budget_options(po::options_description& d) {
    auto add = d.add_options();
    add("max-events", po::value<std::string>()->value_name("N"),
        fmt::format("stop the run cleanly after N events (\"stop: event budget\"); 0: no "
                    "limit. Without it, a scenario estimated to need more than {} events is "
                    "refused, and a run stops there",
                    protocols::Budget::kDefaultEvents)
            .c_str());
    add("max-memory", po::value<std::string>()->value_name("SIZE"),
        fmt::format("refuse a scenario estimated to need more memory than SIZE bytes (suffixes "
                    "K, M, G, T: powers of 1024; 0: no limit; default {})",
                    protocols::bytes_text(protocols::Budget::kDefaultBytes))
            .c_str());
}

protocols::Budget read_budget(const po::variables_map& vm, const std::string& verb) {
    protocols::Budget b;
    const auto number = [&](const char* option, bool suffixes) {
        const std::string text = vm[option].as<std::string>();
        std::uint64_t v = 0;
        const char* end = text.data() + text.size();
        const auto [ptr, ec] = std::from_chars(text.data(), end, v);
        int shift = 0;
        if (suffixes && ptr + 1 == end) {
            const std::string_view units = "KMGT";
            const std::size_t u = units.find(static_cast<char>(std::toupper(*ptr)));
            shift = u == std::string_view::npos ? -1 : 10 * static_cast<int>(u + 1);
        } else if (ptr != end) {
            shift = -1;
        }
        if (text.empty() || ec != std::errc() || shift < 0 || (v > (~std::uint64_t{0} >> shift)))
            throw UsageError(fmt::format("--{}: expected {}, got '{}'", option,
                                         suffixes ? "a size in bytes (e.g. 8G)" : "a count", text),
                             verb);
        return v << shift;
    };
    b.cut = vm.count("max-events") > 0;
    if (b.cut) b.events = number("max-events", false);
    if (vm.count("max-memory")) b.bytes = number("max-memory", true);
    if (b.events == 0) b.events = ~std::uint64_t{0};
    if (b.bytes == 0) b.bytes = ~std::uint64_t{0};
    return b;
}

void no_options(po::options_description&) {}

}  // namespace cli
