#include "pacer.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <ctime>

#include <poll.h>
#include <sys/prctl.h>

#include "citypipe/core/signals.h"

namespace citypipe {

namespace {

// Buckets: exact below 128 us, then 64 per power of two.
std::size_t bucket_of(std::uint64_t us) {
  if (us < 128) return static_cast<std::size_t>(us);
  const int e = 63 - __builtin_clzll(us) - 6;  // us >> e is in [64, 128)
  return static_cast<std::size_t>(64 * e) + static_cast<std::size_t>(us >> e);
}

std::uint64_t top_of(std::size_t bucket) {
  if (bucket < 128) return bucket;
  const auto e = static_cast<int>(bucket / 64) - 1;
  return ((bucket % 64 + 64 + 1) << e) - 1;
}

}  // namespace

std::int64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

void LagHistogram::add(std::uint64_t us) {
  ++buckets_[std::min(bucket_of(us), buckets_.size() - 1)];
  ++count_;
  max_ = std::max(max_, us);
}

std::uint64_t LagHistogram::quantile(double q) const {
  if (count_ == 0) return 0;
  const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
  std::uint64_t seen = 0;
  for (std::size_t b = 0; b < buckets_.size(); ++b) {
    seen += buckets_[b];
    if (seen >= std::max<std::uint64_t>(rank, 1)) return std::min(top_of(b), max_);
  }
  return max_;
}

void Pacer::report(Stats& stats) const {
  stats.set_extra("lag_p99_us", lag_.quantile(0.99));
  stats.set_extra("lag_max_us", lag_.max());
}

void Pacer::start(time_ms origin, time_ms elapsed) {
  // Wake-ups within 1 us of the due time rather than the default 50 us of slack.
  prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL);
  origin_ = origin;
  started_ns_ = monotonic_ns();
  origin_ns_ = started_ns_ - static_cast<std::int64_t>(static_cast<double>(elapsed) * 1e6 / speed_);
}

bool Pacer::wait(time_ms t) {
  const std::int64_t due = origin_ns_ + static_cast<std::int64_t>(static_cast<double>(t - origin_) * 1e6 / speed_);
  std::int64_t now = monotonic_ns();
  if (now < due) {
    out_.flush();  // what is due goes downstream now, not when a buffer fills
    if (!sleep_until(due)) return false;
    now = monotonic_ns();
  }
  if (stop_requested()) return false;
  if (due >= started_ns_) lag_.add(static_cast<std::uint64_t>(std::max<std::int64_t>(0, now - due) / 1000));
  return true;
}

// Sleeps on the output descriptor: poll reports an error there once a pipe's
// reader has gone, so `| head` ends the run at once, not at the next write.
bool Pacer::sleep_until(std::int64_t due_ns) {
  for (;;) {
    const std::int64_t now = monotonic_ns();
    if (now >= due_ns) return true;
    if (stop_requested()) return false;
    const std::int64_t wait = due_ns - now;
    const timespec rel{static_cast<time_t>(wait / 1000000000), static_cast<long>(wait % 1000000000)};
    pollfd p{fd_, 0, 0};
    const int rc = ::ppoll(&p, 1, &rel, nullptr);  // EINTR on a signal: the loop checks for a stop
    if (rc > 0 && (p.revents & (POLLERR | POLLHUP)) != 0) {
      reader_gone_ = true;
      return false;
    }
    if (rc > 0 && (p.revents & POLLNVAL) != 0) clock_nanosleep(CLOCK_MONOTONIC, 0, &rel, nullptr);
  }
}

}  // namespace citypipe
