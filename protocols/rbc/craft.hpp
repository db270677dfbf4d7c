// Reliable broadcast's messages as the Byzantine layer's Craft sees them
// (protocols/common/craft.hpp): the instance counter as the sequence number, the value an ECHO
// or READY names as the digest, and a SEND's request as its one command.
#pragma once

#include "protocols/common/craft.hpp"

namespace rbc {

class Craft final : public proto::Craft {
public:
    std::optional<std::uint64_t> get(const sim::Payload& m, proto::Field f) const override;
    sim::PayloadRef with(sim::Context& ctx, const sim::Payload& m, proto::Field f,
                         std::uint64_t value, proto::Seal seal) const override;
    std::size_t commands(const sim::Payload& m) const override;
    sim::PayloadRef with_commands(sim::Context& ctx, const sim::Payload& m,
                                  const proto::CommandEdit& edit, proto::Seal seal) const override;
};

}  // namespace rbc
