// Reading a scenario file: JSON syntax, duplicate keys and file errors as ScenarioErrors.
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>

#include "sim/json_read.hpp"
#include "sim/scenario.hpp"

namespace sim {

using namespace jsonr;

namespace {

// Refuses duplicate keys while parsing (nlohmann would silently keep the last), naming their
// path. The parser reports nesting through callbacks; `frames_` mirrors it.
class DuplicateKeyGuard {
public:
    bool operator()(int /*depth*/, json::parse_event_t event, json& parsed) {
        using E = json::parse_event_t;
        switch (event) {
            case E::object_start:
            case E::array_start:
                frames_.push_back({event == E::array_start, 0, {}, {}});
                break;
            case E::key: {
                Frame& top = frames_.back();
                top.key = parsed.get<std::string>();
                if (!top.keys.insert(top.key).second) {
                    fail(path(), "duplicate key " + quote(top.key) +
                                     " (JSON would silently keep only the last value)");
                }
                break;
            }
            case E::object_end:
            case E::array_end:
                frames_.pop_back();
                next_element();
                break;
            case E::value:
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
    void next_element() {
        if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
    }
    std::string path() const {
        std::string out;
        for (const Frame& f : frames_) out = f.array ? child(out, f.index) : child(out, f.key);
        return out;
    }
    std::vector<Frame> frames_;
};

}  // namespace

ScenarioSpec load_scenario(const std::string& file) {
    std::error_code ec;
    if (std::filesystem::is_directory(file, ec)) {
        fail("", "cannot read scenario file '" + file + "': it is a directory");
    }
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
    json doc;
    try {
        doc = json::parse(text.str(), DuplicateKeyGuard());
    } catch (const json::exception& e) {
        // Drop nlohmann's "[json.exception.parse_error.101] " prefix; keep line and column.
        std::string what = e.what();
        const std::size_t end = what.find("] ");
        if (end != std::string::npos) what.erase(0, end + 2);
        fail("", "scenario file '" + file + "' is not valid JSON: " + what);
    }
    return parse_scenario(doc);
}

}  // namespace sim
