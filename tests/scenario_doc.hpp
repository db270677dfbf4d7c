// Building scenario documents and catching their refusals, for the scenario parser's tests.
#pragma once

#include <doctest/doctest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "sim/scenario.hpp"

namespace testing {

// The smallest valid document with `patch` merged in (RFC 7386: null removes a key).
inline nlohmann::json doc_with(const nlohmann::json& patch) {
    nlohmann::json doc = {{"name", "t"}, {"nodes", 4}};
    doc.merge_patch(patch);
    return doc;
}

// The error a document is refused with; path "<accepted>" if it was not refused.
inline sim::ScenarioError refusal(const nlohmann::json& doc) {
    try {
        sim::parse_scenario(doc);
    } catch (const sim::ScenarioError& e) {
        return e;
    }
    return sim::ScenarioError("<accepted>", "");
}

}  // namespace testing

// Refused at exactly `want_path`, with a reason containing `phrase`.
#define CHECK_REFUSED(doc, want_path, phrase)                 \
    do {                                                      \
        const sim::ScenarioError e_ = testing::refusal(doc);  \
        INFO("reason: " << e_.reason());                      \
        CHECK(e_.path() == (want_path));                      \
        CHECK(e_.reason().find(phrase) != std::string::npos); \
    } while (false)
