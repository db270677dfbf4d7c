#include "reports/trace_otlp.hpp"

#include <fmt/format.h>

#include "sim/hash.hpp"

namespace reports {

using nlohmann::json;

namespace {

json attribute(const char* key, json value) {
    return {{"key", key}, {"value", std::move(value)}};
}
json text(std::string_view s) {
    return {{"stringValue", std::string(s)}};
}
// OTLP/JSON carries 64-bit integers as strings.
json integer(std::uint64_t v) {
    return {{"intValue", std::to_string(v)}};
}

constexpr int kSpanInternal = 1, kSpanClient = 3;
constexpr int kStatusOk = 1, kStatusError = 2;

}  // namespace

OtlpTrace::OtlpTrace(const std::string& scenario, std::uint64_t seed, std::uint32_t replicas,
                     std::string client_role)
    : replicas_(replicas), client_role_(std::move(client_role)) {
    seed_hash_ = sim::Hasher(seed).add(scenario).value();
    // A trace id is 16 bytes and never all zero.
    trace_id_ = fmt::format("{:016x}{:016x}", sim::mix64(seed_hash_ ^ 0x7472) | 1,
                            sim::mix64(seed_hash_ ^ 0x6964));
}

std::string OtlpTrace::span_id(std::uint64_t a, std::uint64_t b) const {
    return fmt::format("{:016x}", sim::hash_fields(seed_hash_, a, b) | 1);
}

void OtlpTrace::end_view(std::uint32_t node, std::int64_t at) {
    if (node >= open_view_.size() || open_view_[node] < 0) return;
    spans_[node][static_cast<std::size_t>(open_view_[node])].end = at;
    open_view_[node] = -1;
}

void OtlpTrace::record(const sim::TraceRecord& r) {
    using K = sim::TraceRecord::Kind;
    if (r.to >= spans_.size()) {
        spans_.resize(r.to + 1);
        open_view_.resize(r.to + 1, -1);
    }
    std::vector<Span>& mine = spans_[r.to];
    switch (r.kind) {
        case K::View: {
            end_view(r.to, r.t);
            Span s{fmt::format("view {}", r.tag), span_id(r.to, 0x5600000000 + mine.size()), r.t};
            s.attributes.push_back(attribute("byzsim.view", integer(r.tag)));
            open_view_[r.to] = static_cast<long>(mine.size());
            mine.push_back(std::move(s));
            return;
        }
        case K::Crash:
            return end_view(r.to, r.t);
        case K::Deliver:
        case K::Local: {
            if (open_view_[r.to] < 0) return;
            Span& s = mine[static_cast<std::size_t>(open_view_[r.to])];
            if (s.events.size() >= kMaxEvents) {
                ++s.dropped_events;
                return;
            }
            s.events.push_back(
                {{"timeUnixNano", std::to_string(r.t)},
                 {"name", fmt::format("{} {}", sim::kind_name(r.kind), r.msg)},
                 {"attributes",
                  {attribute("byzsim.from", integer(r.from)),
                   attribute("byzsim.sent_ns", integer(static_cast<std::uint64_t>(r.sent))),
                   attribute("byzsim.digest", text(fmt::format("{:016x}", r.digest)))}}});
            return;
        }
        case K::Request: {
            Span s{fmt::format("request {}", r.tag), span_id(r.to, r.tag), r.t};
            s.attributes.push_back(attribute("byzsim.timestamp", integer(r.tag)));
            open_requests_[{r.to, r.tag}] = mine.size();
            mine.push_back(std::move(s));
            return;
        }
        case K::Accept: {
            const auto it = open_requests_.find({r.to, r.tag});
            if (it == open_requests_.end()) return;
            mine[it->second].end = r.t;
            open_requests_.erase(it);
            return;
        }
        default:
            return;
    }
}

json OtlpTrace::span_json(const Span& s, bool client) const {
    json j = {{"traceId", trace_id_},
              {"spanId", s.span_id},
              {"name", s.name},
              {"kind", client ? kSpanClient : kSpanInternal},
              {"startTimeUnixNano", std::to_string(s.start)},
              {"endTimeUnixNano", std::to_string(s.end)},
              {"attributes", s.attributes},
              {"events", s.events},
              {"droppedEventsCount", s.dropped_events},
              {"status", {{"code", s.ok ? kStatusOk : kStatusError}}}};
    if (!s.ok) j["status"]["message"] = "not accepted by the end of the run";
    return j;
}

json OtlpTrace::finish(std::int64_t end_ns) {
    for (std::uint32_t i = 0; i < spans_.size(); ++i) end_view(i, end_ns);
    for (const auto& [key, index] : open_requests_) {
        Span& s = spans_[key.first][index];
        s.end = end_ns;
        s.ok = false;
    }
    open_requests_.clear();
    json resources = json::array();
    for (std::uint32_t i = 0; i < spans_.size(); ++i) {
        const bool client = i >= replicas_;
        const std::string name = fmt::format("{} {}", client ? client_role_ : "replica", i);
        json spans = json::array();
        for (const Span& s : spans_[i]) spans.push_back(span_json(s, client));
        resources.push_back(
            {{"resource",
              {{"attributes",
                {attribute("service.name", text("byzsim")),
                 attribute("service.instance.id", text(name)), attribute("byzsim.node", integer(i)),
                 attribute("byzsim.role", text(client ? client_role_ : "replica"))}}}},
             {"scopeSpans", {{{"scope", {{"name", "byzsim"}}}, {"spans", std::move(spans)}}}}});
    }
    return {{"resourceSpans", std::move(resources)}};
}

}  // namespace reports
