// The random-stream tree. One root seed; each consumer forks a child stream by a stable label
// ("net", "replica/3", "workload"), so adding a consumer never disturbs another's draws.
// Engines and distributions are Boost.Random's, so results do not depend on the standard library.
#pragma once

#include <cstdint>
#include <string_view>

#include <boost/random/mersenne_twister.hpp>

namespace sim {

class RandomStream {
public:
    explicit RandomStream(std::uint64_t seed);

    // A child stream whose seed depends only on this stream's seed and the label.
    RandomStream fork(std::string_view label) const;
    std::uint64_t seed() const { return seed_; }

    std::uint64_t next_u64();
    // Uniform integer in [lo, hi], both inclusive.
    std::int64_t uniform(std::int64_t lo, std::int64_t hi);
    // True with probability ppm / 1,000,000 (integer probabilities keep results exact).
    bool chance_ppm(std::uint32_t ppm) { return ppm != 0 && draw_ppm(ppm); }
    double normal(double mean, double stddev);
    double lognormal(double m, double s);
    double exponential(double mean);

    boost::random::mt19937_64& engine() { return engine_; }

private:
    bool draw_ppm(std::uint32_t ppm);
    std::uint64_t seed_;
    boost::random::mt19937_64 engine_;
};

}  // namespace sim
