// The grid profile: a smart-city grid of traffic, weather and energy sensors (100 : 10 : 100
// of every 210), each kind with its own fields and anomalies, spread over the eight zones.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "emitter.h"

namespace citypipe::gen {

namespace {

enum class SensorKind { traffic, weather, energy };

enum TrafficAnomaly { severe_congestion, high_volume, speed_anomaly, empty_but_slow };
constexpr const char* traffic_anomalies[] = {"severe_congestion", "high_volume", "speed_anomaly",
                                             "empty_but_slow"};
enum WeatherAnomaly { storm, heatwave };
constexpr const char* weather_anomalies[] = {"storm", "heatwave"};
enum EnergyAnomaly { power_surge, voltage_sag, current_mismatch };
constexpr const char* energy_anomalies[] = {"power_surge", "voltage_sag", "current_mismatch"};

const char* name_of(const char* const* names, int kind) { return kind < 0 ? nullptr : names[kind]; }

class Grid final : public Profile {
 public:
  Grid(Emitter& e, int n) : e_(e) {
    const int n_traffic = std::max(1, static_cast<int>(std::lround(n * 100.0 / 210)));
    const int n_weather = std::max(1, static_cast<int>(std::lround(n * 10.0 / 210)));
    int counters[3] = {0, 0, 0};
    for (int i = 0; i < n; ++i) {
      Sensor s;
      s.zone = static_cast<std::size_t>(i) % zone_count;
      const Biases b = draw_biases(e.rng);
      s.bias = b.bias;
      s.bias2 = b.bias2;
      s.kind = i < n_traffic ? SensorKind::traffic : i < n_traffic + n_weather ? SensorKind::weather : SensorKind::energy;
      static constexpr const char* prefixes[] = {"traffic", "weather", "energy"};
      const auto k = static_cast<std::size_t>(s.kind);
      s.id = fmt::format("{}-{:03}", prefixes[k], ++counters[k]);
      sensors_.push_back(std::move(s));
    }
  }

  std::uint64_t tick(time_ms t, std::string& out, std::uint64_t budget) override {
    return e_.run_tick(*this, sensors_.size(), t, out, budget);
  }

  // The records of sensor i at event time ts.
  std::uint64_t record(std::size_t i, time_ms ts, std::string& out, std::uint64_t) {
    const Sensor& s = sensors_[i];
    switch (s.kind) {
      case SensorKind::traffic: traffic(s, ts, out); break;
      case SensorKind::weather: weather(s, ts, out); break;
      case SensorKind::energy: energy(s, ts, out); break;
    }
    return 1;
  }

 private:
  struct Sensor {
    std::string id;
    std::size_t zone = 0;
    SensorKind kind = SensorKind::traffic;
    double bias = 0, bias2 = 0;
  };

  void traffic(const Sensor& s, time_ms ts, std::string& out) {
    Random& rng = e_.rng;
    const double rush = shapes().traffic[minute_of_day(ts)];
    double count = std::max(0.0, city_zones[s.zone].traffic * 0.4 * rush * (1 + rng.normal(0, 0.12)));
    double occupancy = std::clamp(count / 140 + rng.normal(0, 0.02), 0.0, 0.85);
    double speed = std::clamp(95 - 80 * occupancy + 8 * s.bias2 + rng.normal(0, 4), 5.0, 130.0);
    const int kind = e_.anomaly(3, 1);
    switch (kind) {
      case severe_congestion: occupancy = rng.uniform(0.92, 0.99); speed = rng.uniform(2, 9); break;
      case high_volume: count = rng.uniform(3, 4) * std::max(count, 40.0); break;
      case speed_anomaly: speed = rng.uniform(150, 210); break;
      case empty_but_slow: count = rng.uniform(1, 4); occupancy = rng.uniform(0.01, 0.04); speed = rng.uniform(12, 20); break;
      default: break;
    }
    e_.general(out, ts, s.id, [&](Emitter::Builder& b) {
      b.str("sensor_type", "traffic").str("zone", city_zones[s.zone].name).integer("vehicle_count", count)
          .num("avg_speed_kmh", speed).num("occupancy", occupancy).done(name_of(traffic_anomalies, kind));
    });
  }

  void weather(const Sensor& s, time_ms ts, std::string& out) {
    Random& rng = e_.rng;
    const double tshape = shapes().temperature[minute_of_day(ts)];
    double temp = 14 + 7 * tshape + s.bias + rng.normal(0, 0.6);
    double humidity = std::clamp(65 - 15 * tshape + rng.normal(0, 4), 10.0, 100.0);
    double wind = std::max(0.0, 4 + 2 * s.bias2 + rng.normal(0, 1.5));
    double rain = rng.chance(0.15) ? rng.uniform(0, 3) : 0;
    const int kind = e_.anomaly(2, 0);
    switch (kind) {
      case storm: wind = rng.uniform(24, 40); rain = rng.uniform(15, 45); break;
      case heatwave: temp = rng.uniform(41, 46); break;
      default: break;
    }
    e_.general(out, ts, s.id, [&](Emitter::Builder& b) {
      b.str("sensor_type", "weather").str("zone", city_zones[s.zone].name).num("temperature", temp)
          .num("humidity", humidity).num("wind_speed", wind).num("precipitation_mm", rain)
          .done(name_of(weather_anomalies, kind));
    });
  }

  void energy(const Sensor& s, time_ms ts, std::string& out) {
    Random& rng = e_.rng;
    const double activity = shapes().activity[minute_of_day(ts)];
    double power = std::max(0.1, (1.2 + 4 * activity) * (1 + 0.2 * s.bias2) * (1 + rng.normal(0, 0.08)));
    double voltage = 230 + 2 * s.bias + rng.normal(0, 1.5);
    double current = power * 1000 / voltage;
    const int kind = e_.anomaly(2, 1);
    switch (kind) {
      case power_surge: power *= rng.uniform(4, 7); current = power * 1000 / voltage; break;
      case voltage_sag: voltage = rng.uniform(180, 200); current = power * 1000 / voltage; break;
      case current_mismatch: current = power * 1000 / voltage * rng.uniform(1.8, 2.5); break;
      default: break;
    }
    e_.general(out, ts, s.id, [&](Emitter::Builder& b) {
      b.str("sensor_type", "energy").str("zone", city_zones[s.zone].name).num("power_kw", power)
          .num("voltage", voltage).num("current", current).done(name_of(energy_anomalies, kind));
    });
  }

  Emitter& e_;
  std::vector<Sensor> sensors_;
};

}  // namespace

std::unique_ptr<Profile> make_grid(Emitter& e, int n) { return std::make_unique<Grid>(e, n); }

}  // namespace citypipe::gen
