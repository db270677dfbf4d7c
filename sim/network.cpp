#include "sim/network.hpp"

#include <algorithm>
#include <cmath>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/dijkstra_shortest_paths.hpp>

namespace sim {

const char* drop_reason_name(DropReason r) {
    switch (r) {
        case DropReason::None:
            return "none";
        case DropReason::Loss:
            return "loss";
        case DropReason::Partition:
            return "partition";
        case DropReason::Offline:
            return "offline";
        case DropReason::Overflow:
            return "overflow";
        case DropReason::Corrupt:
            return "corrupt";
        case DropReason::Rule:
            return "rule";
        case DropReason::Held:
            return "held";
        case DropReason::Count:
            break;
    }
    return "?";
}

Network::Network(const NetworkSpec& spec, std::uint32_t replicas, std::uint32_t total,
                 RandomStream rng)
    : replicas_(replicas),
      rng_(std::move(rng)),
      gst_(spec.gst),
      delta_(spec.delta),
      links_{spec.defaults},
      pairs_(static_cast<std::size_t>(replicas) * replicas),
      path_(static_cast<std::size_t>(replicas) * replicas),
      blocked_(static_cast<std::size_t>(replicas) * replicas, 0),
      isolated_(total, 0),
      last_arrival_clients_(static_cast<std::size_t>(total > replicas ? total - replicas : 0) *
                            replicas * 2) {
    if (!spec.links.empty()) build_paths(spec);
}

// With explicit links, a message between replicas without a direct link follows the shortest
// path by mean delay (Dijkstra over a Boost.Graph, once per source at start).
void Network::build_paths(const NetworkSpec& spec) {
    for (ReplicaPair& p : pairs_) p.link = kNoLink;
    using Graph =
        boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS, boost::no_property,
                              boost::property<boost::edge_weight_t, std::int64_t>>;
    Graph g(replicas_);
    auto mean_ns = [](const DelaySpec& d) -> std::int64_t {
        switch (d.dist) {
            case DelaySpec::Dist::Fixed:
                return d.value.ns;
            case DelaySpec::Dist::Uniform:
                return (d.min.ns + d.max.ns) / 2;
            case DelaySpec::Dist::Normal:
                return d.mean.ns;
            case DelaySpec::Dist::Lognormal:
                return d.median.ns;
            case DelaySpec::Dist::Exponential:
                return d.mean.ns;
        }
        return 0;
    };
    for (const ExplicitLink& l : spec.links) {
        links_.push_back(l.spec);
        auto idx = static_cast<std::uint32_t>(links_.size() - 1);
        pairs_[l.from * replicas_ + l.to].link = idx;
        boost::add_edge(l.from, l.to, std::max<std::int64_t>(1, mean_ns(l.spec.delay)), g);
        if (l.bidirectional) {
            pairs_[l.to * replicas_ + l.from].link = idx;
            boost::add_edge(l.to, l.from, std::max<std::int64_t>(1, mean_ns(l.spec.delay)), g);
        }
    }
    std::vector<std::size_t> pred(replicas_);
    std::vector<std::int64_t> dist(replicas_);
    for (std::uint32_t s = 0; s < replicas_; ++s) {
        boost::dijkstra_shortest_paths(
            g, s, boost::predecessor_map(pred.data()).distance_map(dist.data()));
        for (std::uint32_t t = 0; t < replicas_; ++t) {
            if (t == s || pairs_[s * replicas_ + t].link != kNoLink) continue;
            std::vector<std::uint32_t> hops;
            for (std::size_t v = t; v != s && pred[v] != v; v = pred[v])
                hops.push_back(static_cast<std::uint32_t>(v));
            std::reverse(hops.begin(), hops.end());
            path_[s * replicas_ + t] = std::move(hops);
        }
    }
}

bool Network::blocked(std::uint32_t from, std::uint32_t to) const {
    if (isolated_[from] != 0 || isolated_[to] != 0) return true;
    if (from >= replicas_ || to >= replicas_) return false;
    return blocked_[from * replicas_ + to] != 0;
}

const LinkSpec& Network::link(std::uint32_t from, std::uint32_t to) const {
    if (from >= replicas_ || to >= replicas_) return links_[0];
    std::uint32_t idx = pairs_[from * replicas_ + to].link;
    return links_[idx == kNoLink ? 0 : idx];
}

SimTime sample_delay(RandomStream& rng, const DelaySpec& d) {
    double x = 0;
    switch (d.dist) {
        case DelaySpec::Dist::Fixed:
            return d.value;
        case DelaySpec::Dist::Uniform:
            return {rng.uniform(d.min.ns, d.max.ns)};
        case DelaySpec::Dist::Normal:
            x = rng.normal(static_cast<double>(d.mean.ns), static_cast<double>(d.stddev.ns));
            break;
        case DelaySpec::Dist::Lognormal:
            x = rng.lognormal(std::log(static_cast<double>(std::max<std::int64_t>(1, d.median.ns))),
                              d.sigma);
            break;
        case DelaySpec::Dist::Exponential:
            x = rng.exponential(static_cast<double>(d.mean.ns));
            break;
    }
    // Cap at an hour so a heavy tail cannot overflow virtual time.
    x = std::clamp(x, 0.0, 3.6e12);
    return {std::llround(x)};
}

Routing Network::route(std::uint32_t from, std::uint32_t to, SimTime now) {
    // Most messages cross one link that drops, duplicates, corrupts and reorders nothing,
    // after a fixed delay, with no partition up: the general path would draw no random number
    // for them either, so this shortcut gives the same arrival.
    if (cuts_ == 0) {
        // A replica pair's link and FIFO bound share a line; other pairs use the defaults.
        ReplicaPair* pair =
            from < replicas_ && to < replicas_ ? &pairs_[from * replicas_ + to] : nullptr;
        const std::uint32_t idx = pair ? pair->link : 0;
        if (idx != kNoLink) {
            const LinkSpec& l = links_[idx];
            if (l.delay.dist == DelaySpec::Dist::Fixed && l.loss_ppm == 0 && l.corrupt_ppm == 0 &&
                l.duplicate_ppm == 0 && !l.reorder) {
                SimTime delay = l.delay.value;
                if (gst_ && now >= *gst_) delay = std::min(delay, delta_);
                SimTime& last = pair ? pair->last_arrival : last_arrival(from, to);
                Routing r;
                r.copies = 1;
                r.arrival[0] = std::max(now + delay, last);
                last = r.arrival[0];
                return r;
            }
        }
    }
    return route_through(from, to, now);
}

// The general path: partitions, every hop's loss, corruption, duplication and delay, FIFO.
Routing Network::route_through(std::uint32_t from, std::uint32_t to, SimTime now) {
    Routing r;
    if (blocked(from, to)) {
        r.dropped = DropReason::Partition;
        return r;
    }
    const bool synchronous = gst_ && now >= *gst_;
    // The hops a message takes: one direct link, or a precomputed shortest path.
    std::uint32_t single[1] = {to};
    const std::uint32_t* hop = single;
    std::size_t nhops = 1;
    if (from < replicas_ && to < replicas_ && pairs_[from * replicas_ + to].link == kNoLink) {
        const auto& p = path_[from * replicas_ + to];
        hop = p.data();
        nhops = p.size();
    }
    SimTime delay{};
    bool corrupted = false, duplicate = false, reorder = false;
    std::uint32_t at = from;
    for (std::size_t i = 0; i < nhops; ++i) {
        const LinkSpec& l = link(at, hop[i]);
        if (!synchronous) {
            if (rng_.chance_ppm(l.loss_ppm)) {
                r.dropped = DropReason::Loss;
                return r;
            }
            corrupted = corrupted || rng_.chance_ppm(l.corrupt_ppm);
            duplicate = duplicate || rng_.chance_ppm(l.duplicate_ppm);
        }
        reorder = reorder || l.reorder;
        delay += sample(l.delay);
        at = hop[i];
    }
    if (synchronous) delay = std::min(delay, delta_);
    r.copies = 1;
    r.arrival[0] = now + delay;
    r.corrupted[0] = corrupted;
    if (duplicate) {
        SimTime extra{};
        at = from;
        for (std::size_t i = 0; i < nhops; ++i) {
            extra += sample(link(at, hop[i]).delay);
            at = hop[i];
        }
        r.copies = 2;
        r.arrival[1] = now + extra;
        r.corrupted[1] = corrupted;
    }
    if (!reorder) {
        // FIFO: a message never overtakes an earlier one on the same ordered pair.
        SimTime& last = last_arrival(from, to);
        for (int c = 0; c < r.copies; ++c) {
            r.arrival[c] = std::max(r.arrival[c], last);
            last = r.arrival[c];
        }
    }
    return r;
}

void Network::block(std::uint32_t from, std::uint32_t to, int delta) {
    if (from < replicas_ && to < replicas_) {
        blocked_[from * replicas_ + to] += delta;
        cuts_ += delta;
    }
}

void Network::partition(const std::vector<std::vector<std::uint32_t>>& groups, int delta) {
    // Nodes in no group form one more group.
    std::vector<int> group_of(replicas_, -1);
    for (std::size_t g = 0; g < groups.size(); ++g)
        for (std::uint32_t v : groups[g]) group_of[v] = static_cast<int>(g);
    for (std::uint32_t a = 0; a < replicas_; ++a)
        for (std::uint32_t b = 0; b < replicas_; ++b)
            if (group_of[a] != group_of[b]) {
                blocked_[a * replicas_ + b] += delta;
                cuts_ += delta;
            }
}

void Network::isolate(std::uint32_t node, int delta) {
    isolated_[node] += delta;
    cuts_ += delta;
}

void Network::override_link(std::uint32_t from, std::uint32_t to, const LinkSpec* spec) {
    if (from >= replicas_ || to >= replicas_) return;
    std::uint32_t slot = from * replicas_ + to;
    if (spec) {
        saved_[slot].push_back(pairs_[slot].link);
        links_.push_back(*spec);
        pairs_[slot].link = static_cast<std::uint32_t>(links_.size() - 1);
    } else if (auto it = saved_.find(slot); it != saved_.end() && !it->second.empty()) {
        pairs_[slot].link = it->second.back();
        it->second.pop_back();
    }
}

}  // namespace sim
