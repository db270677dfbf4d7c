// Network rules per message and view-keyed partitions, on toy actors (the engine alone) and on
// PBFT (holds released by a protocol event).
#include <doctest/doctest.h>

#include <vector>

#include "protocols/hotstuff/messages.hpp"
#include "protocols/registry.hpp"
#include "sim/randomize.hpp"
#include "sim/rules.hpp"
#include "sim/simulator.hpp"
#include "tests/helpers.hpp"

namespace {

using nlohmann::json;

// A message of kind 0 ("A") or 1 ("B") that names a view (or none) and a number.
struct Numbered : sim::Payload {
    std::uint64_t number = 0;
    std::uint64_t view = sim::Rounds::kNone;
    sim::Rounds rounds() const override {
        sim::Rounds r;
        r.view = view;
        return r;
    }
};

struct Received {
    sim::SimTime at;
    std::uint32_t from;
    std::uint64_t number;
};

// Node 0 sends `plan[i]` at i ms (kind, view, to); it enters view `enter_view[i]` first when
// that is set. Every node records what it receives.
struct Step {
    std::uint16_t kind = 0;
    std::uint64_t view = sim::Rounds::kNone;
    std::uint32_t to = 1;
    std::uint64_t enter_view = sim::Rounds::kNone;
};

class Toy final : public sim::Actor {
public:
    Toy(std::vector<Step> plan, std::vector<Received>* log) : plan_(std::move(plan)), log_(log) {}
    void on_start(sim::Context& ctx) override {
        for (std::size_t i = 0; i < plan_.size(); ++i)
            ctx.set_timer(sim::milliseconds(static_cast<std::int64_t>(i)), i);
    }
    void on_message(sim::Context& ctx, sim::NodeId from, const sim::Payload& msg) override {
        log_->push_back({ctx.now(), from.v, static_cast<const Numbered&>(msg).number});
    }
    void on_timer(sim::Context& ctx, std::uint64_t tag) override {
        const Step& s = plan_[tag];
        if (s.enter_view != sim::Rounds::kNone) ctx.view_entered(s.enter_view);
        auto [ref, m] = sim::make_payload<Numbered>();
        m->kind = s.kind;
        m->number = tag;
        m->view = s.view;
        m->digest = sim::Digest{tag + 1};
        ctx.send(sim::NodeId(s.to), ref);
    }

private:
    std::vector<Step> plan_;
    std::vector<Received>* log_;
};

json toy_doc(json faults) {
    return {{"name", "toy"},
            {"nodes", 4},
            {"network", {{"delay", "1ms"}}},
            {"workload", {{"clients", 1}, {"requests", 0}}},
            {"faults", std::move(faults)},
            {"stop", {{"at", "1s"}}}};
}

struct ToyRun {
    std::vector<Received> log;
    sim::RunResult result;
};

ToyRun run_toy(const json& doc, const std::vector<Step>& plan) {
    ToyRun out;
    const sim::ScenarioSpec spec = sim::parse_scenario(doc);
    sim::check_rule_kinds(spec, {"A", "B"});
    sim::Simulator s(spec, {"A", "B"});
    s.add_actor(std::make_unique<Toy>(plan, &out.log));
    for (int i = 1; i < 5; ++i) s.add_actor(std::make_unique<Toy>(std::vector<Step>{}, &out.log));
    out.result = s.run();
    return out;
}

std::vector<std::uint64_t> numbers(const std::vector<Received>& log) {
    std::vector<std::uint64_t> out;
    for (const Received& r : log) out.push_back(r.number);
    return out;
}

std::uint64_t drops(const sim::RunResult& r, sim::DropReason why) {
    return r.drops[static_cast<std::size_t>(why)];
}

}  // namespace

TEST_CASE("rules: a hold keeps matching messages until its time and releases them in send order") {
    // Kind A to node 1 is held until 10ms; kind B passes. Sends at 0..5ms, alternating kinds.
    const json rule = {{"type", "rule"},
                       {"match", {{"kind", "A"}, {"to", 1}}},
                       {"action", {{"hold", {{"until", "10ms"}}}}}};
    std::vector<Step> plan;
    for (int i = 0; i < 6; ++i) plan.push_back({static_cast<std::uint16_t>(i % 2)});
    const ToyRun t = run_toy(toy_doc(json::array({rule})), plan);
    REQUIRE(t.log.size() == 6);
    // B (odd numbers) arrive one delay after their send; A (even) at 10ms + 1ms, in send order.
    CHECK(numbers(t.log) == std::vector<std::uint64_t>{1, 3, 5, 0, 2, 4});
    CHECK(t.log[0].at == sim::milliseconds(2));
    CHECK(t.log[2].at == sim::milliseconds(6));
    for (int i = 3; i < 6; ++i)
        CHECK(t.log[static_cast<std::size_t>(i)].at == sim::milliseconds(11));
    CHECK(drops(t.result, sim::DropReason::Held) == 0);
    CHECK(t.result.held_by_rules == 3);
}

TEST_CASE("rules: a message sent after its hold's time has passed goes straight through") {
    const json rule = {{"type", "rule"}, {"action", {{"hold", {{"until", "2ms"}}}}}};
    const ToyRun t = run_toy(toy_doc(json::array({rule})), std::vector<Step>(4));
    // Sends at 0 and 1ms wait to 2ms (+1ms); those at 2 and 3ms are not held.
    REQUIRE(t.log.size() == 4);
    CHECK(numbers(t.log) == std::vector<std::uint64_t>{0, 1, 2, 3});
    CHECK(t.log[0].at == sim::milliseconds(3));
    CHECK(t.log[1].at == sim::milliseconds(3));
    CHECK(t.log[2].at == sim::milliseconds(3));
    CHECK(t.log[3].at == sim::milliseconds(4));
}

TEST_CASE("rules: drop matches a view range, and a message naming no view never matches it") {
    const json rule = {{"type", "rule"}, {"match", {{"view", {2, 3}}}}, {"action", "drop"}};
    std::vector<Step> plan;
    for (std::uint64_t v = 1; v <= 5; ++v) plan.push_back({0, v});
    plan.push_back({1});  // no view
    const ToyRun t = run_toy(toy_doc(json::array({rule})), plan);
    CHECK(numbers(t.log) == std::vector<std::uint64_t>{0, 3, 4, 5});
    CHECK(drops(t.result, sim::DropReason::Rule) == 2);
    CHECK(t.result.total_for_kind(0).dropped == 2);
}

TEST_CASE("rules: the first rule in file order that matches decides; windows bound each rule") {
    // Rule 0 (drop to node 2) shadows rule 1 (duplicate everything) for node 2 only; rule 1
    // stops at 3ms.
    const json faults = {{{"type", "rule"}, {"match", {{"to", 2}}}, {"action", "drop"}},
                         {{"type", "rule"}, {"until", "3ms"}, {"action", {{"duplicate", 3}}}}};
    const std::vector<Step> plan = {{0, sim::Rounds::kNone, 1},
                                    {0, sim::Rounds::kNone, 2},
                                    {0, sim::Rounds::kNone, 1},
                                    {0, sim::Rounds::kNone, 1}};
    const ToyRun t = run_toy(toy_doc(faults), plan);
    CHECK(numbers(t.log) == std::vector<std::uint64_t>{0, 0, 0, 2, 2, 2, 3});
    CHECK(drops(t.result, sim::DropReason::Rule) == 1);
}

TEST_CASE("rules: a delayed message arrives later by the rule's delay and may be overtaken") {
    const json rule = {{"type", "rule"},
                       {"match", {{"kind", "A"}}},
                       {"at", "0ms"},
                       {"until", "1ms"},
                       {"action", {{"delay", "5ms"}}}};
    const std::vector<Step> plan = {{0}, {1}};
    const ToyRun t = run_toy(toy_doc(json::array({rule})), plan);
    REQUIRE(t.log.size() == 2);
    CHECK(t.log[0].number == 1);
    CHECK(t.log[0].at == sim::milliseconds(2));
    CHECK(t.log[1].number == 0);
    CHECK(t.log[1].at == sim::milliseconds(6));
}

TEST_CASE("rules: a view-keyed partition cuts only while the sender's view is in range") {
    // Node 0 enters views 1..5 before sending to node 2, which is on the other side.
    const json part = {{"type", "partition"}, {"groups", {{0, 1}, {2, 3}}}, {"views", {2, 4}}};
    std::vector<Step> plan;
    for (std::uint64_t v = 1; v <= 5; ++v) plan.push_back({0, v, 2, v});
    plan.push_back({0, 3, 1});  // same side: never cut
    const ToyRun t = run_toy(toy_doc(json::array({part})), plan);
    CHECK(numbers(t.log) == std::vector<std::uint64_t>{0, 4, 5});
    CHECK(drops(t.result, sim::DropReason::Partition) == 3);
}

TEST_CASE("rules: messages still held when the run ends are counted as held") {
    const json rule = {
        {"type", "rule"},
        {"action", {{"hold", {{"until", {{"view", {{"node", 3}, {"at_least", 9}}}}}}}}}};
    const ToyRun t = run_toy(toy_doc(json::array({rule})), std::vector<Step>(3));
    CHECK(t.log.empty());
    CHECK(drops(t.result, sim::DropReason::Held) == 3);
}

TEST_CASE("rules: rules are tried in document order, whatever their start time") {
    // Listed first but starting later: from 2ms on it drops what the second rule would
    // duplicate; before 2ms only the second applies.
    const json faults = {{{"type", "rule"}, {"at", "2ms"}, {"action", "drop"}},
                         {{"type", "rule"}, {"action", {{"duplicate", 2}}}}};
    const ToyRun t = run_toy(toy_doc(faults), std::vector<Step>(4));
    CHECK(numbers(t.log) == std::vector<std::uint64_t>{0, 0, 1, 1});
    CHECK(drops(t.result, sim::DropReason::Rule) == 2);
}

TEST_CASE("rules: once a hold is over, later rules decide") {
    const json faults = {{{"type", "rule"}, {"action", {{"hold", {{"until", "2ms"}}}}}},
                         {{"type", "rule"}, {"match", {{"kind", "A"}}}, {"action", "drop"}}};
    const ToyRun t = run_toy(toy_doc(faults), std::vector<Step>(4));
    // Sent at 0 and 1ms: held, then released at 2ms (past the rules); 2 and 3ms: dropped.
    CHECK(numbers(t.log) == std::vector<std::uint64_t>{0, 1});
    CHECK(drops(t.result, sim::DropReason::Rule) == 2);
}

TEST_CASE("rules: a rule naming a message type the protocol lacks is refused at its path") {
    const json rule = {
        {"type", "rule"}, {"match", {{"kind", {"A", "PREPAER"}}}}, {"action", "drop"}};
    const sim::ScenarioSpec spec = sim::parse_scenario(toy_doc(json::array({rule})));
    try {
        sim::check_rule_kinds(spec, {"A", "B"});
        FAIL("accepted an unknown kind");
    } catch (const sim::ScenarioError& e) {
        CHECK(e.path() == "/faults/0/match/kind/1");
        CHECK(e.reason().find("PREPAER") != std::string::npos);
    }
}

TEST_CASE("rules: pbft: COMMITs to replica 3 held until replica 0 executes index 1") {
    json doc = testing::pbft_base(4, 3);
    doc["faults"] = {
        {{"type", "rule"},
         {"match", {{"kind", "COMMIT"}, {"to", 3}}},
         {"action", {{"hold", {{"until", {{"committed", {{"node", 0}, {"index", 1}}}}}}}}}}};
    sim::SimOptions opts;
    opts.keep_commit_log = true;
    auto r = testing::run(doc, opts);
    REQUIRE_FALSE(r.result->violation);
    CHECK(r.result->accepted == 3);
    // Replica 0 executes index 1 at 4d = 4ms (fault-free timing); replica 3 only gets the
    // COMMITs then, one delay later.
    sim::SimTime first0{-1}, first3{-1};
    for (const sim::CommitEntry& c : r.result->commit_log) {
        if (c.index != 1) continue;
        if (c.node == 0) first0 = c.time;
        if (c.node == 3) first3 = c.time;
    }
    CHECK(first0 == sim::milliseconds(4));
    CHECK(first3 == sim::milliseconds(5));
    // The same scenario gives the same fingerprint.
    CHECK(testing::run(doc).result->fingerprint == r.result->fingerprint);
}

namespace {

json rule_swarm_doc() {
    json doc = testing::hotstuff_base(4, 20, 1);
    doc["stop"]["at"] = "10s";
    doc["randomize"] = {{"rules",
                         {{"count", {0, 3}},
                          {"at", {"0s", "1s"}},
                          {"duration", {"10ms", "300ms"}},
                          {"views", {2, 6}}}},
                        {"partitions",
                         {{"count", {0, 1}},
                          {"kinds", {"view_split"}},
                          {"views", {1, 5}},
                          {"at", {"0s", "1s"}},
                          {"duration", {"10ms", "300ms"}}}}};
    return doc;
}

std::string refusal(const json& doc) {
    try {
        protocols::validate(sim::parse_scenario(doc));
    } catch (const sim::ScenarioError& e) {
        return e.path();
    }
    return "(accepted)";
}

}  // namespace

TEST_CASE("randomize: drawn rules name the protocol's message types and end inside the run") {
    const sim::ScenarioSpec spec = sim::parse_scenario(rule_swarm_doc());
    const std::vector<std::string> kinds = hotstuff::kind_names();
    int with_rules = 0, with_views = 0, holds = 0, view_splits = 0;
    const int seeds = 200;
    for (int seed = 1; seed <= seeds; ++seed) {
        const sim::ScenarioSpec s = protocols::concrete_scenario(spec, seed);
        int rules = 0;
        for (const sim::FaultSpec& f : s.faults) {
            if (f.type == sim::FaultSpec::Type::Partition) {
                REQUIRE(f.views);
                CHECK(f.views->lo >= 1);
                CHECK(f.views->hi <= 5);
                CHECK(f.until);
                ++view_splits;
            }
            if (!f.rule) continue;
            ++rules;
            REQUIRE(f.until);
            CHECK(*f.until <= s.stop.at);
            REQUIRE(f.rule->kinds.size() == 1);
            CHECK(std::find(kinds.begin(), kinds.end(), f.rule->kinds[0]) != kinds.end());
            if (f.rule->view) {
                ++with_views;
                CHECK(f.rule->view->lo >= 2);
                CHECK(f.rule->view->hi <= 6);
            }
            if (f.rule->action == sim::RuleSpec::Action::Hold) {
                ++holds;
                CHECK(f.rule->release == sim::RuleSpec::Release::Time);
                CHECK(f.rule->release_at == *f.until);  // a hold ends with its window
            }
        }
        CHECK(rules <= 3);
        with_rules += rules > 0;
    }
    // Swarm: rules on for about half the seeds; every option drawn some of the time.
    CHECK(with_rules > seeds / 4);
    CHECK(with_rules < seeds * 3 / 4);
    CHECK(with_views > 0);
    CHECK(holds > 0);
    CHECK(view_splits > 0);
}

TEST_CASE("randomize: with kinds_per_rule, each rule matches that many distinct types") {
    json doc = rule_swarm_doc();
    const std::vector<std::string> from = {"PROPOSAL", "VOTE", "NEW-VIEW"};
    doc["randomize"]["rules"]["kinds"] = from;
    doc["randomize"]["rules"]["kinds_per_rule"] = {1, 2};
    const sim::ScenarioSpec spec = sim::parse_scenario(doc);
    int sizes[3] = {0, 0, 0};
    for (int seed = 1; seed <= 200; ++seed) {
        for (const sim::FaultSpec& f : protocols::concrete_scenario(spec, seed).faults) {
            if (!f.rule) continue;
            const auto& k = f.rule->kinds;
            REQUIRE((k.size() == 1 || k.size() == 2));
            ++sizes[k.size()];
            for (const std::string& name : k)
                CHECK(std::find(from.begin(), from.end(), name) != from.end());
            if (k.size() == 2) {  // distinct, in the order of `kinds`
                const auto a = std::find(from.begin(), from.end(), k[0]);
                CHECK(a < std::find(from.begin(), from.end(), k[1]));
            }
        }
    }
    CHECK(sizes[1] > 0);
    CHECK(sizes[2] > 0);
    doc["randomize"]["rules"]["kinds_per_rule"] = 4;  // more than the three listed
    CHECK(refusal(doc) == "/randomize/rules/kinds_per_rule");
    doc["randomize"]["rules"]["kinds_per_rule"] = 0;
    CHECK(refusal(doc) == "/randomize/rules/kinds_per_rule");
    doc["randomize"]["rules"].erase("kinds");  // HotStuff has fewer than 64 types
    doc["randomize"]["rules"]["kinds_per_rule"] = 64;
    CHECK(refusal(doc) == "/randomize/rules/kinds_per_rule");
}

TEST_CASE("randomize: a bad rules section is refused at its JSON path") {
    json doc = rule_swarm_doc();
    doc["randomize"]["rules"]["kinds"] = {"VOTE", "PREPARE"};  // PREPARE is PBFT's
    CHECK(refusal(doc) == "/randomize/rules/kinds/1");
    doc = rule_swarm_doc();
    doc["randomize"]["rules"]["actions"] = {"drop", "teleport"};
    CHECK(refusal(doc) == "/randomize/rules/actions/1");
    doc = rule_swarm_doc();
    doc["randomize"]["rules"]["delay"] = {"1ms", "61m"};
    CHECK(refusal(doc) == "/randomize/rules/delay");
    doc = rule_swarm_doc();
    doc["randomize"]["rules"].erase("at");
    CHECK(refusal(doc) == "/randomize/rules/at");
    doc = rule_swarm_doc();
    doc["randomize"]["partitions"]["views"] = {5, 1};
    CHECK(refusal(doc) == "/randomize/partitions/views/1");
    doc = rule_swarm_doc();
    doc["randomize"]["rules"]["kinds"] = {"VOTE"};
    CHECK(refusal(doc) == "(accepted)");
}
