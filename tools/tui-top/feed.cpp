#include <chrono>
#include <csignal>

#include <pthread.h>

#include "app.h"
#include "citypipe/core/signals.h"

namespace tui_top {

namespace {
extern "C" void on_wake(int) {}  // only interrupts a blocked read()
}  // namespace

Feed::Feed(citypipe::Tool& tool, Shared& shared) : tool_(tool), shared_(shared), input_(tool) {
  // The main thread owns standard output: this thread must not flush it.
  input_.on_idle(
      [this] {
        clock_stale_ = true;  // the records after a blocking read arrive later
        std::lock_guard lock(shared_.mu);
        copy_stats();
      },
      false);
  ignore_control_lines(input_);
  struct sigaction sa {};
  sa.sa_handler = on_wake;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: read() returns EINTR and sees the stop
  sigaction(SIGUSR1, &sa, nullptr);
  thread_ = std::thread([this] { run(); });
}

Feed::~Feed() { stop(); }

void Feed::run() {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGWINCH);
  sigaddset(&mask, SIGTSTP);
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);
  citypipe::JsonRecord record;
  citypipe::time_ms now = 0;
  std::uint32_t since_clock = 0;
  while (input_.next(record)) {
    // Arrival time only matters for records without event time; reading the
    // clock for each of a million records a second would cost 5%.
    bool refresh = false;
    if (clock_stale_ || ++since_clock == 256) {
      now = citypipe::wall_clock_ms();
      clock_stale_ = false;
      since_clock = 0;
      refresh = true;
    }
    std::lock_guard lock(shared_.mu);
    shared_.model.add(record, now);
    if (refresh) copy_stats();
  }
  {
    std::lock_guard lock(shared_.mu);
    copy_stats();
    if (shared_.at_end) shared_.at_end_status = shared_.at_end(shared_.model);
    shared_.ended = true;
    done_.store(true);  // before the main thread can see ended and call stop()
  }
  shared_.changed.notify_all();
}

void Feed::copy_stats() {
  shared_.stats = tool_.stats();
  shared_.stats.rejected = tool_.bad_input().count();
}

void Feed::stop() {
  if (!thread_.joinable()) return;
  if (!done_.load()) {
    citypipe::request_stop();
    // The signal can land just before read() blocks, so knock a few times.
    for (int i = 0; i < 100 && !done_.load(); ++i) {
      pthread_kill(thread_.native_handle(), SIGUSR1);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  if (done_.load())
    thread_.join();
  else
    thread_.detach();  // stuck in the kernel: the process is about to exit anyway
}

}  // namespace tui_top
