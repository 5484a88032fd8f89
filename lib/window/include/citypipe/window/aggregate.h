// The aggregates window-agg computes per field and window: their names on the
// command line, and the running state that holds them in O(1) memory per
// field (plus a quantile sketch when percentiles are asked for).
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "citypipe/core/event_time.h"
#include "citypipe/window/sketch.h"

namespace citypipe {

enum class aggregate_kind : std::uint8_t { count, avg, min, max, sum, stddev, first, last, quantile };

struct Aggregate {
  aggregate_kind kind = aggregate_kind::count;
  double q = 0;      // for quantile: 0..1
  std::string name;  // as in output column names: "avg", "p95"
};

// Parses "count,avg,p95": count avg min max sum stddev first last and pN for
// an integer N in 0..100. Returns false with error set on an unknown name or
// a duplicate.
bool parse_aggregates(std::string_view list, std::vector<Aggregate>& out, std::string& error);

// What running state the chosen aggregates need beyond count, sum, min, max.
struct AggregateNeeds {
  bool moments = false;     // stddev
  bool first_last = false;  // first, last
  bool sketch = false;      // percentiles
  bool any() const { return moments || first_last || sketch; }
};
AggregateNeeds needs_of(std::span<const Aggregate> aggregates);

// The running aggregate of one numeric field in one window or pane.
class FieldStats {
 public:
  FieldStats() : sketch_(QuantileSketch::default_accuracy) {}

  // Adds value v of a record at event time t. NaN means "no value" and is skipped.
  void add(double v, time_ms t, const AggregateNeeds& needs) {
    if (std::isnan(v)) return;
    add_basic(v);
    if (needs.moments) add_moment(v);
    if (needs.first_last) {
      if (n_ == 1 || t < first_t_) first_ = v, first_t_ = t;
      if (n_ == 1 || t >= last_t_) last_ = v, last_t_ = t;
    }
    if (needs.sketch) {
      sketch_.add(v);
      integral_ = integral_ && v == std::trunc(v);
    }
  }
  // The same when needs asks for nothing beyond count, sum, min and max.
  void add(double v) {
    if (!std::isnan(v)) add_basic(v);
  }
  // Adds other's values as if they had arrived after this one's.
  void merge(const FieldStats& other, const AggregateNeeds& needs);

  std::uint64_t count() const { return n_; }
  // The aggregate's value; nullopt (JSON null) when the field had no values,
  // and for stddev (the sample standard deviation) with fewer than two. A
  // percentile carries no more digits than the sketch's 1% can vouch for:
  // 4 significant digits, or a whole number when every value was one.
  std::optional<double> value(const Aggregate& a) const;

 private:
  void add_moment(double v);
  void add_basic(double v) {
    ++n_;
    sum_ += v;
    min_ = v < min_ ? v : min_;  // the infinities they start at go at once
    max_ = v > max_ ? v : max_;
  }

  std::uint64_t n_ = 0;
  double sum_ = 0, min_ = HUGE_VAL, max_ = -HUGE_VAL;  // min and max hold once n_ > 0
  double mean_ = 0, m2_ = 0;  // Welford, merged with Chan et al.
  double first_ = 0, last_ = 0;
  time_ms first_t_ = 0, last_t_ = 0;
  QuantileSketch sketch_;
  bool integral_ = true;  // every value added to the sketch was a whole number
};

// Everything one window (or pane) of one key holds.
struct WindowAccumulator {
  std::uint64_t count = 0;
  std::vector<FieldStats> fields;
  std::vector<std::uint64_t> true_counts;

  WindowAccumulator(std::size_t n_fields, std::size_t n_true)
      : fields(n_fields), true_counts(n_true, 0) {}
  // values[i] NaN = no value; trues[j] non-zero = counted.
  void add(time_ms t, std::span<const double> values, std::span<const std::uint8_t> trues,
           const AggregateNeeds& needs) {
    ++count;
    if (needs.any()) {
      for (std::size_t i = 0; i < fields.size(); ++i) fields[i].add(values[i], t, needs);
    } else {
      for (std::size_t i = 0; i < fields.size(); ++i) fields[i].add(values[i]);
    }
    for (std::size_t j = 0; j < true_counts.size(); ++j) true_counts[j] += trues[j] != 0;
  }
  void merge(const WindowAccumulator& other, const AggregateNeeds& needs);
};

}  // namespace citypipe
