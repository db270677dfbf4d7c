// byzsim list: what a scenario file may name, one line each, from the registries themselves:
// protocols, Byzantine behaviours and MAPE-K lies, fault types, network-rule actions, seeded
// bugs (mutations) and invariants.
#include <string>
#include <vector>

#include <fmt/format.h>
#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "protocols/hotstuff/byzantine.hpp"
#include "protocols/mapek/config.hpp"
#include "protocols/mapek/factory.hpp"
#include "protocols/pbft/byzantine.hpp"
#include "protocols/rbc/byzantine.hpp"
#include "protocols/registry.hpp"
#include "sim/invariants.hpp"
#include "tools/cli.hpp"

namespace cli {

namespace {

struct Entry {
    std::string what, scope, name, meaning;
};

const char* kSections[] = {"protocol", "behaviour", "fault", "rule", "mutation", "invariant"};

std::vector<Entry> entries() {
    std::vector<Entry> out;
    for (const std::string& p : protocols::protocol_names())
        out.push_back({"protocol", "", p, "/protocol/name; " + protocols::replica_counts(p)});
    out.push_back(
        {"protocol", "", "mapek", "/system: an autonomic MAPE-K loop on PBFT or HotStuff"});
    const auto behaviours = [&](const std::string& scope, const std::vector<std::string>& names) {
        for (const std::string& b : names)
            out.push_back({"behaviour", scope, b, "a byzantine fault's \"behavior\""});
    };
    behaviours("pbft", pbft::behavior_names());
    behaviours("hotstuff", hotstuff::behavior_names());
    behaviours("rbc", rbc::behavior_names());
    for (const char* lie : mapek::kLieNames)
        out.push_back(
            {"behaviour", "mapek", lie, "an agent's lie (a byzantine fault's \"behavior\")"});
    for (const char* f : {"crash", "recover", "partition", "one_way", "isolate", "link",
                          "byzantine", "rule", "params"})
        out.push_back({"fault", "", f, "a /faults entry's \"type\""});
    for (const char* a : {"drop", "delay", "duplicate", "hold"})
        out.push_back({"rule", "", a, "a network rule's action"});
    for (const std::string& p : protocols::protocol_names())
        for (const std::string& m : protocols::mutation_names(p))
            out.push_back({"mutation", p, m, "/protocol/mutations"});
    for (const std::string& m : mapek::mutation_names())
        out.push_back({"mutation", "mapek", m, "/protocol/mutations of a MAPE-K scenario"});
    for (const sim::InvariantInfo& i : sim::kInvariants)
        out.push_back({"invariant", "", i.name, i.meaning});
    return out;
}

}  // namespace

void add_list_options(po::options_description& d) {
    auto add = d.add_options();
    add("only", po::value<std::string>()->value_name("SECTION"),
        "one section: protocol, behaviour, fault, rule, mutation or invariant");
    add("json", po::bool_switch(), "print a JSON array of {what, scope, name, meaning}");
}

int list_verb(const Operands&, const po::variables_map& vm) {
    std::string only;
    if (vm.count("only")) {
        only = vm["only"].as<std::string>();
        if (std::find(std::begin(kSections), std::end(kSections), only) == std::end(kSections))
            throw UsageError(fmt::format("--only: unknown section '{}'; expected protocol, "
                                         "behaviour, fault, rule, mutation or invariant",
                                         only),
                             "list");
    }
    nlohmann::json doc = nlohmann::json::array();
    for (const Entry& e : entries()) {
        if (!only.empty() && e.what != only) continue;
        if (vm["json"].as<bool>()) {
            doc.push_back(
                {{"what", e.what}, {"scope", e.scope}, {"name", e.name}, {"meaning", e.meaning}});
        } else {
            fmt::print("{:<10} {:<9} {:<40} {}\n", e.what, e.scope, e.name, e.meaning);
        }
    }
    if (vm["json"].as<bool>()) fmt::print("{}\n", doc.dump(2));
    return kExitOk;
}

}  // namespace cli
