#include "reports/trace_chrome.hpp"

#include <fmt/format.h>

namespace reports {

namespace {

// Trace-event timestamps are microseconds: virtual nanoseconds printed exactly.
std::string micros(std::int64_t ns) {
    return fmt::format("{}.{:03}", ns / 1000, ns % 1000);
}

constexpr const char* kSliceLength = "0.001";  // a message's or timer's slice: 1ns

}  // namespace

ChromeTrace::ChromeTrace(std::ostream& out, std::string title, std::uint32_t replicas,
                         std::string client_role)
    : out_(out), replicas_(replicas), client_role_(std::move(client_role)) {
    out_ << "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n";
    emit(fmt::format(R"({{"name":"process_name","ph":"M","pid":1,"tid":0,"args":{{"name":"{}"}}}})",
                     sim::json_escape(title)));
}

void ChromeTrace::ensure(std::uint32_t node) {
    if (node < named_.size() && named_[node]) return;
    if (node >= named_.size()) {
        named_.resize(node + 1, false);
        in_view_.resize(node + 1, false);
        crashed_.resize(node + 1, false);
    }
    named_[node] = true;
    emit(fmt::format(
        R"({{"name":"thread_name","ph":"M","pid":1,"tid":{},"args":{{"name":"{} {}"}}}})", node,
        node < replicas_ ? "replica" : sim::json_escape(client_role_), node));
    emit(fmt::format(
        R"({{"name":"thread_sort_index","ph":"M","pid":1,"tid":{},"args":{{"sort_index":{}}}}})",
        node, node));
}

void ChromeTrace::emit(const std::string& event) {
    if (!first_) out_ << ",\n";
    first_ = false;
    out_ << event;
}

void ChromeTrace::slice(const char* cat, std::string_view name, std::uint32_t node, std::int64_t at,
                        std::string args) {
    emit(fmt::format(
        R"({{"name":"{}","cat":"{}","ph":"X","ts":{},"dur":{},"pid":1,"tid":{},"args":{}}})",
        sim::json_escape(name), cat, micros(at), kSliceLength, node, args));
}

void ChromeTrace::instant(const char* cat, std::string_view name, std::uint32_t node,
                          std::int64_t at, std::string args) {
    emit(fmt::format(
        R"({{"name":"{}","cat":"{}","ph":"i","s":"t","ts":{},"pid":1,"tid":{},"args":{}}})",
        sim::json_escape(name), cat, micros(at), node, args));
}

// A delivered message: a slice at each end, the arrow from the send to the arrival.
void ChromeTrace::message(const sim::TraceRecord& r) {
    const std::string args = fmt::format(R"({{"from":{},"to":{},"digest":"{:016x}"{}}})", r.from,
                                         r.to, r.digest, r.corrupted ? R"(,"corrupted":true)" : "");
    const std::uint64_t id = ++flows_;
    const std::int64_t sent = r.sent >= 0 ? r.sent : r.t;
    slice("message", fmt::format("send {}", r.msg), r.from, sent, args);
    emit(fmt::format(R"({{"name":"{}","cat":"message","ph":"s","id":{},"ts":{},"pid":1,"tid":{}}})",
                     sim::json_escape(r.msg), id, micros(sent), r.from));
    slice("message", r.msg, r.to, r.t, args);
    emit(fmt::format(
        R"({{"name":"{}","cat":"message","ph":"f","bp":"e","id":{},"ts":{},"pid":1,"tid":{}}})",
        sim::json_escape(r.msg), id, micros(r.t), r.to));
}

void ChromeTrace::close_view(std::uint32_t node, std::int64_t at) {
    if (node >= in_view_.size() || !in_view_[node]) return;
    emit(fmt::format(R"({{"ph":"E","ts":{},"pid":1,"tid":{}}})", micros(at), node));
    in_view_[node] = false;
}

void ChromeTrace::record(const sim::TraceRecord& r) {
    using K = sim::TraceRecord::Kind;
    ensure(r.from);
    ensure(r.to);
    const std::string on_wire =
        fmt::format(R"({{"from":{},"to":{},"msg":"{}"}})", r.from, r.to, sim::json_escape(r.msg));
    switch (r.kind) {
        case K::Deliver:
            return message(r);
        case K::Local:
            return slice("message", fmt::format("{} (to itself)", r.msg), r.to, r.t, on_wire);
        case K::Drop:
        case K::RuleDrop:
        case K::Hold:
        case K::Release:
            return instant("network", fmt::format("{} {}", sim::kind_name(r.kind), r.msg), r.from,
                           r.t, on_wire);
        case K::Timer:
            return slice("timer", fmt::format("timer {}", r.tag), r.to, r.t);
        case K::Note:
            return instant("note", r.text, r.to, r.t);
        case K::Commit:
            return instant("commit", fmt::format("commit {}", r.tag), r.to, r.t,
                           fmt::format(R"({{"line":"{}"}})", sim::json_escape(r.text)));
        case K::View:
            close_view(r.to, r.t);
            emit(fmt::format(
                R"({{"name":"view {}","cat":"view","ph":"B","ts":{},"pid":1,"tid":{}}})", r.tag,
                micros(r.t), r.to));
            in_view_[r.to] = true;
            return;
        case K::Crash:
            if (crashed_[r.to]) return;
            close_view(r.to, r.t);
            crashed_[r.to] = true;
            return emit(fmt::format(
                R"({{"name":"crashed","cat":"fault","ph":"B","ts":{},"pid":1,"tid":{}}})",
                micros(r.t), r.to));
        case K::Recover:
            if (!crashed_[r.to]) return;
            crashed_[r.to] = false;
            return emit(fmt::format(R"({{"ph":"E","ts":{},"pid":1,"tid":{}}})", micros(r.t), r.to));
        case K::Request: {
            const std::uint64_t id = next_request_++;
            requests_[{r.to, r.tag}] = id;
            return emit(fmt::format(
                R"({{"name":"request {}","cat":"request","ph":"b","id":{},"ts":{},"pid":1,"tid":{}}})",
                r.tag, id, micros(r.t), r.to));
        }
        case K::Accept: {
            const auto it = requests_.find({r.to, r.tag});
            if (it == requests_.end()) return;
            emit(fmt::format(
                R"({{"name":"request {}","cat":"request","ph":"e","id":{},"ts":{},"pid":1,"tid":{}}})",
                r.tag, it->second, micros(r.t), r.to));
            requests_.erase(it);
            return;
        }
    }
}

void ChromeTrace::finish(std::int64_t end_ns) {
    for (std::uint32_t i = 0; i < in_view_.size(); ++i) {
        if (crashed_[i])
            emit(fmt::format(R"({{"ph":"E","ts":{},"pid":1,"tid":{}}})", micros(end_ns), i));
        close_view(i, end_ns);
    }
    for (const auto& [key, id] : requests_)
        emit(fmt::format(
            R"({{"name":"request {}","cat":"request","ph":"e","id":{},"ts":{},"pid":1,"tid":{},"args":{{"accepted":false}}}})",
            key.second, id, micros(end_ns), key.first));
    requests_.clear();
    out_ << "\n]}\n";
}

}  // namespace reports
