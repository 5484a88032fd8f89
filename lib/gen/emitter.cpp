#include "emitter.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace citypipe::gen {

namespace {
constexpr double pi = 3.14159265358979323846;
}  // namespace

DayShapes::DayShapes() {
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

const DayShapes& shapes() {
  static const DayShapes s;
  return s;
}

std::size_t minute_of_day(time_ms t) {
  const time_ms in_day = ((t % 86400000) + 86400000) % 86400000;
  return static_cast<std::size_t>(in_day / 60000);
}

void Emitter::release_held(std::string& out, time_ms t) {
  while (!held_.empty() && held_.top().release <= t) {
    out += held_.top().text;
    if (marks != nullptr) marks->push_back(RecordMark{out.size(), held_.top().release});
    held_.pop();
  }
}

Emitter::Builder::Builder(std::string& target, time_ms ts, const std::string& id) : w_(target) {
  w_.key("ts").time(ts);
  w_.key("sensor_id").string(id);
}

Emitter::Builder& Emitter::Builder::num(std::string_view k, double v) {
  w_.key(k).number(std::round(v * 100) / 100);
  return *this;
}

Emitter::Builder& Emitter::Builder::coordinate(std::string_view k, double v) {
  w_.key(k).number(std::round(v * 1e5) / 1e5);
  return *this;
}

Emitter::Builder& Emitter::Builder::integer(std::string_view k, double v) {
  w_.key(k).integer(std::llround(v));
  return *this;
}

void Emitter::Builder::done(const char* kind) {
  w_.key("injected_anomaly").boolean(kind != nullptr);
  if (kind != nullptr) w_.key("anomaly_kind").string(kind);
  w_.finish();
}

}  // namespace citypipe::gen
