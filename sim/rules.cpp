#include "sim/rules.hpp"

#include <algorithm>

#include "sim/json_read.hpp"
#include "sim/network.hpp"
#include "sim/randomize.hpp"

namespace sim {

void check_rule_kinds(const ScenarioSpec& spec, const std::vector<std::string>& kind_names) {
    const std::vector<std::string_view> names(kind_names.begin(), kind_names.end());
    const auto refuse = [&](const std::string& path, const std::string& kind) {
        jsonr::fail(path, "unknown message type " + jsonr::quote(kind) + " for protocol " +
                              spec.protocol + "; expected one of: " + jsonr::join(names));
    };
    const auto known = [&](const std::string& kind) {
        return std::find(kind_names.begin(), kind_names.end(), kind) != kind_names.end();
    };
    if (spec.randomize && spec.randomize->rules) {
        const auto& kinds = spec.randomize->rules->kinds;
        for (std::size_t i = 0; i < kinds.size(); ++i)
            if (!known(kinds[i])) refuse(jsonr::child("/randomize/rules/kinds", i), kinds[i]);
        // The types a rule draws from: `kinds`, or the protocol's.
        const auto& per_rule = spec.randomize->rules->kinds_per_rule;
        const std::size_t pool = kinds.empty() ? names.size() : kinds.size();
        if (per_rule && per_rule->hi > static_cast<std::int64_t>(pool)) {
            jsonr::fail("/randomize/rules/kinds_per_rule",
                        "up to " + std::to_string(per_rule->hi) +
                            " distinct types per rule, but the rules draw from " +
                            std::to_string(pool) +
                            (kinds.empty() ? " (" + spec.protocol + "'s)" : ""));
        }
    }
    for (const FaultSpec& f : spec.faults) {
        if (!f.rule) continue;
        const auto& kinds = f.rule->kinds;
        for (std::size_t i = 0; i < kinds.size(); ++i) {
            if (known(kinds[i])) continue;
            std::string path = f.path + "/match/kind";
            refuse(f.rule->kind_list ? jsonr::child(path, i) : path, kinds[i]);
        }
    }
}

MessageRules::MessageRules(const ScenarioSpec& spec, const std::vector<std::string>& kind_names,
                           RandomStream rng)
    : replicas_(spec.nodes), rng_(std::move(rng)) {
    std::vector<std::size_t> orders;
    for (const FaultSpec& f : spec.faults) {
        if (f.type == FaultSpec::Type::Partition && f.views) {
            ViewPartition p{f.at, f.until, *f.views, std::vector<std::uint32_t>(spec.nodes, 0)};
            for (std::size_t g = 0; g < f.groups.size(); ++g)
                for (std::uint32_t r : f.groups[g]) p.group_of[r] = static_cast<std::uint32_t>(g);
            partitions_.push_back(std::move(p));
        }
        if (!f.rule) continue;
        Rule r{*f.rule, f.at, f.until, {}, false, {}};
        if (!r.spec.kinds.empty()) {
            r.kinds.assign(kind_names.size(), false);
            for (const std::string& k : r.spec.kinds) {
                const auto it = std::find(kind_names.begin(), kind_names.end(), k);
                if (it != kind_names.end())
                    r.kinds[static_cast<std::size_t>(it - kind_names.begin())] = true;
            }
        }
        rules_.push_back(std::move(r));
        orders.push_back(f.order);
    }
    // Rules are tried in document order; the timeline was sorted by `at`.
    std::vector<std::size_t> by_doc(rules_.size());
    for (std::size_t i = 0; i < by_doc.size(); ++i) by_doc[i] = i;
    std::sort(by_doc.begin(), by_doc.end(),
              [&](std::size_t a, std::size_t b) { return orders[a] < orders[b]; });
    std::vector<Rule> sorted;
    sorted.reserve(rules_.size());
    for (std::size_t i : by_doc) sorted.push_back(std::move(rules_[i]));
    rules_ = std::move(sorted);
}

bool MessageRules::matches(const Rule& r, std::uint32_t from, std::uint32_t to, const Payload& msg,
                           std::uint32_t replicas, Rounds& rounds, bool& have_rounds) const {
    const RuleSpec& s = r.spec;
    if (!s.from.matches(from, replicas) || !s.to.matches(to, replicas)) return false;
    if (!r.kinds.empty() && (msg.kind >= r.kinds.size() || !r.kinds[msg.kind])) return false;
    if (!s.view && !s.seq && !s.height) return true;
    if (!have_rounds) {
        rounds = msg.rounds();
        have_rounds = true;
    }
    const auto in = [](const std::optional<RoundRange>& range, std::uint64_t x) {
        return !range || (x != Rounds::kNone && range->contains(x));
    };
    return in(s.view, rounds.view) && in(s.seq, rounds.seq) && in(s.height, rounds.height);
}

RuleVerdict MessageRules::decide(std::uint32_t from, std::uint32_t to, const Payload& msg,
                                 SimTime now, const std::vector<std::uint64_t>& views) {
    RuleVerdict v;
    if (from < replicas_ && to < replicas_) {
        for (const ViewPartition& p : partitions_) {
            if (now < p.at || (p.until && now >= *p.until)) continue;
            if (p.views.contains(views[from]) && p.group_of[from] != p.group_of[to]) {
                v.act = RuleVerdict::Act::Partition;
                return v;
            }
        }
    }
    Rounds rounds;
    bool have_rounds = false;
    for (std::uint32_t i = 0; i < rules_.size(); ++i) {
        const Rule& r = rules_[i];
        if (now < r.at || (r.until && now >= *r.until)) continue;
        // Once its condition holds, a hold rule holds nothing more: later rules decide.
        if (r.spec.action == RuleSpec::Action::Hold &&
            (r.released || (r.spec.release == RuleSpec::Release::Time && now >= r.spec.release_at)))
            continue;
        if (!matches(r, from, to, msg, replicas_, rounds, have_rounds)) continue;
        v.rule = i;
        switch (r.spec.action) {
            case RuleSpec::Action::Drop:
                v.act = RuleVerdict::Act::Drop;
                break;
            case RuleSpec::Action::Delay:
                v.act = RuleVerdict::Act::Delay;
                v.extra = sample_delay(rng_, r.spec.delay);
                break;
            case RuleSpec::Action::Duplicate:
                v.act = RuleVerdict::Act::Duplicate;
                v.copies = r.spec.copies;
                break;
            case RuleSpec::Action::Hold:
                v.act = RuleVerdict::Act::Hold;
                break;
        }
        return v;
    }
    return v;
}

bool MessageRules::hold(std::uint32_t rule, std::uint32_t from, std::uint32_t to, PayloadRef msg) {
    if (held_count_ >= kMaxHeld) return false;
    rules_[rule].held.push_back({next_order_++, from, to, std::move(msg)});
    ++held_count_;
    ++held_total_;
    return true;
}

bool MessageRules::release(Rule& r) {
    if (r.released) return false;
    r.released = true;
    if (!r.held.empty()) due_ = true;
    return !r.held.empty();
}

bool MessageRules::on_commit(std::uint32_t node, std::uint64_t index) {
    bool any = false;
    for (Rule& r : rules_) {
        const RuleSpec& s = r.spec;
        if (s.action == RuleSpec::Action::Hold && s.release == RuleSpec::Release::Committed &&
            s.release_node == node && index >= s.release_value)
            any = release(r) || any;
    }
    return any;
}

bool MessageRules::on_view(std::uint32_t node, std::uint64_t view) {
    bool any = false;
    for (Rule& r : rules_) {
        const RuleSpec& s = r.spec;
        if (s.action == RuleSpec::Action::Hold && s.release == RuleSpec::Release::View &&
            s.release_node == node && view >= s.release_value)
            any = release(r) || any;
    }
    return any;
}

bool MessageRules::on_time(std::uint32_t rule) {
    return release(rules_[rule]);
}

std::vector<std::pair<SimTime, std::uint32_t>> MessageRules::release_times() const {
    std::vector<std::pair<SimTime, std::uint32_t>> out;
    for (std::uint32_t i = 0; i < rules_.size(); ++i) {
        const RuleSpec& s = rules_[i].spec;
        if (s.action == RuleSpec::Action::Hold && s.release == RuleSpec::Release::Time)
            out.emplace_back(s.release_at, i);
    }
    return out;
}

std::vector<MessageRules::Held> MessageRules::take_released() {
    std::vector<Held> out;
    if (!due_) return out;
    due_ = false;
    for (Rule& r : rules_) {
        if (!r.released || r.held.empty()) continue;
        held_count_ -= r.held.size();
        for (Held& h : r.held) out.push_back(std::move(h));
        r.held.clear();
    }
    std::sort(out.begin(), out.end(),
              [](const Held& a, const Held& b) { return a.order < b.order; });
    return out;
}

std::vector<MessageRules::Held> MessageRules::discard_held() {
    for (Rule& r : rules_) r.released = true;
    due_ = true;
    return take_released();
}

}  // namespace sim
