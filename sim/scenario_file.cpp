// Reading a scenario file: JSON syntax, duplicate keys, JsonBounds and file errors as
// ScenarioErrors.
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string_view>
#include <system_error>

#include "sim/json_read.hpp"
#include "sim/scenario.hpp"

namespace sim {

using namespace jsonr;

namespace {

// Refuses duplicate keys and what passes JsonBounds while parsing (nlohmann would silently keep
// the last of two keys), naming their path. The parser reports nesting through callbacks;
// `frames_` mirrors it.
class BoundsGuard {
public:
    bool operator()(int /*depth*/, json::parse_event_t event, json& parsed) {
        using E = json::parse_event_t;
        switch (event) {
            case E::object_start:
            case E::array_start:
                if (frames_.size() >= JsonBounds::kDepth)
                    fail(path(),
                         "nested deeper than " + std::to_string(JsonBounds::kDepth) + " levels");
                frames_.push_back({event == E::array_start, 0, {}, {}});
                break;
            case E::key:
                on_key(parsed.get_ref<const std::string&>());
                break;
            case E::object_end:
            case E::array_end:
                frames_.pop_back();
                next_element();
                break;
            case E::value:
                if (parsed.is_string() &&
                    parsed.get_ref<const std::string&>().size() > JsonBounds::kString)
                    fail(path(),
                         "a string longer than " + std::to_string(JsonBounds::kString) + " bytes");
                next_element();
                break;
        }
        return true;
    }

private:
    struct Frame {
        bool array;
        std::size_t index;
        std::set<std::string> keys;
        std::string key;
    };
    void on_key(const std::string& key) {
        Frame& top = frames_.back();
        if (key.size() > JsonBounds::kString)
            fail(path(), "a key longer than " + std::to_string(JsonBounds::kString) + " bytes");
        top.key = key;
        if (!top.keys.insert(top.key).second)
            fail(path(), "duplicate key " + quote(top.key) +
                             " (JSON would silently keep only the last value)");
        if (top.keys.size() > JsonBounds::kElements) fail(path(), too_many());
    }
    void next_element() {
        if (frames_.empty() || !frames_.back().array) return;
        if (++frames_.back().index > JsonBounds::kElements) {
            --frames_.back().index;
            fail(path(), too_many());
        }
    }
    static std::string too_many() {
        return "more than " + std::to_string(JsonBounds::kElements) + " elements";
    }
    std::string path() const {
        std::string out;
        for (const Frame& f : frames_) out = f.array ? child(out, f.index) : child(out, f.key);
        return out;
    }
    std::vector<Frame> frames_;
};

}  // namespace

json parse_json_text(std::string_view text, std::string_view what) {
    if (text.size() > JsonBounds::kBytes)
        fail("", std::string(what) + " is larger than " + std::to_string(JsonBounds::kBytes >> 20) +
                     " MiB");
    try {
        return json::parse(text, BoundsGuard());
    } catch (const json::exception& e) {
        // Drop nlohmann's "[json.exception.parse_error.101] " prefix; keep line and column.
        std::string why = e.what();
        const std::size_t end = why.find("] ");
        if (end != std::string::npos) why.erase(0, end + 2);
        fail("", std::string(what) + " is not valid JSON: " + why);
    }
}

ScenarioSpec load_scenario(const std::string& file) {
    std::error_code ec;
    if (std::filesystem::is_directory(file, ec)) {
        fail("", "cannot read scenario file '" + file + "': it is a directory");
    }
    if (std::filesystem::is_regular_file(file, ec) &&
        std::filesystem::file_size(file, ec) > JsonBounds::kBytes)
        fail("", "scenario file '" + file + "' is larger than " +
                     std::to_string(JsonBounds::kBytes >> 20) + " MiB");
    errno = 0;
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        const std::string why =
            errno != 0 ? std::generic_category().message(errno) : "cannot open it";
        fail("", "cannot read scenario file '" + file + "': " + why);
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) fail("", "cannot read scenario file '" + file + "': read error");
    return parse_scenario(parse_json_text(text.str(), "scenario file '" + file + "'"));
}

}  // namespace sim
