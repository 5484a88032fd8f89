#include "citypipe/core/signals.h"

#include <atomic>
#include <csignal>

#include <pthread.h>

namespace citypipe {

namespace {
std::atomic<int> g_stop_signal{0};
std::atomic<bool> g_stop{false};
std::atomic<int> g_signal_count{0};
std::atomic<bool> g_sigterm{false};

extern "C" void on_stop_signal(int sig) {
  g_stop_signal.store(sig);
  g_signal_count.fetch_add(1);
  if (sig == SIGTERM) g_sigterm.store(true);
  g_stop.store(true);
}
}  // namespace

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  // A parent may hand down a mask that blocks them (a supervisor, a test
  // harness); a tool that cannot be stopped is worse than one that ignores it.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_UNBLOCK, &stop, nullptr);
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ignore, nullptr);
}

bool stop_requested() { return g_stop.load(std::memory_order_relaxed); }
void request_stop() { g_stop.store(true); }
int stop_signal() { return g_stop_signal.load(); }
int signal_count() { return g_signal_count.load(); }
bool abandon_requested() { return g_sigterm.load() || g_signal_count.load() >= 2; }

std::thread start_thread_without_signals(std::function<void()> body) {
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);  // the new thread inherits this mask
  std::thread t(std::move(body));
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return t;
}

}  // namespace citypipe
