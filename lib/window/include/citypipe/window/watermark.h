// The watermark of a live input that has gone quiet: with --idle-timeout the
// event time is taken to run on with the wall clock from the last record's
// arrival; with --processing-time the wall clock is the event time. Pure
// arithmetic, no clock of its own: the caller passes "now".
#pragma once

#include <optional>

#include "citypipe/core/event_time.h"

namespace citypipe {

class IdleWatermark {
 public:
  // processing_time: the watermark is now - lateness. Otherwise, once the
  // input has been quiet for idle, max_event + (now - last_arrival) - lateness.
  IdleWatermark(time_ms lateness, std::optional<time_ms> idle, bool processing_time)
      : lateness_(lateness), idle_(idle), processing_time_(processing_time) {}

  // False when neither mode is on: the watermark moves with records only.
  bool active() const { return processing_time_ || idle_.has_value(); }

  // The watermark at wall time now, nullopt while the input is not yet idle.
  std::optional<time_ms> at(time_ms now, time_ms max_event, time_ms last_arrival) const {
    if (processing_time_) return now - lateness_;
    if (!idle_ || now < last_arrival + *idle_) return std::nullopt;
    return max_event + (now - last_arrival) - lateness_;
  }

  // The wall time at which the watermark reaches window end end.
  std::optional<time_ms> due(time_ms end, time_ms max_event, time_ms last_arrival) const {
    if (processing_time_) return end + lateness_;
    if (!idle_) return std::nullopt;
    const time_ms idle_from = last_arrival + *idle_;
    const time_ms reached = last_arrival + (end + lateness_ - max_event);
    return idle_from > reached ? idle_from : reached;
  }

 private:
  time_ms lateness_;
  std::optional<time_ms> idle_;
  bool processing_time_;
};

}  // namespace citypipe
