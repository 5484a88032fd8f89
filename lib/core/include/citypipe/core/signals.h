// SIGINT and SIGTERM ask a tool to stop reading, flush what it holds and exit
// 130 (a second one, or SIGTERM, to give up what is still pending); SIGPIPE is ignored so that a closed pipe shows up as EPIPE on write.
#pragma once

#include <functional>
#include <thread>

namespace citypipe {

// Installs the handlers (without SA_RESTART, so a blocked read returns) and
// unblocks both signals on the calling thread, whatever mask it inherited.
void install_signal_handlers();

// True once SIGINT or SIGTERM arrived, or request_stop() was called.
bool stop_requested();
void request_stop();

// The signal that asked to stop, 0 if none.
int stop_signal();

// How many SIGINT and SIGTERM arrived so far. A tool that waits for
// something pending at exit (deliveries, commits) waits after the first
// SIGINT and says what it waits for, and gives up at once when
// abandon_requested(): a second signal, or SIGTERM (as psql and curl do).
int signal_count();
bool abandon_requested();

// Starts a helper thread that takes no signals, so that SIGINT and SIGTERM
// land on the thread that reads input and interrupt its blocked read().
std::thread start_thread_without_signals(std::function<void()> body);

}  // namespace citypipe
