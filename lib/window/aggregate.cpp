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

WindowAccumulator::WindowAccumulator(std::size_t n_fields, std::size_t n_true, const AggregateNeeds& needs)
    : fields_(n_fields),
      needs_(needs),
      stride_((n_fields + 1) & ~std::size_t{1}),
      counts_(stride_ + n_true, 0),
      basic_(3 * stride_, 0.0),
      extra_(needs.any() ? n_fields : 0) {
  std::fill_n(basic_.data() + stride_, stride_, HUGE_VAL);       // the minima
  std::fill_n(basic_.data() + 2 * stride_, stride_, -HUGE_VAL);  // the maxima
}

void WindowAccumulator::add_extra(time_ms t, const double* values) {
  for (std::size_t i = 0; i < fields_; ++i) {
    const double v = values[i];
    if (std::isnan(v)) continue;
    Extra& e = extra_[i];
    const std::uint64_t n = counts_[i];  // with v counted
    if (needs_.moments) {
      const double delta = v - e.mean;
      e.mean += delta / static_cast<double>(n);
      e.m2 += delta * (v - e.mean);
    }
    if (needs_.first_last) {
      if (n == 1 || t < e.first_t) e.first = v, e.first_t = t;
      if (n == 1 || t >= e.last_t) e.last = v, e.last_t = t;
    }
    if (needs_.sketch) {
      e.sketch.add(v);
      e.integral = e.integral && v == std::trunc(v);
    }
  }
}

void WindowAccumulator::merge(const WindowAccumulator& other) {
  count_ += other.count_;
  // The state beyond count, sum, min and max first: it weighs the two sides
  // by their counts before the merge.
  for (std::size_t i = 0; i < extra_.size(); ++i) {
    const std::uint64_t na = counts_[i], nb = other.counts_[i];
    const Extra& o = other.extra_[i];
    Extra& e = extra_[i];
    if (nb == 0) continue;
    if (na == 0) {
      e = o;
      continue;
    }
    if (needs_.moments) {
      const auto a = static_cast<double>(na), b = static_cast<double>(nb);
      const double delta = o.mean - e.mean;
      e.mean += delta * b / (a + b);
      e.m2 += o.m2 + delta * delta * a * b / (a + b);
    }
    if (needs_.first_last) {
      if (o.first_t < e.first_t) e.first = o.first, e.first_t = o.first_t;
      if (o.last_t >= e.last_t) e.last = o.last, e.last_t = o.last_t;
    }
    if (needs_.sketch) {
      e.sketch.merge(o.sketch);
      e.integral = e.integral && o.integral;
    }
  }
  for (std::size_t k = 0; k < counts_.size(); ++k) counts_[k] += other.counts_[k];
  // An empty side's +0.0 sum and infinite min and max change nothing, so
  // empty fields need no test here.
  const std::size_t nf = fields_, stride = stride_;
  double *sum = basic_.data(), *min = sum + stride, *max = min + stride;
  const double *osum = other.basic_.data(), *omin = osum + stride, *omax = omin + stride;
  for (std::size_t i = 0; i < nf; ++i) {
    sum[i] += osum[i];
    min[i] = omin[i] < min[i] ? omin[i] : min[i];
    max[i] = omax[i] > max[i] ? omax[i] : max[i];
  }
}

std::optional<double> WindowAccumulator::value(std::size_t i, const Aggregate& a) const {
  const std::uint64_t n = counts_[i];
  if (n == 0 && a.kind != aggregate_kind::count) return std::nullopt;
  const double sum = basic_[i], min = basic_[stride_ + i], max = basic_[2 * stride_ + i];
  switch (a.kind) {
    case aggregate_kind::count: return static_cast<double>(n);
    case aggregate_kind::avg: return sum / static_cast<double>(n);
    case aggregate_kind::min: return min;
    case aggregate_kind::max: return max;
    case aggregate_kind::sum: return sum;
    case aggregate_kind::stddev:
      if (n < 2) return std::nullopt;
      return std::sqrt(std::max(0.0, extra_[i].m2) / static_cast<double>(n - 1));
    case aggregate_kind::first: return extra_[i].first;
    case aggregate_kind::last: return extra_[i].last;
    case aggregate_kind::quantile: {
      const Extra& e = extra_[i];
      const auto estimate = e.sketch.quantile(a.q);
      if (!estimate) return std::nullopt;
      const double q = std::clamp(*estimate, min, max);
      if (e.integral) return std::round(q);
      if (q == 0 || !std::isfinite(q)) return q;
      const double scale = std::pow(10.0, 3 - std::floor(std::log10(std::fabs(q))));
      return std::round(q * scale) / scale;
    }
  }
  return std::nullopt;
}

}  // namespace citypipe
