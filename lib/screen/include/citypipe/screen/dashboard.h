// The model behind tui-top: per-key counters, latest values and event-time
// span averages of every measurement field, a sparkline history of one field,
// and a feed of the newest anomalies. Memory is bounded by keys x fields x
// buckets plus the alert ring; no I/O, no locking (the caller locks).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "citypipe/core/event_time.h"
#include "citypipe/core/json_record.h"
#include "citypipe/core/record_fields.h"
#include "citypipe/core/util.h"

namespace citypipe {

struct DashboardConfig {
  std::string key_field{field::zone};
  std::string time_field{field::ts};  // falls back to window_start, then arrival time
  time_ms span = 60'000;
  std::size_t buckets = 60;       // span is split into this many buckets
  std::size_t max_keys = 1000;    // later keys are counted under "(other)"
  std::size_t max_fields = 16;    // later measurement fields are ignored
  std::size_t max_alerts = 200;   // the alert feed keeps the newest ones
  std::size_t max_text = 200;     // bytes kept of a key, sensor, severity or reasons
};

struct Alert {
  time_ms time = 0;
  std::string key;
  std::string sensor;
  std::string severity;  // as the data says: "high", "medium", "low" or empty
  std::string reasons;   // joined with ", "
};

struct FieldStat {
  bool has_latest = false;
  double latest = 0;
  bool has_avg = false;  // false when the key had no value in the span
  double avg = 0;
};

struct KeyRow {
  std::string key;  // raw bytes from the data: escape before display
  std::uint64_t records = 0;
  std::uint64_t anomalies = 0;
  std::vector<FieldStat> fields;  // parallel to DashboardSnapshot::fields
  std::vector<double> spark;      // bucket averages over the span, oldest first; NaN = empty
  std::vector<std::vector<double>> series;  // the same for every field, when asked for
};

// A copy of what the screen needs, taken under the caller's lock.
struct DashboardSnapshot {
  std::uint64_t records = 0;
  std::uint64_t anomalies = 0;
  bool has_time = false;
  time_ms newest_time = 0;
  time_ms span = 0;
  std::vector<std::string> fields;                     // measurement fields, first seen first
  std::size_t spark_field = static_cast<std::size_t>(-1);  // index into fields, or none
  std::vector<KeyRow> rows;                            // in first-seen order
  std::vector<Alert> alerts;                           // newest first
  bool keys_capped = false;                            // some keys went to "(other)"
};

class Dashboard {
 public:
  explicit Dashboard(DashboardConfig config = {});

  // Folds one record in. arrival is the wall clock, used as the event time of
  // a record that has none.
  void add(const JsonRecord& record, time_ms arrival);

  // The snapshot, with the sparkline series of field index spark_field (none
  // when out of range), and with every field's series when all_series.
  DashboardSnapshot snapshot(std::size_t spark_field, bool all_series = false) const;

  const std::vector<std::string>& fields() const { return field_names_; }
  std::uint64_t records() const { return records_; }
  std::uint64_t anomalies() const { return anomalies_; }
  const DashboardConfig& config() const { return config_; }

  // The measurement name of a numeric field, or empty when it is not one
  // (times, counters, window bounds, min/max of aggregates): "aqi" -> "aqi",
  // "aqi_avg" -> "aqi", "aqi_max" -> "".
  static std::string_view measurement_name(std::string_view field, std::string_view time_field);

 private:
  struct Key {
    std::string name;
    std::uint64_t records = 0;
    std::uint64_t anomalies = 0;
    std::vector<std::int64_t> slot_bucket;  // which bucket each ring slot holds
    std::vector<bool> has_latest;
    std::vector<double> latest;             // per field
    std::vector<double> sum;                // per field x slot
    std::vector<std::uint32_t> count;       // per field x slot
  };

  Key& key_for(std::string_view name);
  std::size_t field_index(std::size_t position, std::string_view name);
  void grow_fields(Key& key) const;
  void add_alert(const JsonRecord& record, std::string_view key, time_ms t);

  DashboardConfig config_;
  time_ms bucket_ms_;
  std::uint64_t records_ = 0;
  std::uint64_t anomalies_ = 0;
  bool has_time_ = false;
  time_ms newest_ = std::numeric_limits<time_ms>::min();
  std::vector<std::string> field_names_;
  std::vector<Key> keys_;
  std::unordered_map<std::string, std::size_t, StringHash, std::equal_to<>> key_index_;
  bool keys_capped_ = false;
  // Records mostly repeat one field layout: position -> field index (or npos).
  std::vector<std::string> layout_names_;
  std::vector<std::size_t> layout_index_;
  std::vector<Alert> alerts_;  // ring
  std::size_t alert_next_ = 0;
  std::string scratch_;
};

// Records/s and anomalies/s from counter samples taken at each refresh, over
// the last few seconds of wall clock, so the cost is per refresh, not per record.
class RateMeter {
 public:
  explicit RateMeter(time_ms window = 5000) : window_(window) {}
  void sample(time_ms now, std::uint64_t records, std::uint64_t anomalies);
  double records_per_s() const { return records_rate_; }
  double anomalies_per_s() const { return anomalies_rate_; }

 private:
  struct Sample {
    time_ms t;
    std::uint64_t records, anomalies;
  };
  time_ms window_;
  std::vector<Sample> samples_;
  double records_rate_ = 0;
  double anomalies_rate_ = 0;
};

namespace detail {
// The strings of a JSON array's raw text (or a JSON string's content when
// text is not an array), unescaped and joined with ", ".
std::string join_json_strings(std::string_view array_text);
}  // namespace detail

}  // namespace citypipe
