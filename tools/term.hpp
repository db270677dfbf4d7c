// What byzsim shows a person at a terminal and no one else: colour on a stream that is a
// terminal (never with NO_COLOR set, https://no-color.org, or TERM=dumb), and a progress line on
// stderr while a long run goes on. Files, pipes and scripts get plain text.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "sim/types.hpp"

namespace cli::term {

// Whether to colour what goes to `stream` (stdout or stderr).
bool colour(std::FILE* stream);

enum class Tone { Good, Bad, Note };
// `text` in the tone's colour when `on`, else unchanged.
std::string paint(std::string_view text, Tone tone, bool on);

// "error: <what>" on stderr, then print_hint(hint) when there is one.
void print_error(std::string_view what, std::string_view hint = {});
// "hint: <hint>" on stderr: the next step to suggest.
void print_hint(std::string_view hint);

// A run's progress on stderr: how far it is (virtual time against the stop time, or requests
// accepted against those to come, whichever is further), events and events per wall second. Shown
// only on a terminal, and only once a run has lasted half a second, so short runs print nothing;
// the line is erased when the run ends.
class RunProgress {
public:
    // `requests`: the requests a run that ends when done waits for (0: it ends at `stop`).
    RunProgress(bool wanted, sim::SimTime stop, std::uint64_t requests);
    ~RunProgress();
    RunProgress(const RunProgress&) = delete;
    RunProgress& operator=(const RunProgress&) = delete;

    bool on() const { return on_; }
    void update(sim::SimTime now, std::uint64_t events, std::uint64_t accepted);
    void finish();

private:
    using Clock = std::chrono::steady_clock;
    bool on_;
    bool shown_ = false;
    sim::SimTime stop_;
    std::uint64_t requests_;
    Clock::time_point start_, last_;
};

}  // namespace cli::term
