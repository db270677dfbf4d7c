// Seeded bugs ("/protocol/mutations"): each shipped scenario under scenarios/mutations/ must make
// the checker report its named invariant with the mutation on, and run safely without it.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <span>
#include <string>

#include "tests/helpers.hpp"

namespace {

struct Case {
    const char* file;       // under scenarios/mutations/
    const char* invariant;  // what the checker must report with the mutation on
};

constexpr Case kPbftCases[] = {
    {"pbft-commit_quorum_2f.json", "committed_local"},
    {"pbft-prepare_ignores_digest.json", "prepared_once"},
    {"pbft-new_primary_ignores_p_sets.json", "committed_kept"},
    {"pbft-backups_skip_o_check.json", "committed_kept"},
    {"pbft-out_of_order_execution.json", "agreement"},
    {"pbft-transfer_without_reply_cache.json", "integrity"},
    {"pbft-recover_arms_view_change_timer.json", "view_change_timer"},
    {"pbft-trust_stored_digest.json", "view_change_timer"},
    {"pbft-no_checkpoint_resend.json", "liveness"},
    {"pbft-accept_replica_requests.json", "validity"},
    {"pbft-no_catch_up.json", "catch_up"},
    {"pbft-one_request_timer.json", "liveness"},
    {"pbft-keep_old_view_timers.json", "view_change_timer"},
    {"pbft-no_idle_status.json", "catch_up"},
    {"pbft-proof_above_executed_only.json", "catch_up"},
    {"pbft-forget_committed_cert.json", "catch_up"},
    {"pbft-bounded_idle_status.json", "catch_up"},
    {"pbft-long_status_backoff.json", "catch_up"},
    {"pbft-reason_ends_idle_round.json", "catch_up"},
    {"pbft-uncapped_view_change_backoff.json", "liveness"},
    {"pbft-propose_before_new_view_installed.json", "sign_once"},
    {"pbft-unbounded_buffers.json", "bounded_state"},
};

// Most were found by `byzsim hunt` and shrunk; the wire monitor (protocols/hotstuff/monitor.hpp)
// reports the safeNode, quorum and 3-chain ones from what the replicas send.
constexpr Case kHotStuffCases[] = {
    {"hotstuff-two_chain_commit.json", "three_chain"},
    {"hotstuff-no_consecutive_view_check.json", "three_chain"},
    {"hotstuff-accept_small_qc.json", "quorum"},
    {"hotstuff-vote_without_lock_check.json", "safe_node"},
    {"hotstuff-forget_lock_after_restart.json", "safe_node"},
    {"hotstuff-basic_leader_waits_for_work.json", "liveness"},
    {"hotstuff-prune_without_snapshots.json", "liveness"},
    {"hotstuff-trust_block_commands.json", "validity"},
    {"hotstuff-trust_block_height.json", "agreement"},
    {"hotstuff-trust_proposal_view.json", "liveness"},
    {"hotstuff-idle_by_own_commit.json", "liveness"},
    {"hotstuff-silent_after_vote.json", "liveness"},
    {"hotstuff-trust_author_caches.json", "integrity"},
    {"hotstuff-bounded_idle_sync.json", "catch_up"},
    {"hotstuff-one_timer_per_view.json", "liveness"},
    {"hotstuff-no_idle_sync.json", "catch_up"},
    {"hotstuff-uncapped_view_timer.json", "liveness"},
    {"hotstuff-sync_votes_never_expire.json", "catch_up"},
    {"hotstuff-lock_by_height.json", "safe_node"},
    {"hotstuff-ignore_old_decide.json", "catch_up"},
};

constexpr Case kRbcCases[] = {
    {"rbc-trust_send_request.json", "validity"},
    {"rbc-ready_needs_quorum_only.json", "totality"},
};

// The MAPE-K loop's own (protocols/mapek/config.hpp), found by the hunt on its sweep.
constexpr Case kMapekCases[] = {
    {"mapek-skip_justification.json", "mapek_false_action"},
    {"mapek-mean_instead_of_median.json", "mapek_aggregate"},
    {"mapek-execute_on_propose.json", "mapek_uncommitted"},
};

// scenarios/regressions/: the defect each shows, kept as a mutation; the file expects safe.
struct Regression {
    const char* file;
    const char* mutation;  // or several, comma-separated
    const char* invariant;
    const char* dir = "regressions";  // under scenarios/
};
constexpr Regression kRegressions[] = {
    {"pbft-recovered-replica-never-catches-up.json", "no_catch_up", "catch_up"},
    {"pbft-lagging-replica-alone-in-view-change.json", "no_catch_up", "catch_up"},
    // Masked by the fixes of silent_after_vote and bounded_idle_sync since: the old behaviour
    // needs all three.
    {"hotstuff-idle-leader-ahead.json", "idle_by_own_commit,silent_after_vote,bounded_idle_sync",
     "liveness"},
    {"hotstuff-lock-by-height.json", "lock_by_height", "safe_node"},
    {"hotstuff-seeded-block-caches.json", "trust_author_caches", "three_chain"},
    {"hotstuff-basic-slow-network.json", "one_timer_per_view", "liveness"},
    {"hotstuff-view-ahead-after-vote.json", "silent_after_vote", "liveness"},
    {"hotstuff-cut-off-past-idle-sync.json", "bounded_idle_sync", "catch_up"},
    {"pbft-cut-off-past-idle-status.json", "bounded_idle_status", "catch_up"},
    {"pbft-recover-arms-view-change-timer.json", "recover_arms_view_change_timer",
     "view_change_timer"},
    // A flood of messages for later views: the buffers' bounds hold honest memory.
    {"far_future.json", "unbounded_buffers", "bounded_state", "pbft"},
};

nlohmann::json load(const std::string& file, const char* dir = "mutations") {
    std::ifstream in(std::string(BYZSIM_SOURCE_ROOT) + "/scenarios/" + dir + "/" + file);
    REQUIRE(in.good());
    return nlohmann::json::parse(in);
}

// The scenario with the mutation on, then without it (and without its expectations).
void check_case(const Case& c) {
    const std::string file = c.file;
    CAPTURE(file);
    nlohmann::json doc = load(c.file);
    REQUIRE(!doc["protocol"]["mutations"].empty());  // more than one: a bug another fix masks
    auto mutated = testing::run(doc);
    REQUIRE(mutated.result->violation);
    CHECK(mutated.result->violation->invariant == c.invariant);

    doc.erase("expect");
    // A bug that later fixes mask comes with those fixes undone (the mutations after the
    // first): they alone must not fail here, or the file would show them, not the bug.
    const nlohmann::json masks(doc["protocol"]["mutations"].begin() + 1,
                               doc["protocol"]["mutations"].end());
    if (!masks.empty()) {
        nlohmann::json masked = doc;
        masked["protocol"]["mutations"] = masks;
        CHECK_FALSE(testing::run(masked).result->violation);
    }
    doc["protocol"].erase("mutations");
    auto honest = testing::run(doc);
    CHECK_FALSE(honest.result->violation);
}

nlohmann::json with_mutations(nlohmann::json doc, nlohmann::json names) {
    doc["protocol"]["mutations"] = std::move(names);
    return doc;
}

}  // namespace

TEST_CASE("mutations: each seeded PBFT bug trips its invariant, and the honest PBFT is safe") {
    for (const Case& c : kPbftCases) check_case(c);
}

TEST_CASE("mutations: each seeded HotStuff bug trips its invariant, and honest HotStuff is safe") {
    for (const Case& c : kHotStuffCases) check_case(c);
}

TEST_CASE("mutations: each seeded RBC bug trips its invariant, and honest RBC is safe") {
    for (const Case& c : kRbcCases) check_case(c);
}

TEST_CASE("mutations: each seeded MAPE-K bug trips its invariant, and the honest loop is safe") {
    for (const Case& c : kMapekCases) check_case(c);
}

TEST_CASE(
    "mutations: a lagging replica, a lost reply cache and an unchecked height, seen with "
    "no protocol monitor") {
    // The checker's generic invariants alone see these: the wire monitor is taken away.
    for (const Case& c : {Case{"pbft-no_catch_up.json", "catch_up"},
                          Case{"pbft-transfer_without_reply_cache.json", "integrity"},
                          Case{"hotstuff-trust_block_height.json", "agreement"}}) {
        const std::string file = c.file;
        CAPTURE(file);
        testing::Run r;
        r.sim = protocols::build(testing::spec_from(load(c.file)), sim::SimOptions{});
        r.sim->set_wire_monitor([](const sim::MonitorEnv&) { return nullptr; });
        const sim::RunResult& result = r.sim->run();
        REQUIRE(result.violation);
        CHECK(result.violation->invariant == c.invariant);
    }
}

TEST_CASE("mutations: every scenario under scenarios/mutations/ is one of the cases above") {
    std::set<std::string> cases;
    for (const auto& list :
         {std::span<const Case>(kPbftCases), std::span<const Case>(kHotStuffCases),
          std::span<const Case>(kRbcCases), std::span<const Case>(kMapekCases)})
        for (const Case& c : list) cases.insert(c.file);
    std::set<std::string> files;
    for (const auto& e : std::filesystem::directory_iterator(std::string(BYZSIM_SOURCE_ROOT) +
                                                             "/scenarios/mutations"))
        files.insert(e.path().filename().string());
    CHECK(files == cases);
}

TEST_CASE("mutations: each regression is safe, and shows its defect again with the old behaviour") {
    for (const Regression& r : kRegressions) {
        const std::string file = r.file;
        CAPTURE(file);
        nlohmann::json doc = load(r.file, r.dir);
        REQUIRE(doc["expect"]["outcome"] == "safe");
        doc.erase("expect");
        CHECK_FALSE(testing::run(doc).result->violation);
        nlohmann::json names = nlohmann::json::array();
        for (std::string rest = r.mutation; !rest.empty();) {
            const std::size_t comma = rest.find(',');
            names.push_back(rest.substr(0, comma));
            rest = comma == std::string::npos ? "" : rest.substr(comma + 1);
        }
        auto mutated = testing::run(with_mutations(doc, names));
        REQUIRE(mutated.result->violation);
        CHECK(mutated.result->violation->invariant == r.invariant);
    }
}

TEST_CASE("mutations: an unknown name is refused at its JSON path with the valid names") {
    const auto base = testing::pbft_base(4, 1);
    CHECK_THROWS_WITH_AS(
        protocols::validate(sim::parse_scenario(
            with_mutations(base, nlohmann::json::array({"commit_quorum_2f", "typo"})))),
        "/protocol/mutations/1: unknown mutation 'typo'; expected one of: "
        "commit_quorum_2f, prepare_ignores_digest, new_primary_ignores_p_sets, "
        "backups_skip_o_check, out_of_order_execution, transfer_without_reply_cache, "
        "trust_stored_digest, no_checkpoint_resend, accept_replica_requests, no_catch_up, "
        "one_request_timer, "
        "propose_before_new_view_installed, keep_old_view_timers, no_idle_status, "
        "proof_above_executed_only, forget_committed_cert, "
        "recover_arms_view_change_timer, bounded_idle_status, long_status_backoff, "
        "reason_ends_idle_round, uncapped_view_change_backoff, unbounded_buffers",
        sim::ScenarioError);
    CHECK_THROWS_WITH_AS(
        protocols::validate(sim::parse_scenario(with_mutations(
            testing::hotstuff_base(4, 1, 1), nlohmann::json::array({"three_chain_commit"})))),
        "/protocol/mutations/0: unknown mutation 'three_chain_commit'; expected one of: "
        "two_chain_commit, no_consecutive_view_check, vote_without_lock_check, accept_small_qc, "
        "forget_lock_after_restart, basic_leader_waits_for_work, prune_without_snapshots, "
        "trust_block_commands, trust_block_height, trust_proposal_view, idle_by_own_commit, "
        "ignore_old_decide, lock_by_height, trust_author_caches, one_timer_per_view, no_idle_sync, "
        "silent_after_vote, bounded_idle_sync, uncapped_view_timer, sync_votes_never_expire",
        sim::ScenarioError);
    CHECK_THROWS_AS(protocols::validate(sim::parse_scenario(with_mutations(base, "typo"))),
                    sim::ScenarioError);
    CHECK_THROWS_AS(protocols::validate(sim::parse_scenario(with_mutations(
                        base, nlohmann::json::array({"commit_quorum_2f", "commit_quorum_2f"})))),
                    sim::ScenarioError);
}

TEST_CASE("mutations: an empty list runs exactly the honest protocol (same fingerprint)") {
    const auto base = testing::pbft_base(4, 20);
    const auto plain = testing::run(base);
    const auto empty = testing::run(with_mutations(base, nlohmann::json::array()));
    CHECK(plain.result->fingerprint == empty.result->fingerprint);
}
