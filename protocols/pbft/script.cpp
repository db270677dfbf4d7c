#include "protocols/pbft/script.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "protocols/common/params.hpp"

namespace pbft {

namespace {

constexpr std::uint64_t kMaxView = 1ULL << 40;
constexpr std::uint64_t kMaxSeq = 1ULL << 62;

// "seq": "next", or a sequence number 1..2^62.
std::optional<std::uint64_t> parse_seq(const nlohmann::json& v, const std::string& at) {
    if (v.is_string() && v.get<std::string>() == "next") return std::nullopt;
    if (v.is_number_integer() && v.get<std::int64_t>() >= 1 && v.get<std::uint64_t>() <= kMaxSeq)
        return v.get<std::uint64_t>();
    throw sim::ScenarioError(at, "expected \"next\" or a sequence number from 1 to 2^62");
}

ScriptStep parse_step(const nlohmann::json& j, const std::string& at, std::uint32_t n) {
    proto::Params p(j, at, {"view", "seq", "requests", "to"});
    if (!p.has("view")) throw sim::ScenarioError(at + "/view", "required");
    ScriptStep s;
    s.view = p.uint("view", 0, 0, kMaxView);
    if (p.has("seq")) s.seq = parse_seq(j.at("seq"), p.at("seq"));
    if (p.has("to")) {
        s.to = p.nodes("to", n);
        s.to_all = false;
    }
    using R = ScriptStep::Requests;
    static const std::map<std::string, R> kinds = {
        {"honest", R::Honest}, {"none", R::None}, {"duplicate", R::Duplicate}, {"other", R::Other}};
    s.requests = kinds.at(p.string("requests", "honest", {"honest", "none", "duplicate", "other"}));
    return s;
}

}  // namespace

std::vector<ScriptStep> parse_script(const sim::FaultSpec& f, const sim::ScenarioSpec& spec) {
    return proto::read_script<ScriptStep>(f, "{view, seq, requests, to}",
                                          [&](const nlohmann::json& step, const std::string& at) {
                                              return parse_step(step, at, spec.nodes);
                                          });
}

const ScriptStep* PrimaryScript::step_for(std::uint64_t view) const {
    const auto it =
        std::lower_bound(steps_.begin(), steps_.end(), view,
                         [](const ScriptStep& s, std::uint64_t v) { return s.view < v; });
    return it != steps_.end() && it->view == view ? &*it : nullptr;
}

sim::PayloadRef PrimaryScript::rewrite(sim::Context& ctx, const PrePrepare& pp,
                                       const sim::PayloadRef& original, NodeId to) {
    const ScriptStep* s = step_for(pp.v.v);
    if (!s) return original;
    if (!s->to_all && std::find(s->to.begin(), s->to.end(), to.v) == s->to.end()) return {};
    auto [it, fresh] = crafted_.try_emplace({pp.v.v, pp.n.v});
    if (fresh) {
        it->second = craft(ctx, *s, pp);
        if (crafted_.size() > kKept) crafted_.erase(crafted_.begin());
    }
    return it->second;
}

MessageRef PrimaryScript::craft(sim::Context& ctx, const ScriptStep& s, const PrePrepare& honest) {
    // The view's first PRE-PREPARE anchors the numbering: N for it, N + k for the k-th after.
    const std::uint64_t first = first_.try_emplace(honest.v.v, honest.n.v).first->second;
    if (first_.size() > kKept) first_.erase(first_.begin());
    PrePrepare out{honest.v, honest.n, {}, batch(ctx, s, honest)};
    if (s.seq) out.n = Seq(std::min(kMaxSeq, *s.seq + (honest.n.v - first)));
    out.d = batch_digest(out.batch);
    if (ctx.tracing())
        ctx.trace(fmt::format("byzantine script: view {} orders at {} (honest {}) {} request(s)",
                              out.v.v, out.n.v, honest.n.v, out.batch.size()));
    return make_message(ctx, std::move(out));
}

std::vector<ClientMessageRef> PrimaryScript::batch(sim::Context& ctx, const ScriptStep& s,
                                                   const PrePrepare& honest) const {
    using R = ScriptStep::Requests;
    switch (s.requests) {
        case R::None:
            return {};
        case R::Duplicate: {
            std::vector<ClientMessageRef> out = honest.batch;
            if (!out.empty()) out.push_back(out.front());
            return out;
        }
        case R::Other: {
            // A request for the first client, signed by this replica: no client signed it.
            const NodeId client(ctx.replica_count());
            const proto::Request r{0x07e4ULL ^ honest.n.v, 1ULL << 40, client};
            return {proto::make_request(ctx, r)};
        }
        case R::Honest:
            break;
    }
    return honest.batch;
}

}  // namespace pbft
