#include "citypipe/core/stats.h"

#include <fmt/format.h>

namespace citypipe {

Stats::Stats() : start_(std::chrono::steady_clock::now()) {}

void Stats::set_extra(const std::string& name, std::uint64_t value) {
  for (auto& e : extra_) {
    if (e.first == name) {
      e.second = value;
      return;
    }
  }
  extra_.emplace_back(name, value);
}

double Stats::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string Stats::format() const {
  const double s = seconds();
  const double rate = static_cast<double>(in > 0 ? in : out) / (s > 0 ? s : 1e-9);
  std::string line = fmt::format("stats in={} out={} rejected={}", in, out, rejected);
  for (const auto& e : extra_) line += fmt::format(" {}={}", e.first, e.second);
  line += fmt::format(" seconds={:.3f} records_per_s={:.0f}", s, rate);
  return line;
}

}  // namespace citypipe
