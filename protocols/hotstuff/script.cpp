#include "protocols/hotstuff/script.hpp"

#include <charconv>

#include <fmt/format.h>

#include "protocols/common/params.hpp"

namespace hotstuff {

namespace {

constexpr std::uint64_t kMaxScriptView = 1ULL << 40;

std::optional<std::uint64_t> parse_parent(const nlohmann::json& v, const std::string& at) {
    const std::string s = v.is_string() ? v.get<std::string>() : std::string();
    if (s == "high") return std::nullopt;
    std::uint64_t view = 0;
    const char* first = s.data() + 3;
    const char* last = s.data() + s.size();
    if (s.size() > 3 && s.compare(0, 3, "qc:") == 0) {
        const auto [end, ec] = std::from_chars(first, last, view);
        if (ec == std::errc() && end == last && view <= kMaxScriptView) return view;
    }
    throw sim::ScenarioError(at,
                             "expected \"high\" or \"qc:V\" (V the view of a QC, at most 2^40)");
}

ScriptStep parse_step(const nlohmann::json& j, const std::string& at, std::uint32_t n) {
    proto::Params p(j, at, {"view", "parent", "to", "height", "commands"});
    if (!p.has("view")) throw sim::ScenarioError(at + "/view", "required");
    ScriptStep s;
    s.view = p.uint("view", 0, 1, kMaxScriptView);
    if (p.has("parent")) s.qc_view = parse_parent(j.at("parent"), p.at("parent"));
    if (s.qc_view && *s.qc_view >= s.view)
        throw sim::ScenarioError(p.at("parent"), "a proposal's QC is from an earlier view");
    if (p.has("to")) {
        s.to = p.nodes("to", n);
        s.to_all = false;
    }
    if (p.has("height")) s.height = p.uint("height", 1, 1, 1ULL << 62);
    const std::string c =
        p.string("commands", "honest", {"honest", "none", "duplicate", "invented", "own", "reply"});
    using C = ScriptStep::Commands;
    static const std::map<std::string, C> kinds = {
        {"honest", C::Honest},     {"none", C::None}, {"duplicate", C::Duplicate},
        {"invented", C::Invented}, {"own", C::Own},   {"reply", C::Reply}};
    s.commands = kinds.at(c);
    return s;
}

}  // namespace

std::vector<ScriptStep> parse_script(const sim::FaultSpec& f, const sim::ScenarioSpec& spec) {
    return proto::read_script<ScriptStep>(f, "{view, parent, to, height, commands}",
                                          [&](const nlohmann::json& step, const std::string& at) {
                                              return parse_step(step, at, spec.nodes);
                                          });
}

void put_schedule(nlohmann::json& doc, const sim::DrawnSchedule& s) {
    nlohmann::json& protocol = doc["protocol"];
    if (protocol.is_string()) protocol = {{"name", protocol}};
    protocol["leaders"] = s.leaders;
    if (s.steps.empty()) return;
    nlohmann::json steps = nlohmann::json::array();
    for (const sim::DrawnSchedule::Step& step : s.steps) {
        nlohmann::json j = {{"view", step.view}};
        if (step.parent_view) j["parent"] = fmt::format("qc:{}", *step.parent_view);
        if (!step.to.empty()) j["to"] = step.to;
        steps.push_back(std::move(j));
    }
    doc["faults"].push_back({{"type", "byzantine"},
                             {"node", s.byzantine},
                             {"behavior", "script"},
                             {"params", {{"script", std::move(steps)}}}});
}

void LeaderScript::keep_qc(const QuorumCert& qc) {
    if (qc.signers.empty()) return;  // genesis
    qcs_.insert_or_assign(qc.stmt.view, qc);
    if (qcs_.size() > kQcsKept) qcs_.erase(qcs_.begin());
}

void LeaderScript::observe(const Message& m) {
    if (const auto* p = as<Proposal>(m)) {
        if (p->block) keep_qc(p->block->justify);
    } else if (const auto* nv = as<NewView>(m)) {
        keep_qc(nv->high_qc);
    } else if (const auto* q = as<PhaseQc>(m)) {
        keep_qc(q->qc);
    }
}

const ScriptStep* LeaderScript::step_for(std::uint64_t view) const {
    const auto it =
        std::lower_bound(steps_.begin(), steps_.end(), view,
                         [](const ScriptStep& s, std::uint64_t v) { return s.view < v; });
    return it != steps_.end() && it->view == view ? &*it : nullptr;
}

sim::PayloadRef LeaderScript::rewrite(sim::Context& ctx, const Proposal& m,
                                      const sim::PayloadRef& original, NodeId to) {
    if (!m.block) return original;
    keep_qc(m.block->justify);
    const ScriptStep* s = step_for(m.block->view);
    if (!s) return original;
    if (!s->to_all && std::find(s->to.begin(), s->to.end(), to.v) == s->to.end()) return {};
    auto [it, fresh] = crafted_.try_emplace(m.block->view);
    if (fresh) it->second = craft(ctx, *s, *m.block);
    if (crafted_.size() > kQcsKept) crafted_.erase(crafted_.begin());
    return it->second ? sim::PayloadRef(it->second) : original;
}

BlockRef LeaderScript::crafted(Digest digest) const {
    for (const auto& [view, m] : crafted_)
        if (m && as<Proposal>(*m)->block->digest == digest) return as<Proposal>(*m)->block;
    return {};
}

bool LeaderScript::replaced(const Vote& v) const {
    const auto it = crafted_.find(v.vote.stmt.view);
    return it != crafted_.end() && it->second &&
           as<Proposal>(*it->second)->block->digest != v.vote.stmt.value;
}

MessageRef LeaderScript::vote_instead(sim::Context& ctx, const Vote& v) const {
    const Proposal& p = *as<Proposal>(*crafted_.at(v.vote.stmt.view));
    const Block& b = *p.block;
    const proto::Statement stmt{v.vote.stmt.kind, b.view, b.height, b.digest};
    return make_message(ctx, Vote{proto::sign_vote(ctx, stmt), p.leader_statement});
}

MessageRef LeaderScript::craft(sim::Context& ctx, const ScriptStep& s, const Block& honest) {
    QuorumCert qc = honest.justify;
    if (s.qc_view == 0) {
        qc = genesis_qc();
    } else if (s.qc_view) {
        const auto it = qcs_.find(*s.qc_view);
        if (it == qcs_.end()) {
            if (ctx.tracing())
                ctx.trace(fmt::format("byzantine script: no QC of view {} seen, view {} honest",
                                      *s.qc_view, s.view));
            return {};
        }
        qc = it->second;
    }
    const Digest parent = qc.stmt.value;
    const std::uint64_t height = s.height ? *s.height : qc.stmt.slot + 1;
    const BlockRef b = make_block_at(parent, height, honest.view, std::move(qc),
                                     commands(ctx, s, honest), honest.proposer);
    if (ctx.tracing())
        ctx.trace(fmt::format("byzantine script: view {} proposes height {} on the QC of view {}",
                              b->view, b->height, b->justify.stmt.view));
    return make_message(ctx, Proposal{b, proto::sign_vote(ctx, proposal_statement(*b))});
}

std::vector<ClientMessageRef> LeaderScript::commands(sim::Context& ctx, const ScriptStep& s,
                                                     const Block& honest) const {
    using C = ScriptStep::Commands;
    std::vector<ClientMessageRef> out;
    if (s.commands != C::None) out = honest.cmds;
    if (s.commands == C::Duplicate && !out.empty()) out.push_back(out.front());
    const NodeId first_client(ctx.replica_count());
    if (s.commands == C::Invented || s.commands == C::Own) {
        const NodeId client = s.commands == C::Own ? ctx.self() : first_client;
        out.push_back(proto::make_request(ctx, proto::Request{0x1badULL, 1ULL << 40, client}));
    }
    if (s.commands == C::Reply)
        out.push_back(proto::make_reply(ctx, proto::Reply{proto::View(honest.view), 1, first_client,
                                                          ctx.self(), Digest(7), 0}));
    return out;
}

}  // namespace hotstuff
