#include "protocols/cost.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "protocols/mapek/factory.hpp"

namespace protocols {

namespace {

constexpr double kMaxCount = static_cast<double>(std::numeric_limits<std::uint64_t>::max());

std::uint64_t saturate(double x) {
    if (!(x >= 0)) return 0;
    return x >= kMaxCount ? std::numeric_limits<std::uint64_t>::max()
                          : static_cast<std::uint64_t>(x);
}

// Events (deliveries and timers) one request costs a fault-free run with one request per
// batch, fitted to runs of n = 4, 7 and 10 and rounded up: PBFT's request, PRE-PREPARE,
// PREPAREs, COMMITs and replies (2n² + O(n)); chained HotStuff's proposals and votes plus the
// NEW-VIEWs of its pipeline (n²/2 + O(n)); basic HotStuff's four phases of n messages each
// way (9n); Bracha's SEND, ECHO and READY (2n² + O(n)).
double events_per_request(const sim::ScenarioSpec& s) {
    const double n = s.nodes;
    if (s.protocol == "hotstuff") {
        const auto v = s.protocol_params.find("variant");
        if (v != s.protocol_params.end() && *v == "basic") return 9 * n + 4;
        return n * n / 2 + 2 * n + 2;
    }
    return 2 * n * n + 2 * n + 2;  // pbft, rbc
}

// The least time a link takes: a closed-loop client's request and reply each take at least
// this long.
double min_delay_ns(const sim::NetworkSpec& net) {
    auto low = [](const sim::DelaySpec& d) -> double {
        if (d.dist == sim::DelaySpec::Dist::Fixed) return static_cast<double>(d.value.ns);
        if (d.dist == sim::DelaySpec::Dist::Uniform) return static_cast<double>(d.min.ns);
        return 0;
    };
    double out = low(net.defaults.delay);
    for (const sim::ExplicitLink& l : net.links) out = std::min(out, low(l.spec.delay));
    return out;
}

// The requests the workload issues before the stop, and whether the stop time bounds them.
std::pair<double, bool> issued_requests(const sim::ScenarioSpec& s) {
    const sim::WorkloadSpec& w = s.workload;
    const double window = static_cast<double>(
        std::max<std::int64_t>(0, s.stop.at.ns - std::min(s.stop.at.ns, w.start.ns)));
    const double scheduled = static_cast<double>(w.schedule.size());
    const double total = static_cast<double>(w.requests) + scheduled;
    double cap = total;
    if (w.mode == sim::WorkloadSpec::Mode::Open) {
        cap = std::ceil(w.rate_per_s * window / 1e9) + scheduled;
    } else {
        const double each = static_cast<double>(w.think.ns) + 2 * min_delay_ns(s.network);
        if (each > 0) cap = w.clients * (std::floor(window / each) + 1) + scheduled;
    }
    return {std::min(total, cap), cap < total};
}

}  // namespace

std::string count_text(std::uint64_t n) {
    if (n == std::numeric_limits<std::uint64_t>::max()) return "no limit";
    if (n < 100'000) return std::to_string(n);
    return fmt::format("{:.1e}", static_cast<double>(n));
}

std::string bytes_text(std::uint64_t n) {
    if (n == std::numeric_limits<std::uint64_t>::max()) return "no limit";
    const double b = static_cast<double>(n);
    if (b >= std::pow(2.0, 40)) return fmt::format("{:.1f} TiB", b / std::pow(2.0, 40));
    if (b >= std::pow(2.0, 30)) return fmt::format("{:.1f} GiB", b / std::pow(2.0, 30));
    return fmt::format("{:.0f} MiB", std::ceil(b / std::pow(2.0, 20)));
}

std::string CostEstimate::basis() const {
    std::string out = fmt::format("{}, n={}: {} requests x {} events each", system, nodes,
                                  count_text(requests), count_text(events_per_request));
    if (timed_events > 0) out += fmt::format(" + {} sampling events", count_text(timed_events));
    return out;
}

CostEstimate estimate_cost(const sim::ScenarioSpec& s) {
    CostEstimate e;
    e.system = s.system == "mapek"
                   ? "MAPE-K over " + s.mapek.value("consensus", std::string("pbft"))
                   : s.protocol;
    e.nodes = s.nodes;
    const double n = s.nodes;
    auto [requests, time_bound] = issued_requests(s);
    double per_request = events_per_request(s);
    double timed = 0;
    double request_bytes = s.protocol == "rbc" ? 256 + 1536 * n : 256 + 32 * n;
    if (s.system == "mapek") {
        // Every node samples each period and broadcasts its readings; the loop's decisions
        // are few. Agents, not the workload, are the clients.
        const mapek::System sys = mapek::assemble(s);
        const double period =
            static_cast<double>(std::max<std::int64_t>(1, sys.cfg->sample_period.ns));
        timed = 4 * n * n * std::floor(static_cast<double>(s.stop.at.ns) / period);
        requests = 0;
        per_request = 0;
    }
    const double request_events = per_request * requests;
    const double in_flight_bytes = 512 * n * n;
    const double stored_bytes = request_bytes * requests;
    e.requests = saturate(requests);
    e.events_per_request = saturate(per_request);
    e.timed_events = saturate(timed);
    e.events = saturate(request_events + timed);
    e.bytes = saturate(double{16 << 20} + in_flight_bytes + stored_bytes);
    e.stored_bytes = saturate(stored_bytes);
    const char* requests_path = time_bound ? "/stop/at" : "/workload/requests";
    e.events_path = timed > request_events ? "/stop/at" : requests_path;
    e.bytes_path = in_flight_bytes > stored_bytes ? "/nodes" : requests_path;
    return e;
}

void check_budget(const CostEstimate& e, const Budget& b) {
    std::uint64_t bytes = e.bytes;
    if (b.cut && e.events > b.events) {
        const double kept = static_cast<double>(b.events) / static_cast<double>(e.events);
        bytes = e.bytes - e.stored_bytes + saturate(static_cast<double>(e.stored_bytes) * kept);
    }
    const bool too_long = !b.cut && e.events > b.events;
    if (!too_long && bytes <= b.bytes) return;
    throw sim::ScenarioError(
        too_long ? e.events_path : e.bytes_path,
        fmt::format("the run would need about {} events and {} of memory ({}); the budget "
                    "allows {} events and {}; make the scenario smaller, or raise the budget "
                    "with --max-events N / --max-memory SIZE",
                    count_text(e.events), bytes_text(bytes), e.basis(),
                    b.cut ? "any number of" : count_text(b.events), bytes_text(b.bytes)));
}

}  // namespace protocols
