#include "protocols/mapek/messages.hpp"

#include "protocols/mapek/bytes.hpp"
#include "sim/hash.hpp"

namespace mapek {

sim::Digest reading_digest(const Reading& r) {
    return sim::Digest(sim::hash_fields(0x5244, r.node, r.workflow,
                                        static_cast<std::uint64_t>(r.metric), r.round,
                                        static_cast<std::uint64_t>(r.value)));
}

bool reading_signed(sim::Context& ctx, std::uint32_t replicas, const Reading& r) {
    return r.node < replicas &&
           ctx.verify(sim::NodeId(replicas + r.node), reading_digest(r), r.sig);
}

std::uint64_t ReadingMessage::nested_wire_hash() const {
    sim::Hasher h(0x524d);
    for (const Reading& r : readings) h.add(sim::signature_hash(r.sig));
    return h.value();
}

ReadingRef make_readings(sim::Context& ctx, std::uint16_t kind, std::vector<Reading> readings) {
    auto [ref, m] = sim::make_payload<ReadingMessage>();
    sim::Hasher h(0x5247);
    for (const Reading& r : readings) h.add(reading_digest(r).v);
    m->kind = kind;
    m->digest = sim::Digest(h.value());
    m->size_bytes = static_cast<std::uint32_t>(16 + readings.size() * (32 + 64));
    m->signer = ctx.self();
    m->readings = std::move(readings);
    return ref;
}

namespace {

constexpr std::uint8_t kVersion = 1;
constexpr std::uint16_t kMaxEvidence = 1024;

bool read_reading(Reader& r, Reading& x) {
    std::uint8_t metric = 0;
    if (!r.get(x.node) || !r.get(x.workflow) || !r.get(metric) || !r.get(x.round) ||
        !r.get(x.value) || !r.get(x.sig))
        return false;
    if (metric >= kMetrics) return false;
    x.metric = static_cast<Metric>(metric);
    return true;
}

}  // namespace

proto::AppData encode(const Decision& d) {
    Writer w;
    w.reserve(32 + d.evidence.size() * (29 + sim::Signature::kBytes));
    w.put(kVersion);
    w.put(static_cast<std::uint8_t>(d.outcome ? 1 : 0));
    w.put(d.workflow);
    w.put(static_cast<std::uint8_t>(d.metric));
    w.put(d.action);
    w.put(d.round);
    w.put(d.aggregate);
    w.put(d.proposer);
    w.put(static_cast<std::uint16_t>(d.evidence.size()));
    for (const Reading& r : d.evidence) {
        w.put(r.node);
        w.put(r.workflow);
        w.put(static_cast<std::uint8_t>(r.metric));
        w.put(r.round);
        w.put(r.value);
        w.put(r.sig);
    }
    return std::make_shared<const std::vector<std::uint8_t>>(w.take());
}

std::optional<Decision> decode(const std::vector<std::uint8_t>& bytes) {
    Reader r(bytes);
    Decision d;
    std::uint8_t version = 0, kind = 0, metric = 0;
    std::uint16_t count = 0;
    if (!r.get(version) || version != kVersion || !r.get(kind) || kind > 1 || !r.get(d.workflow) ||
        !r.get(metric) || metric >= kMetrics || !r.get(d.action) || !r.get(d.round) ||
        !r.get(d.aggregate) || !r.get(d.proposer) || !r.get(count) || count > kMaxEvidence)
        return std::nullopt;
    d.metric = static_cast<Metric>(metric);
    d.outcome = kind == 1;
    d.evidence.resize(count);
    for (Reading& x : d.evidence)
        if (!read_reading(r, x)) return std::nullopt;
    if (!r.done()) return std::nullopt;
    return d;
}

}  // namespace mapek
