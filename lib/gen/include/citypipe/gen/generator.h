// Synthetic sensor streams for four domains, with labelled anomalies and
// optional stream defects (late and corrupt lines). A plain generator: it
// appends NDJSON lines to a string and never touches the clock or a file.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "citypipe/core/event_time.h"

namespace citypipe {

enum class sensor_profile { city, grid, home, vehicle };

// "city", "grid", "home", "vehicle"; nullopt for anything else.
std::optional<sensor_profile> parse_profile(std::string_view name);

struct GeneratorConfig {
  sensor_profile profile = sensor_profile::city;
  std::uint64_t seed = 1;
  time_ms start = 0;
  time_ms interval = 1000;  // per sensor
  int sensors = 0;          // 0: the profile's default
  double anomaly_rate = 0.05;
  double late_rate = 0;     // share of records emitted after later ones
  time_ms max_late = 0;     // how far behind a late record may arrive
  double corrupt_rate = 0;  // malformed lines added, per good record
};

// The profile's default sensor count (city 40, grid 210, home 6, vehicle 5).
int default_sensors(sensor_profile p);

// Where a record ends in the output string, and when it is due by event time
// (a late record: when it is released), for writing each record on time.
struct RecordMark {
  std::size_t end;
  time_ms due;
};

// A generator of one profile's records. Each profile (lib/gen/city.cpp, grid,
// home, vehicle) is its own file behind one small interface (lib/gen/emitter.h).
class SensorGenerator {
 public:
  explicit SensorGenerator(const GeneratorConfig& config);
  ~SensorGenerator();
  SensorGenerator(const SensorGenerator&) = delete;
  SensorGenerator& operator=(const SensorGenerator&) = delete;

  // Appends the lines of the next tick (every sensor once, staggered over the
  // interval, in event-time order), but at most max_records good records.
  // Late records held back from earlier ticks come out once their delay has
  // passed. Returns the good records generated (held ones included). With
  // marks, appends one mark per record written to out (a corrupt line belongs
  // to the record after it).
  std::uint64_t next_tick(std::string& out, std::uint64_t max_records,
                          std::vector<RecordMark>* marks = nullptr);

  // Appends every record still held back (end of stream).
  void drain(std::string& out, std::vector<RecordMark>* marks = nullptr);

  // Event time of the next tick.
  time_ms tick_time() const;
  std::uint64_t anomalies() const;
  std::uint64_t late() const;
  std::uint64_t corrupt() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace citypipe
