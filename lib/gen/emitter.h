// What every profile of the generator shares (private to lib/gen): the random
// stream, the daily shapes, the city's zones, and the Emitter, which frames
// records (timestamps, corrupt and late lines, anomaly draws, counts).
#pragma once

#include <array>
#include <cstring>
#include <cstdint>
#include <memory>
#include <queue>
#include <string>
#include <string_view>
#include <vector>

#include "citypipe/core/json_write.h"
#include "citypipe/core/random.h"
#include "citypipe/gen/generator.h"

namespace citypipe::gen {

// Daily shapes by minute of day (UTC), precomputed once: sin/exp per record would cost more
// than formatting the record.
struct DayShapes {
  std::array<float, 1440> temperature;  // -1 at 03:00 .. +1 at 15:00
  std::array<float, 1440> traffic;      // ~0.15 at night, ~1.6 in rush hours
  std::array<float, 1440> activity;     // 0 at night .. 1 in the evening (homes, grid load)
  DayShapes();
};
const DayShapes& shapes();
std::size_t minute_of_day(time_ms t);

struct Zone {
  const char* name;
  double temp_offset, traffic, aqi, noise;
};

// The eight zones of the seed systems, each with its own character (city and grid).
inline constexpr Zone city_zones[] = {
    {"Downtown", 1.2, 190, 95, 71},          {"University District", 0.2, 95, 45, 58},
    {"Industrial Park", 1.5, 115, 155, 83},  {"Residential North", -0.8, 28, 22, 44},
    {"Residential South", -0.4, 40, 38, 47}, {"Shopping District", 0.9, 175, 85, 68},
    {"Tech Hub", 0.5, 100, 44, 60},          {"Medical Center", 0.1, 80, 40, 55},
};
inline constexpr std::size_t zone_count = std::size(city_zones);

// Every sensor's two fixed biases, drawn in this order for every profile (the seed's stream
// depends on it): bias ~ N(0, 0.5), bias2 ~ N(0, 1).
struct Biases {
  double bias, bias2;
};
inline Biases draw_biases(Random& rng) {
  const double b = rng.normal(0, 0.5);
  return {b, rng.normal(0, 1)};
}

// Frames records: each starts with begin() (which may first add a corrupt line, and may
// divert the record into a held-back late line) and ends with end().
class Emitter {
 public:
  explicit Emitter(const GeneratorConfig& config) : cfg(config), rng(config.seed) {}

  const GeneratorConfig cfg;
  Random rng;
  std::uint64_t anomalies = 0, late = 0, corrupt = 0;
  std::vector<RecordMark>* marks = nullptr;  // where each record ends, while next_tick runs

  // Draws whether this record carries an anomaly: -1 for none, else an index into the
  // profile's kinds, the blunt ones [0, blunt) first, then the subtle ones.
  int anomaly(std::size_t blunt, std::size_t subtle);

  // Where to build the record at event time ts: out, or the held line of a late record.
  std::string& begin(std::string& out, time_ms ts);
  void end(std::string& out, time_ms ts);

  // Appends held records whose delay has passed by event time t.
  void release_held(std::string& out, time_ms t);

  // One tick at event time tick of n sensors staggered over the interval: held records
  // first, then profile.record(i, ts, out, budget) for each sensor while budget lasts.
  template <class P>
  std::uint64_t run_tick(P& profile, std::size_t n, time_ms tick, std::string& out, std::uint64_t budget) {
    std::uint64_t made = 0;
    for (std::size_t i = 0; i < n && made < budget; ++i) {
      const time_ms ts = tick + cfg.interval * static_cast<time_ms>(i) / static_cast<time_ms>(n);
      if (!held_.empty()) release_held(out, ts);
      made += profile.record(i, ts, out, budget - made);
    }
    return made;
  }

  // Writes ts as RFC 3339 UTC with milliseconds (24 bytes), the day part cached.
  char* put_ts(char* p, time_ms t);

  // The general (slower) record form of the grid, home and vehicle profiles.
  class Builder {
   public:
    Builder(std::string& target, time_ms ts, const std::string& id);
    Builder& num(std::string_view k, double v);         // two decimals
    Builder& coordinate(std::string_view k, double v);  // five decimals
    Builder& integer(std::string_view k, double v);
    Builder& str(std::string_view k, std::string_view v) { w_.key(k).string(v); return *this; }
    Builder& flag(std::string_view k, bool v) { w_.key(k).boolean(v); return *this; }
    // Ends the record with its anomaly label (kind nullptr: none).
    void done(const char* kind);

   private:
    ObjectWriter w_;
  };

  template <class Fill>
  void general(std::string& out, time_ms ts, const std::string& id, Fill fill) {
    Builder b(begin(out, ts), ts, id);
    fill(b);
    end(out, ts);
  }

 private:
  struct Held {
    time_ms release;
    std::uint64_t seq;
    std::string text;
    bool operator>(const Held& o) const { return release != o.release ? release > o.release : seq > o.seq; }
  };
  std::priority_queue<Held, std::vector<Held>, std::greater<>> held_;
  std::uint64_t sequence_ = 0;
  std::string scratch_;
  bool is_late_ = false;
  std::int64_t cached_day_ = INT64_MIN;
  char day_prefix_[11] = {};
};

// Inline: they run for every record, on the --fast hot path.
inline int Emitter::anomaly(std::size_t blunt, std::size_t subtle) {
  if (cfg.anomaly_rate <= 0 || !rng.chance(cfg.anomaly_rate)) return -1;
  ++anomalies;
  const bool is_blunt = subtle == 0 || rng.chance(0.6);
  return is_blunt ? static_cast<int>(rng.below(blunt)) : static_cast<int>(blunt + rng.below(subtle));
}

inline std::string& Emitter::begin(std::string& out, time_ms ts) {
  is_late_ = cfg.late_rate > 0 && cfg.max_late > 0 && rng.chance(cfg.late_rate);
  std::string& target = is_late_ ? scratch_ : out;
  if (is_late_) scratch_.clear();
  if (cfg.corrupt_rate > 0 && rng.chance(cfg.corrupt_rate)) {
    ++corrupt;
    switch (rng.below(3)) {
      case 0: target += "{\"ts\":\""; append_rfc3339(target, ts); target += "\",\"sensor_id\":\"s"; break;
      case 1: target += "#sensor-gen: corrupt line \x01\x02 not json"; break;
      default: target += "[\"not\",\"an\",\"object\"]"; break;
    }
    target += '\n';
  }
  return target;
}

inline void Emitter::end(std::string& out, time_ms ts) {
  if (!is_late_) {
    if (marks != nullptr) marks->push_back(RecordMark{out.size(), ts});
    return;
  }
  ++late;
  held_.push(Held{ts + 1 + static_cast<time_ms>(rng.below(static_cast<std::uint64_t>(cfg.max_late))),
                  sequence_++, scratch_});
}

inline char* Emitter::put_ts(char* p, time_ms t) {
  const std::int64_t day = t >= 0 ? t / 86400000 : (t - 86399999) / 86400000;
  if (day != cached_day_) {
    char full[24];
    write_rfc3339(full, day * 86400000);
    std::memcpy(day_prefix_, full, 11);
    cached_day_ = day;
  }
  std::memcpy(p, day_prefix_, 11);
  p += 11;
  const auto ms = static_cast<unsigned>(t - day * 86400000);
  const unsigned s = ms / 1000, h = s / 3600, m = s / 60 % 60, sec = s % 60, milli = ms % 1000;
  *p++ = static_cast<char>('0' + h / 10);
  *p++ = static_cast<char>('0' + h % 10);
  *p++ = ':';
  *p++ = static_cast<char>('0' + m / 10);
  *p++ = static_cast<char>('0' + m % 10);
  *p++ = ':';
  *p++ = static_cast<char>('0' + sec / 10);
  *p++ = static_cast<char>('0' + sec % 10);
  *p++ = '.';
  *p++ = static_cast<char>('0' + milli / 100);
  *p++ = static_cast<char>('0' + milli / 10 % 10);
  *p++ = static_cast<char>('0' + milli % 10);
  *p++ = 'Z';
  return p;
}

// One data domain: its sensors and how each writes its records.
class Profile {
 public:
  virtual ~Profile() = default;
  // Appends the records of one tick at event time tick (Emitter::run_tick with the
  // profile's record()), at most budget of them; returns how many were made.
  virtual std::uint64_t tick(time_ms tick, std::string& out, std::uint64_t budget) = 0;
};

// Each sets up n sensors, drawing from e.rng.
std::unique_ptr<Profile> make_city(Emitter& e, int n);
std::unique_ptr<Profile> make_grid(Emitter& e, int n);
std::unique_ptr<Profile> make_home(Emitter& e, int n);
std::unique_ptr<Profile> make_vehicle(Emitter& e, int n);

}  // namespace citypipe::gen
