// A run as a Chrome trace-event file (JSON object format), which Perfetto and chrome://tracing
// open: one track per node, each message a slice where it was sent and one where it arrived
// joined by a flow arrow, timers and commits as instants, each view of a replica and each time
// a node spent crashed as a slice, each request an async slice from send to accept. Written as
// the run goes (the file grows with the run, not the memory); finish() closes it.
#pragma once

#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "sim/trace.hpp"

namespace reports {

class ChromeTrace final : public sim::TraceSink {
public:
    // Nodes 0..replicas-1 are replicas, the others `client_role` ("client", "agent").
    ChromeTrace(std::ostream& out, std::string title, std::uint32_t replicas,
                std::string client_role);
    void record(const sim::TraceRecord& r) override;
    // Closes the slices still open at `end_ns` and the file.
    void finish(std::int64_t end_ns);

private:
    void emit(const std::string& event);
    void ensure(std::uint32_t node);  // its track's name, the first time it shows
    void slice(const char* cat, std::string_view name, std::uint32_t node, std::int64_t at,
               std::string args = "{}");
    void instant(const char* cat, std::string_view name, std::uint32_t node, std::int64_t at,
                 std::string args = "{}");
    void message(const sim::TraceRecord& r);
    void close_view(std::uint32_t node, std::int64_t at);

    std::ostream& out_;
    std::uint32_t replicas_ = 0;
    std::string client_role_;
    bool first_ = true;
    std::vector<bool> named_;  // per node: its track is named
    std::uint64_t flows_ = 0;
    std::vector<bool> in_view_;  // per node: a view slice is open
    std::vector<bool> crashed_;  // per node: a crash slice is open
    std::map<std::pair<std::uint32_t, std::uint64_t>, std::uint64_t> requests_;  // open, by key
    std::uint64_t next_request_ = 1;
};

}  // namespace reports
