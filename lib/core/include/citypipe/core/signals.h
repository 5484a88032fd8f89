// SIGINT and SIGTERM ask a tool to stop reading, flush what it holds and exit
// 130; SIGPIPE is ignored so that a closed pipe shows up as EPIPE on write.
#pragma once

#include <functional>
#include <thread>

namespace citypipe {

// Installs the handlers (without SA_RESTART, so a blocked read returns).
void install_signal_handlers();

// True once SIGINT or SIGTERM arrived, or request_stop() was called.
bool stop_requested();
void request_stop();

// The signal that asked to stop, 0 if none.
int stop_signal();

// Starts a helper thread that takes no signals, so that SIGINT and SIGTERM
// land on the thread that reads input and interrupt its blocked read().
std::thread start_thread_without_signals(std::function<void()> body);

}  // namespace citypipe
