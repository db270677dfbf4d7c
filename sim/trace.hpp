// A run's trace, as typed records handed to sinks while it runs: the JSON-lines trace
// (trace.jsonl, compared line by line by `byzsim replay`), the Chrome trace-event and OTLP
// exports, and the HTML report's space-time diagram all read the same records.
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace sim {

struct TraceRecord {
    enum class Kind : std::uint8_t {
        Deliver,   // a message arrived (msg, from, to, sent)
        Local,     // a message to itself, not on the network
        Drop,      // lost, partitioned, overflowed or to a crashed node (tag: the reason)
        RuleDrop,  // dropped by a network rule (tag: the rule)
        Hold,      // held back by a rule (tag: the rule)
        Release,   // a held message let go
        Timer,     // a timer fired (tag)
        Crash,
        Recover,  // tag: 1 if it lost its state
        Note,     // an actor's free-form line (text)
        View,     // a replica entered a view (tag: the view)
        Commit,   // a replica committed (tag: the index, text: its line)
        Request,  // a client sent a request (tag: its timestamp)
        Accept,   // a client accepted a request's result (tag: its timestamp)
    };
    std::uint64_t event = 0;  // the run's event number
    std::int64_t t = 0;       // virtual nanoseconds
    Kind kind = Kind::Note;
    std::uint32_t from = 0;      // a message's sender; else the node itself
    std::uint32_t to = 0;        // a message's receiver; else the node itself
    std::string_view msg;        // a message's kind name
    std::uint16_t msg_kind = 0;  // its index in the run's kind names
    std::uint64_t digest = 0;
    std::int64_t sent = -1;  // when a message was sent (-1: not a message)
    std::uint64_t tag = 0;
    std::string_view text;
    bool corrupted = false;  // a message corrupted on its way
};

const char* kind_name(TraceRecord::Kind k);

class TraceSink {
public:
    virtual ~TraceSink() = default;
    virtual void record(const TraceRecord& r) = 0;
    // Whether it reads actors' free-form notes (Note records, a Commit's text): actors build
    // those lines only when some sink does.
    virtual bool wants_notes() const { return true; }
};

// trace.jsonl: one JSON object per line, in event order.
class JsonlTrace final : public TraceSink {
public:
    explicit JsonlTrace(std::ostream& out) : out_(out) {}
    void record(const TraceRecord& r) override;

private:
    std::ostream& out_;
};

// Hands each record to every sink, in order.
class TraceTee final : public TraceSink {
public:
    void add(TraceSink* sink) { sinks_.push_back(sink); }
    bool empty() const { return sinks_.empty(); }
    bool wants_notes() const override {
        for (const TraceSink* s : sinks_)
            if (s->wants_notes()) return true;
        return false;
    }
    void record(const TraceRecord& r) override {
        for (TraceSink* s : sinks_) s->record(r);
    }

private:
    std::vector<TraceSink*> sinks_;
};

// Hands on the records of one window of virtual time [from, to]: messages, timers, notes
// and commits by their time; views, crashes, recoveries, requests and accepts always (so the
// slices and spans they open and close stay whole).
class WindowFilter final : public TraceSink {
public:
    WindowFilter(TraceSink& inner, std::int64_t from, std::int64_t to)
        : inner_(inner), from_(from), to_(to) {}
    void record(const TraceRecord& r) override {
        using K = TraceRecord::Kind;
        const bool always = r.kind == K::View || r.kind == K::Crash || r.kind == K::Recover ||
                            r.kind == K::Request || r.kind == K::Accept;
        if (always || (r.t >= from_ && r.t <= to_)) inner_.record(r);
    }
    bool wants_notes() const override { return inner_.wants_notes(); }

private:
    TraceSink& inner_;
    std::int64_t from_, to_;
};

// A JSON string's contents for `s` (quotes, backslashes and control characters escaped).
std::string json_escape(std::string_view s);

}  // namespace sim
