// Reading JSON input with the scenario's error conventions: every check names the JSON pointer
// of the value at fault and throws sim::ScenarioError, and values are type-checked before they
// are read, so no nlohmann exception reaches the caller. Shared by the scenario parser and the
// `randomize` section's reader.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/scenario.hpp"

namespace sim::jsonr {

using nlohmann::json;
using Keys = std::vector<std::string_view>;

inline constexpr std::uint64_t kU32Max = std::numeric_limits<std::uint32_t>::max();
inline constexpr std::uint64_t kU64Max = std::numeric_limits<std::uint64_t>::max();

[[noreturn]] void fail(std::string path, std::string reason);
// RFC 6901 pointers: '~' and '/' inside a key are escaped.
std::string child(const std::string& path, std::string_view key);
std::string child(const std::string& path, std::size_t index);
std::string join(const Keys& words);
std::string quote(std::string_view key);
// A scalar as JSON text, shortened for messages.
std::string json_text(const json& v);
// What was found, for "expected X, got Y".
std::string describe(const json& v);
[[noreturn]] void wrong_type(const json& v, const std::string& path, std::string_view expected);

std::string read_string(const json& v, const std::string& path);
std::string read_name(const json& v, const std::string& path);  // non-empty
bool read_bool(const json& v, const std::string& path);
std::uint64_t read_uint(const json& v, const std::string& path, std::uint64_t lo, std::uint64_t hi);
double read_number(const json& v, const std::string& path, std::string_view expected);
std::uint32_t read_ppm(const json& v, const std::string& path);  // probability, in ppm
// The index of the string `v` in `options`.
std::size_t read_choice(const json& v, const std::string& path, const Keys& options);
std::uint32_t read_node(const json& v, const std::string& path, std::uint32_t nodes);
// A non-empty list of distinct replicas.
std::vector<std::uint32_t> read_nodes(const json& v, const std::string& path, std::uint32_t nodes);
SimTime positive(SimTime t, const std::string& path);

// An object whose keys are checked against `allowed` up front; getters read optional members.
class Fields {
public:
    Fields(const json& v, std::string path, const Keys& allowed);

    const std::string& path() const { return path_; }
    std::string at(std::string_view key) const { return child(path_, key); }
    const json* find(std::string_view key) const {
        const auto it = v_.find(std::string(key));
        return it == v_.end() ? nullptr : &*it;
    }
    const json& need(std::string_view key) const;

    template <class Read>
    auto get(std::string_view key, Read read) const {
        using T = decltype(read(v_, path_));
        const json* v = find(key);
        return v ? std::optional<T>(read(*v, at(key))) : std::optional<T>();
    }
    std::optional<std::string> text(std::string_view key) const { return get(key, read_string); }
    std::optional<bool> flag(std::string_view key) const { return get(key, read_bool); }
    std::optional<SimTime> duration(std::string_view key) const { return get(key, parse_duration); }
    std::optional<SimTime> positive_duration(std::string_view key) const {
        return get(key, [](const json& v, const std::string& p) {
            return positive(parse_duration(v, p), p);
        });
    }
    std::optional<std::uint64_t> integer(std::string_view key, std::uint64_t lo,
                                         std::uint64_t hi) const {
        return get(key,
                   [&](const json& v, const std::string& p) { return read_uint(v, p, lo, hi); });
    }

private:
    const json& v_;
    std::string path_;
};

}  // namespace sim::jsonr
