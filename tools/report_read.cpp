#include "tools/report_read.hpp"

#include <string>

#include "protocols/registry.hpp"

namespace tools {

namespace {

using nlohmann::json;

// A report field that must be there, with the right type.
const json& field(const json& doc, const std::string& key, bool (json::*is_type)() const noexcept,
                  const char* type) {
    const auto it = doc.find(key);
    if (it == doc.end()) throw sim::ScenarioError("/" + key, "missing required key");
    if (!((*it).*is_type)()) throw sim::ScenarioError("/" + key, std::string("expected ") + type);
    return *it;
}

}  // namespace

ReportInput parse_report(std::string_view text) {
    ReportInput rep;
    rep.doc = sim::parse_json_text(text, "the report");
    if (!rep.doc.is_object()) throw sim::ScenarioError("", "expected a JSON object");
    if (const auto v = rep.doc.find("version"); v != rep.doc.end() && !v->is_string())
        throw sim::ScenarioError("/version", "expected a string");
    json scenario = field(rep.doc, "scenario", &json::is_object, "an object");
    const json& seed = field(rep.doc, "seed", &json::is_number_unsigned, "an unsigned integer");
    rep.fingerprint =
        field(rep.doc, "fingerprint", &json::is_string, "a string").get<std::string>();
    // A run cut at its budget or by Ctrl-C is the run of max_events = its events.
    if (const auto r = rep.doc.find("stop_reason");
        r != rep.doc.end() && (*r == "event budget" || *r == "interrupted"))
        rep.max_events = field(rep.doc, "events", &json::is_number_unsigned, "an unsigned integer")
                             .get<std::uint64_t>();
    scenario["seed"] = seed;
    try {
        rep.spec = sim::parse_scenario(scenario);
        protocols::validate(rep.spec);
    } catch (const sim::ScenarioError& e) {
        throw sim::ScenarioError("/scenario" + e.path(), e.reason());
    }
    return rep;
}

}  // namespace tools
