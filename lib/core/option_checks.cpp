#include "citypipe/core/option_checks.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>

#include <fmt/format.h>

#include "citypipe/core/event_time.h"

namespace citypipe {

namespace {

constexpr const char* duration_examples = "(e.g. 250ms, 30s, 5m, 1h, 1d)";

}  // namespace

CLI::Validator duration_check() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        if (parse_duration(text)) return {};
        return fmt::format("'{}' is not a duration {}", text, duration_examples);
      },
      "");
}

CLI::Validator positive_duration_check() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        const auto d = parse_duration(text);
        if (!d) return fmt::format("'{}' is not a duration {}", text, duration_examples);
        if (*d <= 0) return fmt::format("must be a duration greater than 0, got {}", text);
        return {};
      },
      "");
}

CLI::Validator integer_in(std::int64_t lo, std::int64_t hi) {
  return CLI::Validator(
      [lo, hi](std::string& text) -> std::string {
        const auto range = hi == std::numeric_limits<std::int64_t>::max()
                               ? fmt::format("a whole number of at least {}", lo)
                               : fmt::format("a whole number from {} to {}", lo, hi);
        errno = 0;
        char* end = nullptr;
        const long long v = std::strtoll(text.c_str(), &end, 10);
        if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE || v < lo || v > hi ||
            (lo >= 0 && text[0] == '-'))
          return fmt::format("must be {}, got '{}'", range, text);
        return {};
      },
      "");
}

CLI::Validator number_in(double lo, double hi, bool lo_open) {
  return CLI::Validator(
      [lo, hi, lo_open](std::string& text) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(text.c_str(), &end);
        const bool number = !text.empty() && end == text.c_str() + text.size() && std::isfinite(v);
        if (number && (lo_open ? v > lo : v >= lo) && v <= hi) return {};
        if (std::isinf(hi))
          return fmt::format("must be a number {} {:g}, got '{}'", lo_open ? "greater than" : "of at least", lo, text);
        return fmt::format("must be a number from {:g}{} to {:g}, got '{}'", lo, lo_open ? " (excluded)" : "", hi, text);
      },
      "");
}

CLI::Validator positive_number() { return number_in(0.0, std::numeric_limits<double>::infinity(), true); }

}  // namespace citypipe
