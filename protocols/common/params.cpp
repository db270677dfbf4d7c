#include "protocols/common/params.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace proto {

Params::Params(const nlohmann::json& obj, std::string path,
               std::initializer_list<const char*> allowed)
    : obj_(obj), path_(std::move(path)) {
    if (!obj_.is_object()) throw sim::ScenarioError(path_, "expected an object");
    for (const auto& [key, value] : obj_.items()) {
        bool ok = false;
        std::string list;
        for (const char* a : allowed) {
            ok |= key == a;
            list += list.empty() ? a : fmt::format(", {}", a);
        }
        if (!ok)
            throw sim::ScenarioError(path_ + "/" + key,
                                     fmt::format("unknown key '{}'; expected one of: {}", key,
                                                 list.empty() ? std::string("(none)") : list));
    }
}

void refuse_shared_keys(const nlohmann::json& obj, const std::string& path,
                        std::initializer_list<SharedKey> shared) {
    for (const SharedKey& k : shared) {
        if (!obj.contains(k.key)) continue;
        throw sim::ScenarioError(
            path + "/" + k.key,
            fmt::format("'{}' must be the same at every replica, so set it in /protocol, not "
                        "for one replica: {}",
                        k.key, k.why));
    }
}

std::uint64_t Params::uint(const char* key, std::uint64_t def, std::uint64_t lo,
                           std::uint64_t hi) const {
    if (!obj_.contains(key)) return def;
    const auto& v = obj_.at(key);
    if (!v.is_number_integer() || v.get<std::int64_t>() < 0)
        throw sim::ScenarioError(at(key),
                                 fmt::format("expected an integer between {} and {}", lo, hi));
    auto x = v.get<std::uint64_t>();
    if (x < lo || x > hi)
        throw sim::ScenarioError(
            at(key), fmt::format("expected an integer between {} and {}, got {}", lo, hi, x));
    return x;
}

double Params::number(const char* key, double def, double lo, double hi) const {
    if (!obj_.contains(key)) return def;
    const auto& v = obj_.at(key);
    if (!v.is_number()) throw sim::ScenarioError(at(key), "expected a number");
    double x = v.get<double>();
    if (!(x >= lo && x <= hi))
        throw sim::ScenarioError(
            at(key), fmt::format("expected a number between {} and {}, got {}", lo, hi, x));
    return x;
}

sim::SimTime Params::duration(const char* key, sim::SimTime def) const {
    if (!obj_.contains(key)) return def;
    return sim::parse_duration(obj_.at(key), at(key));
}

bool Params::boolean(const char* key, bool def) const {
    if (!obj_.contains(key)) return def;
    if (!obj_.at(key).is_boolean()) throw sim::ScenarioError(at(key), "expected true or false");
    return obj_.at(key).get<bool>();
}

std::string Params::string(const char* key, const std::string& def,
                           std::initializer_list<const char*> choices) const {
    if (!obj_.contains(key)) return def;
    const auto& v = obj_.at(key);
    std::string list;
    for (const char* c : choices) list += list.empty() ? c : fmt::format(", {}", c);
    if (!v.is_string()) throw sim::ScenarioError(at(key), "expected a string, one of: " + list);
    auto s = v.get<std::string>();
    for (const char* c : choices)
        if (s == c) return s;
    throw sim::ScenarioError(at(key),
                             fmt::format("unknown value '{}'; expected one of: {}", s, list));
}

std::vector<std::uint32_t> Params::nodes(const char* key, std::uint32_t n) const {
    std::vector<std::uint32_t> out;
    if (!obj_.contains(key)) return out;
    const auto& v = obj_.at(key);
    if (!v.is_array()) throw sim::ScenarioError(at(key), "expected an array of replica indices");
    for (std::size_t i = 0; i < v.size(); ++i) {
        const auto& e = v[i];
        if (!e.is_number_integer() || e.get<std::int64_t>() < 0 || e.get<std::uint64_t>() >= n)
            throw sim::ScenarioError(fmt::format("{}/{}", at(key), i),
                                     fmt::format("expected a replica index below {}", n));
        out.push_back(e.get<std::uint32_t>());
    }
    return out;
}

std::vector<std::size_t> Params::names(const char* key, const std::vector<std::string>& choices,
                                       const char* what) const {
    std::vector<std::size_t> out;
    if (!obj_.contains(key)) return out;
    std::string list;
    for (const auto& c : choices) list += list.empty() ? c : fmt::format(", {}", c);
    const auto& v = obj_.at(key);
    if (!v.is_array())
        throw sim::ScenarioError(
            at(key), fmt::format("expected an array of {} names, each one of: {}", what, list));
    for (std::size_t i = 0; i < v.size(); ++i) {
        const std::string path = fmt::format("{}/{}", at(key), i);
        if (!v[i].is_string())
            throw sim::ScenarioError(path,
                                     fmt::format("expected a {} name, one of: {}", what, list));
        const auto name = v[i].get<std::string>();
        const auto it = std::find(choices.begin(), choices.end(), name);
        if (it == choices.end())
            throw sim::ScenarioError(
                path, fmt::format("unknown {} '{}'; expected one of: {}", what, name, list));
        const auto pos = static_cast<std::size_t>(it - choices.begin());
        if (std::find(out.begin(), out.end(), pos) != out.end())
            throw sim::ScenarioError(path, fmt::format("{} '{}' listed twice", what, name));
        out.push_back(pos);
    }
    return out;
}

}  // namespace proto
