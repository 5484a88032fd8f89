// The aggregates window-agg computes per field and window: their names on the
// command line, and the running state that holds them in O(1) memory per
// field (plus a quantile sketch when percentiles are asked for).
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <limits>
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

// Everything one window (or pane) of one key holds: its records, and per
// numeric field the running aggregates of that field's values (a NaN value is
// no value: skipped, so each field counts its own), and per boolean counter
// how many records were true. O(1) memory per field, plus a quantile sketch
// when percentiles are asked for.
//
// The count, sum, min and max of all fields lie in dense arrays, padded to an
// even length, so a record updates two fields per SSE2 instruction; the state
// beyond them (moments, first and last, the sketch) exists only when needs
// asks for it.
class WindowAccumulator {
 public:
  WindowAccumulator(std::size_t n_fields, std::size_t n_true, const AggregateNeeds& needs);

  // Adds a record at event time t: values.size() == fields(), trues.size()
  // == the counters; trues[j] non-zero = counted.
  void add(time_ms t, std::span<const double> values, std::span<const std::uint8_t> trues) {
    ++count_;
    // values.size(), not fields_: the compiler then sees every read is in
    // the caller's array (and no false -Warray-bounds for a small one).
    const std::size_t nf = values.size(), stride = stride_;
    const double* v = values.data();
    std::uint64_t* n = counts_.data();
    double* sum = basic_.data();
    double* min = sum + stride;
    double* max = min + stride;
    std::size_t i = 0;
    for (; i + 2 <= nf; i += 2) add_pair(load(v + i), n + i, sum + i, min + i, max + i);
    if (i < nf)  // the last field and the pad, which gets no value
      add_pair(Pair{v[i], std::numeric_limits<double>::quiet_NaN()}, n + i, sum + i, min + i, max + i);
    std::uint64_t* trues_n = n + stride;
    for (std::size_t j = 0; j < trues.size(); ++j) trues_n[j] += trues[j] != 0;
    if (!extra_.empty()) add_extra(t, v);
  }
  // Adds other's records as if they had arrived after this one's; other was
  // made with the same sizes and needs.
  void merge(const WindowAccumulator& other);

  std::uint64_t count() const { return count_; }
  std::size_t fields() const { return fields_; }
  std::uint64_t true_count(std::size_t j) const { return counts_[stride_ + j]; }
  // Aggregate a of field i; nullopt (JSON null) when the field had no
  // values, and for stddev (the sample standard deviation) with fewer than
  // two. A percentile carries no more digits than the sketch's 1% can vouch
  // for: 4 significant digits, or a whole number when every value was one.
  std::optional<double> value(std::size_t i, const Aggregate& a) const;

 private:
  // A field's state beyond count, sum, min and max.
  struct Extra {
    double mean = 0, m2 = 0;  // Welford, merged with Chan et al.
    double first = 0, last = 0;
    time_ms first_t = 0, last_t = 0;
    QuantileSketch sketch{QuantileSketch::default_accuracy};
    bool integral = true;  // every value added to the sketch was a whole number
  };
  // Two fields' doubles, or 64-bit integers, in one SSE2 register (GCC and
  // Clang vector extensions): add() updates two fields per instruction.
  using Pair = double __attribute__((vector_size(16)));
  using PairBits = std::int64_t __attribute__((vector_size(16)));
  static Pair load(const double* p) {
    Pair x;
    std::memcpy(&x, p, sizeof x);
    return x;
  }
  // Adds the values x of fields i and i + 1, given as their arrays from i.
  static void add_pair(Pair x, std::uint64_t* n, double* sum, double* min, double* max) {
    const PairBits has = x == x;  // all ones, or 0 for NaN
    PairBits count;
    std::memcpy(&count, n, sizeof count);
    count -= has;
    std::memcpy(n, &count, sizeof count);
    // Adding +0.0 for a NaN leaves any sum as it was, for no sum is -0.0 (it
    // starts at +0.0, and x + y is -0.0 only when both are): per field, the
    // values are added in record order, as by a test and an addition.
    const Pair s = load(sum) + std::bit_cast<Pair>(std::bit_cast<PairBits>(x) & has);
    std::memcpy(sum, &s, sizeof s);
    // False for NaN; and the infinities min and max start at go at once.
    Pair lo = load(min), hi = load(max);
    lo = x < lo ? x : lo;
    hi = x > hi ? x : hi;
    std::memcpy(min, &lo, sizeof lo);
    std::memcpy(max, &hi, sizeof hi);
  }
  void add_extra(time_ms t, const double* values);

  std::uint64_t count_ = 0;  // records
  std::size_t fields_;
  AggregateNeeds needs_;
  std::size_t stride_;  // fields_ rounded up to even: add() goes by pairs of fields
  std::vector<std::uint64_t> counts_;  // values per field (stride_), then trues per counter
  std::vector<double> basic_;  // the sums, then the minima, then the maxima, stride_ each;
                               // a field's min and max hold once its count is not 0
  std::vector<Extra> extra_;   // per field when needs.any(), else empty
};

}  // namespace citypipe
