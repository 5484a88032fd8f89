// Fixed-threshold rules ("aqi>300:high") and the severities they share with
// the forest. Plain parsing and evaluation, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "citypipe/core/json_record.h"
#include "citypipe/core/status.h"

namespace citypipe {

enum class Severity : std::uint8_t { none, low, medium, high };

std::string_view severity_name(Severity s);
std::optional<Severity> parse_severity(std::string_view text);

struct Rule {
  enum class Op : std::uint8_t { gt, ge, lt, le, eq, ne };
  std::string field;
  Op op = Op::gt;
  double value = 0;          // when numeric
  std::string text_value;    // when the right side is not a number (== and != only)
  bool numeric = true;
  Severity severity = Severity::medium;
  std::string text;          // "aqi>300", as reported in reasons

  // True when the record's field satisfies the rule; a missing field or one of
  // another type never fires.
  bool fires(const JsonRecord& record) const;
  bool fires(double v) const;
};

// Parses FIELD OP VALUE[:SEVERITY]. OP is one of > >= < <= == != (the longest
// operator wins, so "a>=1" is >= 1); SEVERITY is low, medium (the default) or
// high. Errors name what is wrong (errc::invalid_argument).
Status parse_rule(std::string_view text, Rule& out);

// A named set of rules: "city" holds the seed system's thresholds
// (temperature < -5 or > 40, aqi > 300, noise_db > 100, traffic > 500).
Status preset_rules(std::string_view name, std::vector<Rule>& out);

// The severity of a verdict: the highest of those given (none when empty).
inline Severity max_severity(Severity a, Severity b) { return a < b ? b : a; }

}  // namespace citypipe
