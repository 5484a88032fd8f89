#include "citypipe/gen/generator.h"

#include "emitter.h"

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

namespace {

std::unique_ptr<gen::Profile> make_profile(gen::Emitter& e, int n) {
  switch (e.cfg.profile) {
    case sensor_profile::city: return gen::make_city(e, n);
    case sensor_profile::grid: return gen::make_grid(e, n);
    case sensor_profile::home: return gen::make_home(e, n);
    case sensor_profile::vehicle: return gen::make_vehicle(e, n);
  }
  return gen::make_city(e, n);
}

}  // namespace

struct SensorGenerator::impl {
  gen::Emitter emitter;
  int sensors;
  std::unique_ptr<gen::Profile> profile;
  time_ms tick;

  explicit impl(const GeneratorConfig& c)
      : emitter(c),
        sensors(c.sensors > 0 ? c.sensors : default_sensors(c.profile)),
        profile(make_profile(emitter, sensors)),
        tick(c.start) {}
};

SensorGenerator::SensorGenerator(const GeneratorConfig& config) : impl_(std::make_unique<impl>(config)) {}
SensorGenerator::~SensorGenerator() = default;

std::uint64_t SensorGenerator::next_tick(std::string& out, std::uint64_t max_records,
                                         std::vector<RecordMark>* marks) {
  impl& m = *impl_;
  m.emitter.marks = marks;
  const std::uint64_t made = m.profile->tick(m.tick, out, max_records);
  m.tick += m.emitter.cfg.interval;
  m.emitter.marks = nullptr;
  return made;
}

void SensorGenerator::drain(std::string& out, std::vector<RecordMark>* marks) {
  impl_->emitter.marks = marks;
  impl_->emitter.release_held(out, INT64_MAX);
  impl_->emitter.marks = nullptr;
}

time_ms SensorGenerator::tick_time() const { return impl_->tick; }
std::uint64_t SensorGenerator::anomalies() const { return impl_->emitter.anomalies; }
std::uint64_t SensorGenerator::late() const { return impl_->emitter.late; }
std::uint64_t SensorGenerator::corrupt() const { return impl_->emitter.corrupt; }

}  // namespace citypipe
