#include "citypipe/gen/generator.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <queue>
#include <vector>

#include <fmt/format.h>

#include "citypipe/core/json_write.h"
#include "citypipe/core/random.h"

namespace citypipe {

std::optional<sensor_profile> parse_profile(std::string_view name) {
  if (name == "city") return sensor_profile::city;
  if (name == "grid") return sensor_profile::grid;
  if (name == "home") return sensor_profile::home;
  if (name == "vehicle") return sensor_profile::vehicle;
  return std::nullopt;
}

int default_sensors(sensor_profile p) {
  switch (p) {
    case sensor_profile::city: return 40;
    case sensor_profile::grid: return 210;
    case sensor_profile::home: return 6;
    case sensor_profile::vehicle: return 5;
  }
  return 1;
}

namespace detail {

constexpr double pi = 3.14159265358979323846;

// Daily shapes by minute of day (UTC), precomputed once: sin/exp per record would cost more
// than formatting the record.
struct DayShapes {
  std::array<float, 1440> temperature;  // -1 at 03:00 .. +1 at 15:00
  std::array<float, 1440> traffic;      // ~0.15 at night, ~1.6 in rush hours
  std::array<float, 1440> activity;     // 0 at night .. 1 in the evening (homes, grid load)
  DayShapes() {
    for (int m = 0; m < 1440; ++m) {
      const double h = m / 60.0;
      temperature[static_cast<std::size_t>(m)] = static_cast<float>(std::cos(2 * pi * (h - 15) / 24));
      const double day = 1 / (1 + std::exp(-(h - 6.5) * 2)) - 1 / (1 + std::exp(-(h - 22) * 2));
      const double rush = 0.9 * std::exp(-0.5 * std::pow((h - 8.0) / 1.1, 2)) +
                          0.8 * std::exp(-0.5 * std::pow((h - 17.5) / 1.4, 2));
      traffic[static_cast<std::size_t>(m)] = static_cast<float>(0.15 + 0.55 * day + rush);
      const double evening = std::exp(-0.5 * std::pow((h - 19.5) / 2.5, 2));
      activity[static_cast<std::size_t>(m)] = static_cast<float>(std::min(1.0, 0.1 + 0.35 * day + 0.7 * evening));
    }
  }
};

const DayShapes& shapes() {
  static const DayShapes s;
  return s;
}

std::size_t minute_of_day(time_ms t) {
  const time_ms in_day = ((t % 86400000) + 86400000) % 86400000;
  return static_cast<std::size_t>(in_day / 60000);
}

// Fixed-point writers into a char buffer: the city profile's hot path.
inline char* put(char* p, std::string_view s) {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

inline char* put_uint(char* p, std::uint64_t v) {
  char tmp[20];
  int n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) *p++ = tmp[--n];
  return p;
}

inline char* put_int(char* p, double v) {
  const auto x = static_cast<std::int64_t>(std::lround(v));
  if (x < 0) {
    *p++ = '-';
    return put_uint(p, static_cast<std::uint64_t>(-x));
  }
  return put_uint(p, static_cast<std::uint64_t>(x));
}

// One decimal, as the seed systems print their readings ("21.4"; "21" for 21.0).
inline char* put_fixed1(char* p, double v) {
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

double clamp(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }
double round2(double v) { return std::round(v * 100) / 100; }

struct Zone {
  const char* name;
  double temp_offset, traffic, aqi, noise;
};

// The eight zones of the seed systems, each with its own character.
constexpr Zone city_zones[] = {
    {"Downtown", 1.2, 190, 95, 71},          {"University District", 0.2, 95, 45, 58},
    {"Industrial Park", 1.5, 115, 155, 83},  {"Residential North", -0.8, 28, 22, 44},
    {"Residential South", -0.4, 40, 38, 47}, {"Shopping District", 0.9, 175, 85, 68},
    {"Tech Hub", 0.5, 100, 44, 60},          {"Medical Center", 0.1, 80, 40, 55},
};
constexpr std::size_t zone_count = std::size(city_zones);

}  // namespace detail

using namespace detail;

struct SensorGenerator::impl {
  GeneratorConfig cfg;
  Random rng;
  time_ms tick;
  int sensors;
  std::uint64_t anomalies = 0, late = 0, corrupt = 0, sequence = 0;

  struct Held {
    time_ms release;
    std::uint64_t seq;
    std::string text;
    bool operator>(const Held& o) const { return release != o.release ? release > o.release : seq > o.seq; }
  };
  std::priority_queue<Held, std::vector<Held>, std::greater<>> held;
  std::string scratch;

  std::int64_t cached_day = INT64_MIN;
  char day_prefix[11] = {};

  struct Sensor {
    std::string id;
    std::size_t zone;
    int kind = 0;  // grid: 0 traffic 1 weather 2 energy; home: 0 thermostat 1 motion
    double bias = 0, bias2 = 0;
    std::string city_prefix;  // `","sensor_id":"...","zone":"...","temperature":`
    // vehicle state
    double progress_km = 0, speed = 0, fuel = 100;
  };
  std::vector<Sensor> fleet;

  explicit impl(const GeneratorConfig& c)
      : cfg(c), rng(c.seed), tick(c.start), sensors(c.sensors > 0 ? c.sensors : default_sensors(c.profile)) {
    setup();
  }

  void setup() {
    fleet.resize(static_cast<std::size_t>(sensors));
    const int n = sensors;
    const int n_traffic = std::max(1, static_cast<int>(std::lround(n * 100.0 / 210)));
    const int n_weather = std::max(1, static_cast<int>(std::lround(n * 10.0 / 210)));
    int counters[3] = {0, 0, 0};
    for (int i = 0; i < n; ++i) {
      Sensor& s = fleet[static_cast<std::size_t>(i)];
      s.zone = static_cast<std::size_t>(i) % zone_count;
      s.bias = rng.normal(0, 0.5);
      s.bias2 = rng.normal(0, 1);
      switch (cfg.profile) {
        case sensor_profile::city:
          s.id = fmt::format("city-{:04}", i + 1);
          s.city_prefix = fmt::format(R"(","sensor_id":"{}","zone":"{}","temperature":)", s.id,
                                      city_zones[s.zone].name);
          break;
        case sensor_profile::grid:
          s.kind = i < n_traffic ? 0 : i < n_traffic + n_weather ? 1 : 2;
          s.id = fmt::format("{}-{:03}", s.kind == 0 ? "traffic" : s.kind == 1 ? "weather" : "energy",
                             ++counters[s.kind]);
          break;
        case sensor_profile::home: {
          s.kind = i % 2;
          s.id = fmt::format("{}-{:02}", s.kind == 0 ? "thermostat" : "motion-sensor", i / 2 + 1);
          s.zone = static_cast<std::size_t>(i / 2);
          break;
        }
        case sensor_profile::vehicle:
          s.id = fmt::format("vehicle-{:02}", i + 1);
          s.progress_km = rng.uniform(0, 20);  // staggered departures
          s.speed = 40;
          s.fuel = rng.uniform(60, 100);
          break;
      }
    }
  }

  char* put_ts(char* p, time_ms t) {
    const std::int64_t day = t >= 0 ? t / 86400000 : (t - 86399999) / 86400000;
    if (day != cached_day) {
      char full[24];
      write_rfc3339(full, day * 86400000);
      std::memcpy(day_prefix, full, 11);
      cached_day = day;
    }
    p = put(p, std::string_view(day_prefix, 11));
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

  // Releases held records whose delay has passed by event time t.
  void release_held(std::string& out, time_ms t) {
    while (!held.empty() && held.top().release <= t) {
      out += held.top().text;
      held.pop();
    }
  }

  // Starts a record at event time ts: returns where to build it, out or (for a record held
  // back as late) the scratch line. A corrupt line, if any, goes just before it.
  std::string& begin_record(std::string& out, time_ms ts, bool& is_late) {
    is_late = cfg.late_rate > 0 && cfg.max_late > 0 && rng.chance(cfg.late_rate);
    std::string& target = is_late ? scratch : out;
    if (is_late) scratch.clear();
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

  void end_record(bool is_late, time_ms ts) {
    if (!is_late) return;
    ++late;
    held.push(Held{ts + 1 + static_cast<time_ms>(rng.below(static_cast<std::uint64_t>(cfg.max_late))),
                   sequence++, scratch});
  }

  void city(std::string& out, Sensor& s, time_ms ts) {
    const Zone& z = city_zones[s.zone];
    const std::size_t minute = minute_of_day(ts);
    const double tshape = shapes().temperature[minute];
    const double rush = shapes().traffic[minute];
    double temperature = 15 + 8 * tshape + z.temp_offset + s.bias + rng.normal(0, 0.8);
    double humidity = clamp(62 - 14 * tshape + 4 * s.bias2 + rng.normal(0, 3), 5, 100);
    double traffic = std::max(0.0, z.traffic * rush * (1 + rng.normal(0, 0.1)));
    double noise = clamp(z.noise + 6 * (rush - 1) + rng.normal(0, 2), 30, 120);
    double aqi = clamp(z.aqi * (0.65 + 0.35 * rush) * (1 + rng.normal(0, 0.08)), 0, 500);

    const char* kind = nullptr;
    if (cfg.anomaly_rate > 0 && rng.chance(cfg.anomaly_rate)) {
      // The first five are blunt (past the usual thresholds); the last three subtle: each
      // field in range, the combination not, which is what thresholds miss.
      static constexpr const char* kinds[] = {"heat_spike", "cold_snap", "pollution_spike",
                                              "noise_spike", "traffic_jam", "decoupled_traffic",
                                              "hot_humid", "dirty_quiet"};
      const std::uint64_t k = rng.chance(0.6) ? rng.below(5) : 5 + rng.below(3);
      kind = kinds[k];
      ++anomalies;
      switch (k) {
        case 0: temperature = rng.uniform(41, 50); break;
        case 1: temperature = rng.uniform(-10, -5.5); break;
        case 2: aqi = rng.uniform(305, 500); break;
        case 3: noise = rng.uniform(102, 120); break;
        case 4: traffic = rng.uniform(505, 650); break;
        case 5: traffic = rng.uniform(380, 480); noise = rng.uniform(32, 40); aqi = rng.uniform(8, 18); break;
        case 6: temperature = rng.uniform(35, 39); humidity = rng.uniform(92, 99); break;
        default: aqi = rng.uniform(240, 290); traffic = rng.uniform(0, 6); noise = rng.uniform(31, 38); break;
      }
    }

    bool is_late;
    std::string& target = begin_record(out, ts, is_late);
    char buf[512];
    char* p = put(buf, R"({"ts":")");
    p = put_ts(p, ts);
    p = put(p, s.city_prefix);
    p = put_fixed1(p, temperature);
    p = put(p, R"(,"humidity":)");
    p = put_fixed1(p, humidity);
    p = put(p, R"(,"aqi":)");
    p = put_int(p, aqi);
    p = put(p, R"(,"noise_db":)");
    p = put_fixed1(p, noise);
    p = put(p, R"(,"traffic":)");
    p = put_int(p, traffic);
    if (kind == nullptr) {
      p = put(p, "," R"("injected_anomaly":false})" "\n");
    } else {
      p = put(p, "," R"("injected_anomaly":true,"anomaly_kind":")");
      p = put(p, kind);
      p = put(p, "\"}\n");
    }
    target.append(buf, static_cast<std::size_t>(p - buf));
    end_record(is_late, ts);
  }

  // The slower, general path of the other profiles.
  struct Builder {
    std::string& s;
    ObjectWriter w;
    Builder(std::string& target, time_ms ts, const std::string& id) : s(target), w(target) {
      w.key("ts").time(ts);
      w.key("sensor_id").string(id);
    }
    Builder& num(std::string_view k, double v) { w.key(k).number(round2(v)); return *this; }
    Builder& coordinate(std::string_view k, double v) { w.key(k).number(std::round(v * 1e5) / 1e5); return *this; }
    Builder& integer(std::string_view k, double v) { w.key(k).integer(std::llround(v)); return *this; }
    Builder& str(std::string_view k, std::string_view v) { w.key(k).string(v); return *this; }
    Builder& flag(std::string_view k, bool v) { w.key(k).boolean(v); return *this; }
    void done(const char* kind) {
      w.key("injected_anomaly").boolean(kind != nullptr);
      if (kind != nullptr) w.key("anomaly_kind").string(kind);
      w.finish();
    }
  };

  const char* maybe_anomaly(std::initializer_list<const char*> blunt, std::initializer_list<const char*> subtle) {
    if (cfg.anomaly_rate <= 0 || !rng.chance(cfg.anomaly_rate)) return nullptr;
    ++anomalies;
    bool is_blunt = subtle.size() == 0 || rng.chance(0.6);
    const auto& list = is_blunt ? blunt : subtle;
    return list.begin()[rng.below(list.size())];
  }

  template <class Fill>
  void general(std::string& out, time_ms ts, const std::string& id, Fill fill) {
    bool is_late;
    Builder b(begin_record(out, ts, is_late), ts, id);
    fill(b);
    end_record(is_late, ts);
  }

  void grid(std::string& out, Sensor& s, time_ms ts) {
    const std::size_t minute = minute_of_day(ts);
    const double rush = shapes().traffic[minute];
    const double tshape = shapes().temperature[minute];
    const double activity = shapes().activity[minute];
    const char* zone = city_zones[s.zone].name;
    if (s.kind == 0) {
      double count = std::max(0.0, city_zones[s.zone].traffic * 0.4 * rush * (1 + rng.normal(0, 0.12)));
      double occupancy = clamp(count / 140 + rng.normal(0, 0.02), 0, 0.85);
      double speed = clamp(95 - 80 * occupancy + 8 * s.bias2 + rng.normal(0, 4), 5, 130);
      const char* kind = maybe_anomaly({"severe_congestion", "high_volume", "speed_anomaly"}, {"empty_but_slow"});
      if (kind != nullptr) {
        switch (kind[1]) {
          case 'e': occupancy = rng.uniform(0.92, 0.99); speed = rng.uniform(2, 9); break;
          case 'i': count = rng.uniform(3, 4) * std::max(count, 40.0); break;
          case 'p': speed = rng.uniform(150, 210); break;
          case 'm': count = rng.uniform(1, 4); occupancy = rng.uniform(0.01, 0.04); speed = rng.uniform(12, 20); break;
          default: break;
        }
      }
      general(out, ts, s.id, [&](Builder& b) {
        b.str("sensor_type", "traffic").str("zone", zone).integer("vehicle_count", count)
            .num("avg_speed_kmh", speed).num("occupancy", occupancy).done(kind);
      });
    } else if (s.kind == 1) {
      double temp = 14 + 7 * tshape + s.bias + rng.normal(0, 0.6);
      double humidity = clamp(65 - 15 * tshape + rng.normal(0, 4), 10, 100);
      double wind = std::max(0.0, 4 + 2 * s.bias2 + rng.normal(0, 1.5));
      double rain = rng.chance(0.15) ? rng.uniform(0, 3) : 0;
      const char* kind = maybe_anomaly({"storm", "heatwave"}, {});
      if (kind != nullptr) {
        if (kind[0] == 's') { wind = rng.uniform(24, 40); rain = rng.uniform(15, 45); }
        else temp = rng.uniform(41, 46);
      }
      general(out, ts, s.id, [&](Builder& b) {
        b.str("sensor_type", "weather").str("zone", zone).num("temperature", temp).num("humidity", humidity)
            .num("wind_speed", wind).num("precipitation_mm", rain).done(kind);
      });
    } else {
      double power = std::max(0.1, (1.2 + 4 * activity) * (1 + 0.2 * s.bias2) * (1 + rng.normal(0, 0.08)));
      double voltage = 230 + 2 * s.bias + rng.normal(0, 1.5);
      double current = power * 1000 / voltage;
      const char* kind = maybe_anomaly({"power_surge", "voltage_sag"}, {"current_mismatch"});
      if (kind != nullptr) {
        if (kind[0] == 'p') { power *= rng.uniform(4, 7); current = power * 1000 / voltage; }
        else if (kind[0] == 'v') { voltage = rng.uniform(180, 200); current = power * 1000 / voltage; }
        else current = power * 1000 / voltage * rng.uniform(1.8, 2.5);
      }
      general(out, ts, s.id, [&](Builder& b) {
        b.str("sensor_type", "energy").str("zone", zone).num("power_kw", power).num("voltage", voltage)
            .num("current", current).done(kind);
      });
    }
  }

  void home(std::string& out, Sensor& s, time_ms ts) {
    static constexpr const char* rooms[] = {"living_room", "kitchen", "bedroom", "office", "hallway", "garage"};
    const char* room = rooms[s.zone % std::size(rooms)];
    const std::size_t minute = minute_of_day(ts);
    const double activity = shapes().activity[minute];
    if (s.kind == 0) {
      double temp = 19.5 + 2.5 * activity + s.bias + rng.normal(0, 0.3);
      double humidity = clamp(45 + 3 * s.bias2 + rng.normal(0, 2), 20, 90);
      const char* kind = maybe_anomaly({"overheating", "freezing"}, {"cold_and_damp"});
      if (kind != nullptr) {
        if (kind[0] == 'o') temp = rng.uniform(36, 45);
        else if (kind[0] == 'f') temp = rng.uniform(2, 8);
        else { temp = rng.uniform(15.5, 17); humidity = rng.uniform(75, 85); }
      }
      general(out, ts, s.id, [&](Builder& b) {
        b.str("sensor_type", "thermostat").str("zone", room).num("temperature_celsius", temp)
            .num("humidity_percent", humidity).done(kind);
      });
    } else {
      bool motion = rng.chance(0.05 + 0.5 * activity);
      const char* camera = rng.chance(0.995) ? "online" : "offline";
      const char* kind = maybe_anomaly({"camera_offline"}, {"night_motion"});
      if (kind != nullptr) {
        if (kind[0] == 'c') camera = "offline";
        else motion = true;
      }
      general(out, ts, s.id, [&](Builder& b) {
        b.str("sensor_type", "motion").str("zone", room).flag("motion_detected", motion)
            .str("camera_status", camera).done(kind);
      });
    }
  }

  void vehicle(std::string& out, Sensor& s, time_ms ts, std::uint64_t& budget, std::uint64_t& made) {
    // London (Charing Cross) to Birmingham (New Street), about 190 km by road.
    constexpr double lat0 = 51.5074, lon0 = -0.1278, lat1 = 52.4862, lon1 = -1.8904, route_km = 190;
    const double frac = std::min(1.0, s.progress_km / route_km);
    const bool urban = s.progress_km < 20 || s.progress_km > route_km - 15;
    const double target = urban ? 35 : 105;
    s.speed = clamp(s.speed + (target - s.speed) * 0.2 + rng.normal(0, 3), 0, 140);
    s.progress_km += s.speed * static_cast<double>(cfg.interval) / 3600000.0;
    s.fuel = std::max(5.0, s.fuel - s.speed * static_cast<double>(cfg.interval) / 3600000.0 * 0.07);
    if (s.progress_km >= route_km) {  // arrived: a new trip from London
      s.progress_km = 0;
      s.fuel = 100;
    }
    static constexpr const char* regions[] = {"London", "M1 Hertfordshire", "Milton Keynes",
                                              "M1 Northamptonshire", "M6 Coventry", "Birmingham"};
    const char* region = regions[std::min<std::size_t>(5, static_cast<std::size_t>(frac * 6))];
    double lat = lat0 + (lat1 - lat0) * frac + rng.normal(0, 0.0005);
    double lon = lon0 + (lon1 - lon0) * frac + rng.normal(0, 0.0005);
    const std::size_t minute = minute_of_day(ts);
    const double tshape = shapes().temperature[minute];
    const auto emit = [&](const char* stream, auto fill) {
      if (made >= budget) return;
      ++made;
      general(out, ts, s.id, [&](Builder& b) {
        b.str("stream", stream).str("zone", region);
        fill(b);
      });
    };
    emit("vehicle", [&](Builder& b) {
      double speed = s.speed, engine = 90 + rng.normal(0, 2);
      const char* kind = maybe_anomaly({"overheating", "speeding"}, {});
      if (kind != nullptr) (kind[0] == 'o' ? engine : speed) = kind[0] == 'o' ? rng.uniform(120, 140) : rng.uniform(180, 220);
      b.str("make", "BMW").str("model", "C500").integer("year", 2024).str("fuel_type", "Hybrid")
          .num("speed_kmh", speed).num("fuel_level", s.fuel).num("engine_temp_c", engine).done(kind);
    });
    emit("gps", [&](Builder& b) {
      const char* kind = maybe_anomaly({"position_jump"}, {});
      if (kind != nullptr) { lat += rng.uniform(0.3, 0.8); lon -= rng.uniform(0.3, 0.8); }
      b.coordinate("lat", lat).coordinate("lon", lon)
          .num("speed_kmh", s.speed).str("direction", "NW").integer("heading_deg", 313 + rng.normal(0, 4)).done(kind);
    });
    emit("traffic_camera", [&](Builder& b) {
      const auto camera = static_cast<int>(s.progress_km / 10);
      b.str("camera_id", fmt::format("cam-{:03}", camera + 1))
          .str("snapshot", fmt::format("snap-{:016x}", rng.next()))
          .integer("vehicles_in_view", std::max(0.0, (urban ? 25 : 12) + rng.normal(0, 4))).done(nullptr);
    });
    emit("weather", [&](Builder& b) {
      double temp = 11 + 5 * tshape + rng.normal(0, 0.5), rain = rng.chance(0.3) ? rng.uniform(0, 4) : 0;
      const char* kind = maybe_anomaly({"extreme_weather"}, {});
      if (kind != nullptr) rain = rng.uniform(30, 60);
      b.num("temperature", temp).num("humidity", clamp(75 - 10 * tshape + rng.normal(0, 4), 20, 100))
          .num("precipitation_mm", rain).num("wind_speed", std::max(0.0, rng.normal(5, 2)))
          .integer("aqi", clamp(urban ? 60 : 30 + rng.normal(0, 6), 0, 500))
          .str("condition", rain > 20 ? "Storm" : rain > 0 ? "Rain" : "Cloudy").done(kind);
    });
    emit("emergency", [&](Builder& b) {
      const char* kind = maybe_anomaly({"incident"}, {});
      static constexpr const char* types[] = {"Accident", "Fire", "Medical", "Police"};
      b.str("incident_type", kind != nullptr ? types[rng.below(4)] : "None")
          .str("status", kind != nullptr ? "Active" : "None").done(kind);
    });
  }

  std::uint64_t next_tick(std::string& out, std::uint64_t budget) {
    std::uint64_t made = 0;
    for (std::size_t i = 0; i < fleet.size() && made < budget; ++i) {
      const time_ms ts = tick + cfg.interval * static_cast<time_ms>(i) / sensors;
      if (!held.empty()) release_held(out, ts);
      Sensor& s = fleet[i];
      switch (cfg.profile) {
        case sensor_profile::city: city(out, s, ts); ++made; break;
        case sensor_profile::grid: grid(out, s, ts); ++made; break;
        case sensor_profile::home: home(out, s, ts); ++made; break;
        case sensor_profile::vehicle: vehicle(out, s, ts, budget, made); break;
      }
    }
    tick += cfg.interval;
    return made;
  }
};

SensorGenerator::SensorGenerator(const GeneratorConfig& config) : impl_(std::make_unique<impl>(config)) {}
SensorGenerator::~SensorGenerator() = default;

std::uint64_t SensorGenerator::next_tick(std::string& out, std::uint64_t max_records) {
  return impl_->next_tick(out, max_records);
}

void SensorGenerator::drain(std::string& out) { impl_->release_held(out, INT64_MAX); }
time_ms SensorGenerator::tick_time() const { return impl_->tick; }
std::uint64_t SensorGenerator::anomalies() const { return impl_->anomalies; }
std::uint64_t SensorGenerator::late() const { return impl_->late; }
std::uint64_t SensorGenerator::corrupt() const { return impl_->corrupt; }

}  // namespace citypipe
