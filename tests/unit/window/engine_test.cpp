#include "citypipe/window/engine.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

using namespace citypipe;

namespace {

constexpr time_ms s = 1000;
const double none = std::numeric_limits<double>::quiet_NaN();

// Runs records through an engine and prints every window as
// "window key [start,end) count sum min max" in seconds.
struct Harness {
  WindowEngine engine;
  std::vector<std::string> out;
  std::vector<Aggregate> aggs;
  WindowEngine::Sink sink;

  explicit Harness(WindowConfig c, const char* agg_list = "count,sum,min,max") : engine(prep(c)) {
    std::string error;
    REQUIRE(parse_aggregates(agg_list, aggs, error));
    sink = [this](const WindowResult& r) {
      std::string line = std::to_string(r.window) + " " + engine.key_text(r.key) + " [" +
                         std::to_string(r.start / s) + "," + std::to_string(r.end / s) + ") " +
                         std::to_string(r.acc->count());
      for (const auto& a : aggs) {
        if (a.kind == aggregate_kind::count) continue;
        auto v = r.acc->value(0, a);
        line += ' ';
        line += v ? fmt(*v) : std::string("null");
      }
      for (std::size_t j = 0; j < engine.config().true_counters; ++j)
        line += fmt::format(" t{}", r.acc->true_count(j));
      out.push_back(line);
    };
  }
  static WindowConfig prep(WindowConfig c) {
    c.fields = 1;
    c.needs = AggregateNeeds{true, true, true};
    return c;
  }
  static std::string fmt(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
  }
  bool add(const char* key, time_ms t, double v) {
    const double values[1] = {v};
    const bool late = engine.add(engine.intern_key(key), t, values, {});
    engine.emit(sink);
    return late;
  }
  std::vector<std::string> take() { return std::exchange(out, {}); }
};

WindowConfig windows(std::initializer_list<const char*> specs, time_ms lateness = 0) {
  WindowConfig c;
  std::string error;
  for (const char* spec : specs) c.windows.push_back(*parse_window_spec(spec, error));
  c.lateness = lateness;
  return c;
}

using lines = std::vector<std::string>;

}  // namespace

TEST_CASE("window specs parse and print canonically", "[window]") {
  std::string error;
  CHECK(parse_window_spec("tumble:60s", error)->name() == "tumble:1m");
  CHECK(parse_window_spec("slide:5m,1m", error)->name() == "slide:5m,1m");
  CHECK(parse_window_spec("slide:1m,1m", error)->name() == "tumble:1m");
  CHECK(parse_window_spec("session:30s", error)->name() == "session:30s");
  for (const char* bad : {"tumble", "tumble:", "tumble:0s", "slide:1m", "slide:1m,5m", "hop:1m", "session:-1s"})
    CHECK_FALSE(parse_window_spec(bad, error).has_value());
}

TEST_CASE("aggregate lists parse, unknown and duplicate names do not", "[window]") {
  std::vector<Aggregate> a;
  std::string error;
  REQUIRE(parse_aggregates("count,avg,p95,p50,stddev", a, error));
  CHECK(a.size() == 5);
  CHECK(a[2].q == Approx(0.95));
  CHECK_FALSE(parse_aggregates("avg,avg", a, error));
  CHECK_FALSE(parse_aggregates("p101", a, error));
  CHECK_FALSE(parse_aggregates("mode", a, error));
}

TEST_CASE("tumbling windows close when the watermark passes their end, by end then key", "[window]") {
  Harness h(windows({"tumble:1m"}));
  h.add("B", 10 * s, 2);
  h.add("A", 5 * s, 1);
  h.add("A", 30 * s, 3);
  CHECK(h.take().empty());
  h.add("A", 65 * s, 4);
  CHECK(h.take() == lines{"0 A [0,60) 2 4 1 3", "0 B [0,60) 1 2 2 2"});
  h.add("B", 70 * s, 5);
  h.add("A", 125 * s, 6);
  CHECK(h.take() == lines{"0 A [60,120) 1 4 4 4", "0 B [60,120) 1 5 5 5"});
  h.engine.finish(h.sink);
  CHECK(h.take() == lines{"0 A [120,180) 1 6 6 6"});
}

TEST_CASE("sliding windows are merged from panes", "[window]") {
  Harness h(windows({"slide:60s,30s"}));
  h.add("A", 10 * s, 1);
  h.add("A", 40 * s, 2);
  CHECK(h.take() == lines{"0 A [-30,30) 1 1 1 1"});
  h.add("A", 70 * s, 3);
  CHECK(h.take() == lines{"0 A [0,60) 2 3 1 2"});
  h.engine.finish(h.sink);
  CHECK(h.take() == lines{"0 A [30,90) 2 5 2 3", "0 A [60,120) 1 3 3 3"});
}

TEST_CASE("sliding windows with a step that does not divide the size", "[window]") {
  Harness h(windows({"slide:50s,20s"}));  // panes of 10 s
  h.add("A", 45 * s, 1);                   // in [0,50) [20,70) [40,90)
  h.engine.finish(h.sink);
  CHECK(h.take() == lines{"0 A [0,50) 1 1 1 1", "0 A [20,70) 1 1 1 1", "0 A [40,90) 1 1 1 1"});
}

TEST_CASE("sessions grow, merge out of order records and close after the gap", "[window]") {
  Harness h(windows({"session:10s"}, 20 * s));
  h.add("A", 0, 1);
  h.add("A", 5 * s, 2);
  h.add("A", 30 * s, 3);  // watermark 10: [0,15) stays open
  h.add("A", 12 * s, 4);  // joins [0,15) -> [0,22)
  CHECK(h.take().empty());
  h.add("A", 45 * s, 5);  // watermark 25
  CHECK(h.take() == lines{"0 A [0,22) 3 7 1 4"});
  h.engine.finish(h.sink);
  CHECK(h.take() == lines{"0 A [30,40) 1 3 3 3", "0 A [45,55) 1 5 5 5"});
}

TEST_CASE("a record that bridges two sessions merges them", "[window]") {
  Harness h(windows({"session:10s"}, 60 * s));
  h.add("A", 10 * s, 1);
  h.add("A", 25 * s, 2);
  h.add("A", 20 * s, 3);  // [20,30) overlaps [10,20)? no: ends are exclusive; it overlaps [25,35)
  h.add("A", 19 * s, 4);  // [19,29) overlaps [10,20) and [20,35)
  h.engine.finish(h.sink);
  CHECK(h.take() == lines{"0 A [10,35) 4 10 1 4"});
}

TEST_CASE("late records are counted and kept out, lateness lets them in", "[window]") {
  SECTION("no lateness") {
    Harness h(windows({"tumble:1m"}));
    CHECK_FALSE(h.add("A", 70 * s, 1));
    CHECK(h.add("A", 30 * s, 2));
    CHECK(h.engine.late_records() == 1);
    h.engine.finish(h.sink);
    CHECK(h.take() == lines{"0 A [60,120) 1 1 1 1"});
  }
  SECTION("15 s of lateness") {
    Harness h(windows({"tumble:1m"}, 15 * s));
    CHECK_FALSE(h.add("A", 70 * s, 1));
    CHECK_FALSE(h.add("A", 30 * s, 2));
    CHECK(h.take().empty());
    h.add("A", 80 * s, 3);  // watermark 65
    CHECK(h.take() == lines{"0 A [0,60) 1 2 2 2"});
    CHECK(h.add("A", 59 * s, 9));
    CHECK(h.engine.late_records() == 1);
  }
  SECTION("a record at the watermark is on time") {
    Harness h(windows({"tumble:1m"}));
    h.add("A", 59 * s, 1);
    CHECK_FALSE(h.add("A", 59 * s, 2));
    CHECK_FALSE(h.add("A", 60 * s, 3));
    CHECK(h.take() == lines{"0 A [0,60) 2 3 1 2"});
  }
}

TEST_CASE("several definitions are emitted together by end, then key, then definition", "[window]") {
  Harness h(windows({"slide:2m,1m", "tumble:1m"}));
  h.add("B", 10 * s, 1);
  h.add("A", 20 * s, 2);
  h.add("A", 130 * s, 3);
  CHECK(h.take() == lines{"0 A [-60,60) 1 2 2 2", "1 A [0,60) 1 2 2 2", "0 B [-60,60) 1 1 1 1",
                          "1 B [0,60) 1 1 1 1", "0 A [0,120) 1 2 2 2", "0 B [0,120) 1 1 1 1"});
}

TEST_CASE("offset shifts window starts", "[window]") {
  WindowConfig c = windows({"tumble:1d"});
  c.offset = -3600 * s;  // local midnight at UTC+1
  Harness h(c);
  h.add("A", 0, 1);
  h.add("A", 23 * 3600 * s - 1, 2);
  h.add("A", 23 * 3600 * s, 3);
  h.engine.finish(h.sink);
  CHECK(h.take() == lines{"0 A [-3600,82800) 2 3 1 2", "0 A [82800,169200) 1 3 3 3"});
}

TEST_CASE("fields without values give null aggregates", "[window]") {
  Harness h(windows({"tumble:1m"}), "count,avg,min,max,sum,stddev,first,last,p50");
  h.add("A", 1 * s, none);
  h.add("A", 2 * s, none);
  h.engine.finish(h.sink);
  CHECK(h.take() == lines{"0 A [0,60) 2 null null null null null null null null"});
}

TEST_CASE("stddev, first, last and percentiles per window", "[window]") {
  Harness h(windows({"tumble:1m"}), "count,avg,stddev,first,last,p0,p100");
  h.add("A", 20 * s, 4);
  h.add("A", 10 * s, 2);  // earlier event time: first
  h.add("A", 30 * s, 9);
  h.add("A", 30 * s, 5);  // same time, arrived later: last
  h.engine.finish(h.sink);
  // values 4 2 9 5: mean 5, sample variance (1+9+16+0)/3
  CHECK(h.take() == lines{"0 A [0,60) 4 5 " + Harness::fmt(std::sqrt(26.0 / 3)) + " 2 5 2 9"});
}

TEST_CASE("emit-empty adds count-0 windows for keys seen before", "[window]") {
  WindowConfig c = windows({"tumble:1m"});
  c.emit_empty = true;
  Harness h(c, "count,sum");
  h.add("A", 10 * s, 1);
  h.add("B", 15 * s, 2);
  h.add("A", 130 * s, 3);
  CHECK(h.take() == lines{"0 A [0,60) 1 1", "0 B [0,60) 1 2", "0 A [60,120) 0 null", "0 B [60,120) 0 null"});
  h.engine.finish(h.sink);
  CHECK(h.take() == lines{"0 A [120,180) 1 3", "0 B [120,180) 0 null"});
}

TEST_CASE("idle watermark advance closes windows without new records", "[window]") {
  Harness h(windows({"tumble:1m"}));
  h.add("A", 10 * s, 1);
  CHECK(h.engine.next_end() == 60 * s);
  h.engine.advance_watermark(61 * s);
  h.engine.emit(h.sink);
  CHECK(h.take() == lines{"0 A [0,60) 1 1 1 1"});
  CHECK_FALSE(h.engine.next_end().has_value());
  CHECK(h.add("A", 59 * s, 1));  // now late
}

TEST_CASE("memory holds open panes only", "[window]") {
  Harness h(windows({"slide:5m,1m", "tumble:1m"}));
  // A day of one record per second for 3 keys: only the last few minutes stay.
  for (time_ms t = 0; t < 86400 * s; t += s)
    for (const char* k : {"A", "B", "C"}) h.add(k, t, 1);
  CHECK(h.out.size() == 3 * (1440 - 1) + 3 * (1440 + 4 - 5));  // tumbling + sliding emitted so far
  h.take();
  h.engine.finish(h.sink);
  CHECK(h.out.size() == 3 * 1 + 3 * 5);
}
