// Writing records when they are due: event times map onto the monotonic clock,
// scaled by a speed, against one origin (each due time from the start, never
// from the record before, so a long run does not drift). While it waits it
// notices a reader that went away, and it keeps how late records were.
#pragma once

#include <cstdint>
#include <vector>

#include "citypipe/core/event_time.h"
#include "citypipe/core/output.h"
#include "citypipe/core/stats.h"

namespace citypipe {

// Lateness against schedule, in microseconds: a log-linear histogram (within
// 1.6%), so that a run of any length keeps its p99 in fixed memory.
class LagHistogram {
 public:
  void add(std::uint64_t us);
  std::uint64_t count() const { return count_; }
  std::uint64_t max() const { return max_; }
  // The q-quantile (0 < q <= 1), rounded up to its bucket's top; 0 when empty.
  std::uint64_t quantile(double q) const;

 private:
  std::vector<std::uint64_t> buckets_ = std::vector<std::uint64_t>(64 * 64);
  std::uint64_t count_ = 0, max_ = 0;
};

class Pacer {
 public:
  // speed: event time runs this many times faster than the clock. out_fd is
  // watched while waiting, for a reader that went away.
  Pacer(Output& out, double speed, int out_fd = 1) : out_(out), speed_(speed), fd_(out_fd) {}

  // Event time `origin` is due now, or was due `elapsed` ms of event time ago
  // (records due before now go out at once and are not counted as late).
  void start(time_ms origin, time_ms elapsed = 0);

  // Waits until event time t is due, writing out what is held first if it has
  // to wait, and counts how late t is. False (at once) on a stop signal or when
  // the reader went away (reader_gone()).
  bool wait(time_ms t);

  bool reader_gone() const { return reader_gone_; }
  const LagHistogram& lag() const { return lag_; }
  // Puts the lag into stats as lag_p99_us and lag_max_us (--stats, --metrics-file).
  void report(Stats& stats) const;

 private:
  bool sleep_until(std::int64_t due_ns);

  Output& out_;
  double speed_;
  int fd_;
  time_ms origin_ = 0;
  std::int64_t origin_ns_ = 0;
  std::int64_t started_ns_ = 0;
  bool reader_gone_ = false;
  LagHistogram lag_;
};

// Nanoseconds on the monotonic clock.
std::int64_t monotonic_ns();

}  // namespace citypipe
