#include "citypipe/window/aggregate.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

namespace citypipe {

bool parse_aggregates(std::string_view list, std::vector<Aggregate>& out, std::string& error) {
  out.clear();
  std::size_t pos = 0;
  while (pos <= list.size()) {
    const std::size_t comma = std::min(list.find(',', pos), list.size());
    const std::string_view name = list.substr(pos, comma - pos);
    pos = comma + 1;
    Aggregate a;
    a.name = std::string(name);
    if (name == "count") a.kind = aggregate_kind::count;
    else if (name == "avg" || name == "mean") a.kind = aggregate_kind::avg, a.name = "avg";
    else if (name == "min") a.kind = aggregate_kind::min;
    else if (name == "max") a.kind = aggregate_kind::max;
    else if (name == "sum") a.kind = aggregate_kind::sum;
    else if (name == "stddev") a.kind = aggregate_kind::stddev;
    else if (name == "first") a.kind = aggregate_kind::first;
    else if (name == "last") a.kind = aggregate_kind::last;
    else if (name == "median") a.kind = aggregate_kind::quantile, a.q = 0.5, a.name = "p50";
    else if (name.size() >= 2 && name[0] == 'p') {
      unsigned percent = 0;
      const char* end = name.data() + name.size();
      auto [ptr, ec] = std::from_chars(name.data() + 1, end, percent);
      if (ec != std::errc() || ptr != end || percent > 100) {
        error = "unknown aggregate '" + std::string(name) + "' (percentiles are p0 to p100)";
        return false;
      }
      a.kind = aggregate_kind::quantile;
      a.q = percent / 100.0;
      a.name = fmt::format("p{}", percent);
    } else {
      error = "unknown aggregate '" + std::string(name) +
              "' (count avg min max sum stddev first last pN)";
      return false;
    }
    for (const auto& b : out) {
      if (b.name == a.name) {
        error = "aggregate '" + a.name + "' given twice";
        return false;
      }
    }
    out.push_back(std::move(a));
  }
  return true;
}

AggregateNeeds needs_of(std::span<const Aggregate> aggregates) {
  AggregateNeeds needs;
  for (const auto& a : aggregates) {
    needs.moments |= a.kind == aggregate_kind::stddev;
    needs.first_last |= a.kind == aggregate_kind::first || a.kind == aggregate_kind::last;
    needs.sketch |= a.kind == aggregate_kind::quantile;
  }
  return needs;
}

void FieldStats::add_moment(double v) {
  const double delta = v - mean_;
  mean_ += delta / static_cast<double>(n_);
  m2_ += delta * (v - mean_);
}

void FieldStats::merge(const FieldStats& other, const AggregateNeeds& needs) {
  if (other.n_ == 0) return;
  if (n_ == 0) {
    *this = other;
    return;
  }
  const auto na = static_cast<double>(n_), nb = static_cast<double>(other.n_);
  if (needs.moments) {
    const double delta = other.mean_ - mean_;
    mean_ += delta * nb / (na + nb);
    m2_ += other.m2_ + delta * delta * na * nb / (na + nb);
  }
  n_ += other.n_;
  sum_ += other.sum_;
  if (other.min_ < min_) min_ = other.min_;
  if (other.max_ > max_) max_ = other.max_;
  if (needs.first_last) {
    if (other.first_t_ < first_t_) first_ = other.first_, first_t_ = other.first_t_;
    if (other.last_t_ >= last_t_) last_ = other.last_, last_t_ = other.last_t_;
  }
  if (needs.sketch) {
    sketch_.merge(other.sketch_);
    integral_ = integral_ && other.integral_;
  }
}

std::optional<double> FieldStats::value(const Aggregate& a) const {
  if (n_ == 0 && a.kind != aggregate_kind::count) return std::nullopt;
  switch (a.kind) {
    case aggregate_kind::count: return static_cast<double>(n_);
    case aggregate_kind::avg: return sum_ / static_cast<double>(n_);
    case aggregate_kind::min: return min_;
    case aggregate_kind::max: return max_;
    case aggregate_kind::sum: return sum_;
    case aggregate_kind::stddev:
      if (n_ < 2) return std::nullopt;
      return std::sqrt(std::max(0.0, m2_) / static_cast<double>(n_ - 1));
    case aggregate_kind::first: return first_;
    case aggregate_kind::last: return last_;
    case aggregate_kind::quantile: {
      const auto estimate = sketch_.quantile(a.q);
      if (!estimate) return std::nullopt;
      const double q = std::clamp(*estimate, min_, max_);
      if (integral_) return std::round(q);
      if (q == 0 || !std::isfinite(q)) return q;
      const double scale = std::pow(10.0, 3 - std::floor(std::log10(std::fabs(q))));
      return std::round(q * scale) / scale;
    }
  }
  return std::nullopt;
}

void WindowAccumulator::merge(const WindowAccumulator& other, const AggregateNeeds& needs) {
  count += other.count;
  for (std::size_t i = 0; i < fields.size(); ++i) fields[i].merge(other.fields[i], needs);
  for (std::size_t j = 0; j < true_counts.size(); ++j) true_counts[j] += other.true_counts[j];
}

}  // namespace citypipe
