// Ctrl-C (SIGINT) and SIGTERM for the verbs that stop cleanly (run, sweep, shrink): while an
// InterruptGuard lives, the signals set a flag instead of ending the process. A simulation
// given the flag (sim::SimOptions::interrupt) stops before its next event; the verb then
// writes what it has, atomically, and exits 130. SIGPIPE is ignored meanwhile (a sweep sees a
// dead worker on its pipe).
#pragma once

#include <csignal>

namespace tools {

class InterruptGuard {
public:
    InterruptGuard();
    ~InterruptGuard();
    InterruptGuard(const InterruptGuard&) = delete;
    InterruptGuard& operator=(const InterruptGuard&) = delete;

private:
    struct sigaction old_int_ {};
    struct sigaction old_term_ {};
    struct sigaction old_pipe_ {};
};

// Whether a signal came since the innermost guard was made.
bool interrupted();
// The flag itself, for sim::SimOptions::interrupt.
const volatile std::sig_atomic_t* interrupt_flag();

}  // namespace tools
