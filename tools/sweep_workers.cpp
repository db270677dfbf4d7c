#include "tools/sweep_workers.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tools/seed_run.hpp"

namespace tools::sweeping {

using nlohmann::json;

void write_all(int fd, const std::string& data) {
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw std::runtime_error(fmt::format("write failed: {}", std::strerror(errno)));
        done += static_cast<std::size_t>(n);
    }
}

namespace {

[[noreturn]] void worker_main(int in, int out, const sim::ScenarioSpec& spec, bool check) {
    LineReader reader(in);
    std::string line;
    while (reader.next(line)) {
        bool ok = false;
        const std::uint64_t seed = parse_u64(line, ok);
        if (!ok) ::_exit(3);
        json drawn;
        std::string detail;
        const SeedRow row = run_seed(spec, seed, check, &drawn, &detail);
        json msg = {{"row", sweep_csv_line(row)}, {"detail", detail}};
        if (!drawn.is_null()) msg["scenario"] = std::move(drawn);
        try {
            write_all(out, msg.dump(-1, ' ', false, json::error_handler_t::replace) + "\n");
        } catch (const std::exception&) {
            ::_exit(3);
        }
    }
    ::_exit(0);
}

}  // namespace

Worker spawn(const sim::ScenarioSpec& spec, bool check, const std::vector<Worker>& others) {
    int down[2], up[2];
    if (::pipe2(down, O_CLOEXEC) != 0 || ::pipe2(up, O_CLOEXEC) != 0)
        throw std::runtime_error(fmt::format("cannot create a pipe: {}", std::strerror(errno)));
    std::fflush(stdout);
    std::fflush(stderr);
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(fmt::format("cannot fork: {}", std::strerror(errno)));
    if (pid == 0) {
        ::signal(SIGINT, SIG_IGN);  // the parent decides; a terminal's ^C reaches all of us
        ::signal(SIGTERM, SIG_DFL);
        ::close(down[1]);
        ::close(up[0]);
        for (const Worker& w : others) {
            ::close(w.to);
            ::close(w.from);
        }
        worker_main(down[0], up[1], spec, check);
    }
    ::close(down[0]);
    ::close(up[1]);
    Worker w;
    w.pid = pid;
    w.to = down[1];
    w.from = up[0];
    w.reader = std::make_unique<LineReader>(w.from);
    return w;
}

void stop_worker(Worker& w, bool kill) {
    if (w.pid < 0) return;
    ::close(w.to);
    ::close(w.from);
    w.to = w.from = -1;
    if (kill) ::kill(w.pid, SIGTERM);
    int status = 0;
    while (::waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
    }
    w.pid = -1;
}

}  // namespace tools::sweeping
