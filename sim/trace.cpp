#include "sim/trace.hpp"

#include <array>

#include <fmt/format.h>

namespace sim {

const char* kind_name(TraceRecord::Kind k) {
    static constexpr std::array<const char*, 14> kNames = {
        "deliver", "local",   "drop", "rule-drop", "hold",   "release", "timer",
        "crash",   "recover", "note", "view",      "commit", "request", "accept"};
    return kNames[static_cast<std::size_t>(k)];
}

std::string json_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20) {
            out += fmt::format("\\u{:04x}", u);
        } else {
            out += c;
        }
    }
    return out;
}

// The lines trace.jsonl has always had: messages with their ends and digest, timers, crashes
// and recoveries with their node, and actors' notes (a commit is its note). Views, requests
// and accepts are for the other formats.
void JsonlTrace::record(const TraceRecord& r) {
    using K = TraceRecord::Kind;
    switch (r.kind) {
        case K::Deliver:
        case K::Local:
        case K::Drop:
        case K::RuleDrop:
        case K::Hold:
        case K::Release:
            out_ << fmt::format(
                "{{\"ev\":{},\"t\":{},\"kind\":\"{}\",\"from\":{},\"to\":{},\"msg\":\"{}\","
                "\"digest\":\"{:016x}\"}}\n",
                r.event, r.t, kind_name(r.kind), r.from, r.to, r.msg, r.digest);
            return;
        case K::Timer:
        case K::Crash:
        case K::Recover:
            out_ << fmt::format("{{\"ev\":{},\"t\":{},\"kind\":\"{}\",\"node\":{},\"tag\":{}}}\n",
                                r.event, r.t, kind_name(r.kind), r.to, r.tag);
            return;
        case K::Note:
        case K::Commit:
            out_ << fmt::format("{{\"ev\":{},\"t\":{},\"node\":{},\"note\":\"{}\"}}\n", r.event,
                                r.t, r.to, json_escape(r.text));
            return;
        case K::View:
        case K::Request:
        case K::Accept:
            return;
    }
}

}  // namespace sim
