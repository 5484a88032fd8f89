// A mergeable quantile sketch with relative error (DDSketch, Masson et al.,
// VLDB 2019): values go into logarithmic buckets, so memory grows with the
// spread of magnitudes, never with the number of values.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace citypipe {

class QuantileSketch {
 public:
  // The estimate of any quantile is within relative_accuracy of the true value
  // at that rank (|estimate - x| <= relative_accuracy * |x|). Values whose
  // magnitude is below min_magnitude() count as zero.
  static constexpr double default_accuracy = 0.01;
  explicit QuantileSketch(double relative_accuracy = default_accuracy);

  // Adds a finite value (NaN and infinities are ignored).
  void add(double v);
  // Adds other's values; both sketches must have the same accuracy.
  void merge(const QuantileSketch& other);
  void clear();

  std::uint64_t count() const { return count_; }
  double relative_accuracy() const;
  static constexpr double min_magnitude() { return 1e-9; }
  // Largest number of buckets per sign; beyond it the smallest magnitudes
  // share a bucket (their error grows, the large values keep theirs).
  static constexpr std::int32_t max_buckets = 4096;

  // The q-quantile (0 <= q <= 1) as the value at rank floor(q * (count - 1))
  // of the sorted values, within the relative accuracy; exact at q = 0 and
  // q = 1. nullopt when empty.
  std::optional<double> quantile(double q) const;

 private:
  // Dense counters for bucket indexes [offset, offset + counts.size()).
  struct Store {
    std::vector<std::uint64_t> counts;
    std::int32_t offset = 0;
    void add(std::int32_t index, std::uint64_t n);
  };
  std::int32_t index_of(double magnitude) const;
  double value_of(std::int32_t index) const;

  double gamma_;
  double inv_log_gamma_;
  Store positive_;
  Store negative_;  // by magnitude
  std::uint64_t zero_ = 0;
  std::uint64_t count_ = 0;
  double min_ = 0;
  double max_ = 0;
};

}  // namespace citypipe
