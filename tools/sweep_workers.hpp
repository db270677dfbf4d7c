// The worker processes of a sweep: each forked once, reading seeds on its stdin and writing
// one JSON line per finished seed ({"row", "detail", "scenario"}) on its stdout.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/scenario.hpp"

namespace tools::sweeping {

// Writes all of `data`; throws std::runtime_error on an error.
void write_all(int fd, const std::string& data);

// Lines from a file descriptor, buffered.
class LineReader {
public:
    explicit LineReader(int fd) : fd_(fd) {}
    // Reads what is available (one read call); false at end of file or on an error.
    bool fill() {
        char chunk[65536];
        for (;;) {
            const ssize_t n = ::read(fd_, chunk, sizeof chunk);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;
            buf_.append(chunk, static_cast<std::size_t>(n));
            return true;
        }
    }
    bool take(std::string& line) {
        const std::size_t nl = buf_.find('\n');
        if (nl == std::string::npos) return false;
        line.assign(buf_, 0, nl);
        buf_.erase(0, nl + 1);
        return true;
    }
    // Blocks until a whole line is read; false at end of file.
    bool next(std::string& line) {
        while (!take(line))
            if (!fill()) return false;
        return true;
    }

private:
    int fd_;
    std::string buf_;
};

struct Worker {
    pid_t pid = -1;
    int to = -1, from = -1;  // the worker's stdin and stdout pipes, parent side
    std::unique_ptr<LineReader> reader;
    std::optional<std::uint64_t> seed;  // in flight
};

// Forks a worker for `spec` (closing the pipes of `others` in it).
Worker spawn(const sim::ScenarioSpec& spec, bool check, const std::vector<Worker>& others);
// Closes its pipes and waits for it; with `kill`, asks it to stop first.
void stop_worker(Worker& w, bool kill);

}  // namespace tools::sweeping
