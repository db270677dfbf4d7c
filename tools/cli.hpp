// byzsim's command line, shared by its verbs: operands, exit codes, the two errors that end a
// verb with exit 2, the helpers several verbs use, and each verb's options and entry point
// (byzsim.cpp holds the table of verbs and the dispatcher; byzsim_run.cpp run;
// byzsim_replay.cpp replay and validate; byzsim_compare.cpp compare; byzsim_search.cpp sweep,
// merge, shrink and hunt; list.cpp list).
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <boost/program_options.hpp>

#include "protocols/cost.hpp"
#include "sim/scenario.hpp"
#include "sim/simulator.hpp"

namespace cli {

namespace po = boost::program_options;
using Operands = std::vector<std::string>;

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitInternal = 3;
constexpr int kExitInterrupted = 130;

// Bad input: "error: <what>", then "hint: <hint>" when there is a next step to suggest; exit 2.
class InputError : public std::runtime_error {
public:
    explicit InputError(const std::string& what, std::string hint = {})
        : std::runtime_error(what), hint_(std::move(hint)) {}
    const std::string& hint() const { return hint_; }

private:
    std::string hint_;
};

// A malformed command line: "error: <what>" and a hint to the verb's help, exit 2.
class UsageError : public std::runtime_error {
public:
    UsageError(const std::string& what, std::string verb)
        : std::runtime_error(what), verb_(std::move(verb)) {}
    const std::string& verb() const { return verb_; }

private:
    std::string verb_;
};

// "error: <file>: <path>: <reason>"; the path is left out for file-level errors.
[[noreturn]] void throw_input_error(const std::string& file, const sim::ScenarioError& e,
                                    std::string_view path_prefix = "");
// A word the shell passes through unchanged, or the word in single quotes.
std::string shell_quote(std::string_view word);
// Loads and fully validates a scenario file, engine and protocol parts both.
sim::ScenarioSpec load(const std::string& file);
// "a,b,,c" -> {a, b, c}.
std::vector<std::string> split_list(const std::string& text, char separator = ',');

struct Simulation {
    std::unique_ptr<sim::Simulator> sim;
    const sim::RunResult* result = nullptr;
};
// Builds and runs; scenario errors found only now are still reported against `file`, at their
// path under `path_prefix` (a report's "/scenario").
Simulation simulate(const sim::ScenarioSpec& spec, const std::string& file,
                    sim::SimOptions opts = {}, std::string_view path_prefix = "");
// --max-events N and --max-memory SIZE: the budget a run's estimate must fit and its events
// stop at (protocols/cost.hpp); N = 0 lifts the event budget.
void add_budget_options(po::options_description& d);
protocols::Budget read_budget(const po::variables_map& vm, const std::string& verb);
// "byzsim VERSION seed N scenario FILE (NAME)", flushed.
void print_header(std::uint64_t seed, const std::string& file, const std::string& name);

// The verbs: each adds its options and runs with its operands.
void no_options(po::options_description&);
void add_run_options(po::options_description& d);
int run_verb(const Operands& operands, const po::variables_map& vm);
int replay_verb(const Operands& operands, const po::variables_map& vm);
int validate_verb(const Operands& operands, const po::variables_map& vm);
void add_compare_options(po::options_description& d);
int compare_verb(const Operands& operands, const po::variables_map& vm);
void add_sweep_options(po::options_description& d);
int sweep_verb(const Operands& operands, const po::variables_map& vm);
void add_merge_options(po::options_description& d);
int merge_verb(const Operands& operands, const po::variables_map& vm);
void add_shrink_options(po::options_description& d);
int shrink_verb(const Operands& operands, const po::variables_map& vm);
void add_hunt_options(po::options_description& d);
int hunt_verb(const Operands& operands, const po::variables_map& vm);
void add_list_options(po::options_description& d);
int list_verb(const Operands& operands, const po::variables_map& vm);

}  // namespace cli
