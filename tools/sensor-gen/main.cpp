// sensor-gen: synthetic IoT sensor streams as NDJSON on standard output, or a
// recording replayed at its own pace (--replay).
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "citypipe/core/event_time.h"
#include "citypipe/core/signals.h"
#include "citypipe/core/tool.h"
#include "citypipe/gen/generator.h"
#include "pacer.h"
#include "replay.h"

namespace {

struct Options {
  std::string profile = "city";
  std::string seed;
  std::string start;
  std::string interval = "1s";
  int sensors = 0;
  std::string count;
  std::string duration;
  bool fast = false;
  std::string speed = "1";
  double anomaly_rate = 0.05;
  double late_rate = 0;
  std::string max_late = "30s";
  double corrupt_rate = 0;
  bool replay = false;
  bool retime = false;
  bool loop = false;
  std::string time_field = "ts";
};

// A whole number from 0 to 2^64-1, digits only: "-5" must not wrap around.
std::optional<std::uint64_t> parse_whole(const std::string& text) {
  if (text.empty() || text.size() > 20 || text.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  errno = 0;
  const unsigned long long v = std::strtoull(text.c_str(), nullptr, 10);
  if (errno == ERANGE) return std::nullopt;
  return static_cast<std::uint64_t>(v);
}

std::optional<double> parse_positive(const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v) || v <= 0) return std::nullopt;
  return v;
}

void count_into(citypipe::Stats& stats, const citypipe::SensorGenerator& gen, std::uint64_t made) {
  stats.out = made;
  stats.set_extra("anomalies", gen.anomalies());
  stats.set_extra("late", gen.late());
  stats.set_extra("corrupt", gen.corrupt());
}

// Live generation: each record is written when its event time is due (a late
// one when it is released), the clock scaled by speed.
void generate_live(citypipe::Tool& tool, citypipe::SensorGenerator& gen, citypipe::Pacer& pacer,
                   std::uint64_t limit, std::optional<citypipe::time_ms> end_time) {
  using namespace citypipe;
  Output& out = tool.out();
  std::string tick;
  std::vector<RecordMark> marks;
  std::uint64_t made = 0;
  const auto write_due = [&] {
    std::size_t from = 0;
    for (const RecordMark& m : marks) {
      if (!pacer.wait(m.due)) return false;
      out.buffer().append(tick, from, m.end - from);
      from = m.end;
      out.commit();
    }
    out.buffer().append(tick, from);
    out.commit();
    return true;
  };
  while (made < limit && out.ok() && !stop_requested()) {
    if (end_time && gen.tick_time() >= *end_time) break;
    tick.clear();
    marks.clear();
    made += gen.next_tick(tick, limit - made, &marks);
    if (!write_due()) return;
    count_into(tool.stats(), gen, made);
    if (!tool.options().metrics_file.empty()) pacer.report(tool.stats());
    tool.update_metrics();
  }
  tick.clear();
  marks.clear();
  gen.drain(tick, &marks);
  write_due();
  count_into(tool.stats(), gen, made);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace citypipe;
  Tool tool("sensor-gen", "Generate synthetic IoT sensor readings as NDJSON, or replay a recording at its pace");
  Options o;
  auto& app = tool.app();
  auto* profile = app.add_option("-p,--profile", o.profile, "Data domain: city, grid, home or vehicle (default city)")
      ->check(CLI::IsMember({"city", "grid", "home", "vehicle"}));
  auto* seed = app.add_option("-s,--seed", o.seed, "Random seed; the same arguments give the same output")
      ->type_name("N");
  app.add_option("--start", o.start, "Event time of the first reading, RFC 3339 or 'now' "
                                     "(default: now; with --fast, 2026-01-01T00:00:00Z); "
                                     "with --replay --retime, the first record's new time")
      ->type_name("TIME");
  auto* interval = app.add_option("-i,--interval", o.interval, "Time between two readings of one sensor (default 1s)")
      ->type_name("DURATION");
  auto* sensors = app.add_option("-n,--sensors", o.sensors, "Number of sensors (default: city 40, grid 210, home 6, vehicle 5)")
      ->check(CLI::Range(1, 1000000));
  auto* count = app.add_option("-c,--count", o.count, "Stop after N records")->type_name("N");
  auto* duration = app.add_option("-d,--duration", o.duration, "Stop after this much event time")
      ->type_name("DURATION")->excludes(count);
  app.add_flag("-f,--fast", o.fast, "As fast as possible instead of following the clock");
  app.add_option("--speed", o.speed, "Run the clock X times faster than real time (default 1)")->type_name("X");
  auto* anomaly = app.add_option("-a,--anomaly-rate", o.anomaly_rate, "Share of records with an injected anomaly (default 0.05)")
      ->type_name("P")->check(CLI::Range(0.0, 1.0));
  auto* late = app.add_option("--late-rate", o.late_rate, "Share of records emitted late, out of event-time order")
      ->type_name("P")->check(CLI::Range(0.0, 1.0));
  auto* max_late = app.add_option("--max-late", o.max_late, "Most a late record lags behind (default 30s)")->type_name("DURATION");
  auto* corrupt = app.add_option("--corrupt-rate", o.corrupt_rate, "Malformed lines added per record (default 0)")
      ->type_name("P")->check(CLI::Range(0.0, 1.0));
  app.add_flag("--replay", o.replay, "Replay recorded NDJSON (FILE..., plain, gzip or zstd; none or - for standard "
                                     "input), each record when due by its event time");
  auto* retime = app.add_flag("--retime", o.retime, "With --replay: shift times so that the first record is at "
                                                   "--start (default now), spacing kept");
  auto* loop = app.add_flag("--loop", o.loop, "With --replay: start over at the end, the clock running on");
  auto* time_field = app.add_option("--time-field", o.time_field, "With --replay: the event time field, RFC 3339 "
                                                                 "or epoch (default ts)")->type_name("NAME");
  if (auto rc = tool.parse(argc, argv)) return *rc;

  std::uint64_t limit = UINT64_MAX;
  if (!o.count.empty()) {
    const auto n = parse_whole(o.count);
    if (!n) return tool.usage_error("--count: not a whole number from 0 up: " + o.count);
    limit = *n;
  }
  const auto speed = parse_positive(o.speed);
  if (!speed) return tool.usage_error("--speed: not a positive number: " + o.speed);
  const CommonOptions& common = tool.options();

  if (o.replay) {
    for (const CLI::Option* gen_only : {profile, seed, interval, sensors, duration, anomaly, late, max_late, corrupt}) {
      if (gen_only->count() > 0) return tool.usage_error(gen_only->get_name() + " is for generation; it does not apply to --replay");
    }
    ReplayOptions r;
    r.time_field = o.time_field;
    r.speed = *speed;
    r.fast = o.fast;
    r.retime = o.retime;
    r.loop = o.loop;
    r.limit = limit;
    if (!o.start.empty()) {
      if (!o.retime) return tool.usage_error("--start with --replay needs --retime");
      if (o.start != "now") {
        r.start = parse_rfc3339(o.start);
        if (!r.start) return tool.usage_error("--start: not an RFC 3339 time: " + o.start);
      }
    }
    if (o.loop) {
      for (const auto& f : common.inputs.empty() ? std::vector<std::string>{"-"} : common.inputs) {
        if (f == "-") return tool.usage_error("--loop reads its input again: it needs files, not standard input");
      }
    }
    return tool.finish(replay(tool, r));
  }

  if (!common.inputs.empty()) return tool.usage_error("input files are read only with --replay: " + common.inputs.front());
  for (const CLI::Option* replay_only : {retime, loop, time_field}) {
    if (replay_only->count() > 0) return tool.usage_error(replay_only->get_name() + " needs --replay");
  }
  if (common.strict || !common.reject_file.empty() || app.count("--max-line-bytes") > 0) {
    return tool.usage_error("--strict, --reject and --max-line-bytes need --replay");
  }

  GeneratorConfig cfg;
  cfg.profile = *parse_profile(o.profile);
  if (!o.seed.empty()) {
    const auto s = parse_whole(o.seed);
    if (!s) return tool.usage_error("--seed: not a whole number from 0 to 18446744073709551615: " + o.seed);
    cfg.seed = *s;
  } else {
    cfg.seed = std::random_device{}();
  }
  cfg.sensors = o.sensors;
  cfg.anomaly_rate = o.anomaly_rate;
  cfg.late_rate = o.late_rate;
  cfg.corrupt_rate = o.corrupt_rate;
  const auto interval_ms = parse_duration(o.interval);
  if (!interval_ms || *interval_ms <= 0) return tool.usage_error("--interval: not a positive duration: " + o.interval);
  cfg.interval = *interval_ms;
  const auto max_late_ms = parse_duration(o.max_late);
  if (!max_late_ms) return tool.usage_error("--max-late: not a duration: " + o.max_late);
  cfg.max_late = *max_late_ms;
  const time_ms now = wall_clock_ms();
  bool starts_now = false;
  if (o.start.empty()) {
    // A live stream starts now; a --fast one at a fixed time, so that it is reproducible.
    starts_now = !o.fast;
    cfg.start = o.fast ? *parse_rfc3339("2026-01-01T00:00:00Z") : now / 1000 * 1000;
  } else if (o.start == "now") {
    starts_now = true;
    cfg.start = now / 1000 * 1000;
  } else if (auto t = parse_rfc3339(o.start)) {
    cfg.start = *t;
  } else {
    return tool.usage_error("--start: not an RFC 3339 time: " + o.start);
  }
  std::optional<time_ms> end_time;
  if (!o.duration.empty()) {
    const auto d = parse_duration(o.duration);
    if (!d) return tool.usage_error("--duration: not a duration: " + o.duration);
    end_time = cfg.start + *d;
  }

  SensorGenerator gen(cfg);
  Output& out = tool.out();
  if (o.fast) {
    std::uint64_t made = 0;
    while (made < limit && out.ok() && !stop_requested()) {
      if (end_time && gen.tick_time() >= *end_time) break;
      made += gen.next_tick(out.buffer(), limit - made);
      out.commit();
      count_into(tool.stats(), gen, made);
      tool.update_metrics();
    }
    gen.drain(out.buffer());
    count_into(tool.stats(), gen, made);
    return tool.finish();
  }
  // Live: starting now, event time is the wall clock (at --speed 1), so the
  // records of the second already begun go out at once and the rest on time.
  Pacer pacer(out, *speed);
  pacer.start(cfg.start, starts_now ? now - cfg.start : 0);
  generate_live(tool, gen, pacer, limit, end_time);
  pacer.report(tool.stats());
  return tool.finish();
}
