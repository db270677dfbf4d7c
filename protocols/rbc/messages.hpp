// Bracha's reliable broadcast (G. Bracha, "Asynchronous Byzantine agreement protocols",
// Information and Computation 75, 1987, §3): SEND, ECHO and READY, one plain aggregate each, in
// one variant. The author of a message is the payload's signer. An instance is named by its
// sender and the sender's own counter; ECHO and READY name the value by its digest.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "protocols/common/client_messages.hpp"
#include "protocols/common/ids.hpp"

namespace rbc {

using proto::ClientMessageRef;
using proto::Digest;
using proto::NodeId;

struct Message;
using MessageRef = sim::Ref<Message>;

// Counters fill the low 40 bits of a log index, the sender the bits above.
inline constexpr unsigned kCounterBits = 40;
inline constexpr std::uint64_t kMaxCounter = (std::uint64_t{1} << kCounterBits) - 1;

struct InstanceId {
    NodeId sender{};
    std::uint64_t counter = 0;
    auto operator<=>(const InstanceId&) const = default;
    // The index the checker sees: one per instance, so agreement is checked per instance.
    std::uint64_t index() const {
        return (static_cast<std::uint64_t>(sender.v) << kCounterBits) | counter;
    }
};

// SEND(id, m): the sender's value. No request is the null value, which executes nothing.
struct Send {
    InstanceId id;
    ClientMessageRef request;
    bool operator==(const Send&) const = default;
};
struct Echo {
    InstanceId id;
    Digest value{};
    bool operator==(const Echo&) const = default;
};
struct Ready {
    InstanceId id;
    Digest value{};
    bool operator==(const Ready&) const = default;
};

using Body = std::variant<Send, Echo, Ready>;

struct Message : sim::Payload {
    Body body;
    // seq: the instance's counter (its sender is the instance's other half).
    sim::Rounds rounds() const override;

protected:
    // A SEND's request, with its signature.
    std::uint64_t nested_wire_hash() const override;
    void on_seal() const override;  // a SEND's request
};

// Kind-table positions: REQUEST, REPLY, then the variant's alternatives in order.
enum Kind : std::uint16_t {
    kSend = proto::kFirstProtocolKind,
    kEcho,
    kReady,
};
std::vector<std::string> kind_names();

// Thresholds of §3, derived from n and f (any n > 3f, not only n = 3f+1).
// ECHOs for one value that make a replica send READY: ceil((n+f+1)/2), so that two such sets
// share an honest replica and no two values both reach it.
constexpr std::uint32_t echoes_for_ready(const proto::Quorum& q) {
    return (q.n + q.f + 2) / 2;
}
// READYs for one value that make a replica send READY too: f+1, at least one honest.
constexpr std::uint32_t readies_for_ready(const proto::Quorum& q) {
    return q.weak();
}
// READYs that deliver: q (2f+1 at n = 3f+1), so at least f+1 honest replicas are ready.
constexpr std::uint32_t readies_for_delivery(const proto::Quorum& q) {
    return q.q();
}

// The null value's digest, distinct from every request digest.
Digest null_value();
// The value a SEND carries: its request's digest, or the null value.
Digest value_of(const Send& s);
// The content digest of a message body signed by `signer`.
Digest message_digest(const Body& body, NodeId signer);

// Makes a message signed by the context's own node.
MessageRef make_message(sim::Context& ctx, Body body);
// `body` under `original`'s signer, digest and signature (a splice, for Byzantine strategies:
// receivers must find the digest is not the body's and drop it).
MessageRef make_spliced(Body body, const Message& original);

// Whether a peer's message may be used: the instance names a replica and a counter that fits,
// the digest matches the content, the signature is the signer's, a SEND is signed by its own
// sender and carries an authentic client request (or none).
bool authentic(sim::Context& ctx, const Message& m);

template <class T>
const T* as(const Message& m) {
    return std::get_if<T>(&m.body);
}

}  // namespace rbc
