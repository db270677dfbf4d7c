// PBFT's messages as the Byzantine layer's Craft sees them (protocols/common/craft.hpp):
// view and seq of ordering messages, VIEW-CHANGE and NEW-VIEW (view) and CHECKPOINT (seq, and
// its state as the digest), the digest of ordering messages, and a PRE-PREPARE's batch.
#pragma once

#include "protocols/common/craft.hpp"

namespace pbft {

class Craft final : public proto::Craft {
public:
    std::optional<std::uint64_t> get(const sim::Payload& m, proto::Field f) const override;
    sim::PayloadRef with(sim::Context& ctx, const sim::Payload& m, proto::Field f,
                         std::uint64_t value, proto::Seal seal) const override;
    std::size_t commands(const sim::Payload& m) const override;
    sim::PayloadRef with_commands(sim::Context& ctx, const sim::Payload& m,
                                  const proto::CommandEdit& edit, proto::Seal seal) const override;
    sim::PayloadRef relabel(const sim::Payload& m) const override;
};

}  // namespace pbft
