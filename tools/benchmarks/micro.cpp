// Micro benchmarks (Google Benchmark) of the two hot paths every simulated message crosses:
// - the bare event loop: sim::EventQueue in the hold model, K events pending, one pop and one
//   push per iteration, so items_per_second is events per second at a constant queue size;
// - signatures: sim::KeyRing sign and verify, simulated and Ed25519 (libsodium), per operation;
// - quorum certificates at n = 4 and 64 (q = n - f votes): creation (proto::QcBuilder::add of q
//   signed votes, each verified, then build) and verification (proto::verify_qc), per QC.
//
// Run with --benchmark_repetitions=3 --benchmark_report_aggregates_only=true to get medians;
// tools/bench does, and reads the JSON that --benchmark_out writes.
#include <array>
#include <cstdint>
#include <vector>

#include <benchmark/benchmark.h>

#include "protocols/common/qc.hpp"
#include "sim/crypto.hpp"
#include "sim/event_queue.hpp"
#include "sim/random.hpp"
#include "tests/recording_context.hpp"

namespace {

// xorshift64: a few instructions, so the loop measures the queue and not the generator.
struct XorShift {
    std::uint64_t s = 0x2545f4914f6cdd1dULL;
    std::uint64_t next() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        return s;
    }
};

// Time steps of 1 ns .. ~65 us, about the spread of message delays and timers in a run.
constexpr std::uint64_t kStepMask = 0xffff;

void event_loop_hold(benchmark::State& state) {
    const auto pending = static_cast<std::uint32_t>(state.range(0));
    sim::EventQueue queue;
    queue.reserve(pending + 1);
    XorShift rng;
    for (std::uint32_t i = 0; i < pending; ++i) {
        // Fields by name: a default Event is a delivery, however the struct is packed.
        sim::Event e{};
        e.time_ns = static_cast<std::int64_t>(rng.next() & kStepMask);
        e.target = i;
        e.slot = i;
        queue.push(e);
    }
    for (auto _ : state) {
        sim::Event e = queue.pop();
        e.time_ns += static_cast<std::int64_t>((rng.next() & kStepMask) + 1);
        queue.push(e);
    }
    benchmark::DoNotOptimize(queue.top());
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(event_loop_hold)->ArgName("pending")->Arg(64)->Arg(4096);

constexpr std::uint32_t kNodes = 64;
constexpr std::size_t kSigned = 256;  // a table of pre-made signatures that stays in L1

sim::KeyRing make_ring(bool ed25519) {
    return sim::KeyRing(kNodes, ed25519, sim::RandomStream(1));
}

void sign(benchmark::State& state, bool ed25519) {
    const sim::KeyRing ring = make_ring(ed25519);
    std::uint64_t i = 0;
    for (auto _ : state) {
        sim::Signature s =
            ring.sign(sim::NodeId(i % kNodes), sim::Digest(i * 0x9e3779b97f4a7c15ULL));
        benchmark::DoNotOptimize(s);
        ++i;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void verify(benchmark::State& state, bool ed25519) {
    const sim::KeyRing ring = make_ring(ed25519);
    std::array<sim::Signature, kSigned> sigs;
    for (std::size_t k = 0; k < kSigned; ++k)
        sigs[k] = ring.sign(sim::NodeId(k % kNodes), sim::Digest(k * 0x9e3779b97f4a7c15ULL));
    std::size_t k = 0;
    std::uint64_t bad = 0;
    for (auto _ : state) {
        const bool ok =
            ring.verify(sim::NodeId(k % kNodes), sim::Digest(k * 0x9e3779b97f4a7c15ULL), sigs[k]);
        benchmark::DoNotOptimize(ok);
        bad += !ok;
        k = (k + 1) % kSigned;
    }
    if (bad != 0) state.SkipWithError("a valid signature failed to verify");
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

BENCHMARK_CAPTURE(sign, simulated, false);
BENCHMARK_CAPTURE(verify, simulated, false);
BENCHMARK_CAPTURE(sign, ed25519, true);
BENCHMARK_CAPTURE(verify, ed25519, true);

// A quorum of signed votes on one statement, as a HotStuff leader receives them for a view.
struct QcFixture {
    std::uint32_t n, f, q;
    testing::RecordingContext ctx;
    proto::Statement stmt{1, 7, 7, sim::Digest(0x5eed5eed5eedULL)};
    std::vector<proto::SignedVote> votes;

    QcFixture(std::uint32_t replicas, bool ed25519)
        : n(replicas), f((replicas - 1) / 3), q(replicas - f), ctx(n, f, ed25519) {
        for (std::uint32_t i = 0; i < q; ++i) {
            ctx.act_as(i);
            votes.push_back(proto::sign_vote(ctx, stmt));
        }
        ctx.act_as(0);
    }
};

void qc_create(benchmark::State& state, bool ed25519) {
    QcFixture fx(static_cast<std::uint32_t>(state.range(0)), ed25519);
    for (auto _ : state) {
        proto::QcBuilder builder(fx.stmt, fx.q);
        for (const proto::SignedVote& v : fx.votes) builder.add(fx.ctx, v);
        if (!builder.complete()) {
            state.SkipWithError("a quorum of valid votes did not complete the QC");
            break;
        }
        proto::QuorumCert qc = builder.build(fx.ctx);
        benchmark::DoNotOptimize(qc);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void qc_verify(benchmark::State& state, bool ed25519) {
    QcFixture fx(static_cast<std::uint32_t>(state.range(0)), ed25519);
    proto::QcBuilder builder(fx.stmt, fx.q);
    for (const proto::SignedVote& v : fx.votes) builder.add(fx.ctx, v);
    const proto::QuorumCert qc = builder.build(fx.ctx);
    std::uint64_t bad = 0;
    for (auto _ : state) {
        const proto::QcCheck check = proto::verify_qc(fx.ctx, qc, fx.q, fx.n);
        benchmark::DoNotOptimize(check);
        bad += check != proto::QcCheck::Ok;
    }
    if (bad != 0) state.SkipWithError("a valid QC failed to verify");
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

BENCHMARK_CAPTURE(qc_create, simulated, false)->ArgName("n")->Arg(4)->Arg(64);
BENCHMARK_CAPTURE(qc_verify, simulated, false)->ArgName("n")->Arg(4)->Arg(64);
BENCHMARK_CAPTURE(qc_create, ed25519, true)->ArgName("n")->Arg(4)->Arg(64);
BENCHMARK_CAPTURE(qc_verify, ed25519, true)->ArgName("n")->Arg(4)->Arg(64);

}  // namespace

BENCHMARK_MAIN();
