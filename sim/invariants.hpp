// Every invariant a run can report, with what it means in one line: the checker's, the
// executed-log and totality monitors', the protocols' wire monitors' and the MAPE-K loop
// monitor's. A scenario's "/expect/invariant" names one of these; `byzsim list` prints them.
#pragma once

#include <array>

namespace sim {

struct InvariantInfo {
    const char* name;
    const char* meaning;
};

inline constexpr std::array<InvariantInfo, 26> kInvariants = {{
    {"agreement", "two honest replicas executed different requests at one log index"},
    {"validity", "an honest replica executed a request no client issued"},
    {"integrity", "an honest replica executed one request twice"},
    {"client_safety", "a client accepted a result that no f+1 replicas, one honest, computed"},
    {"liveness",
     "after GST and the last fault, an honest client's request was not accepted "
     "within the liveness bound"},
    {"catch_up",
     "an honest replica had not executed, by the liveness bound, an index an honest "
     "replica executed"},
    {"false_evidence", "a replica reported equivocation evidence against an honest node"},
    {"bounded_state",
     "an honest replica held more entries in a table its peers fill than the protocol's "
     "window allows"},
    {"quorum", "an honest replica accepted a certificate with fewer signers than its quorum"},
    {"one_certificate_per_view",
     "honest replicas accepted two certificates for different values "
     "in one view and phase"},
    {"committed_chain_extends",
     "a HotStuff replica committed a block that does not extend the "
     "block it committed before"},
    {"three_chain",
     "an honest HotStuff replica executed a block without a three-chain of QCs "
     "over it (a two-chain in the basic variant)"},
    {"safe_node",
     "an honest HotStuff replica voted for a block that neither extends its lock "
     "nor carries a QC newer than the lock"},
    {"vote_once", "an honest HotStuff replica voted for two blocks in one view"},
    {"totality",
     "an honest process delivered a broadcast that another honest process never "
     "delivered (Bracha RBC)"},
    {"sign_once",
     "an honest PBFT primary signed two PRE-PREPAREs for one view and sequence "
     "number"},
    {"prepared_once",
     "honest PBFT replicas committed different digests at one view and "
     "sequence number"},
    {"committed_kept",
     "a PBFT request f+1 honest replicas committed was replaced in a later "
     "view"},
    {"committed_local",
     "an honest PBFT replica executed a digest fewer than f+1 honest replicas "
     "sent COMMIT for"},
    {"view_change_timer",
     "an honest PBFT replica left a view on the timer of a view it had "
     "already left"},
    {"mapek_justified",
     "an action executed without f+1 valid readings past its threshold from "
     "distinct nodes"},
    {"mapek_false_action",
     "an action executed although no honest reading of its round could "
     "pass the threshold"},
    {"mapek_aggregate",
     "a committed decision records a value outside its honest readings' "
     "range"},
    {"mapek_uncommitted",
     "an action took effect before any honest replica committed its "
     "decision"},
    {"mapek_detection", "the knowledge base marked an honest node suspected or Byzantine"},
    {"mapek_liveness",
     "an anomaly every honest node observed had no action within the loop's "
     "bound"},
}};

}  // namespace sim
