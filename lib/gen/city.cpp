// The city profile: one kind of street sensor in eight zones, five readings each. The hot
// path of `sensor-gen --fast`, so records are written with fixed-point writers, not JSON.
#include <algorithm>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "emitter.h"

namespace citypipe::gen {

namespace {

char* put(char* p, std::string_view s) {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

char* put_uint(char* p, std::uint64_t v) {
  char tmp[20];
  int n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) *p++ = tmp[--n];
  return p;
}

char* put_int(char* p, double v) {
  const auto x = static_cast<std::int64_t>(std::lround(v));
  if (x < 0) {
    *p++ = '-';
    return put_uint(p, static_cast<std::uint64_t>(-x));
  }
  return put_uint(p, static_cast<std::uint64_t>(x));
}

// One decimal, as the seed systems print their readings ("21.4"; "21" for 21.0).
char* put_fixed1(char* p, double v) {
  auto x = static_cast<std::int64_t>(std::lround(v * 10));
  if (x < 0) {
    *p++ = '-';
    x = -x;
  }
  p = put_uint(p, static_cast<std::uint64_t>(x / 10));
  if (x % 10 != 0) {
    *p++ = '.';
    *p++ = static_cast<char>('0' + x % 10);
  }
  return p;
}

// The first five are blunt (past the usual thresholds); the last three subtle: each field in
// range, the combination not, which is what thresholds miss.
enum Kind { heat_spike, cold_snap, pollution_spike, noise_spike, traffic_jam,
            decoupled_traffic, hot_humid, dirty_quiet };
constexpr const char* kind_names[] = {"heat_spike", "cold_snap", "pollution_spike", "noise_spike",
                                      "traffic_jam", "decoupled_traffic", "hot_humid", "dirty_quiet"};

class City final : public Profile {
 public:
  City(Emitter& e, int n) : e_(e) {
    for (int i = 0; i < n; ++i) {
      Sensor s;
      s.zone = static_cast<std::size_t>(i) % zone_count;
      const Biases b = draw_biases(e.rng);
      s.bias = b.bias;
      s.bias2 = b.bias2;
      s.prefix = fmt::format(R"(","sensor_id":"city-{:04}","zone":"{}","temperature":)", i + 1,
                             city_zones[s.zone].name);
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
    const Zone& z = city_zones[s.zone];
    const std::size_t minute = minute_of_day(ts);
    const double tshape = shapes().temperature[minute];
    const double rush = shapes().traffic[minute];
    double temperature = 15 + 8 * tshape + z.temp_offset + s.bias + rng.normal(0, 0.8);
    double humidity = std::clamp(62 - 14 * tshape + 4 * s.bias2 + rng.normal(0, 3), 5.0, 100.0);
    double traffic = std::max(0.0, z.traffic * rush * (1 + rng.normal(0, 0.1)));
    double noise = std::clamp(z.noise + 6 * (rush - 1) + rng.normal(0, 2), 30.0, 120.0);
    double aqi = std::clamp(z.aqi * (0.65 + 0.35 * rush) * (1 + rng.normal(0, 0.08)), 0.0, 500.0);

    const int kind = e_.anomaly(5, 3);
    switch (kind) {
      case heat_spike: temperature = rng.uniform(41, 50); break;
      case cold_snap: temperature = rng.uniform(-10, -5.5); break;
      case pollution_spike: aqi = rng.uniform(305, 500); break;
      case noise_spike: noise = rng.uniform(102, 120); break;
      case traffic_jam: traffic = rng.uniform(505, 650); break;
      case decoupled_traffic: traffic = rng.uniform(380, 480); noise = rng.uniform(32, 40); aqi = rng.uniform(8, 18); break;
      case hot_humid: temperature = rng.uniform(35, 39); humidity = rng.uniform(92, 99); break;
      case dirty_quiet: aqi = rng.uniform(240, 290); traffic = rng.uniform(0, 6); noise = rng.uniform(31, 38); break;
      default: break;
    }

    std::string& target = e_.begin(out, ts);
    char buf[512];
    char* p = put(buf, R"({"ts":")");
    p = e_.put_ts(p, ts);
    p = put(p, s.prefix);
    p = put_fixed1(p, temperature);
    p = put(p, R"(,"humidity":)");
    p = put_fixed1(p, humidity);
    p = put(p, R"(,"aqi":)");
    p = put_int(p, aqi);
    p = put(p, R"(,"noise_db":)");
    p = put_fixed1(p, noise);
    p = put(p, R"(,"traffic":)");
    p = put_int(p, traffic);
    if (kind < 0) {
      p = put(p, "," R"("injected_anomaly":false})" "\n");
    } else {
      p = put(p, "," R"("injected_anomaly":true,"anomaly_kind":")");
      p = put(p, kind_names[kind]);
      p = put(p, "\"}\n");
    }
    target.append(buf, static_cast<std::size_t>(p - buf));
    e_.end(out, ts);
    return 1;
  }

 private:
  struct Sensor {
    std::size_t zone = 0;
    double bias = 0, bias2 = 0;
    std::string prefix;  // `","sensor_id":"...","zone":"...","temperature":`
  };
  Emitter& e_;
  std::vector<Sensor> sensors_;
};

}  // namespace

std::unique_ptr<Profile> make_city(Emitter& e, int n) { return std::make_unique<City>(e, n); }

}  // namespace citypipe::gen
