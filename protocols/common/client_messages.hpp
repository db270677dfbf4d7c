// REQUEST and REPLY, shared by every protocol (PROTOCOLS.md §1.2). Their kinds are 0 and 1 in
// every protocol's kind table; protocol messages start at kFirstProtocolKind.
#pragma once

#include <cstdint>
#include <memory>
#include <variant>
#include <vector>

#include "protocols/common/ids.hpp"
#include "sim/actor.hpp"
#include "sim/payload.hpp"

namespace proto {

inline constexpr std::uint16_t kRequestKind = 0;
inline constexpr std::uint16_t kReplyKind = 1;
inline constexpr std::uint16_t kFirstProtocolKind = 2;

// Bytes a command or a service's state carries beyond a digest, shared, never changed.
using AppData = std::shared_ptr<const std::vector<std::uint8_t>>;

// REQUEST(o, t, c), signed by client c. `data`, when set, is the command's body (a MAPE-K
// decision and its justification): the digest, and so the signature, cover it.
struct Request {
    std::uint64_t op = 0;
    std::uint64_t timestamp = 0;
    NodeId client{};
    AppData data;
    bool operator==(const Request&) const = default;
};

// REPLY(v, t, c, i, r), signed by replica i; `index` is where it executed (for reports).
struct Reply {
    View view{};
    std::uint64_t timestamp = 0;
    NodeId client{};
    NodeId replica{};
    Digest result{};
    std::uint64_t index = 0;
    bool operator==(const Reply&) const = default;
};

struct ClientMessage : sim::Payload {
    std::variant<Request, Reply> body;

    // digest is the digest of body. Every replica that receives a request asks; a sealed
    // message never changes, so the first answer is kept (a pure function of its content).
    bool digest_matches() const;
    // view: a REPLY's view.
    sim::Rounds rounds() const override;

private:
    sim::ContentMemo<bool> digest_ok_;  // kept once sealed (sim::ContentMemo)
};
using ClientMessageRef = sim::Ref<ClientMessage>;

inline bool is_client_message(const sim::Payload& p) {
    return p.kind < kFirstProtocolKind;
}

Digest request_digest(const Request& r);
sim::RequestKey request_key(const Request& r);
// Makes and signs a message with the context's own key.
ClientMessageRef make_request(sim::Context& ctx, const Request& r);
ClientMessageRef make_reply(sim::Context& ctx, const Reply& r);
// Checks the signature, and that the signer is the client (request) or replica (reply) named.
bool authentic(sim::Context& ctx, const ClientMessage& m);

// The result a replica returns for a request executed at `index`: a function of what was
// executed and where, so honest replicas agree on it exactly when they agree on the log.
Digest execution_result(Digest request, std::uint64_t index, std::uint32_t position);

}  // namespace proto
