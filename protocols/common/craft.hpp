// A protocol's typed view of its messages for the Byzantine layer: read a field of a message,
// and build a copy with one field changed, sealed with the crafting replica's own key or spliced
// (the original signer's signature kept over the original digest, on a body that no longer
// matches it: authentication must reject that unless it recomputes nothing the body changed).
// Generic strategies (proto::Mutator) need nothing of a protocol beyond this interface.
#pragma once

#include <cstdint>
#include <optional>

#include "sim/actor.hpp"
#include "sim/payload.hpp"

namespace proto {

// The fields crafting may change. Rounds are numbers; Digest is the value a message votes for
// or orders (a PRE-PREPARE's d, a vote's block, a CHECKPOINT's state).
enum class Field : std::uint8_t { View, Seq, Height, Digest, Count };
const char* field_name(Field f);

enum class Seal : std::uint8_t {
    Own,     // signed by the crafting replica, which it names as the sender
    Splice,  // the original's signer, digest and signature kept over the altered body
    // A Splice whose content the crafting replica first asks, unaltered, every answer a
    // receiver may keep (sim::ContentMemo: digest checks, certificate keys), and then alters:
    // only a receiver that trusts answers computed before a payload was sent accepts it. A
    // protocol whose receivers keep no such answers treats it as a Splice.
    Seeded,
};

// An edit of the commands (requests) a message carries: a PRE-PREPARE's batch, a block's
// commands, a SEND's value.
struct CommandEdit {
    enum class Op : std::uint8_t { Drop, Duplicate, Inject };
    Op op = Op::Drop;
    std::size_t index = 0;   // Drop, Duplicate: which command
    sim::PayloadRef inject;  // Inject: a client request (a proto::ClientMessage)
};

class Craft {
public:
    virtual ~Craft() = default;
    // The value of `f` in `m`; nullopt when `m` has no such field (or is not a protocol message).
    virtual std::optional<std::uint64_t> get(const sim::Payload& m, Field f) const = 0;
    // A copy of `m` with `f` set to `value`; null when `m` has no such field. An Own seal also
    // recomputes what the field determines (a digest over the changed body).
    virtual sim::PayloadRef with(sim::Context& ctx, const sim::Payload& m, Field f,
                                 std::uint64_t value, Seal seal) const = 0;
    // How many commands `m` carries (0 for a message that carries none).
    virtual std::size_t commands(const sim::Payload& m) const = 0;
    // A copy of `m` with its commands edited; null when `m` carries commands of no kind.
    virtual sim::PayloadRef with_commands(sim::Context& ctx, const sim::Payload& m,
                                          const CommandEdit& edit, Seal seal) const = 0;
    // A copy of `m` labelled as the protocol's next message kind: body, signer, digest and
    // signature unchanged (the kind is outside what a signature covers); null when the protocol
    // cannot relabel `m`.
    virtual sim::PayloadRef relabel(const sim::Payload& m) const {
        (void)m;
        return {};
    }
};

}  // namespace proto
