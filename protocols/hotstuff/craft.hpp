// HotStuff's messages as the Byzantine layer's Craft sees them (protocols/common/craft.hpp):
//   PROPOSAL                  view and height of its block; its block's commands
//   VOTE                      view and slot (height) of its statement; the value (block) it
//                             votes for as the digest
//   NEW-VIEW                  its view
//   PRE-COMMIT/COMMIT/DECIDE  view and slot of the QC's statement; the QC's block as the digest
// Other messages (FETCH, BLOCK, SYNC-*) have no field here.
//
// A block is rebuilt whatever the seal (its hash is a hash, not a signature: block_hash is
// recomputed, its parent kept, its height as chosen). An Own seal signs everything anew with
// the crafting replica's key: the block is its own (proposer), with its own leader statement,
// a vote is its own vote. It cannot re-sign a QC: a QC's statement changed under an Own seal
// keeps the voters' signatures, which no longer verify. A Splice keeps the original message's
// signer, digest and signature, and the signatures inside it (the leader's statement over the
// altered block, the voter's signature over the altered statement). A Seeded PROPOSAL is a
// splice whose block also keeps the original's digest: before its commands are edited, the
// crafter asks the block every answer a receiver keeps (sim::ContentMemo); elsewhere Seeded is
// a Splice.
#pragma once

#include "protocols/common/craft.hpp"

namespace hotstuff {

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

}  // namespace hotstuff
