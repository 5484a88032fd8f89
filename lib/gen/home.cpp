// The home profile: a thermostat and a motion sensor (with camera) per room.
#include <algorithm>

#include <fmt/format.h>

#include "emitter.h"

namespace citypipe::gen {

namespace {

enum ThermostatAnomaly { overheating, freezing, cold_and_damp };
constexpr const char* thermostat_anomalies[] = {"overheating", "freezing", "cold_and_damp"};
enum MotionAnomaly { camera_offline, night_motion };
constexpr const char* motion_anomalies[] = {"camera_offline", "night_motion"};
constexpr const char* rooms[] = {"living_room", "kitchen", "bedroom", "office", "hallway", "garage"};

const char* name_of(const char* const* names, int kind) { return kind < 0 ? nullptr : names[kind]; }

class Home final : public Profile {
 public:
  Home(Emitter& e, int n) : e_(e) {
    for (int i = 0; i < n; ++i) {
      Sensor s;
      const Biases b = draw_biases(e.rng);
      s.bias = b.bias;
      s.bias2 = b.bias2;
      s.thermostat = i % 2 == 0;
      s.id = fmt::format("{}-{:02}", s.thermostat ? "thermostat" : "motion-sensor", i / 2 + 1);
      s.room = rooms[static_cast<std::size_t>(i / 2) % std::size(rooms)];
      sensors_.push_back(std::move(s));
    }
  }

  std::uint64_t tick(time_ms t, std::string& out, std::uint64_t budget) override {
    return e_.run_tick(*this, sensors_.size(), t, out, budget);
  }

  // The records of sensor i at event time ts.
  std::uint64_t record(std::size_t i, time_ms ts, std::string& out, std::uint64_t) {
    const Sensor& s = sensors_[i];
    Random& rng = e_.rng;
    const double activity = shapes().activity[minute_of_day(ts)];
    if (s.thermostat) {
      double temp = 19.5 + 2.5 * activity + s.bias + rng.normal(0, 0.3);
      double humidity = std::clamp(45 + 3 * s.bias2 + rng.normal(0, 2), 20.0, 90.0);
      const int kind = e_.anomaly(2, 1);
      switch (kind) {
        case overheating: temp = rng.uniform(36, 45); break;
        case freezing: temp = rng.uniform(2, 8); break;
        case cold_and_damp: temp = rng.uniform(15.5, 17); humidity = rng.uniform(75, 85); break;
        default: break;
      }
      e_.general(out, ts, s.id, [&](Emitter::Builder& b) {
        b.str("sensor_type", "thermostat").str("zone", s.room).num("temperature_celsius", temp)
            .num("humidity_percent", humidity).done(name_of(thermostat_anomalies, kind));
      });
    } else {
      bool motion = rng.chance(0.05 + 0.5 * activity);
      const char* camera = rng.chance(0.995) ? "online" : "offline";
      const int kind = e_.anomaly(1, 1);
      switch (kind) {
        case camera_offline: camera = "offline"; break;
        case night_motion: motion = true; break;
        default: break;
      }
      e_.general(out, ts, s.id, [&](Emitter::Builder& b) {
        b.str("sensor_type", "motion").str("zone", s.room).flag("motion_detected", motion)
            .str("camera_status", camera).done(name_of(motion_anomalies, kind));
      });
    }
    return 1;
  }

 private:
  struct Sensor {
    std::string id;
    const char* room = "";
    bool thermostat = true;  // else a motion sensor
    double bias = 0, bias2 = 0;
  };
  Emitter& e_;
  std::vector<Sensor> sensors_;
};

}  // namespace

std::unique_ptr<Profile> make_home(Emitter& e, int n) { return std::make_unique<Home>(e, n); }

}  // namespace citypipe::gen
