// Small-scope message mutation, the Byzantine behaviour "mutate" (after ByzzFuzz, Winter et al.,
// OOPSLA'23): with a given probability per outgoing message, change one thing within a small
// scope and send that instead: a round (view, seq or height) moved by 1 or 2, a digest swapped
// for one this replica saw recently, a command dropped, duplicated or injected (one a client
// sent, or one this replica signs for that client or as a client under its own id), another
// recipient, a message another replica signed with a round changed under its signature (a
// splice), or its own commands edited under the original digest and signatures after the
// answers a receiver keeps were asked of the original (seeded, proto::Seal::Seeded). Everything
// protocol-specific goes through proto::Craft; the rest is generic.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "protocols/common/craft.hpp"
#include "protocols/common/ids.hpp"
#include "sim/scenario.hpp"

namespace proto {

struct MutateParams {
    enum class Kind : std::uint8_t {
        Round,
        Digest,
        Commands,
        Recipient,
        Splice,
        Relabel,
        Seeded,
        Count
    };
    std::uint32_t ppm = 200'000;  // per outgoing message
    std::vector<Kind> kinds;      // the mutations allowed (default all)
};
// Reads a "mutate" entry's params ("probability", "kinds"); ScenarioError at the path. A
// replica has one mutate entry at most (`spec` has them all).
MutateParams parse_mutate(const sim::FaultSpec& f, const sim::ScenarioSpec& spec);
std::vector<std::string> mutate_kind_names();

class Mutator {
public:
    Mutator(MutateParams p, const Craft& craft) : p_(std::move(p)), craft_(craft) {}

    // Remembers what another node sent: its digests (for swaps), client requests (to inject)
    // and protocol messages (to splice). Bounded rings: the adversary's own memory.
    void observe(NodeId from, const sim::PayloadRef& msg, NodeId self);
    // The recipient and message to send instead of (to, msg): unchanged, or one mutation.
    // Each copy of a broadcast is mutated on its own (ByzzFuzz mutates per message), except
    // that a round moved or a batch edited for one copy goes so to every copy of that
    // broadcast, so such a proposal can still gather a quorum.
    std::pair<NodeId, sim::PayloadRef> mutate(sim::Context& ctx, NodeId to, sim::PayloadRef msg);
    std::uint64_t mutations() const { return mutations_; }

private:
    using Kind = MutateParams::Kind;
    static constexpr std::size_t kRing = 16;
    template <class T>
    struct Ring {
        std::array<T, kRing> items{};
        std::size_t size = 0, next = 0;
        void push(T x) {
            items[next] = std::move(x);
            next = (next + 1) % kRing;
            if (size < kRing) ++size;
        }
    };
    bool applies(Kind k, sim::Context& ctx, NodeId to, const sim::Payload& m) const;
    sim::PayloadRef move_round(sim::Context& ctx, const sim::Payload& m, Seal seal);
    sim::PayloadRef swap_digest(sim::Context& ctx, const sim::Payload& m);
    sim::PayloadRef edit_commands(sim::Context& ctx, const sim::Payload& m, Seal seal);
    sim::PayloadRef injected_request(sim::Context& ctx) const;

    MutateParams p_;
    const Craft& craft_;
    Ring<Digest> digests_;
    Ring<sim::PayloadRef> requests_, messages_;
    std::uint64_t mutations_ = 0;
    sim::PayloadRef last_in_, last_out_;  // the last payload given and its changed round or batch
};

}  // namespace proto
