#include "tools/cli.hpp"

#include <algorithm>

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

std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t comma = std::min(text.find(',', start), text.size());
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

void no_options(po::options_description&) {}

}  // namespace cli
