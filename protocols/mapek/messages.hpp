// What MAPE-K agents exchange and order: signed metric readings, and decisions that carry the
// readings justifying them as a command's data (proto::Request::data).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "protocols/common/client_messages.hpp"
#include "protocols/mapek/config.hpp"
#include "sim/actor.hpp"
#include "sim/payload.hpp"

namespace mapek {

// One node's reading of one metric of one workflow at one sampling round, signed by the node's
// agent (client id n + node).
struct Reading {
    std::uint32_t node = 0;
    std::uint32_t workflow = 0;
    Metric metric = Metric::Latency;
    std::uint64_t round = 0;
    std::int64_t value = 0;
    sim::Signature sig;
};
// The statement a reading's signature covers.
sim::Digest reading_digest(const Reading& r);
// Whether `r` is signed by the agent of the node it names.
bool reading_signed(sim::Context& ctx, std::uint32_t replicas, const Reading& r);

// READING: an agent's readings of one round, one per (workflow, metric) it watches.
struct ReadingMessage final : sim::Payload {
    std::vector<Reading> readings;

protected:
    std::uint64_t nested_wire_hash() const override;
};
using ReadingRef = sim::Ref<ReadingMessage>;
ReadingRef make_readings(sim::Context& ctx, std::uint16_t kind, std::vector<Reading> readings);

// A decision: take `action` on (workflow, metric), justified by `evidence`, readings of one
// round; `aggregate` is their median (the value the knowledge base records). An outcome
// (`outcome`) reports instead that the metric is back within its threshold at `round`, with
// readings of that round from 2f+1 nodes, f+1 of them within it: the knowledge base records it
// against the last action on the metric.
struct Decision {
    std::uint32_t workflow = 0;
    Metric metric = Metric::Latency;
    std::uint8_t action = 0;
    std::uint64_t round = 0;
    std::int64_t aggregate = 0;
    std::uint32_t proposer = 0;  // the node whose agent submitted it
    std::vector<Reading> evidence;
    bool outcome = false;
};
inline constexpr std::uint64_t kDecisionOp = 0x4d41'5045'4b44;  // a decision's operation word
proto::AppData encode(const Decision& d);
// Nothing for bytes that are not exactly one encoded decision (any Byzantine agent's bytes).
std::optional<Decision> decode(const std::vector<std::uint8_t>& bytes);

}  // namespace mapek
