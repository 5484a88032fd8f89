// sensor-gen --replay: a recording written out again at the pace it was
// recorded (scaled by a speed), by event time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "citypipe/core/event_time.h"
#include "citypipe/core/status.h"
#include "citypipe/core/tool.h"

namespace citypipe {

struct ReplayOptions {
  std::string time_field = "ts";
  double speed = 1;
  bool fast = false;                 // no pacing
  bool retime = false;               // shift times so that the first record is at start
  std::optional<time_ms> start;      // with retime; default now
  bool loop = false;                 // again and again, the clock running on
  std::uint64_t limit = UINT64_MAX;  // records to write
};

// Replays the tool's inputs. Records are due at the newest event time seen so
// far (a late record goes out at once, in file order); bad lines go through the
// tool's bad-input policy. Counts records in and out and the lag in the tool's
// stats.
Status replay(Tool& tool, const ReplayOptions& options);

// The byte span [first, second) of the value of top-level field key in a line
// that is one valid JSON object, or nullopt. For rewriting one field in place.
std::optional<std::pair<std::size_t, std::size_t>> top_level_value_span(std::string_view json,
                                                                         std::string_view key);

}  // namespace citypipe
