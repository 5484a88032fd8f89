// Per-profile distributions: the mean, spread and range of every numeric field
// of every record kind, and that no continuous field piles up on one value (a
// misplaced parenthesis once made a third of the vehicle weather aqi exactly 60).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "citypipe/core/json_record.h"
#include "citypipe/gen/generator.h"

using namespace citypipe;

namespace {

struct Summary {
  std::uint64_t n = 0;
  double sum = 0, sum_sq = 0, lo = INFINITY, hi = -INFINITY;
  std::map<double, std::uint64_t> values;
  double mean() const { return sum / static_cast<double>(n); }
  double sd() const { return std::sqrt(std::max(0.0, sum_sq / static_cast<double>(n) - mean() * mean())); }
  // The share of records that carry the most common value.
  double mode_share() const {
    std::uint64_t most = 0;
    for (const auto& [v, c] : values) most = std::max(most, c);
    return static_cast<double>(most) / static_cast<double>(n);
  }
};

// Summaries by "type/field" (type: the value of type_field, or "" without one).
std::map<std::string, Summary> summarise(sensor_profile p, const char* type_field, std::uint64_t count,
                                         time_ms interval) {
  GeneratorConfig cfg;
  cfg.profile = p;
  cfg.seed = 11;
  cfg.start = *parse_rfc3339("2026-03-01T00:00:00Z");
  cfg.interval = interval;
  cfg.anomaly_rate = 0;  // the normal readings; anomalies are tested on their own
  SensorGenerator gen(cfg);
  std::string out;
  std::uint64_t made = 0;
  std::map<std::string, Summary> by_field;
  JsonParser parser;
  JsonRecord rec;
  std::string err;
  while (made < count) {
    out.clear();
    made += gen.next_tick(out, count - made);
    std::size_t begin = 0;
    for (std::size_t nl; (nl = out.find('\n', begin)) != std::string::npos; begin = nl + 1) {
      REQUIRE(parser.parse(std::string_view(out).substr(begin, nl - begin), rec, err));
      const std::string type(type_field != nullptr ? *rec.string(type_field) : "");
      for (const auto& f : rec.fields()) {
        if (f.type != json_type::number) continue;
        Summary& s = by_field[type + "/" + std::string(f.key)];
        ++s.n;
        s.sum += f.number;
        s.sum_sq += f.number * f.number;
        s.lo = std::min(s.lo, f.number);
        s.hi = std::max(s.hi, f.number);
        ++s.values[f.number];
      }
    }
  }
  return by_field;
}

struct Expect {
  const char* field;  // "type/field"
  double mean_lo, mean_hi, sd_lo, sd_hi, lo, hi;
  double max_mode_share;  // 1 for a constant or a few-valued field
};

void check(const std::map<std::string, Summary>& got, const std::vector<Expect>& expected) {
  for (const auto& e : expected) {
    INFO(e.field);
    const auto it = got.find(e.field);
    REQUIRE(it != got.end());
    const Summary& s = it->second;
    INFO(fmt::format("n={} mean={:.3f} sd={:.3f} range=[{}, {}] mode share={:.3f}", s.n, s.mean(), s.sd(),
                     s.lo, s.hi, s.mode_share()));
    CHECK(s.mean() >= e.mean_lo);
    CHECK(s.mean() <= e.mean_hi);
    CHECK(s.sd() >= e.sd_lo);
    CHECK(s.sd() <= e.sd_hi);
    CHECK(s.lo >= e.lo);
    CHECK(s.hi <= e.hi);
    CHECK(s.mode_share() <= e.max_mode_share);
  }
  // Every numeric field is expected: a new one needs its distribution stated here.
  for (const auto& [name, s] : got) {
    INFO(name);
    if (std::getenv("CITYPIPE_PRINT_DISTRIBUTIONS") != nullptr) {  // to state a new field's
      fmt::print("{:40} n={} mean={:.3f} sd={:.3f} range=[{}, {}] mode share={:.3f}\n", name, s.n,
                 s.mean(), s.sd(), s.lo, s.hi, s.mode_share());
    }
    CHECK(std::any_of(expected.begin(), expected.end(), [&](const Expect& e) { return name == e.field; }));
  }
}

}  // namespace

// Bounds follow each profile's model (lib/gen/*.cpp): a mean within about a tenth,
// a spread within about a fifth, the range the model allows (noise is cut at 3.5
// sigma), and the largest share one value may take (a few percent for a
// continuous field; more for a clamped or mostly-zero one).
TEST_CASE("city: every field's mean, spread and range", "[sensor-gen][distribution]") {
  // A day at one reading a minute per sensor.
  check(summarise(sensor_profile::city, nullptr, 40 * 1440, 60000),
        {
            {"/temperature", 14, 16.5, 5, 6.5, 0, 30, 0.03},
            {"/humidity", 58, 65, 9.5, 13, 5, 100, 0.03},
            {"/aqi", 52, 66, 33, 46, 5, 260, 0.05},
            {"/noise_db", 56, 62, 11, 14, 30, 120, 0.03},
            {"/traffic", 65, 85, 55, 78, 0, 420, 0.05},
        });
}

TEST_CASE("grid: every field's mean, spread and range", "[sensor-gen][distribution]") {
  // A day at one reading every five minutes per sensor.
  check(summarise(sensor_profile::grid, "sensor_type", 210 * 288, 300000),
        {
            {"traffic/vehicle_count", 26, 34, 22, 32, 0, 200, 0.08},
            {"traffic/avg_speed_kmh", 70, 83, 15, 21, 5, 130, 0.03},
            {"traffic/occupancy", 0.18, 0.25, 0.16, 0.23, 0, 0.85, 0.08},  // clamped at 0
            {"weather/temperature", 13, 15.5, 4.3, 5.8, 0, 28, 0.03},
            {"weather/humidity", 61, 69, 9.5, 13, 10, 100, 0.03},
            {"weather/wind_speed", 4.3, 5.5, 2, 3.3, 0, 20, 0.1},  // clamped at 0
            {"weather/precipitation_mm", 0.15, 0.3, 0.45, 0.75, 0, 3, 0.9},  // dry 85% of the time
            {"energy/power_kw", 2.9, 3.6, 1.2, 1.7, 0.1, 12, 0.03},
            {"energy/voltage", 229.5, 230.5, 1.5, 2.1, 220, 240, 0.03},
            {"energy/current", 12.6, 15.5, 5.3, 7.2, 0.4, 55, 0.03},
        });
}

TEST_CASE("home: every field's mean, spread and range", "[sensor-gen][distribution]") {
  // A day at one reading every 30 s per sensor.
  check(summarise(sensor_profile::home, "sensor_type", 6 * 2880, 30000),
        {
            {"thermostat/temperature_celsius", 20, 21.5, 0.7, 1.1, 17, 25, 0.03},
            {"thermostat/humidity_percent", 38, 52, 2.5, 4.5, 20, 90, 0.03},
        });
}

TEST_CASE("vehicle: every field's mean, spread and range", "[sensor-gen][distribution]") {
  // 200,000 records: 40,000 of each stream, a little over two hours of five vehicles.
  check(summarise(sensor_profile::vehicle, "stream", 200000, 1000),
        {
            {"vehicle/speed_kmh", 73, 90, 28, 39, 0, 140, 0.03},
            {"vehicle/fuel_level", 74, 91, 9, 14, 5, 100, 0.05},
            {"vehicle/engine_temp_c", 89.5, 90.5, 1.8, 2.2, 82, 98, 0.03},
            {"vehicle/year", 2024, 2024, 0, 0, 2024, 2024, 1},
            {"gps/lat", 51.6, 52.4, 0.2, 0.45, 51.5, 52.5, 0.01},
            {"gps/lon", -1.7, -0.3, 0.4, 0.7, -1.9, -0.12, 0.01},
            {"gps/speed_kmh", 73, 90, 28, 39, 0, 140, 0.03},
            {"gps/heading_deg", 312, 314, 3.6, 4.4, 300, 326, 0.12},
            {"traffic_camera/vehicles_in_view", 14, 19, 6, 9, 0, 40, 0.1},
            // (urban ? 60 : 30) + N(0, 6): two humps 30 apart, none of them a spike.
            {"weather/aqi", 36, 46, 13, 18, 5, 85, 0.1},
            {"weather/temperature", 6, 7.5, 0.5, 0.8, 4, 10, 0.03},
            {"weather/humidity", 81, 86, 3.6, 4.6, 65, 100, 0.03},
            {"weather/wind_speed", 4.8, 5.2, 1.8, 2.2, 0, 12, 0.03},
            {"weather/precipitation_mm", 0.5, 0.7, 0.95, 1.3, 0, 4, 0.75},  // dry 70% of the time
        });
}
