// Event times by their minute: a fast path for the RFC 3339 times of a
// stream, which mostly share their minute.
#pragma once

#include <cstring>
#include <optional>
#include <string_view>

#include "citypipe/core/event_time.h"

namespace citypipe {

// The times of a stream mostly share their minute: the last RFC 3339 time
// of the form YYYY-MM-DDTHH:MM:SS.mmmZ is kept by its minute, so that a time
// in the same minute needs only its "SS.mmmZ" read. Same results as
// parse_rfc3339. One per thread.
class MinuteCache {
 public:
  [[gnu::always_inline]] std::optional<time_ms> parse(std::string_view s) {
    int ms = 0;
    if (valid_ && (ms = tail(s)) >= 0 && std::memcmp(s.data(), minute_, sizeof minute_) == 0) return at_ + ms;
    return parse_new(s);
  }

 private:
  // A time in another minute than the last one, or not in the usual form.
  [[gnu::noinline]] std::optional<time_ms> parse_new(std::string_view s) {
    int ms = 0;
    auto t = parse_rfc3339(s);
    if (t && (ms = tail(s)) >= 0) {
      std::memcpy(minute_, s.data(), sizeof minute_);
      at_ = *t - ms;
      valid_ = true;
    }
    return t;
  }

  // The milliseconds into the minute of "SS.mmmZ" at the end of a 24-byte
  // time (SS up to 59: a leap second is left to parse_rfc3339), or -1.
  [[gnu::always_inline]] static int tail(std::string_view s) {
    auto digit = [&](std::size_t i) { return static_cast<unsigned>(s[i] - '0'); };
    if (s.size() != 24 || s[16] != ':' || s[19] != '.' || s[23] != 'Z') return -1;
    if (digit(17) > 5 || digit(18) > 9 || digit(20) > 9 || digit(21) > 9 || digit(22) > 9) return -1;
    return static_cast<int>((digit(17) * 10 + digit(18)) * 1000 + digit(20) * 100 + digit(21) * 10 + digit(22));
  }
  char minute_[16] = {};  // "YYYY-MM-DDTHH:MM"
  time_ms at_ = 0;        // its time
  bool valid_ = false;
};

}  // namespace citypipe
