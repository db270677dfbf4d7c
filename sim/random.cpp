#include "sim/random.hpp"

#include <boost/random/exponential_distribution.hpp>
#include <boost/random/lognormal_distribution.hpp>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_int_distribution.hpp>

#include "sim/hash.hpp"

namespace sim {

RandomStream::RandomStream(std::uint64_t seed) : seed_(seed), engine_(mix64(seed)) {}

RandomStream RandomStream::fork(std::string_view label) const {
    return RandomStream(Hasher(seed_).add(label).value());
}

std::uint64_t RandomStream::next_u64() {
    return engine_();
}

std::int64_t RandomStream::uniform(std::int64_t lo, std::int64_t hi) {
    return boost::random::uniform_int_distribution<std::int64_t>(lo, hi)(engine_);
}

bool RandomStream::draw_ppm(std::uint32_t ppm) {
    if (ppm >= 1'000'000) return true;
    return uniform(0, 999'999) < static_cast<std::int64_t>(ppm);
}

double RandomStream::normal(double mean, double stddev) {
    return boost::random::normal_distribution<double>(mean, stddev)(engine_);
}

double RandomStream::lognormal(double m, double s) {
    return boost::random::lognormal_distribution<double>(m, s)(engine_);
}

double RandomStream::exponential(double mean) {
    return boost::random::exponential_distribution<double>(1.0 / mean)(engine_);
}

}  // namespace sim
