#include "protocols/mapek/knowledge.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "protocols/mapek/bytes.hpp"
#include "sim/hash.hpp"

namespace mapek {

// The lower middle of `values`, which it reorders.
std::int64_t median_in(std::span<std::int64_t> values) {
    if (values.empty()) return 0;
    const auto mid = values.begin() + static_cast<std::ptrdiff_t>((values.size() - 1) / 2);
    std::nth_element(values.begin(), mid, values.end());
    return *mid;
}

std::int64_t aggregate(const Config& cfg, std::vector<std::int64_t> values) {
    return aggregate_in(cfg, values);
}

std::int64_t aggregate_in(const Config& cfg, std::span<std::int64_t> values) {
    if (values.empty() || !cfg.bug(Bug::MeanInsteadOfMedian)) return median_in(values);
    Wide sum = 0;
    for (std::int64_t v : values) sum += v;
    return static_cast<std::int64_t>(sum / static_cast<Wide>(values.size()));
}

std::optional<std::string> unjustified(const Config& cfg, sim::Context& ctx, const Decision& d) {
    if (d.workflow >= cfg.workflows.size()) return "no such workflow";
    std::size_t index = 0;
    const ActionSpec* a = cfg.action_for(d.metric, &index);
    if (!a || index != d.action) return "not the action for this metric";
    if (d.evidence.size() > cfg.n) return "more readings than nodes";
    boost::container::small_vector<bool, 16> from(cfg.n, false);
    Values values;
    std::uint32_t past = 0;  // past the threshold; for an outcome, within it
    for (const Reading& r : d.evidence) {
        if (r.workflow != d.workflow || r.metric != d.metric || r.round != d.round)
            return "a reading of another workflow, metric or round";
        if (r.node >= cfg.n || from[r.node]) return "two readings from one node";
        if (!reading_signed(ctx, cfg.n, r)) return "a reading its node's agent did not sign";
        from[r.node] = true;
        values.push_back(r.value);
        past += Config::beyond(*a, r.value) != d.outcome ? 1 : 0;
    }
    if (values.size() < cfg.quorum()) return "readings from fewer than 2f+1 nodes";
    if (past < cfg.f + 1)
        return d.outcome ? "fewer than f+1 readings within the threshold"
                         : "fewer than f+1 readings past the threshold";
    if (d.aggregate != aggregate_in(cfg, {values.data(), values.size()}))
        return "an aggregate its readings do not give";
    return std::nullopt;
}

const Decision* DecodeMemo::get(const proto::AppData& data) {
    if (!data) return nullptr;
    if (data.get() != last_) {
        auto it = entries_.find(data.get());
        if (it == entries_.end()) {
            if (order_.size() >= kKept) {
                entries_.erase(order_.front());
                order_.pop_front();
            }
            it = entries_.emplace(data.get(), Entry{data, decode(*data)}).first;
            order_.push_back(data.get());
        }
        // The entry erased above was never the last one asked for: kKept > 1.
        last_ = data.get();
        last_entry_ = &it->second;
    }
    return last_entry_->decision ? &*last_entry_->decision : nullptr;
}

const Decision* DecodeMemo::peek(const std::vector<std::uint8_t>& bytes,
                                 std::optional<Decision>& fresh) {
    const Entry* e = &bytes == last_ ? last_entry_ : nullptr;
    if (!e)
        if (auto it = entries_.find(&bytes); it != entries_.end()) e = &it->second;
    if (e) return e->decision ? &*e->decision : nullptr;
    fresh = decode(bytes);
    return fresh ? &*fresh : nullptr;
}

KnowledgeBase::KnowledgeBase(std::shared_ptr<const Config> cfg, std::shared_ptr<DecodeMemo> memo)
    : cfg_(std::move(cfg)),
      memo_(memo ? std::move(memo) : std::make_shared<DecodeMemo>()),
      outliers_(cfg_->n, 0),
      marks_(cfg_->n, Mark::None) {
    sum_ = recount();
    digest_ = state_digest();
}

bool KnowledgeBase::admits(sim::Context& ctx, const proto::Request& req, Digest digest) const {
    if (req.op != kDecisionOp) return false;
    const Decision* d = memo_->get(req.data);
    if (!d) return false;
    for (const Lie& l : cfg_->lies[ctx.self().v])
        if (l.kind == Lie::Kind::Unjustified) return true;
    if (cfg_->bug(Bug::SkipJustification)) return true;
    // The answer is a function of the decision and the run's keys: a replica may take another's
    // from the run-wide memo, paying the signature checks it would have made.
    const std::uint64_t memo = sim::hash_fields(0x4d4b, digest.v);
    if (ctx.verified_before(memo)) {
        ctx.charge_verify(static_cast<std::uint32_t>(d->evidence.size()));
        return true;
    }
    if (unjustified(*cfg_, ctx, *d)) return false;
    ctx.remember_verified(memo);
    return true;
}

// The state digest covers every entry of the state through sum_, a sum of one hash per entry
// kept as entries come and go, so sealing a batch costs no pass over the state; a snapshot's
// data is checked by summing its entries afresh.
std::uint64_t KnowledgeBase::seen_hash(const GroupKey& k, std::uint32_t node, std::int64_t value) {
    return sim::hash_fields(0x5345, std::get<0>(k), std::get<1>(k), std::get<2>(k), node,
                            static_cast<std::uint64_t>(value));
}

std::uint64_t KnowledgeBase::round_hash(const std::pair<std::uint32_t, std::uint8_t>& k,
                                        std::uint64_t round) {
    return sim::hash_fields(0x4c52, k.first, k.second, round);
}

std::uint64_t KnowledgeBase::node_hash(std::uint32_t node) const {
    return sim::hash_fields(0x4e44, node, outliers_[node],
                            static_cast<std::uint64_t>(marks_[node]));
}

// A reading seen before with another value proves its node Byzantine; one far from its
// decision's median counts towards a suspicion. The node's entry of the state changes only then.
void KnowledgeBase::note_reading(const GroupKey& key, std::optional<std::int64_t>& seen,
                                 const Reading& r, std::int64_t mid, std::int64_t far) {
    const bool differs = seen && *seen != r.value && marks_[r.node] != Mark::Byzantine;
    if (!seen) {
        seen = r.value;
        ++seen_count_;
        sum_ += seen_hash(key, r.node, r.value);
    }
    const std::int64_t off = r.value > mid ? r.value - mid : mid - r.value;
    if (!differs && off <= far) return;
    sum_ -= node_hash(r.node);
    if (differs) marks_[r.node] = Mark::Byzantine;
    if (off > far && ++outliers_[r.node] >= cfg_->suspect_after && marks_[r.node] == Mark::None)
        marks_[r.node] = Mark::Suspected;
    sum_ += node_hash(r.node);
}

void KnowledgeBase::observe(const Decision& d) {
    scratch_.clear();
    for (const Reading& r : d.evidence) scratch_.push_back(r.value);
    const std::int64_t mid = median_in(scratch_);
    const std::int64_t far = 2 * cfg_->noise_bound(d.workflow, d.metric);
    // A decision's readings share one group unless a Byzantine proposer mixed them.
    Group* group = nullptr;
    GroupKey last{};
    for (const Reading& r : d.evidence) {
        if (r.node >= cfg_->n) continue;
        const GroupKey key{r.round, r.workflow, static_cast<std::uint8_t>(r.metric)};
        if (!group || last != key) group = &group_of(key);
        last = key;
        note_reading(key, (*group)[r.node], r, mid, far);
    }
    // Equivocation is looked for among the last 64 rounds of readings (keys start with one).
    const std::uint64_t keep_from = d.round > 64 ? d.round - 64 : 0;
    while (!seen_.empty() && std::get<0>(seen_.begin()->first) < keep_from) {
        const auto& [key, group] = *seen_.begin();
        for (std::uint32_t node = 0; node < group.size(); ++node)
            if (group[node]) {
                sum_ -= seen_hash(key, node, *group[node]);
                --seen_count_;
            }
        spare_.push_back(std::move(seen_.front().second));
        seen_.erase(seen_.begin());
    }
}

// Looked for from the back, where a new decision's round almost always is.
KnowledgeBase::Group& KnowledgeBase::group_of(const GroupKey& key) {
    auto it = seen_.end();
    while (it != seen_.begin() && std::prev(it)->first >= key) --it;
    if (it == seen_.end() || it->first != key) {
        Group g;
        if (!spare_.empty()) {
            g = std::move(spare_.back());
            spare_.pop_back();
        }
        g.assign(cfg_->n, std::nullopt);
        it = seen_.emplace(it, key, std::move(g));
    }
    return it->second;
}

std::uint64_t KnowledgeBase::recount() const {
    std::uint64_t sum = 0;
    for (const auto& [key, group] : seen_)
        for (std::uint32_t node = 0; node < group.size(); ++node)
            if (group[node]) sum += seen_hash(key, node, *group[node]);
    for (const auto& [key, round] : last_round_) sum += round_hash(key, round);
    for (std::uint32_t i = 0; i < cfg_->n; ++i) sum += node_hash(i);
    for (const Record& r : records_) sum += record_hash(r);
    return sum;
}

Digest KnowledgeBase::state_digest() const {
    return Digest(sim::Hasher(chain_).add(executed_).add(redundant_).add(sum_).value());
}

std::uint64_t KnowledgeBase::record_hash(const Record& r) {
    return sim::hash_fields(0x5243, r.workflow, r.metric, r.action, r.round,
                            static_cast<std::uint64_t>(r.aggregate), r.proposer, r.cleared);
}

// An outcome clears the last action on its metric taken before its round, once.
Outcome KnowledgeBase::record_outcome(const Decision& d) {
    for (auto it = records_.rbegin(); it != records_.rend(); ++it) {
        if (it->workflow != d.workflow || it->metric != static_cast<std::uint8_t>(d.metric))
            continue;
        if (it->cleared != 0 || it->round >= d.round) break;
        sum_ -= record_hash(*it);
        it->cleared = d.round;
        sum_ += record_hash(*it);
        return Outcome::Cleared;
    }
    ++redundant_;
    return Outcome::Redundant;
}

Outcome KnowledgeBase::apply(const Decision& d) {
    if (d.workflow >= cfg_->workflows.size() || d.action >= cfg_->actions.size())
        return Outcome::Malformed;
    observe(d);
    if (d.outcome) return record_outcome(d);
    const std::pair<std::uint32_t, std::uint8_t> key{d.workflow,
                                                     static_cast<std::uint8_t>(d.metric)};
    std::uint64_t& last = last_round_[key];
    // One action per anomaly: decisions of rounds before the last one's effect settled add
    // evidence, not another action.
    if (last != 0 && d.round < last - 1 + cfg_->settle_rounds(d.action)) {
        ++redundant_;
        return Outcome::Redundant;
    }
    if (last != 0) sum_ -= round_hash(key, last);
    last = d.round + 1;
    sum_ += round_hash(key, last);
    records_.push_back({d.workflow, static_cast<std::uint8_t>(d.metric), d.action, d.round,
                        d.aggregate, d.proposer, 0});
    sum_ += record_hash(records_.back());
    if (records_.size() > kKeptRecords) {
        sum_ -= record_hash(records_.front());
        records_.pop_front();
    }
    ++executed_;
    return Outcome::Executed;
}

Digest KnowledgeBase::execute(const proto::Request& req, Digest request, std::uint64_t index,
                              std::uint32_t position) {
    Outcome o = Outcome::Malformed;
    if (const Decision* d = memo_->get(req.data)) o = apply(*d);
    return Digest(
        sim::hash_fields(0x4b45, request.v, static_cast<std::uint64_t>(o), index, position));
}

Digest KnowledgeBase::seal(std::uint64_t index, Digest batch) {
    chain_ = sim::Hasher(chain_).add(index).add(batch.v).value();
    digest_ = state_digest();
    return digest_;
}

proto::AppSnapshot KnowledgeBase::snapshot() const {
    return {digest_, std::make_shared<const std::vector<std::uint8_t>>(serialize())};
}

bool KnowledgeBase::restore(const proto::AppSnapshot& s) {
    if (!s.data) return false;
    KnowledgeBase fresh(cfg_, memo_);
    if (!fresh.deserialize(*s.data)) return false;
    fresh.sum_ = fresh.recount();
    fresh.digest_ = fresh.state_digest();
    if (fresh.digest_ != s.digest) return false;
    *this = std::move(fresh);
    return true;
}

std::vector<std::uint8_t> KnowledgeBase::serialize() const {
    Writer w;
    w.reserve(36 + last_round_.size() * 13 + seen_count_ * 25 + cfg_->n * 5 + records_.size() * 34);
    w.put(chain_);
    w.put(executed_);
    w.put(redundant_);
    w.put(static_cast<std::uint32_t>(last_round_.size()));
    for (const auto& [key, round] : last_round_) {
        w.put(key.first);
        w.put(key.second);
        w.put(round);
    }
    w.put(seen_count_);
    for (const auto& [key, group] : seen_) {
        for (std::uint32_t node = 0; node < group.size(); ++node) {
            if (!group[node]) continue;
            w.put(std::get<0>(key));
            w.put(std::get<1>(key));
            w.put(std::get<2>(key));
            w.put(node);
            w.put(*group[node]);
        }
    }
    for (std::uint32_t i = 0; i < cfg_->n; ++i) {
        w.put(outliers_[i]);
        w.put(static_cast<std::uint8_t>(marks_[i]));
    }
    w.put(static_cast<std::uint32_t>(records_.size()));
    for (const Record& r : records_) {
        w.put(r.workflow);
        w.put(r.metric);
        w.put(r.action);
        w.put(r.round);
        w.put(r.aggregate);
        w.put(r.proposer);
        w.put(r.cleared);
    }
    return w.take();
}

bool KnowledgeBase::deserialize(const std::vector<std::uint8_t>& bytes) {
    Reader r(bytes);
    std::uint32_t rounds = 0, seen = 0;
    if (!r.get(chain_) || !r.get(executed_) || !r.get(redundant_) || !r.get(rounds)) return false;
    for (std::uint32_t i = 0; i < rounds; ++i) {
        std::pair<std::uint32_t, std::uint8_t> key;
        std::uint64_t round = 0;
        if (!r.get(key.first) || !r.get(key.second) || !r.get(round)) return false;
        last_round_[key] = round;
    }
    if (!r.get(seen)) return false;
    for (std::uint32_t i = 0; i < seen; ++i) {
        GroupKey key;
        std::uint32_t node = 0;
        std::int64_t value = 0;
        if (!r.get(std::get<0>(key)) || !r.get(std::get<1>(key)) || !r.get(std::get<2>(key)) ||
            !r.get(node) || !r.get(value) || node >= cfg_->n)
            return false;
        std::optional<std::int64_t>& slot = group_of(key)[node];
        if (slot) return false;
        slot = value;
    }
    seen_count_ = seen;
    for (std::uint32_t i = 0; i < cfg_->n; ++i) {
        std::uint8_t mark = 0;
        if (!r.get(outliers_[i]) || !r.get(mark) || mark > 2) return false;
        marks_[i] = static_cast<Mark>(mark);
    }
    std::uint32_t records = 0;
    if (!r.get(records) || records > kKeptRecords) return false;
    for (std::uint32_t i = 0; i < records; ++i) {
        Record x;
        if (!r.get(x.workflow) || !r.get(x.metric) || !r.get(x.action) || !r.get(x.round) ||
            !r.get(x.aggregate) || !r.get(x.proposer) || !r.get(x.cleared))
            return false;
        records_.push_back(x);
    }
    return r.done();
}

proto::AppFactory knowledge_factory(std::shared_ptr<const Config> cfg,
                                    std::shared_ptr<DecodeMemo> memo) {
    return [cfg, memo] { return std::make_unique<KnowledgeBase>(cfg, memo); };
}

}  // namespace mapek
