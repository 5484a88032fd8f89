#include "citypipe/screen/dashboard.h"

#include <cmath>
#include <string>

#include <catch2/catch.hpp>

using namespace citypipe;

namespace {

// Parses each line and folds it into the dashboard.
void feed(Dashboard& d, std::initializer_list<std::string> lines, time_ms arrival = 0) {
  JsonParser parser;
  JsonRecord rec;
  std::string error;
  for (const auto& line : lines) {
    REQUIRE(parser.parse(line, rec, error));
    d.add(rec, arrival);
  }
}

std::string reading(const char* ts, const char* zone, double temp, bool anomaly = false) {
  return std::string("{\"ts\":\"") + ts + "\",\"sensor_id\":\"s1\",\"zone\":\"" + zone +
         "\",\"temperature\":" + std::to_string(temp) +
         ",\"aqi\":40,\"injected_anomaly\":" + (anomaly ? "true" : "false") + "}";
}

const KeyRow& row(const DashboardSnapshot& s, const std::string& key) {
  for (const auto& r : s.rows)
    if (r.key == key) return r;
  FAIL("no row " << key);
  return s.rows.front();
}

}  // namespace

TEST_CASE("rows per key count records and anomalies", "[dashboard]") {
  Dashboard d;
  feed(d, {reading("2026-11-22T14:00:00Z", "Downtown", 20),
           reading("2026-11-22T14:00:01Z", "Harbor", 10, true),
           reading("2026-11-22T14:00:02Z", "Downtown", 22, true)});
  const auto s = d.snapshot(0);
  CHECK(s.records == 3);
  CHECK(s.anomalies == 2);
  REQUIRE(s.rows.size() == 2);
  CHECK(row(s, "Downtown").records == 2);
  CHECK(row(s, "Downtown").anomalies == 1);
  CHECK(s.fields == std::vector<std::string>{"temperature", "aqi"});
  CHECK(row(s, "Downtown").fields[0].latest == 22);
  CHECK(row(s, "Downtown").fields[0].avg == Approx(21));
  CHECK(s.newest_time == *parse_rfc3339("2026-11-22T14:00:02Z"));
  REQUIRE(s.alerts.size() == 2);
  CHECK(s.alerts[0].key == "Downtown");  // newest first
  CHECK(s.alerts[1].key == "Harbor");
}

TEST_CASE("span averages forget values older than the span of event time", "[dashboard]") {
  DashboardConfig cfg;
  cfg.span = 10'000;
  cfg.buckets = 10;
  Dashboard d(cfg);
  feed(d, {reading("2026-11-22T14:00:00Z", "A", 100), reading("2026-11-22T14:00:05Z", "A", 10),
           reading("2026-11-22T14:00:12Z", "A", 20)});
  auto s = d.snapshot(0);
  CHECK(row(s, "A").fields[0].avg == Approx(15));  // 14:00:00 fell out of the span
  CHECK(row(s, "A").fields[0].latest == 20);
  // A key with nothing in the span keeps its latest value but has no average.
  feed(d, {reading("2026-11-22T14:00:40Z", "B", 5)});
  s = d.snapshot(0);
  CHECK_FALSE(row(s, "A").fields[0].has_avg);
  CHECK(row(s, "A").fields[0].has_latest);
  // A late record older than the slot it would overwrite is ignored by averages.
  feed(d, {reading("2026-11-22T14:00:30Z", "B", 1000)});
  s = d.snapshot(0);
  CHECK(row(s, "B").fields[0].avg == Approx(5));
  CHECK(row(s, "B").records == 2);
}

TEST_CASE("sparkline series holds bucket averages oldest first", "[dashboard]") {
  DashboardConfig cfg;
  cfg.span = 4000;
  cfg.buckets = 4;
  Dashboard d(cfg);
  feed(d, {reading("2026-11-22T14:00:00Z", "A", 1), reading("2026-11-22T14:00:00.5Z", "A", 3),
           reading("2026-11-22T14:00:03Z", "A", 8)});
  const auto s = d.snapshot(0);
  REQUIRE(s.spark_field == 0);
  const auto& sp = row(s, "A").spark;
  REQUIRE(sp.size() == 4);
  CHECK(sp[0] == Approx(2));
  CHECK(std::isnan(sp[1]));
  CHECK(std::isnan(sp[2]));
  CHECK(sp[3] == Approx(8));
  CHECK(d.snapshot(99).spark_field == static_cast<std::size_t>(-1));
}

TEST_CASE("scored readings and window aggregates are understood", "[dashboard]") {
  Dashboard d;
  feed(d, {R"({"ts":"2026-11-22T14:00:00Z","zone":"Z","sensor_id":"c-7","temperature":50,"score":0.81,"anomaly":true,"severity":"high","reasons":["temperature \"hot\"","aqi\u00e9"]})",
           R"({"window_start":"2026-11-22T14:01:00Z","window_end":"2026-11-22T14:02:00Z","zone":"Z","count":12,"temperature_avg":21.5,"temperature_max":30,"aqi_avg":40})"});
  const auto s = d.snapshot(0);
  CHECK(s.fields == std::vector<std::string>{"temperature", "score", "aqi"});
  CHECK(s.newest_time == *parse_rfc3339("2026-11-22T14:01:00Z"));
  CHECK(row(s, "Z").fields[0].latest == 21.5);
  REQUIRE(s.alerts.size() == 1);
  CHECK(s.alerts[0].sensor == "c-7");
  CHECK(s.alerts[0].severity == "high");
  CHECK(s.alerts[0].reasons == "temperature \"hot\", aqi\xc3\xa9");
}

TEST_CASE("anomaly wins over injected_anomaly, missing key and time have fallbacks",
          "[dashboard]") {
  Dashboard d;
  feed(d, {R"({"temperature":1,"anomaly":false,"injected_anomaly":true})"}, 5000);
  const auto s = d.snapshot(0);
  CHECK(s.anomalies == 0);
  CHECK(s.rows.at(0).key == "(none)");
  CHECK(s.newest_time == 5000);  // arrival time
}

TEST_CASE("memory stays bounded: keys beyond the cap share (other), alerts are a ring",
          "[dashboard]") {
  DashboardConfig cfg;
  cfg.max_keys = 3;
  cfg.max_alerts = 5;
  Dashboard d(cfg);
  for (int i = 0; i < 50; ++i) {
    std::string key = "k";
    key += std::to_string(i);
    feed(d, {reading("2026-11-22T14:00:00Z", key.c_str(), i, true)});
  }
  const auto s = d.snapshot(0);
  CHECK(s.rows.size() == 4);
  CHECK(s.keys_capped);
  CHECK(row(s, "(other)").records == 47);
  REQUIRE(s.alerts.size() == 5);
  CHECK(s.alerts[0].key == "(other)");
  CHECK(s.alerts[4].key == "(other)");
}

TEST_CASE("measurement names skip times, counters and aggregate parts", "[dashboard]") {
  CHECK(Dashboard::measurement_name("aqi", "ts") == "aqi");
  CHECK(Dashboard::measurement_name("aqi_avg", "ts") == "aqi");
  CHECK(Dashboard::measurement_name("aqi_max", "ts").empty());
  CHECK(Dashboard::measurement_name("count", "ts").empty());
  CHECK(Dashboard::measurement_name("epoch", "epoch").empty());
  // The one rule of record_fields.h: ids, times and bookkeeping are no fields.
  CHECK(Dashboard::measurement_name("sensorId", "ts").empty());
  CHECK(Dashboard::measurement_name("device_ts", "ts").empty());
  CHECK(Dashboard::measurement_name("seq", "ts").empty());
  CHECK(Dashboard::measurement_name("score", "ts") == "score");
  CHECK(Dashboard::measurement_name("_avg", "ts") == "_avg");
}

TEST_CASE("JSON string arrays are joined and unescaped", "[dashboard]") {
  CHECK(detail::join_json_strings(R"(["a","b\n","\ud83d\ude00"])") == "a, b\n, \xf0\x9f\x98\x80");
  CHECK(detail::join_json_strings("[]").empty());
}

TEST_CASE("rate meter measures over its window", "[dashboard]") {
  RateMeter m(5000);
  m.sample(0, 0, 0);
  m.sample(1000, 500, 5);
  CHECK(m.records_per_s() == Approx(500));
  CHECK(m.anomalies_per_s() == Approx(5));
  for (time_ms t = 2000; t <= 10000; t += 1000) m.sample(t, 500 + static_cast<std::uint64_t>(t) * 2, 5);
  CHECK(m.records_per_s() == Approx(2000));
  CHECK(m.anomalies_per_s() == Approx(0));
}
