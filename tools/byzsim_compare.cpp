// byzsim compare: one workload under several protocols and sizes, or a MAPE-K loop under each
// coordination; a table, compare.csv and compare.html.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "reports/report.hpp"
#include "sim/scenario.hpp"
#include "tools/cli.hpp"
#include "tools/compare.hpp"
#include "tools/compare_loops.hpp"

namespace cli {

namespace fs = std::filesystem;

void add_compare_options(po::options_description& d) {
    auto add = d.add_options();
    add("protocols", po::value<std::string>()->value_name("P,P")->default_value("pbft,hotstuff"),
        "protocols to compare");
    add("nodes", po::value<std::string>()->value_name("N,N")->default_value("4,7,16,31,64"),
        "replica counts");
    add("coordination",
        po::value<std::string>()->value_name("C,C")->default_value("bft,local,leader"),
        "a MAPE-K scenario: the coordinations to compare (instead of protocols and sizes)");
    add("out", po::value<std::string>()->value_name("DIR"), "write compare.csv here");
}

namespace {

// The table, compare.csv under --out, and exit 1 if a row was not safe.
template <class Row>
int print_compare(const std::string& table, const std::string& csv, const std::vector<Row>& rows,
                  const po::variables_map& vm, const std::string& html = {}) {
    fmt::print("{}", table);
    if (vm.count("out")) {
        const fs::path dir = vm["out"].as<std::string>();
        reports::write_atomic(dir / "compare.csv", csv);
        if (!html.empty()) reports::write_atomic(dir / "compare.html", html);
        fmt::print("wrote {}{}\n", (dir / "compare.csv").string(),
                   html.empty() ? "" : " and compare.html");
    }
    for (const auto& r : rows)
        if (r.outcome != "safe") return kExitFailed;
    return kExitOk;
}

// A MAPE-K scenario under each coordination: one row each.
int compare_loops_verb(const std::string& file, const sim::ScenarioSpec& spec,
                       const po::variables_map& vm) {
    const auto coordinations = split_list(vm["coordination"].as<std::string>());
    for (const auto& c : coordinations)
        if (c != "bft" && c != "local" && c != "leader")
            throw UsageError(fmt::format("--coordination: '{}' is not bft, local or leader", c),
                             "compare");
    std::vector<tools::LoopRow> rows;
    try {
        rows = tools::compare_loops(spec.source, coordinations);
    } catch (const sim::ScenarioError& e) {
        throw_input_error(file, e);
    }
    return print_compare(tools::loops_table(rows), tools::loops_csv(rows), rows, vm);
}

}  // namespace

int compare_verb(const Operands& operands, const po::variables_map& vm) {
    const std::string& file = operands[0];
    const sim::ScenarioSpec spec = load(file);
    if (spec.system == "mapek") return compare_loops_verb(file, spec, vm);
    const auto protocols = split_list(vm["protocols"].as<std::string>());
    std::vector<std::uint32_t> sizes;
    for (const auto& word : split_list(vm["nodes"].as<std::string>())) {
        if (word.empty() || word.size() > 4 || word.find_first_not_of("0123456789") != word.npos ||
            std::stoul(word) < 1 || std::stoul(word) > 1024)
            throw UsageError(
                fmt::format("--nodes: '{}' is not a replica count from 1 to 1024", word),
                "compare");
        sizes.push_back(static_cast<std::uint32_t>(std::stoul(word)));
    }
    if (protocols.empty() || sizes.empty())
        throw UsageError("--protocols and --nodes need at least one value each", "compare");
    std::vector<tools::CompareRow> rows;
    try {
        rows = tools::compare(spec.source, protocols, sizes);
    } catch (const sim::ScenarioError& e) {
        throw_input_error(file, e);
    }
    return print_compare(tools::compare_table(rows), tools::compare_csv(rows), rows, vm,
                         tools::compare_html(rows, spec.name));
}

}  // namespace cli
