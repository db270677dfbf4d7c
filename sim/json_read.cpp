#include "sim/json_read.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace sim::jsonr {

[[noreturn]] void fail(std::string path, std::string reason) {
    throw ScenarioError(std::move(path), std::move(reason));
}

std::string child(const std::string& path, std::string_view key) {
    std::string out = path + "/";
    for (char c : key) {
        if (c == '~') {
            out += "~0";
        } else if (c == '/') {
            out += "~1";
        } else {
            out += c;
        }
    }
    return out;
}
std::string child(const std::string& path, std::size_t index) {
    return path + "/" + std::to_string(index);
}

std::string join(const Keys& words) {
    std::string out;
    for (std::string_view w : words) {
        out += (out.empty() ? "" : ", ") + std::string(w);
    }
    return out;
}

std::string quote(std::string_view key) {
    // Appended piece by piece: GCC 12 at -O3 reports a false -Wrestrict overlap for
    // "'" + std::string(key) (a known libstdc++ false positive), which --werror turns fatal.
    std::string out;
    out.reserve(key.size() + 2);
    out += '\'';
    out += key;
    out += '\'';
    return out;
}

std::string json_text(const json& v) {
    std::string text = v.dump(-1, ' ', false, json::error_handler_t::replace);
    return text.size() > 40 ? text.substr(0, 37) + "..." : text;
}

std::string describe(const json& v) {
    if (v.is_object()) return "an object";
    if (v.is_array()) return "an array";
    return v.is_string() ? "the string " + json_text(v) : json_text(v);
}

[[noreturn]] void wrong_type(const json& v, const std::string& path, std::string_view expected) {
    fail(path, "expected " + std::string(expected) + ", got " + describe(v));
}

std::string read_string(const json& v, const std::string& path) {
    if (!v.is_string()) wrong_type(v, path, "a string");
    return v.get<std::string>();
}

std::string read_name(const json& v, const std::string& path) {
    if (!v.is_string() || v.get_ref<const std::string&>().empty()) {
        wrong_type(v, path, "a non-empty string");
    }
    return v.get<std::string>();
}

bool read_bool(const json& v, const std::string& path) {
    if (!v.is_boolean()) wrong_type(v, path, "true or false");
    return v.get<bool>();
}

std::uint64_t read_uint(const json& v, const std::string& path, std::uint64_t lo,
                        std::uint64_t hi) {
    const std::string range =
        hi == kU64Max ? "an integer >= " + std::to_string(lo)
                      : "an integer between " + std::to_string(lo) + " and " + std::to_string(hi);
    if (v.is_number_unsigned()) {
        const auto u = v.get<std::uint64_t>();
        if (u >= lo && u <= hi) return u;
    } else if (v.is_number_integer()) {
        const auto i = v.get<std::int64_t>();
        const auto u = static_cast<std::uint64_t>(i);
        if (i >= 0 && u >= lo && u <= hi) return u;
    }
    wrong_type(v, path, range);
}

double read_number(const json& v, const std::string& path, std::string_view expected) {
    if (!v.is_number()) wrong_type(v, path, expected);
    return v.get<double>();
}

std::uint32_t read_ppm(const json& v, const std::string& path) {
    const double p = read_number(v, path, "a number between 0 and 1");
    if (!(p >= 0.0 && p <= 1.0)) wrong_type(v, path, "a number between 0 and 1");
    return static_cast<std::uint32_t>(std::llround(p * 1e6));
}

std::size_t read_choice(const json& v, const std::string& path, const Keys& options) {
    if (v.is_string()) {
        const auto it = std::find(options.begin(), options.end(), v.get_ref<const std::string&>());
        if (it != options.end()) return static_cast<std::size_t>(it - options.begin());
        fail(path, "unknown value " + json_text(v) + "; expected one of: " + join(options));
    }
    fail(path, "expected one of: " + join(options) + "; got " + describe(v));
}

std::uint32_t read_node(const json& v, const std::string& path, std::uint32_t nodes) {
    if (!v.is_number_integer()) wrong_type(v, path, "a replica index (an integer)");
    const auto last = static_cast<std::uint64_t>(nodes) - 1;
    if (v.is_number_unsigned() && v.get<std::uint64_t>() <= last) {
        return v.get<std::uint32_t>();
    }
    if (!v.is_number_unsigned() && v.get<std::int64_t>() >= 0 &&
        static_cast<std::uint64_t>(v.get<std::int64_t>()) <= last) {
        return static_cast<std::uint32_t>(v.get<std::int64_t>());
    }
    fail(path, "there is no replica " + v.dump() + "; replicas are 0.." + std::to_string(last));
}

std::vector<std::uint32_t> read_nodes(const json& v, const std::string& path, std::uint32_t nodes) {
    if (!v.is_array() || v.empty()) wrong_type(v, path, "a non-empty array of replica indices");
    std::vector<std::uint32_t> out;
    for (std::size_t i = 0; i < v.size(); ++i) {
        const std::uint32_t n = read_node(v[i], child(path, i), nodes);
        if (std::find(out.begin(), out.end(), n) != out.end()) {
            fail(child(path, i), "replica " + std::to_string(n) + " is listed twice");
        }
        out.push_back(n);
    }
    return out;
}

SimTime positive(SimTime t, const std::string& path) {
    if (t.ns <= 0) fail(path, "expected a duration > 0, got \"" + format_duration(t) + "\"");
    return t;
}

Fields::Fields(const json& v, std::string path, const Keys& allowed)
    : v_(v), path_(std::move(path)) {
    if (!v.is_object()) wrong_type(v, path_, "an object");
    for (auto it = v.begin(); it != v.end(); ++it) {
        if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end()) {
            fail(at(it.key()),
                 "unknown key " + quote(it.key()) + "; expected one of: " + join(allowed));
        }
    }
}

const json& Fields::need(std::string_view key) const {
    if (const json* v = find(key)) return *v;
    fail(at(key), "missing required key " + quote(key));
}

}  // namespace sim::jsonr
