#include "citypipe/gen/generator.h"

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "citypipe/core/json_record.h"

using namespace citypipe;

namespace {

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string generate(GeneratorConfig cfg, std::uint64_t count) {
  SensorGenerator gen(cfg);
  std::string out;
  std::uint64_t made = 0;
  while (made < count) made += gen.next_tick(out, count - made);
  gen.drain(out);
  return out;
}

GeneratorConfig config(sensor_profile p, std::uint64_t seed = 7) {
  GeneratorConfig c;
  c.profile = p;
  c.seed = seed;
  c.start = *parse_rfc3339("2026-03-01T00:00:00Z");
  return c;
}

}  // namespace

TEST_CASE("the same configuration gives the same bytes, another seed does not", "[sensor-gen]") {
  const auto cfg = config(sensor_profile::city);
  CHECK(generate(cfg, 5000) == generate(cfg, 5000));
  CHECK(generate(cfg, 5000) != generate(config(sensor_profile::city, 8), 5000));
}

TEST_CASE("every profile's records carry its fields with the right types", "[sensor-gen]") {
  struct Expect {
    sensor_profile profile;
    const char* type_field;
    std::map<std::string, std::vector<std::string>> numbers;  // by type value
  };
  const std::vector<Expect> expectations = {
      {sensor_profile::city, nullptr, {{"", {"temperature", "humidity", "aqi", "noise_db", "traffic"}}}},
      {sensor_profile::grid, "sensor_type",
       {{"traffic", {"vehicle_count", "avg_speed_kmh", "occupancy"}},
        {"weather", {"temperature", "humidity", "wind_speed", "precipitation_mm"}},
        {"energy", {"power_kw", "voltage", "current"}}}},
      {sensor_profile::home, "sensor_type",
       {{"thermostat", {"temperature_celsius", "humidity_percent"}}, {"motion", {}}}},
      {sensor_profile::vehicle, "stream",
       {{"vehicle", {"speed_kmh", "fuel_level", "engine_temp_c"}},
        {"gps", {"lat", "lon", "speed_kmh", "heading_deg"}},
        {"traffic_camera", {"vehicles_in_view"}},
        {"weather", {"temperature", "humidity", "precipitation_mm", "wind_speed"}},
        {"emergency", {}}}},
  };
  JsonParser parser;
  JsonRecord rec;
  std::string err;
  for (const auto& e : expectations) {
    const auto lines = split_lines(generate(config(e.profile), 3000));
    REQUIRE(lines.size() == 3000);
    std::map<std::string, int> seen_types;
    for (const auto& line : lines) {
      INFO(line);
      REQUIRE(parser.parse(line, rec, err));
      REQUIRE(rec.time("ts").has_value());
      REQUIRE(rec.string("sensor_id").has_value());
      REQUIRE(rec.string("zone").has_value());
      const auto anomaly = rec.boolean("injected_anomaly");
      REQUIRE(anomaly.has_value());
      CHECK(rec.string("anomaly_kind").has_value() == *anomaly);
      std::string type;
      if (e.type_field != nullptr) type = std::string(rec.string(e.type_field).value_or("?"));
      ++seen_types[type];
      const auto it = e.numbers.find(type);
      REQUIRE(it != e.numbers.end());
      for (const auto& field : it->second) CHECK(rec.number(field).has_value());
      if (type == "motion") {
        CHECK(rec.boolean("motion_detected").has_value());
        CHECK(rec.string("camera_status").has_value());
      }
      if (type == "gps") CHECK(rec.string("direction").has_value());
    }
    CHECK(seen_types.size() == e.numbers.size());
  }
}

TEST_CASE("the anomaly rate holds and blunt anomalies cross the city thresholds", "[sensor-gen]") {
  auto cfg = config(sensor_profile::city);
  const auto lines = split_lines(generate(cfg, 100000));
  JsonParser parser;
  JsonRecord rec;
  std::string err;
  int anomalies = 0, blunt = 0, blunt_past_threshold = 0, subtle = 0, subtle_in_range = 0;
  for (const auto& line : lines) {
    REQUIRE(parser.parse(line, rec, err));
    const double t = *rec.number("temperature"), aqi = *rec.number("aqi"),
                 noise = *rec.number("noise_db"), traffic = *rec.number("traffic");
    const bool past = t < -5 || t > 40 || aqi > 300 || noise > 100 || traffic > 500;
    if (!*rec.boolean("injected_anomaly")) {
      CHECK_FALSE(past);
      continue;
    }
    ++anomalies;
    const std::string kind(*rec.string("anomaly_kind"));
    if (kind == "decoupled_traffic" || kind == "hot_humid" || kind == "dirty_quiet") {
      ++subtle;
      subtle_in_range += !past;
    } else {
      ++blunt;
      blunt_past_threshold += past;
    }
  }
  CHECK(anomalies > 4500);
  CHECK(anomalies < 5500);
  CHECK(blunt_past_threshold == blunt);
  CHECK(subtle_in_range == subtle);
  CHECK(subtle > 1000);

  cfg.anomaly_rate = 0;
  CHECK(generate(cfg, 10000).find("\"injected_anomaly\":true") == std::string::npos);
}

TEST_CASE("time of day shapes temperature and traffic", "[sensor-gen]") {
  auto cfg = config(sensor_profile::city);
  cfg.anomaly_rate = 0;
  cfg.interval = 60000;
  const auto lines = split_lines(generate(cfg, 40 * 1440));
  JsonParser parser;
  JsonRecord rec;
  std::string err;
  double temp[24] = {}, traffic[24] = {};
  int n[24] = {};
  for (const auto& line : lines) {
    REQUIRE(parser.parse(line, rec, err));
    const auto hour = static_cast<std::size_t>(*rec.time("ts") / 3600000 % 24);
    temp[hour] += *rec.number("temperature");
    traffic[hour] += *rec.number("traffic");
    ++n[hour];
  }
  CHECK(temp[15] / n[15] > temp[4] / n[4] + 8);
  CHECK(traffic[8] / n[8] > 3 * traffic[3] / n[3]);
  CHECK(traffic[17] / n[17] > 3 * traffic[3] / n[3]);
  CHECK(traffic[8] / n[8] > traffic[12] / n[12]);
}

TEST_CASE("late records arrive out of order within --max-late, corrupt lines are extra", "[sensor-gen]") {
  auto cfg = config(sensor_profile::city);
  cfg.late_rate = 0.1;
  cfg.max_late = 5000;
  cfg.corrupt_rate = 0.02;
  SensorGenerator gen(cfg);
  std::string out;
  std::uint64_t made = 0;
  while (made < 20000) made += gen.next_tick(out, 20000 - made);
  gen.drain(out);
  JsonParser parser;
  JsonRecord rec;
  std::string err;
  std::uint64_t good = 0, bad = 0, out_of_order = 0;
  time_ms highest = INT64_MIN, worst_lag = 0;
  for (const auto& line : split_lines(out)) {
    if (!parser.parse(line, rec, err)) {
      ++bad;
      continue;
    }
    ++good;
    const time_ms ts = *rec.time("ts");
    if (ts < highest) {
      ++out_of_order;
      worst_lag = std::max(worst_lag, highest - ts);
    }
    highest = std::max(highest, ts);
  }
  CHECK(good == 20000);
  CHECK(bad == gen.corrupt());
  CHECK(bad > 300);
  CHECK(gen.late() > 1800);
  CHECK(gen.late() < 2200);
  CHECK(out_of_order >= gen.late() * 9 / 10);
  CHECK(worst_lag <= 5000);
}
