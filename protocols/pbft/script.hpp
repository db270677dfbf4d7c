// A Byzantine PBFT primary's script, the behaviour "script" (after HotStuff's leader script,
// protocols/hotstuff/script.hpp): per view in which this replica is primary, what its
// PRE-PREPAREs carry: the sequence number, the batch, and who gets them. Views the script does
// not list, and listed views this replica does not lead (primary = v mod n), run honestly; in a
// listed view it leads, every PRE-PREPARE its honest core sends is replaced.
//
//   {"type": "byzantine", "node": 1, "behavior": "script", "params": {"script": [
//      {"view": 1, "seq": "next", "requests": "duplicate", "to": [0, 2]},
//      {"view": 5, "seq": 900, "requests": "none"}]}}
//
// Per step: `view` (required, steps in increasing views); `seq`: "next" (the honest number) or
// N, where the view's first PRE-PREPARE goes out at N and each later one as many numbers after
// N as the honest one is after the first (a gap, a number reused, one above the high watermark);
// `requests`: "honest" (the batch), "none" (the null request: an empty batch), "duplicate" (the
// batch with its first request again) or "other" (in its place one request for client n, the
// first client, signed by this replica: no client signed it); `to`: the replicas that get it
// (default every backup; itself, if listed, gets nothing). Every PRE-PREPARE is signed with the
// replica's own key and its digest is its batch's: only the choices are Byzantine. NEW-VIEW's O
// is never rewritten.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "protocols/pbft/messages.hpp"
#include "sim/scenario.hpp"

namespace pbft {

struct ScriptStep {
    enum class Requests : std::uint8_t { Honest, None, Duplicate, Other };
    std::uint64_t view = 0;
    std::optional<std::uint64_t> seq;  // N; none: "next"
    Requests requests = Requests::Honest;
    std::vector<std::uint32_t> to;  // with to_all false
    bool to_all = true;
};

// Reads `params.script` of a "script" entry; sim::ScenarioError at the path.
std::vector<ScriptStep> parse_script(const sim::FaultSpec& f, const sim::ScenarioSpec& spec);

class PrimaryScript {
public:
    explicit PrimaryScript(std::vector<ScriptStep> steps) : steps_(std::move(steps)) {}

    // What to send `to` in place of the honest PRE-PREPARE `pp` (this replica's, as primary of
    // pp.v): `original` when no step covers pp.v, null when `to` is not among the step's
    // recipients, else the scripted PRE-PREPARE (made once per (v, n), so every recipient gets
    // the same one).
    sim::PayloadRef rewrite(sim::Context& ctx, const PrePrepare& pp,
                            const sim::PayloadRef& original, NodeId to);

private:
    const ScriptStep* step_for(std::uint64_t view) const;
    MessageRef craft(sim::Context& ctx, const ScriptStep& s, const PrePrepare& honest);
    std::vector<ClientMessageRef> batch(sim::Context& ctx, const ScriptStep& s,
                                        const PrePrepare& honest) const;

    static constexpr std::size_t kKept = 256;
    std::vector<ScriptStep> steps_;                 // by view
    std::map<std::uint64_t, std::uint64_t> first_;  // scripted view -> its first honest n
    std::map<std::pair<std::uint64_t, std::uint64_t>, MessageRef> crafted_;  // (v, honest n)
};

}  // namespace pbft
