// The replicated service a protocol runs: client commands executed in commit order, a digest of
// the state after each batch (PBFT) or block (HotStuff), and snapshots for state transfer.
// Replicas agree on these digests (a checkpoint certifies one, a commit record carries one), so
// the checker's agreement on states covers any service without knowing it. The default service,
// LogChain, is what the protocols ran before there was a choice: each result a hash of the
// request and its place in the log, the state a hash chain over the executed batches.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "protocols/common/client_messages.hpp"

namespace proto {

// A service's state as one replica hands it to another. The digest is what replicas agreed
// on; `data`, when the digest alone is not the state, is what restore() rebuilds it from.
struct AppSnapshot {
    Digest digest{};
    AppData data;
};
// Folds data into a message digest (a signature then covers it); none adds nothing.
std::uint64_t data_hash(const AppData& data);
inline std::uint32_t data_size(const AppData& data) {
    return data ? static_cast<std::uint32_t>(data->size()) : 0;
}

class Application {
public:
    virtual ~Application() = default;
    // Whether an honest replica may order this command: checked on a request before a leader
    // proposes it and on every command of a proposal before a replica accepts it. A pure
    // function of the command and the run's keys (a certificate carrying it is checked again).
    // `digest` is the request's, already checked against it by the caller.
    virtual bool admits(sim::Context& ctx, const Request& req, Digest digest) const {
        (void)ctx;
        (void)req;
        (void)digest;
        return true;
    }
    // Executes one client command, the `position`-th (from 1) of the batch or block at log
    // index `index`: the result the replica replies with. `request` is the command's digest.
    virtual Digest execute(const Request& req, Digest request, std::uint64_t index,
                           std::uint32_t position) = 0;
    // The batch or block at `index`, of digest `batch`, has executed: the state digest after it.
    virtual Digest seal(std::uint64_t index, Digest batch) = 0;
    virtual Digest digest() const = 0;
    virtual AppSnapshot snapshot() const = 0;
    // Takes a snapshot's state; false, with nothing changed, when its data does not give its
    // digest (a replica adopts only states its peers certified).
    virtual bool restore(const AppSnapshot& s) = 0;
};

// Makes a replica's service, again after a restart that lost its state; empty: LogChain.
using AppFactory = std::function<std::unique_ptr<Application>()>;

class LogChain final : public Application {
public:
    Digest execute(const Request& req, Digest request, std::uint64_t index,
                   std::uint32_t position) override;
    Digest seal(std::uint64_t index, Digest batch) override;
    Digest digest() const override { return state_; }
    AppSnapshot snapshot() const override { return {state_, nullptr}; }
    bool restore(const AppSnapshot& s) override;

private:
    Digest state_{};
};

std::unique_ptr<Application> make_application(const AppFactory& factory);

}  // namespace proto
