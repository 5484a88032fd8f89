// The vehicle profile: a fleet driving London to Birmingham and back to London, each vehicle
// writing five streams per reading (vehicle, gps, traffic_camera, weather, emergency).
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "emitter.h"

namespace citypipe::gen {

namespace {

// London (Charing Cross) to Birmingham (New Street), about 190 km by road.
constexpr double lat0 = 51.5074, lon0 = -0.1278, lat1 = 52.4862, lon1 = -1.8904, route_km = 190;
constexpr const char* regions[] = {"London", "M1 Hertfordshire", "Milton Keynes",
                                   "M1 Northamptonshire", "M6 Coventry", "Birmingham"};
constexpr const char* incident_types[] = {"Accident", "Fire", "Medical", "Police"};

enum VehicleAnomaly { overheating, speeding };
constexpr const char* vehicle_anomalies[] = {"overheating", "speeding"};

class Vehicle final : public Profile {
 public:
  Vehicle(Emitter& e, int n) : e_(e) {
    for (int i = 0; i < n; ++i) {
      Sensor s;
      draw_biases(e.rng);  // unused here, drawn to keep every profile's stream alike
      s.id = fmt::format("vehicle-{:02}", i + 1);
      s.progress_km = e.rng.uniform(0, 20);  // staggered departures
      s.speed = 40;
      s.fuel = e.rng.uniform(60, 100);
      sensors_.push_back(std::move(s));
    }
  }

  std::uint64_t tick(time_ms t, std::string& out, std::uint64_t budget) override {
    return e_.run_tick(*this, sensors_.size(), t, out, budget);
  }

  // The records of sensor i at event time ts.
  std::uint64_t record(std::size_t i, time_ms ts, std::string& out, std::uint64_t budget) {
    Sensor& s = sensors_[i];
    Random& rng = e_.rng;
    const auto interval = static_cast<double>(e_.cfg.interval);
    const double frac = std::min(1.0, s.progress_km / route_km);
    const bool urban = s.progress_km < 20 || s.progress_km > route_km - 15;
    const double target = urban ? 35 : 105;
    s.speed = std::clamp(s.speed + (target - s.speed) * 0.2 + rng.normal(0, 3), 0.0, 140.0);
    s.progress_km += s.speed * interval / 3600000.0;
    s.fuel = std::max(5.0, s.fuel - s.speed * interval / 3600000.0 * 0.07);
    if (s.progress_km >= route_km) {  // arrived: a new trip from London
      s.progress_km = 0;
      s.fuel = 100;
    }
    const char* region = regions[std::min<std::size_t>(5, static_cast<std::size_t>(frac * 6))];
    double lat = lat0 + (lat1 - lat0) * frac + rng.normal(0, 0.0005);
    double lon = lon0 + (lon1 - lon0) * frac + rng.normal(0, 0.0005);
    const double tshape = shapes().temperature[minute_of_day(ts)];
    std::uint64_t made = 0;
    const auto stream = [&](const char* name, auto fill) {
      if (made >= budget) return;
      ++made;
      e_.general(out, ts, s.id, [&](Emitter::Builder& b) {
        b.str("stream", name).str("zone", region);
        fill(b);
      });
    };
    stream("vehicle", [&](Emitter::Builder& b) {
      double speed = s.speed, engine = 90 + rng.normal(0, 2);
      const int kind = e_.anomaly(2, 0);
      if (kind == overheating) engine = rng.uniform(120, 140);
      if (kind == speeding) speed = rng.uniform(180, 220);
      b.str("make", "BMW").str("model", "C500").integer("year", 2024).str("fuel_type", "Hybrid")
          .num("speed_kmh", speed).num("fuel_level", s.fuel).num("engine_temp_c", engine)
          .done(kind < 0 ? nullptr : vehicle_anomalies[kind]);
    });
    stream("gps", [&](Emitter::Builder& b) {
      const bool jump = e_.anomaly(1, 0) >= 0;
      if (jump) { lat += rng.uniform(0.3, 0.8); lon -= rng.uniform(0.3, 0.8); }
      b.coordinate("lat", lat).coordinate("lon", lon)
          .num("speed_kmh", s.speed).str("direction", "NW").integer("heading_deg", 313 + rng.normal(0, 4))
          .done(jump ? "position_jump" : nullptr);
    });
    stream("traffic_camera", [&](Emitter::Builder& b) {
      const auto camera = static_cast<int>(s.progress_km / 10);
      b.str("camera_id", fmt::format("cam-{:03}", camera + 1))
          .str("snapshot", fmt::format("snap-{:016x}", rng.next()))
          .integer("vehicles_in_view", std::max(0.0, (urban ? 25 : 12) + rng.normal(0, 4))).done(nullptr);
    });
    stream("weather", [&](Emitter::Builder& b) {
      double temp = 11 + 5 * tshape + rng.normal(0, 0.5), rain = rng.chance(0.3) ? rng.uniform(0, 4) : 0;
      const bool extreme = e_.anomaly(1, 0) >= 0;
      if (extreme) rain = rng.uniform(30, 60);
      b.num("temperature", temp).num("humidity", std::clamp(75 - 10 * tshape + rng.normal(0, 4), 20.0, 100.0))
          .num("precipitation_mm", rain).num("wind_speed", std::max(0.0, rng.normal(5, 2)))
          .integer("aqi", std::clamp((urban ? 60 : 30) + rng.normal(0, 6), 0.0, 500.0))
          .str("condition", rain > 20 ? "Storm" : rain > 0 ? "Rain" : "Cloudy")
          .done(extreme ? "extreme_weather" : nullptr);
    });
    stream("emergency", [&](Emitter::Builder& b) {
      const bool incident = e_.anomaly(1, 0) >= 0;
      b.str("incident_type", incident ? incident_types[rng.below(4)] : "None")
          .str("status", incident ? "Active" : "None").done(incident ? "incident" : nullptr);
    });
    return made;
  }

 private:
  struct Sensor {
    std::string id;
    double progress_km = 0, speed = 0, fuel = 100;
  };
  Emitter& e_;
  std::vector<Sensor> sensors_;
};

}  // namespace

std::unique_ptr<Profile> make_vehicle(Emitter& e, int n) { return std::make_unique<Vehicle>(e, n); }

}  // namespace citypipe::gen
