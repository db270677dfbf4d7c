#include "protocols/mapek/factory.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "protocols/hotstuff/factory.hpp"
#include "protocols/hotstuff/mutations.hpp"
#include "protocols/mapek/agent.hpp"
#include "protocols/mapek/knowledge.hpp"
#include "protocols/mapek/world.hpp"
#include "protocols/pbft/factory.hpp"
#include "protocols/pbft/replica.hpp"

namespace mapek {

namespace {

// The consensus's own scenario: its name, its mutations, the replicas' own behaviours.
sim::ScenarioSpec consensus_spec(const sim::ScenarioSpec& spec, Config& cfg) {
    sim::ScenarioSpec c = spec;
    const auto named = spec.source.find("protocol");
    if (named != spec.source.end() && named->is_object() && named->contains("name") &&
        (*named)["name"] != cfg.consensus)
        throw sim::ScenarioError(
            "/protocol/name",
            fmt::format("the MAPE-K loop runs on /mapek/consensus = '{}'", cfg.consensus));
    c.protocol = cfg.consensus;
    if (auto m = c.protocol_params.find("mutations");
        m != c.protocol_params.end() && m->is_array()) {
        // The loop's bugs are taken out here; each other name must be the consensus's.
        const std::vector<std::string> theirs =
            cfg.consensus == "pbft" ? pbft::mutation_names() : hotstuff::mutation_names();
        nlohmann::json rest = nlohmann::json::array();
        for (std::size_t i = 0; i < m->size(); ++i) {
            const nlohmann::json& name = (*m)[i];
            const std::string at = fmt::format("/protocol/mutations/{}", i);
            if (!name.is_string()) throw sim::ScenarioError(at, "expected a mutation's name");
            const std::string text = name.get<std::string>();
            const auto bug = std::find(kBugNames.begin(), kBugNames.end(), text);
            if (bug != kBugNames.end()) {
                cfg.bugs[static_cast<std::size_t>(bug - kBugNames.begin())] = true;
            } else if (std::find(theirs.begin(), theirs.end(), text) != theirs.end()) {
                rest.push_back(name);
            } else {
                throw sim::ScenarioError(
                    at, fmt::format("unknown mutation '{}'; the MAPE-K loop has {}, {} has {}",
                                    text, fmt::join(kBugNames, ", "), cfg.consensus,
                                    fmt::join(theirs, ", ")));
            }
        }
        *m = rest;
    }
    std::erase_if(c.faults, [](const sim::FaultSpec& f) {
        return f.type == sim::FaultSpec::Type::Byzantine && is_lie(f.behavior);
    });
    return c;
}

}  // namespace

System assemble(const sim::ScenarioSpec& spec) {
    Config cfg = read_config(spec);
    const sim::ScenarioSpec c = consensus_spec(spec, cfg);
    auto shared = std::make_shared<const Config>(std::move(cfg));
    System s{shared, {}, 0, std::make_shared<DecodeMemo>()};
    const proto::AppFactory app = knowledge_factory(shared, s.memo);
    s.consensus =
        c.protocol == "pbft" ? pbft::make_protocol(c, app) : hotstuff::make_protocol(c, app);
    s.reading_kind = static_cast<std::uint16_t>(s.consensus.kind_names.size());
    s.consensus.kind_names.emplace_back("READING");
    return s;
}

std::unique_ptr<sim::Simulator> build(const sim::ScenarioSpec& spec, sim::SimOptions opts) {
    System s = assemble(spec);
    const protocols::Protocol& p = s.consensus;
    auto sim = std::make_unique<sim::Simulator>(spec, p.kind_names, opts);
    std::vector<bool> faulty(spec.nodes, false);
    for (std::uint32_t i = 0; i < spec.nodes; ++i) {
        faulty[i] = p.byzantine(sim::NodeId(i)) || !s.cfg->lies[i].empty();
        sim->add_actor(p.make_replica(sim::NodeId(i)), faulty[i]);
    }
    sim->set_factory(p.make_replica);
    sim->set_compare_states(p.total_order);
    sim->set_held_bound(p.held_bound);
    sim->set_wire_monitor(p.monitor);
    // Agents send their decisions as the consensus's own clients send requests.
    const Agent::Sending sending{p.client_target, p.clients_send_to_all};
    for (std::uint32_t i = 0; i < spec.nodes; ++i)
        sim->add_actor(std::make_unique<Agent>(s.cfg, i, s.reading_kind, sending),
                       !s.cfg->lies[i].empty());
    const sim::CheckerConfig cc = sim::checker_config_for(spec);
    const std::uint64_t seed = sim::RandomStream(spec.seed).fork("mapek/world").seed();
    sim->set_environment(std::make_unique<World>(s.cfg, seed, cc.liveness_from,
                                                 cc.liveness_expected, std::move(faulty), s.memo));
    return sim;
}

std::vector<std::string> mutation_names() {
    return {kBugNames.begin(), kBugNames.end()};
}

}  // namespace mapek
