// The record contract between the tools (citypipe(7), RECORD FORMAT): the
// field names that one tool writes and another reads, which numeric fields
// are measurements, and how a field's value reads as a key.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "citypipe/core/json_record.h"

namespace citypipe::field {

// A reading (sensor-gen and the like).
inline constexpr std::string_view ts = "ts";                // event time: RFC 3339 or epoch seconds/ms
inline constexpr std::string_view sensor_id = "sensor_id";  // the sensor that made the reading
inline constexpr std::string_view zone = "zone";            // the default grouping key
inline constexpr std::string_view injected_anomaly = "injected_anomaly";  // ground truth of a generated anomaly

// What iforest-score adds to each reading, and window-agg and tui-top read.
inline constexpr std::string_view score = "score";        // the forest's anomaly score, 0 to 1 (null: no forest yet)
inline constexpr std::string_view anomaly = "anomaly";    // true when the forest or a rule flags the reading
inline constexpr std::string_view severity = "severity";  // "none", "low", "medium" or "high"
inline constexpr std::string_view reasons = "reasons";    // array of strings: "iforest", the rules that fired, "fallback:global"

// What window-agg writes for each window, and tui-top and pg-sink read.
inline constexpr std::string_view window = "window";              // the window definition, "tumble:1m"
inline constexpr std::string_view window_start = "window_start";  // RFC 3339, inclusive
inline constexpr std::string_view window_end = "window_end";      // RFC 3339, exclusive
inline constexpr std::string_view count = "count";                // records in the window

// What kafka-cat-in -C --meta adds, and window-agg reads to keep partitions apart.
inline constexpr std::string_view kafka = "_kafka";  // {"topic","partition","offset","key","timestamp"}

}  // namespace citypipe::field

namespace citypipe {

// True for a name that may hold a measurement, false for the names of times
// (ts, time, timestamp, and names ending in _ts or _time), identifiers (id,
// and names ending in _id, Id or ID) and bookkeeping (seq, label): numbers
// that say nothing about what a sensor measured.
bool is_measurement_name(std::string_view name);

// A measurement: a JSON number under a measurement name. A tool leaves out
// besides only the fields its options give other roles (time field, keys).
inline bool is_measurement(const JsonField& f) {
  return f.type == json_type::number && is_measurement_name(f.key);
}

// A value as key text: a string's characters, a number as written (an integer
// exactly, otherwise the shortest form that reads back as the same double, so
// 21.0 and 21 are one key), true or false, an array's or object's JSON text.
// null has none (nullopt), like a missing field. The view points into f or
// into scratch.
std::optional<std::string_view> key_text(const JsonField& f, std::string& scratch);

}  // namespace citypipe
