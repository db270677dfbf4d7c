// The knowledge base: the MAPE-K loop's replicated service. Every honest replica executes the
// same committed decisions in the same order; its state digest, which the protocol certifies
// like any service's, covers the decisions taken, the evidence seen and the nodes it marked.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include <boost/container/small_vector.hpp>

#include "protocols/common/application.hpp"
#include "protocols/mapek/config.hpp"
#include "protocols/mapek/messages.hpp"

namespace mapek {

// The value a decision records for its readings: their median (lower middle), or under the
// mean_instead_of_median bug their mean. The second reorders `values`.
std::int64_t aggregate(const Config& cfg, std::vector<std::int64_t> values);
std::int64_t aggregate_in(const Config& cfg, std::span<std::int64_t> values);
// Room for the readings of one decision without a heap allocation, up to 16 nodes.
using Values = boost::container::small_vector<std::int64_t, 16>;

// The honest replicas' check of a decision before it is ordered: a known workflow and the
// action for its metric; readings of that (workflow, metric, round) from at least 2f+1 distinct
// nodes, each signed by its node's agent, at least f+1 of them past the threshold; and the
// aggregate they give. Returns why not, or nothing.
std::optional<std::string> unjustified(const Config& cfg, sim::Context& ctx, const Decision& d);

// What executing a decision did.
// Cleared: an outcome recorded against the action it reports on.
enum class Outcome : std::uint8_t { Executed, Redundant, Malformed, Cleared };
inline constexpr std::array<const char*, 4> kOutcomeNames = {"executed", "redundant", "malformed",
                                                             "cleared"};

// A node the knowledge base marked, from the readings in the decisions it executed: two
// signed readings of one (workflow, metric, round) that differ prove it Byzantine; a reading
// farther from its decision's median than two honest noise bounds, `suspect_after` times,
// makes it suspected (an honest reading never is: the median of 2f+1 with at most f liars lies
// within the honest readings, each within one noise bound of the truth).
enum class Mark : std::uint8_t { None, Suspected, Byzantine };

// A run's decisions decoded, by the bytes they came from: every replica checks and executes
// each decision, and decoding its 2f+1 readings once instead of three times per replica is most
// of what a decision costs the replicas. An entry holds its bytes (immutable) while it lives, so
// it answers for exactly those bytes; a decision's result is a function of its bytes alone.
class DecodeMemo {
public:
    // Nothing for bytes that are not one encoded decision.
    const Decision* get(const proto::AppData& data);
    // The same for bytes the memo may not hold: decoded into `fresh` when it does not. (Bytes it
    // holds are alive at that address, so no other bytes can be there.)
    const Decision* peek(const std::vector<std::uint8_t>& bytes, std::optional<Decision>& fresh);

private:
    static constexpr std::size_t kKept = 64;
    struct Entry {
        proto::AppData data;
        std::optional<Decision> decision;
    };
    std::unordered_map<const std::vector<std::uint8_t>*, Entry> entries_;  // never iterated
    std::deque<const std::vector<std::uint8_t>*> order_;                   // oldest first
    // The last bytes asked for and their entry: the replicas ask for one decision in turn.
    const std::vector<std::uint8_t>* last_ = nullptr;
    const Entry* last_entry_ = nullptr;
};

class KnowledgeBase final : public proto::Application {
public:
    explicit KnowledgeBase(std::shared_ptr<const Config> cfg,
                           std::shared_ptr<DecodeMemo> memo = nullptr);

    bool admits(sim::Context& ctx, const proto::Request& req, Digest digest) const override;
    Digest execute(const proto::Request& req, Digest request, std::uint64_t index,
                   std::uint32_t position) override;
    Digest seal(std::uint64_t index, Digest batch) override;
    Digest digest() const override { return digest_; }
    proto::AppSnapshot snapshot() const override;
    bool restore(const proto::AppSnapshot& s) override;

    // For the world's own copy: the outcome of the last command executed.
    Outcome apply(const Decision& d);
    Mark mark(std::uint32_t node) const { return marks_[node]; }
    // An action the knowledge base took, and its outcome as the loop measured it: the round
    // whose readings showed the metric back within its threshold (0: not yet).
    struct Record {
        std::uint32_t workflow = 0;
        std::uint8_t metric = 0, action = 0;
        std::uint64_t round = 0;
        std::int64_t aggregate = 0;
        std::uint32_t proposer = 0;
        std::uint64_t cleared = 0;
    };
    static constexpr std::size_t kKeptRecords = 64;  // the last actions, with their outcomes
    const std::deque<Record>& records() const { return records_; }
    std::uint64_t executed() const { return executed_; }

private:
    // round, workflow, metric: old rounds come first.
    using GroupKey = std::tuple<std::uint64_t, std::uint32_t, std::uint8_t>;
    // Per node, its reading of the group's (round, workflow, metric), if one was seen.
    using Group = std::vector<std::optional<std::int64_t>>;
    static std::uint64_t seen_hash(const GroupKey& k, std::uint32_t node, std::int64_t value);
    static std::uint64_t round_hash(const std::pair<std::uint32_t, std::uint8_t>& k,
                                    std::uint64_t round);
    std::uint64_t node_hash(std::uint32_t node) const;
    static std::uint64_t record_hash(const Record& r);
    Outcome record_outcome(const Decision& d);
    void note_reading(const GroupKey& key, std::optional<std::int64_t>& seen, const Reading& r,
                      std::int64_t mid, std::int64_t far);
    void observe(const Decision& d);
    std::uint64_t recount() const;
    Digest state_digest() const;
    std::vector<std::uint8_t> serialize() const;
    bool deserialize(const std::vector<std::uint8_t>& bytes);

    std::shared_ptr<const Config> cfg_;
    std::shared_ptr<DecodeMemo> memo_;
    std::uint64_t chain_ = 0;     // over the executed batches, as LogChain's
    std::uint64_t executed_ = 0;  // decisions that took an action
    std::uint64_t redundant_ = 0;
    // Per (workflow, metric): the round of the last decision executed on it, plus one.
    std::map<std::pair<std::uint32_t, std::uint8_t>, std::uint64_t> last_round_;
    // Recent readings, for equivocation, by key ascending: decisions come in nearly in round
    // order, so a new group goes at or near the back and old ones leave from the front.
    std::deque<std::pair<GroupKey, Group>> seen_;
    Group& group_of(const GroupKey& key);
    std::vector<Group> spare_;             // groups that left seen_, kept for their storage
    std::uint32_t seen_count_ = 0;         // readings in seen_
    std::vector<std::uint32_t> outliers_;  // per node
    std::deque<Record> records_;
    std::vector<Mark> marks_;            // per node
    std::uint64_t sum_ = 0;              // of one hash per entry of the state
    std::vector<std::int64_t> scratch_;  // a decision's values, while observe() looks at them
    Digest digest_{};
};

// The service the consensus replicas run. A replica whose node lies with `unjustified_plan`
// admits any decision (a Byzantine leader orders what it likes; honest replicas still check).
proto::AppFactory knowledge_factory(std::shared_ptr<const Config> cfg,
                                    std::shared_ptr<DecodeMemo> memo);

}  // namespace mapek
