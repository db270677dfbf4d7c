#include "protocols/mapek/knowledge.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "protocols/mapek/bytes.hpp"
#include "sim/hash.hpp"

namespace mapek {

std::int64_t median(std::vector<std::int64_t> values) {
    if (values.empty()) return 0;
    const auto mid = values.begin() + static_cast<std::ptrdiff_t>((values.size() - 1) / 2);
    std::nth_element(values.begin(), mid, values.end());
    return *mid;
}

std::int64_t aggregate(const Config& cfg, std::vector<std::int64_t> values) {
    if (values.empty() || !cfg.bug(Bug::MeanInsteadOfMedian)) return median(std::move(values));
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
    std::vector<bool> from(cfg.n, false);
    std::vector<std::int64_t> values;
    std::uint32_t past = 0;
    for (const Reading& r : d.evidence) {
        if (r.workflow != d.workflow || r.metric != d.metric || r.round != d.round)
            return "a reading of another workflow, metric or round";
        if (r.node >= cfg.n || from[r.node]) return "two readings from one node";
        if (!reading_signed(ctx, cfg.n, r)) return "a reading its node's agent did not sign";
        from[r.node] = true;
        values.push_back(r.value);
        past += Config::beyond(*a, r.value) ? 1 : 0;
    }
    if (values.size() < cfg.quorum()) return "readings from fewer than 2f+1 nodes";
    if (past < cfg.f + 1) return "fewer than f+1 readings past the threshold";
    if (d.aggregate != aggregate(cfg, values)) return "an aggregate its readings do not give";
    return std::nullopt;
}

KnowledgeBase::KnowledgeBase(std::shared_ptr<const Config> cfg)
    : cfg_(std::move(cfg)), outliers_(cfg_->n, 0), marks_(cfg_->n, Mark::None) {
    digest_ =
        Digest(proto::data_hash(std::make_shared<const std::vector<std::uint8_t>>(serialize())));
}

bool KnowledgeBase::admits(sim::Context& ctx, const proto::Request& req) const {
    if (!req.data || req.op != kDecisionOp) return false;
    const std::optional<Decision> d = decode(*req.data);
    if (!d) return false;
    for (const Lie& l : cfg_->lies[ctx.self().v])
        if (l.kind == Lie::Kind::Unjustified) return true;
    if (cfg_->bug(Bug::SkipJustification)) return true;
    return !unjustified(*cfg_, ctx, *d);
}

void KnowledgeBase::observe(const Decision& d) {
    std::vector<std::int64_t> values;
    for (const Reading& r : d.evidence) values.push_back(r.value);
    const std::int64_t mid = median(std::move(values));
    const std::int64_t far = 2 * cfg_->noise_bound(d.workflow, d.metric);
    for (const Reading& r : d.evidence) {
        if (r.node >= cfg_->n) continue;
        const ReadingKey key{r.workflow, static_cast<std::uint8_t>(r.metric), r.round, r.node};
        const auto [it, fresh] = seen_.emplace(key, r.value);
        if (!fresh && it->second != r.value) marks_[r.node] = Mark::Byzantine;
        const std::int64_t off = r.value > mid ? r.value - mid : mid - r.value;
        if (off > far && ++outliers_[r.node] >= cfg_->suspect_after && marks_[r.node] == Mark::None)
            marks_[r.node] = Mark::Suspected;
    }
    // Equivocation is looked for among the last 64 rounds of readings.
    const std::uint64_t keep_from = d.round > 64 ? d.round - 64 : 0;
    std::erase_if(seen_, [&](const auto& e) { return std::get<2>(e.first) < keep_from; });
}

Outcome KnowledgeBase::apply(const Decision& d) {
    if (d.workflow >= cfg_->workflows.size() || d.action >= cfg_->actions.size())
        return Outcome::Malformed;
    observe(d);
    std::uint64_t& last = last_round_[{d.workflow, static_cast<std::uint8_t>(d.metric)}];
    // One action per anomaly: decisions of rounds before the last one's effect settled add
    // evidence, not another action.
    if (last != 0 && d.round < last - 1 + cfg_->settle_rounds(d.action)) {
        ++redundant_;
        return Outcome::Redundant;
    }
    last = d.round + 1;
    ++executed_;
    return Outcome::Executed;
}

Digest KnowledgeBase::execute(const proto::Request& req, Digest request, std::uint64_t index,
                              std::uint32_t position) {
    Outcome o = Outcome::Malformed;
    if (req.data)
        if (const std::optional<Decision> d = decode(*req.data)) o = apply(*d);
    return Digest(
        sim::hash_fields(0x4b45, request.v, static_cast<std::uint64_t>(o), index, position));
}

Digest KnowledgeBase::seal(std::uint64_t index, Digest batch) {
    chain_ = sim::Hasher(chain_).add(index).add(batch.v).value();
    const std::vector<std::uint8_t> bytes = serialize();
    digest_ = Digest(proto::data_hash(std::make_shared<const std::vector<std::uint8_t>>(bytes)));
    return digest_;
}

proto::AppSnapshot KnowledgeBase::snapshot() const {
    return {digest_, std::make_shared<const std::vector<std::uint8_t>>(serialize())};
}

bool KnowledgeBase::restore(const proto::AppSnapshot& s) {
    if (!s.data || proto::data_hash(s.data) != s.digest.v) return false;
    KnowledgeBase fresh(cfg_);
    if (!fresh.deserialize(*s.data)) return false;
    fresh.digest_ = s.digest;
    *this = std::move(fresh);
    return true;
}

std::vector<std::uint8_t> KnowledgeBase::serialize() const {
    Writer w;
    w.put(chain_);
    w.put(executed_);
    w.put(redundant_);
    w.put(static_cast<std::uint32_t>(last_round_.size()));
    for (const auto& [key, round] : last_round_) {
        w.put(key.first);
        w.put(key.second);
        w.put(round);
    }
    w.put(static_cast<std::uint32_t>(seen_.size()));
    for (const auto& [key, value] : seen_) {
        w.put(std::get<0>(key));
        w.put(std::get<1>(key));
        w.put(std::get<2>(key));
        w.put(std::get<3>(key));
        w.put(value);
    }
    for (std::uint32_t i = 0; i < cfg_->n; ++i) {
        w.put(outliers_[i]);
        w.put(static_cast<std::uint8_t>(marks_[i]));
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
        ReadingKey key;
        std::int64_t value = 0;
        if (!r.get(std::get<0>(key)) || !r.get(std::get<1>(key)) || !r.get(std::get<2>(key)) ||
            !r.get(std::get<3>(key)) || !r.get(value))
            return false;
        seen_[key] = value;
    }
    for (std::uint32_t i = 0; i < cfg_->n; ++i) {
        std::uint8_t mark = 0;
        if (!r.get(outliers_[i]) || !r.get(mark) || mark > 2) return false;
        marks_[i] = static_cast<Mark>(mark);
    }
    return r.done();
}

proto::AppFactory knowledge_factory(std::shared_ptr<const Config> cfg) {
    return [cfg] { return std::make_unique<KnowledgeBase>(cfg); };
}

}  // namespace mapek
