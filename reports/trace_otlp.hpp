// A run as OpenTelemetry traces in OTLP/JSON: one ExportTraceServiceRequest on one line, the
// file format the OpenTelemetry Collector's otlpjsonfile receiver reads. Each node is a
// resource (node id and role as attributes); a client's request is a span from its send to its
// accept; each view a replica spends is a span, with the messages it received then as span
// events (at most kMaxEvents per span; the rest counted in droppedEventsCount). Timestamps are
// virtual nanoseconds. One trace per run, its id derived from the scenario and seed.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/trace.hpp"

namespace reports {

class OtlpTrace final : public sim::TraceSink {
public:
    static constexpr std::size_t kMaxEvents = 1000;
    // Nodes 0..replicas-1 are replicas, the others `client_role` ("client", "agent").
    OtlpTrace(const std::string& scenario, std::uint64_t seed, std::uint32_t replicas,
              std::string client_role);
    void record(const sim::TraceRecord& r) override;
    bool wants_notes() const override { return false; }
    // The request, with the spans still open ended at `end_ns`.
    nlohmann::json finish(std::int64_t end_ns);

private:
    struct Span {
        std::string name;
        std::string span_id;
        std::int64_t start = 0, end = -1;
        nlohmann::json attributes = nlohmann::json::array();
        nlohmann::json events = nlohmann::json::array();
        std::uint64_t dropped_events = 0;
        bool ok = true;
    };
    std::string span_id(std::uint64_t a, std::uint64_t b) const;
    void end_view(std::uint32_t node, std::int64_t at);
    nlohmann::json span_json(const Span& s, bool client) const;

    std::uint64_t seed_hash_ = 0;
    std::string trace_id_;
    std::uint32_t replicas_ = 0;
    std::string client_role_;
    std::vector<std::vector<Span>> spans_;  // per node, in start order
    std::vector<long> open_view_;           // per node: index of its open view span, or -1
    std::map<std::pair<std::uint32_t, std::uint64_t>, std::size_t> open_requests_;
};

}  // namespace reports
