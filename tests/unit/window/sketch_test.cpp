#include "citypipe/window/sketch.h"
#include "citypipe/window/aggregate.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

using namespace citypipe;

namespace {

double exact_quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(std::floor(q * static_cast<double>(v.size() - 1)))];
}

void check_within_accuracy(const QuantileSketch& s, const std::vector<double>& values) {
  for (double q : {0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0}) {
    const double want = exact_quantile(values, q);
    const auto got = s.quantile(q);
    REQUIRE(got.has_value());
    INFO("q=" << q << " want=" << want << " got=" << *got);
    CHECK(std::fabs(*got - want) <= 0.01 * std::fabs(want) + 1e-12);
  }
}

}  // namespace

TEST_CASE("sketch quantiles are within 1% of the exact value at that rank", "[sketch]") {
  std::mt19937_64 rng(7);
  SECTION("positive, spread over decades") {
    std::lognormal_distribution<double> d(2.0, 1.5);
    std::vector<double> v;
    QuantileSketch s;
    for (int i = 0; i < 20000; ++i) v.push_back(d(rng)), s.add(v.back());
    check_within_accuracy(s, v);
    CHECK(s.count() == 20000);
  }
  SECTION("negative, zero and positive temperatures") {
    std::normal_distribution<double> d(5.0, 12.0);
    std::vector<double> v;
    QuantileSketch s;
    for (int i = 0; i < 20000; ++i) {
      double x = std::round(d(rng) * 10) / 10;
      v.push_back(x);
      s.add(x);
    }
    check_within_accuracy(s, v);
  }
}

TEST_CASE("sketch extremes are exact and empty has no quantile", "[sketch]") {
  QuantileSketch s;
  CHECK_FALSE(s.quantile(0.5).has_value());
  for (double x : {3.0, -7.5, 42.0, 0.0}) s.add(x);
  CHECK(*s.quantile(0) == -7.5);
  CHECK(*s.quantile(1) == 42.0);
  CHECK(*s.quantile(0.5) == 0.0);  // sorted -7.5 0 3 42, rank 1
  s.add(std::nan(""));
  CHECK(s.count() == 4);
  CHECK_FALSE(s.quantile(1.5).has_value());
}

TEST_CASE("merged sketches answer like one sketch of all values", "[sketch]") {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> d(-50, 500);
  QuantileSketch all, a, b;
  for (int i = 0; i < 5000; ++i) {
    const double x = d(rng);
    all.add(x);
    (i % 3 == 0 ? a : b).add(x);
  }
  a.merge(b);
  CHECK(a.count() == all.count());
  for (double q : {0.0, 0.05, 0.5, 0.95, 0.99, 1.0}) CHECK(*a.quantile(q) == *all.quantile(q));
}

TEST_CASE("sketch memory is bounded: the smallest magnitudes collapse", "[sketch]") {
  QuantileSketch s;
  std::vector<double> v;
  // Magnitudes from 1e-9 to 1e300 need far more than max_buckets buckets.
  for (double x = 1e-9; x < 1e300; x *= 1.5) v.push_back(x), s.add(x);
  for (double q : {0.9, 0.99}) {  // above the collapsed range
    const double want = exact_quantile(v, q);
    CHECK(std::fabs(*s.quantile(q) - want) <= 0.01 * want);
  }
  CHECK(*s.quantile(0) == 1e-9);
  // Collapsed into the lowest kept bucket: too high, but never above the max.
  CHECK(*s.quantile(0.01) > exact_quantile(v, 0.01));
  CHECK(*s.quantile(0.01) <= 1e300);
}

TEST_CASE("a percentile carries no false precision", "[aggregate]") {
  std::vector<citypipe::Aggregate> aggs;
  std::string error;
  REQUIRE(citypipe::parse_aggregates("p95,p50", aggs, error));
  const citypipe::AggregateNeeds needs{false, false, true};
  citypipe::WindowAccumulator whole(1, 0, needs), fractional(1, 0, needs);
  for (int i = 1; i <= 1000; ++i) {
    const double w = i % 97, f = 1000.0 / i;
    whole.add(0, {&w, 1}, {});
    fractional.add(0, {&f, 1}, {});
  }
  const double p95 = *whole.value(0, aggs[0]);
  CHECK(p95 == std::round(p95));  // whole numbers in, a whole number out
  CHECK(p95 == Approx(92).epsilon(0.02));
  const double f = *fractional.value(0, aggs[1]);
  CHECK(f == Approx(2.0).epsilon(0.02));
  const double scale = std::pow(10.0, 3 - std::floor(std::log10(f)));
  CHECK(f == std::round(f * scale) / scale);  // 4 significant digits
  citypipe::WindowAccumulator merged = whole;
  merged.merge(fractional);
  const double m = *merged.value(0, aggs[1]);
  CHECK(m != std::round(m));  // a fraction merged in: no longer whole
}
