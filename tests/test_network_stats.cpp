// The network model against the distributions the format promises (FORMAT.md, "Delay object"
// and "links"): each delay distribution's mean and spread on a loss-free link (the general
// path), duplication's share and its copies on a fixed-delay link, and routes over explicit
// topologies: a pair's own link, else the path of least mean delay, its hop count shown by the
// sum of the hops' delays.
// Tolerances are several standard errors of 20,000 draws, so a right model never fails one.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "sim/network.hpp"
#include "sim/random.hpp"

namespace {

using sim::DelaySpec;
using sim::milliseconds;

constexpr int kDraws = 20'000;

struct Stats {
    double mean = 0, sd = 0, median = 0;
    std::vector<double> xs;
    double share_above(double x) const {
        return static_cast<double>(
                   std::count_if(xs.begin(), xs.end(), [x](double v) { return v > x; })) /
               static_cast<double>(xs.size());
    }
};

Stats stats(std::vector<double> xs) {
    Stats s;
    for (double x : xs) s.mean += x;
    s.mean /= static_cast<double>(xs.size());
    for (double x : xs) s.sd += (x - s.mean) * (x - s.mean);
    s.sd = std::sqrt(s.sd / static_cast<double>(xs.size() - 1));
    std::sort(xs.begin(), xs.end());
    s.median = xs[xs.size() / 2];
    s.xs = std::move(xs);
    return s;
}

// Delays in ms of kDraws messages 0 -> 1, one per ms, on a reordering, loss-free link (no
// FIFO clamp), taking the general path (a non-fixed delay).
Stats delays(const DelaySpec& d) {
    sim::NetworkSpec spec;
    spec.defaults.delay = d;
    spec.defaults.reorder = true;
    sim::Network net(spec, 2, 2, sim::RandomStream(11));
    std::vector<double> xs;
    for (int i = 0; i < kDraws; ++i) {
        const sim::SimTime now = milliseconds(i);
        const sim::Routing r = net.route(0, 1, now);
        REQUIRE(r.dropped == sim::DropReason::None);
        REQUIRE(r.copies == 1);
        xs.push_back(static_cast<double>((r.arrival[0] - now).ns) / 1e6);
    }
    return stats(std::move(xs));
}

sim::ExplicitLink link(std::uint32_t from, std::uint32_t to, sim::SimTime delay) {
    sim::ExplicitLink l;
    l.from = from;
    l.to = to;
    l.spec.delay.value = delay;
    return l;
}

}  // namespace

TEST_CASE("network stats: uniform delays are flat over [min, max]") {
    DelaySpec d;
    d.dist = DelaySpec::Dist::Uniform;
    d.min = milliseconds(2);
    d.max = milliseconds(10);
    const Stats s = delays(d);
    CHECK(s.mean == doctest::Approx(6.0).epsilon(0.01));
    CHECK(s.sd == doctest::Approx(8.0 / std::sqrt(12.0)).epsilon(0.02));
    CHECK(*std::min_element(s.xs.begin(), s.xs.end()) >= 2.0);
    CHECK(*std::max_element(s.xs.begin(), s.xs.end()) <= 10.0);
    CHECK(s.share_above(8.0) == doctest::Approx(0.25).epsilon(0.05));
}

TEST_CASE("network stats: normal delays have their mean and standard deviation") {
    DelaySpec d;
    d.dist = DelaySpec::Dist::Normal;
    d.mean = milliseconds(20);
    d.stddev = milliseconds(3);  // truncation at 0 is 6.7 sd away: no visible effect
    const Stats s = delays(d);
    CHECK(s.mean == doctest::Approx(20.0).epsilon(0.005));
    CHECK(s.sd == doctest::Approx(3.0).epsilon(0.03));
    CHECK(s.share_above(23.0) == doctest::Approx(0.1587).epsilon(0.06));
}

TEST_CASE("network stats: lognormal delays have their median and mean") {
    DelaySpec d;
    d.dist = DelaySpec::Dist::Lognormal;
    d.median = milliseconds(5);
    d.sigma = 0.5;
    const Stats s = delays(d);
    CHECK(s.median == doctest::Approx(5.0).epsilon(0.02));
    CHECK(s.mean == doctest::Approx(5.0 * std::exp(0.125)).epsilon(0.02));
    CHECK(s.share_above(5.0 * std::exp(0.5)) == doctest::Approx(0.1587).epsilon(0.06));
}

TEST_CASE("network stats: exponential delays have their mean, and e^-1 above it") {
    DelaySpec d;
    d.dist = DelaySpec::Dist::Exponential;
    d.mean = milliseconds(4);
    const Stats s = delays(d);
    CHECK(s.mean == doctest::Approx(4.0).epsilon(0.03));
    CHECK(s.sd == doctest::Approx(4.0).epsilon(0.04));
    CHECK(s.share_above(4.0) == doctest::Approx(std::exp(-1.0)).epsilon(0.03));
}

TEST_CASE("network stats: duplication on a fixed-delay link copies its share, both on time") {
    sim::NetworkSpec spec;
    spec.defaults.delay.value = milliseconds(3);
    spec.defaults.duplicate_ppm = 100'000;
    sim::Network net(spec, 2, 2, sim::RandomStream(5));
    int copies = 0;
    for (int i = 0; i < kDraws; ++i) {
        const sim::SimTime now = milliseconds(10 * i);
        const sim::Routing r = net.route(0, 1, now);
        REQUIRE(r.dropped == sim::DropReason::None);
        copies += r.copies == 2;
        for (int c = 0; c < r.copies; ++c) {
            CHECK(r.arrival[c] == now + milliseconds(3));
            CHECK_FALSE(r.corrupted[c]);  // the link corrupts nothing
        }
    }
    CHECK(static_cast<double>(copies) / kDraws == doctest::Approx(0.1).epsilon(0.05));
}

TEST_CASE("network stats: on a FIFO link a duplicate and later messages keep their order") {
    // Loss makes the general path route this link: uniform 1-50ms delays, 20% duplicated, some
    // lost. Every copy, duplicates included, arrives no earlier than the copy before it on the
    // pair, and none is corrupted.
    sim::NetworkSpec spec;
    spec.defaults.delay.dist = DelaySpec::Dist::Uniform;
    spec.defaults.delay.min = milliseconds(1);
    spec.defaults.delay.max = milliseconds(50);
    spec.defaults.duplicate_ppm = 200'000;
    spec.defaults.loss_ppm = 1;
    sim::Network net(spec, 2, 2, sim::RandomStream(8));
    sim::SimTime last{};
    int copies = 0;
    for (int i = 0; i < kDraws; ++i) {
        const sim::Routing r = net.route(0, 1, sim::microseconds(100 * i));
        if (r.dropped != sim::DropReason::None) continue;
        copies += r.copies == 2;
        for (int c = 0; c < r.copies; ++c) {
            CHECK(r.arrival[c] >= last);
            CHECK_FALSE(r.corrupted[c]);
            last = r.arrival[c];
        }
    }
    CHECK(static_cast<double>(copies) / kDraws == doctest::Approx(0.2).epsilon(0.05));
}

TEST_CASE("network stats: explicit topologies route over the fewest-delay path, hop by hop") {
    // A line 0 - 1 - 2 - 3 (1, 2 and 3 ms): 0 -> 3 crosses three hops (6 ms), 1 -> 3 two.
    sim::NetworkSpec spec;
    spec.links = {link(0, 1, milliseconds(1)), link(1, 2, milliseconds(2)),
                  link(2, 3, milliseconds(3))};
    sim::Network line(spec, 4, 4, sim::RandomStream(1));
    CHECK(line.route(0, 3, {}).arrival[0] == milliseconds(6));
    CHECK(line.route(3, 0, {}).arrival[0] == milliseconds(6));  // links are bidirectional
    CHECK(line.route(1, 3, {}).arrival[0] == milliseconds(5));
    CHECK(line.route(0, 2, {}).arrival[0] == milliseconds(3));
    // A 0 - 3 link of 10 ms: 0 and 3 use their own link; 1 -> 3 still goes 1-2-3 (5 ms, not
    // 1-0-3 in 11), 2 -> 0 goes 2-1-0 (3 ms). At 2 ms, 1 -> 3 goes 1-0-3 (3 ms).
    spec.links.push_back(link(0, 3, milliseconds(10)));
    sim::Network slow(spec, 4, 4, sim::RandomStream(1));
    CHECK(slow.route(0, 3, {}).arrival[0] == milliseconds(10));
    CHECK(slow.route(1, 3, {}).arrival[0] == milliseconds(5));
    CHECK(slow.route(2, 0, {}).arrival[0] == milliseconds(3));
    spec.links.back() = link(0, 3, milliseconds(2));
    sim::Network fast(spec, 4, 4, sim::RandomStream(1));
    CHECK(fast.route(1, 3, {}).arrival[0] == milliseconds(3));
    CHECK(fast.route(2, 0, {}).arrival[0] == milliseconds(3));  // 2-1-0 and 2-3-0 tie at 3 ms

    // Uniform hops add up: over two hops of [1, 3] ms the mean is 4 ms and the spread twice a
    // hop's variance; never below 2 ms nor above 6 ms.
    spec.links = {link(0, 1, {}), link(1, 2, {})};
    for (sim::ExplicitLink& l : spec.links) {
        l.spec.delay.dist = DelaySpec::Dist::Uniform;
        l.spec.delay.min = milliseconds(1);
        l.spec.delay.max = milliseconds(3);
        l.spec.reorder = true;
    }
    sim::Network two(spec, 3, 3, sim::RandomStream(2));
    std::vector<double> xs;
    for (int i = 0; i < kDraws; ++i) {
        const sim::SimTime now = milliseconds(i);
        xs.push_back(static_cast<double>((two.route(0, 2, now).arrival[0] - now).ns) / 1e6);
    }
    const Stats s = stats(std::move(xs));
    CHECK(s.mean == doctest::Approx(4.0).epsilon(0.01));
    CHECK(s.sd == doctest::Approx(std::sqrt(2 * 4.0 / 12.0)).epsilon(0.03));
    CHECK(*std::min_element(s.xs.begin(), s.xs.end()) >= 2.0);
    CHECK(*std::max_element(s.xs.begin(), s.xs.end()) <= 6.0);
}

TEST_CASE("network: a fixed-delay link stays FIFO when GST shortens its delay") {
    // Before GST the link takes 100 ms; from GST (1 s) on, delta (10 ms). A message sent just
    // after GST would overtake one sent just before it: a FIFO link holds it back instead, and
    // later ones arrive after delta again once the link has drained.
    sim::NetworkSpec spec;
    spec.defaults.delay.dist = DelaySpec::Dist::Fixed;
    spec.defaults.delay.value = milliseconds(100);
    spec.gst = sim::seconds(1);
    spec.delta = milliseconds(10);
    sim::Network net(spec, 4, 4, sim::RandomStream(1));
    const auto at = [&](std::int64_t ms, std::uint32_t to) {
        return net.route(0, to, milliseconds(ms)).arrival[0].ns;
    };
    CHECK(at(990, 1) == milliseconds(1090).ns);
    CHECK(at(1000, 1) == milliseconds(1090).ns);
    CHECK(at(1005, 1) == milliseconds(1090).ns);
    CHECK(at(1100, 1) == milliseconds(1110).ns);
    CHECK(at(1005, 2) == milliseconds(1015).ns);  // another link: nothing ahead of it
}
