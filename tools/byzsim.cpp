// byzsim: the command line. `byzsim <verb> [operands] [options]`; one row of kVerbs per verb.
//
// Exit codes: 0 ok (no violation, or the scenario's expectations met), 1 a violation or a failed
// expectation or a replay mismatch, 2 bad input or usage, 3 an internal error.
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <boost/program_options.hpp>

#include "byzsim_version.h"
#include "sim/scenario.hpp"
#include "tools/cli.hpp"
#include "tools/term.hpp"

namespace {

using namespace cli;

constexpr std::size_t kOneOrMore = SIZE_MAX;  // Verb::operand_count: any number but zero

struct Verb {
    std::string_view name;
    std::string_view operands;  // for the usage line, e.g. "SCENARIO"
    std::size_t operand_count;  // exactly this many are required, or kOneOrMore
    std::string_view summary;
    void (*add_options)(po::options_description&);
    int (*run)(const Operands& operands, const po::variables_map& vm);
};

// ---- the table of verbs and the dispatcher -------------------------------------------------

// New verbs (compare, sweep, shrink, merge, hunt) are one row each.
const Verb kVerbs[] = {
    {"run", "SCENARIO", 1, "run a scenario, print its summary, optionally write reports",
     add_run_options, run_verb},
    {"replay", "REPORT", 1, "re-run a report.json (or its directory); check the fingerprint",
     no_options, replay_verb},
    {"validate", "SCENARIO...", kOneOrMore,
     "check scenario files without running them; exit 2 if any is refused", no_options,
     validate_verb},
    {"compare", "SCENARIO", 1,
     "run one workload under several protocols and sizes; a table and compare.csv",
     add_compare_options, compare_verb},
    {"sweep", "SCENARIO", 1,
     "run many seeds in worker processes; sweep.csv and failures/seed-N.json", add_sweep_options,
     sweep_verb},
    {"merge", "DIR...", kOneOrMore, "join the output directories of a sharded sweep",
     add_merge_options, merge_verb},
    {"shrink", "FAILURE", 1, "reduce a failing scenario while the same invariant still fails",
     add_shrink_options, shrink_verb},
    {"hunt", "SCENARIO...", kOneOrMore,
     "sweep each seeded bug (mutation) of the protocol until found, and shrink it; hunt.csv",
     add_hunt_options, hunt_verb},
    {"list", "", 0,
     "what a scenario may name: protocols, behaviours, faults, rules, mutations, invariants",
     add_list_options, list_verb},
};

const Verb* find_verb(std::string_view name) {
    for (const Verb& v : kVerbs)
        if (v.name == name) return &v;
    return nullptr;
}

po::options_description options_of(const Verb& verb) {
    po::options_description d("options");
    d.add_options()("help,h", "show this help");
    verb.add_options(d);
    return d;
}

std::string verb_usage(const Verb& verb) {
    std::ostringstream opts;
    opts << options_of(verb);
    return fmt::format("usage: byzsim {} {} [options]\n\n{}\n\n{}", verb.name, verb.operands,
                       verb.summary, opts.str());
}

std::string general_usage() {
    std::string out = "usage: byzsim <verb> [operands] [options]\n\nverbs:\n";
    for (const Verb& v : kVerbs) {
        out += fmt::format("  {:<20}{}\n", fmt::format("{} {}", v.name, v.operands), v.summary);
    }
    out += fmt::format("  {:<20}{}\n", "help [VERB]", "show this help, or a verb's");
    out +=
        "\noptions:\n  -h, --help          show this help\n"
        "  --version           print the version\n"
        "\nexit codes: 0 ok or expectations met, 1 violation, failed expectation or replay "
        "mismatch,\n            2 bad input or usage, 3 internal error\n";
    return out;
}

int help_verb(const Operands& operands, const po::variables_map&) {
    if (operands.empty()) {
        fmt::print("{}", general_usage());
        return kExitOk;
    }
    const Verb* v = find_verb(operands[0]);
    if (!v) throw UsageError(fmt::format("no help for unknown verb '{}'", operands[0]), "");
    fmt::print("{}", verb_usage(*v));
    return kExitOk;
}

int run_verb_line(const Verb& verb, const Operands& args) {
    po::options_description visible = options_of(verb);
    po::options_description all;
    all.add(visible).add_options()("operand", po::value<Operands>(), "");
    po::positional_options_description positional;
    positional.add("operand", -1);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
        // --help works alone: before notify() insists on a verb's required options.
        if (vm.count("help")) {
            fmt::print("{}", verb_usage(verb));
            return kExitOk;
        }
        po::notify(vm);
    } catch (const po::error& e) {
        throw UsageError(e.what(), std::string(verb.name));
    }
    const Operands operands = vm.count("operand") ? vm["operand"].as<Operands>() : Operands{};
    if (verb.operand_count == kOneOrMore ? operands.empty()
                                         : operands.size() != verb.operand_count) {
        const std::string count = verb.operand_count == kOneOrMore
                                      ? std::string("one or more")
                                      : std::to_string(verb.operand_count);
        throw UsageError(fmt::format("'{}' takes {} operand(s) ({}), got {}", verb.name, count,
                                     verb.operands, operands.size()),
                         std::string(verb.name));
    }
    return verb.run(operands, vm);
}

int dispatch(const Operands& args) {
    if (args.empty()) {
        fmt::print(stderr, "{}", general_usage());
        return kExitUsage;
    }
    const std::string& first = args[0];
    const Operands rest(args.begin() + 1, args.end());
    if (first == "--help" || first == "-h" || first == "help") {
        if (rest.size() > 1) throw UsageError("help takes at most one verb", "");
        return help_verb(rest, {});
    }
    if (first == "--version") {
        fmt::print("byzsim {}\n", BYZSIM_VERSION);
        return kExitOk;
    }
    const Verb* verb = find_verb(first);
    if (!verb) throw UsageError(fmt::format("unknown verb '{}'", first), "");
    return run_verb_line(*verb, rest);
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return dispatch(Operands(argv + 1, argv + argc));
    } catch (const UsageError& e) {
        term::print_error(e.what(), fmt::format("run 'byzsim help{}' for usage",
                                                e.verb().empty() ? "" : " " + e.verb()));
        return kExitUsage;
    } catch (const InputError& e) {
        term::print_error(e.what(), e.hint());
        return kExitUsage;
    } catch (const sim::ScenarioError& e) {
        // Every path above names the file; this is a net for one that does not.
        term::print_error(e.what(), "");
        return kExitUsage;
    } catch (const std::exception& e) {
        std::fflush(stdout);
        fmt::print(stderr, "internal error: {}\n", e.what());
        return kExitInternal;
    } catch (...) {
        std::fflush(stdout);
        fmt::print(stderr, "internal error: unknown exception\n");
        return kExitInternal;
    }
}
