// What honest replicas send each other is valid: in every shipped scenario without a Byzantine
// replica, a seeded bug or corrupted messages, no honest replica refuses a message of another as
// invalid (a bad certificate, an inadmissible request, a bad signature). The only refusals are
// the bounds that keep honest replicas from answering each other too often.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "protocols/registry.hpp"
#include "tests/helpers.hpp"

namespace {

// A scenario whose every replica follows its protocol over a network that never edits bytes.
bool all_honest(const nlohmann::json& doc) {
    if (doc.contains("randomize") || !doc.contains("expect")) return false;
    if (doc.contains("protocol") && doc["protocol"].is_object() &&
        doc["protocol"].contains("mutations"))
        return false;
    if (doc.contains("mapek") && doc["mapek"].contains("bugs")) return false;
    if (doc.dump().find("\"corrupt\"") != std::string::npos) return false;
    // Faults of the world, not of a replica: crashes, the network, clients, a replica's timers.
    static const std::set<std::string> kWorld = {
        "crash", "recover", "partition", "one_way", "isolate", "drop", "link", "clients", "params"};
    for (const auto& f : doc.value("faults", nlohmann::json::array()))
        if (kWorld.count(f.value("type", "")) == 0) return false;
    return true;
}

}  // namespace

TEST_CASE("honest runs: no honest replica refuses as invalid what another honest one sent") {
    namespace fs = std::filesystem;
    // Rate bounds, not judgements of content: a replica answers a peer's STATUS at most so often.
    const std::set<std::string> rate_bounds = {"pbft.status_answers"};
    int runs = 0;
    for (const auto& entry : fs::recursive_directory_iterator(BYZSIM_SOURCE_ROOT "/scenarios")) {
        const fs::path p = entry.path();
        if (p.extension() != ".json" || p.filename() == "schema.json" ||
            p.parent_path().filename() == "schema")
            continue;
        const nlohmann::json doc = nlohmann::json::parse(std::ifstream(p));
        if (!all_honest(doc)) continue;
        CAPTURE(p.string());
        auto run = testing::run(doc);
        ++runs;
        for (const auto& entry : run.result->refused) {
            const std::string table = entry.first;  // clang: no CAPTURE of a structured binding
            CAPTURE(table);
            CHECK(rate_bounds.count(table) == 1);
        }
    }
    CHECK(runs >= 20);
}
