#include "citypipe/window/sketch.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace citypipe {

QuantileSketch::QuantileSketch(double relative_accuracy)
    : gamma_((1 + relative_accuracy) / (1 - relative_accuracy)),
      inv_log_gamma_(1 / std::log(gamma_)) {}

double QuantileSketch::relative_accuracy() const { return (gamma_ - 1) / (gamma_ + 1); }

std::int32_t QuantileSketch::index_of(double magnitude) const {
  return static_cast<std::int32_t>(std::ceil(std::log(magnitude) * inv_log_gamma_));
}

double QuantileSketch::value_of(std::int32_t index) const {
  // The point of bucket (gamma^(i-1), gamma^i] whose relative distance to both
  // ends is the same, (gamma - 1) / (gamma + 1).
  return std::exp(static_cast<double>(index) / inv_log_gamma_) * 2 / (gamma_ + 1);
}

void QuantileSketch::Store::add(std::int32_t index, std::uint64_t n) {
  if (counts.empty()) {
    offset = index;
    counts.assign(1, n);
    return;
  }
  const auto size = static_cast<std::int32_t>(counts.size());
  const std::int32_t lo = std::min(index, offset);
  const std::int32_t hi = std::max(index, offset + size - 1);
  if (hi - lo + 1 > max_buckets) {
    const std::int32_t floor_index = hi - max_buckets + 1;
    index = std::max(index, floor_index);
    if (offset < floor_index) {
      const auto k = static_cast<std::size_t>(floor_index - offset);
      if (k >= counts.size()) {
        const std::uint64_t total = std::accumulate(counts.begin(), counts.end(), std::uint64_t{0});
        counts.assign(1, total);
      } else {
        counts[k] = std::accumulate(counts.begin(), counts.begin() + static_cast<std::ptrdiff_t>(k + 1),
                                    std::uint64_t{0});
        counts.erase(counts.begin(), counts.begin() + static_cast<std::ptrdiff_t>(k));
      }
      offset = floor_index;
    }
  }
  if (index < offset) {
    counts.insert(counts.begin(), static_cast<std::size_t>(offset - index), 0);
    offset = index;
  } else if (index - offset >= static_cast<std::int32_t>(counts.size())) {
    counts.resize(static_cast<std::size_t>(index - offset + 1), 0);
  }
  counts[static_cast<std::size_t>(index - offset)] += n;
}

void QuantileSketch::add(double v) {
  if (!std::isfinite(v)) return;
  if (count_ == 0) {
    min_ = max_ = v;
  } else {
    min_ = std::min(min_, v);
    max_ = std::max(max_, v);
  }
  ++count_;
  if (v > min_magnitude()) {
    positive_.add(index_of(v), 1);
  } else if (v < -min_magnitude()) {
    negative_.add(index_of(-v), 1);
  } else {
    ++zero_;
  }
}

void QuantileSketch::merge(const QuantileSketch& other) {
  if (other.count_ == 0) return;
  if (count_ == 0) {
    min_ = other.min_;
    max_ = other.max_;
  } else {
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
  }
  count_ += other.count_;
  zero_ += other.zero_;
  for (std::size_t i = 0; i < other.positive_.counts.size(); ++i)
    if (other.positive_.counts[i] != 0)
      positive_.add(other.positive_.offset + static_cast<std::int32_t>(i), other.positive_.counts[i]);
  for (std::size_t i = 0; i < other.negative_.counts.size(); ++i)
    if (other.negative_.counts[i] != 0)
      negative_.add(other.negative_.offset + static_cast<std::int32_t>(i), other.negative_.counts[i]);
}

void QuantileSketch::clear() {
  positive_ = Store{};
  negative_ = Store{};
  zero_ = count_ = 0;
  min_ = max_ = 0;
}

std::optional<double> QuantileSketch::quantile(double q) const {
  if (count_ == 0 || !(q >= 0 && q <= 1)) return std::nullopt;
  if (q == 0) return min_;
  if (q == 1) return max_;
  const auto rank = static_cast<std::uint64_t>(std::floor(q * static_cast<double>(count_ - 1)));
  const auto clamp = [this](double v) { return std::clamp(v, min_, max_); };
  std::uint64_t seen = 0;
  for (std::size_t i = negative_.counts.size(); i-- > 0;) {
    seen += negative_.counts[i];
    if (seen > rank) return clamp(-value_of(negative_.offset + static_cast<std::int32_t>(i)));
  }
  seen += zero_;
  if (seen > rank) return clamp(0.0);
  for (std::size_t i = 0; i < positive_.counts.size(); ++i) {
    seen += positive_.counts[i];
    if (seen > rank) return clamp(value_of(positive_.offset + static_cast<std::int32_t>(i)));
  }
  return max_;
}

}  // namespace citypipe
