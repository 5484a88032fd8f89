// sensor-gen: synthetic IoT sensor streams as NDJSON on standard output.
#include <cerrno>
#include <cstdint>
#include <ctime>
#include <random>
#include <string>

#include <fmt/format.h>

#include "citypipe/core/event_time.h"
#include "citypipe/gen/generator.h"
#include "citypipe/core/signals.h"
#include "citypipe/core/tool.h"

namespace {

struct Options {
  std::string profile = "city";
  std::uint64_t seed = 0;
  std::string start;
  std::string interval = "1s";
  int sensors = 0;
  std::uint64_t count = 0;
  std::string duration;
  bool fast = false;
  double speed = 1;
  double anomaly_rate = 0.05;
  double late_rate = 0;
  std::string max_late = "30s";
  double corrupt_rate = 0;
};

// Sleeps until the wall clock reaches due_ms; returns early on a stop signal.
void sleep_until(citypipe::time_ms due_ms) {
  for (;;) {
    const citypipe::time_ms now = citypipe::wall_clock_ms();
    if (now >= due_ms || citypipe::stop_requested()) return;
    const citypipe::time_ms wait = due_ms - now;
    timespec ts{static_cast<time_t>(wait / 1000), static_cast<long>(wait % 1000) * 1000000L};
    nanosleep(&ts, nullptr);  // EINTR on a signal: the loop checks stop_requested
  }
}

void count_into(citypipe::Stats& stats, const citypipe::SensorGenerator& gen, std::uint64_t made) {
  stats.out = made;
  stats.set_extra("anomalies", gen.anomalies());
  stats.set_extra("late", gen.late());
  stats.set_extra("corrupt", gen.corrupt());
}

}  // namespace

int main(int argc, char** argv) {
  using namespace citypipe;
  Tool tool("sensor-gen", "Generate synthetic IoT sensor readings as NDJSON", false);
  Options o;
  auto& app = tool.app();
  app.add_option("-p,--profile", o.profile, "Data domain: city, grid, home or vehicle (default city)")
      ->check(CLI::IsMember({"city", "grid", "home", "vehicle"}));
  app.add_option("-s,--seed", o.seed, "Random seed; the same arguments give the same output");
  app.add_option("--start", o.start, "Event time of the first reading, RFC 3339 or 'now' "
                                     "(default: now; with --fast, 2026-01-01T00:00:00Z)")
      ->type_name("TIME");
  app.add_option("-i,--interval", o.interval, "Time between two readings of one sensor (default 1s)")
      ->type_name("DURATION");
  app.add_option("-n,--sensors", o.sensors, "Number of sensors (default: city 40, grid 210, home 6, vehicle 5)")
      ->check(CLI::Range(1, 1000000));
  auto* count = app.add_option("-c,--count", o.count, "Stop after N records")->type_name("N");
  app.add_option("-d,--duration", o.duration, "Stop after this much event time")
      ->type_name("DURATION")->excludes(count);
  app.add_flag("-f,--fast", o.fast, "Generate as fast as possible instead of following the clock");
  app.add_option("--speed", o.speed, "Run the clock X times faster than real time (default 1)")
      ->type_name("X")->check(CLI::PositiveNumber);
  app.add_option("-a,--anomaly-rate", o.anomaly_rate, "Share of records with an injected anomaly (default 0.05)")
      ->type_name("P")->check(CLI::Range(0.0, 1.0));
  app.add_option("--late-rate", o.late_rate, "Share of records emitted late, out of event-time order")
      ->type_name("P")->check(CLI::Range(0.0, 1.0));
  app.add_option("--max-late", o.max_late, "Most a late record lags behind (default 30s)")->type_name("DURATION");
  app.add_option("--corrupt-rate", o.corrupt_rate, "Malformed lines added per record (default 0)")
      ->type_name("P")->check(CLI::Range(0.0, 1.0));
  if (auto rc = tool.parse(argc, argv)) return *rc;

  GeneratorConfig cfg;
  cfg.profile = *parse_profile(o.profile);
  cfg.seed = app.count("--seed") > 0 ? o.seed : std::random_device{}();
  cfg.sensors = o.sensors;
  cfg.anomaly_rate = o.anomaly_rate;
  cfg.late_rate = o.late_rate;
  cfg.corrupt_rate = o.corrupt_rate;
  auto usage = [&](const std::string& msg) {
    tool.warn(msg);
    return exit_usage;
  };
  const auto interval = parse_duration(o.interval);
  if (!interval || *interval <= 0) return usage("--interval: not a positive duration: " + o.interval);
  cfg.interval = *interval;
  const auto max_late = parse_duration(o.max_late);
  if (!max_late) return usage("--max-late: not a duration: " + o.max_late);
  cfg.max_late = *max_late;
  if (o.start.empty()) {
    // A live stream starts now; a --fast one at a fixed time, so that it is reproducible.
    cfg.start = o.fast ? *parse_rfc3339("2026-01-01T00:00:00Z") : wall_clock_ms() / 1000 * 1000;
  } else if (o.start == "now") {
    cfg.start = wall_clock_ms() / 1000 * 1000;
  } else if (auto t = parse_rfc3339(o.start)) {
    cfg.start = *t;
  } else {
    return usage("--start: not an RFC 3339 time: " + o.start);
  }
  std::optional<time_ms> end_time;
  if (!o.duration.empty()) {
    const auto d = parse_duration(o.duration);
    if (!d) return usage("--duration: not a duration: " + o.duration);
    end_time = cfg.start + *d;
  }
  const std::uint64_t limit = app.count("--count") > 0 ? o.count : UINT64_MAX;

  SensorGenerator gen(cfg);
  Output& out = tool.out();
  const time_ms wall_start = wall_clock_ms();
  std::uint64_t made = 0;
  while (made < limit && out.ok() && !stop_requested()) {
    if (end_time && gen.tick_time() >= *end_time) break;
    if (!o.fast) {
      const auto lag = static_cast<double>(gen.tick_time() - cfg.start) / o.speed;
      const time_ms due = wall_start + static_cast<time_ms>(lag);
      if (due > wall_clock_ms()) {
        out.flush();  // a live stream goes downstream now, not when a buffer fills
        sleep_until(due);
        if (stop_requested()) break;
      }
    }
    made += gen.next_tick(out.buffer(), limit - made);
    out.commit();
    count_into(tool.stats(), gen, made);
    tool.update_metrics();
  }
  gen.drain(out.buffer());
  count_into(tool.stats(), gen, made);
  return tool.finish();
}
