// A Byzantine HotStuff leader's script, the behaviour "script" (after the Twins paper's leader
// schedules and the schedules of the HotStuff paper's safety argument): per view, what this
// replica proposes when it leads that view, on which QC, to whom, with which height and
// commands. Views the script does not list run honestly; a listed view replaces the proposal
// the replica would make as that view's leader (a leader with nothing to propose makes none).
//
//   {"type": "byzantine", "node": 1, "behavior": "script", "params": {"script": [
//      {"view": 5, "parent": "qc:2", "to": [0, 2]},
//      {"view": 9, "height": 40, "commands": "invented"}]}}
//
// Per step: `view` (required, steps in increasing views); `parent`: "high" (the leader's
// highest QC, the honest choice) or "qc:V" (the QC for view V it saw on the wire, "qc:0" the
// genesis QC; unseen: the honest proposal, traced); `to`: the replicas that get the proposal
// (default all); `height`:
// the block's height (default: the certified block's + 1); `commands`: "honest", "none", or
// the honest commands and one more: "duplicate" (the first command again), "invented" (a
// request for a real client, signed by this replica), "own" (a request this replica signs as a
// client under its own id), or "reply" (a REPLY where a request belongs). The block and the leader
// statement are always signed with this replica's own key: only the choices are Byzantine.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "protocols/hotstuff/messages.hpp"
#include "sim/randomize.hpp"
#include "sim/scenario.hpp"

namespace hotstuff {

struct ScriptStep {
    enum class Commands : std::uint8_t { Honest, None, Duplicate, Invented, Own, Reply };
    std::uint64_t view = 0;
    std::optional<std::uint64_t> qc_view;  // "qc:V"; none: "high"
    std::vector<std::uint32_t> to;         // with to_all false
    bool to_all = true;
    std::optional<std::uint64_t> height;
    Commands commands = Commands::Honest;
};

// Reads `params.script` of a "script" entry; sim::ScenarioError at the path.
std::vector<ScriptStep> parse_script(const sim::FaultSpec& f, const sim::ScenarioSpec& spec);

// A drawn leader schedule (randomize's leader_schedules) as a scenario states it: the protocol's
// `leaders`, and the Byzantine leader's choices as a "script" fault.
void put_schedule(nlohmann::json& doc, const sim::DrawnSchedule& s);

class LeaderScript {
public:
    explicit LeaderScript(std::vector<ScriptStep> steps) : steps_(std::move(steps)) {}

    // Remembers the QCs it sees, by view (the blocks' justify, NEW-VIEWs', phase messages').
    void observe(const Message& m);
    // What to send `to` in place of the honest proposal `m`: `original` when no step covers its
    // view, null when `to` is not among the step's recipients, else the scripted proposal
    // (made once per view, so every recipient gets the same one).
    sim::PayloadRef rewrite(sim::Context& ctx, const Proposal& m, const sim::PayloadRef& original,
                            NodeId to);

    // A block this script proposed, by digest (null if none): the leader serves what it
    // proposed to a replica, itself included, that fetches it.
    BlockRef crafted(Digest digest) const;

    // Whether `v` is this replica's vote for the honest block of a view whose proposal the
    // script replaced: not sent, or the replica would vote against its own scripted block.
    bool replaced(const Vote& v) const;
    // What goes out instead of a replaced vote: this replica's vote for the block it proposed
    // in that view, as any leader votes for its own proposal (sent where `v` was going).
    MessageRef vote_instead(sim::Context& ctx, const Vote& v) const;

private:
    const ScriptStep* step_for(std::uint64_t view) const;
    MessageRef craft(sim::Context& ctx, const ScriptStep& s, const Block& honest);
    std::vector<ClientMessageRef> commands(sim::Context& ctx, const ScriptStep& s,
                                           const Block& honest) const;
    void keep_qc(const QuorumCert& qc);

    static constexpr std::size_t kQcsKept = 256;
    std::vector<ScriptStep> steps_;                // by view
    std::map<std::uint64_t, QuorumCert> qcs_;      // by view, the newest kQcsKept
    std::map<std::uint64_t, MessageRef> crafted_;  // by view
};

}  // namespace hotstuff
