#include "citypipe/core/event_time.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace citypipe {

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  // Howard Hinnant's algorithm: exact for the whole proleptic calendar.
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2);
}

namespace {

bool digits(std::string_view s, std::size_t pos, std::size_t n, unsigned& out) {
  if (pos + n > s.size()) return false;
  unsigned v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    const char c = s[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  out = v;
  return true;
}

// The time of day of "YYYY-MM-DDTHH:MM:SS.mmmZ", the form most streams
// write, read in one pass; false for any other form (ranges unchecked).
bool utc_millis_form(std::string_view s, unsigned& hour, unsigned& minute, unsigned& second,
                     std::int64_t& millis) {
  if (s.size() != 24 || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != '.' || s[23] != 'Z')
    return false;
  unsigned d[9];
  unsigned bad = 0;
  static constexpr int at[9] = {11, 12, 14, 15, 17, 18, 20, 21, 22};
  for (int i = 0; i < 9; ++i) {
    d[i] = static_cast<unsigned>(static_cast<unsigned char>(s[at[i]])) - '0';
    bad |= d[i] > 9 ? 1U : 0U;  // below '0' wraps around to a large number
  }
  if (bad) return false;
  hour = d[0] * 10 + d[1];
  minute = d[2] * 10 + d[3];
  second = d[4] * 10 + d[5];
  millis = d[6] * 100 + d[7] * 10 + d[8];
  return true;
}

// The time of day and offset from position 10 of any RFC 3339 form: 'T', 't'
// or ' ', fractions of any length (past milliseconds truncated), 'Z' or
// +HH:MM (ranges of the time of day unchecked).
bool any_time_of_day(std::string_view s, unsigned& hour, unsigned& minute, unsigned& second,
                     std::int64_t& millis, std::int64_t& offset_min) {
  if ((s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s, 11, 2, hour) || s[13] != ':' ||
      !digits(s, 14, 2, minute) || s[16] != ':' || !digits(s, 17, 2, second))
    return false;
  std::size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::size_t n = 0;
    std::int64_t scale = 100;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      millis += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
      ++n;
    }
    if (n == 0) return false;
  }
  if (pos >= s.size()) return false;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    unsigned oh, om;
    if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !digits(s, pos + 4, 2, om) || oh > 23 || om > 59)
      return false;
    offset_min = (s[pos] == '-' ? -1 : 1) * static_cast<std::int64_t>(oh * 60 + om);
    pos += 6;
  } else {
    return false;
  }
  return pos == s.size();
}

unsigned days_in_month(std::int64_t y, unsigned m) {
  static constexpr unsigned table[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : table[m - 1];
}

}  // namespace

std::optional<time_ms> parse_rfc3339(std::string_view s) {
  // Records of a stream mostly share their date: its day number is kept.
  thread_local bool have_date = false;
  thread_local char last_date[10];
  thread_local std::int64_t last_days = 0;
  if (s.size() < 20) return std::nullopt;
  std::int64_t days;
  if (have_date && std::memcmp(s.data(), last_date, 10) == 0) {
    days = last_days;
  } else {
    unsigned year, month, day;
    if (!digits(s, 0, 4, year) || s[4] != '-' || !digits(s, 5, 2, month) || s[7] != '-' ||
        !digits(s, 8, 2, day) || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month))
      return std::nullopt;
    days = days_from_civil(year, month, day);
    std::memcpy(last_date, s.data(), 10);
    last_days = days;
    have_date = true;
  }
  unsigned hour, minute, second;
  std::int64_t millis = 0, offset_min = 0;
  if (!utc_millis_form(s, hour, minute, second, millis) &&
      !any_time_of_day(s, hour, minute, second, millis, offset_min))
    return std::nullopt;
  if (hour > 23 || minute > 59 || second > 60) return std::nullopt;
  const std::int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_min * 60;
  return secs * 1000 + millis;
}

std::optional<time_ms> time_from_number(double v) {
  if (!std::isfinite(v) || std::fabs(v) > 9.0e15) return std::nullopt;
  if (std::fabs(v) > 1e11) return static_cast<time_ms>(std::llround(v));
  return static_cast<time_ms>(std::llround(v * 1000.0));
}

void write_rfc3339(char* p, time_ms t) {
  std::int64_t days = t >= 0 ? t / 86400000 : (t - 86399999) / 86400000;
  auto ms_of_day = static_cast<unsigned>(t - days * 86400000);
  std::int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  const unsigned secs = ms_of_day / 1000, ms = ms_of_day % 1000;
  const unsigned hh = secs / 3600, mm = secs / 60 % 60, ss = secs % 60;
  auto two = [](char* q, unsigned v) {
    q[0] = static_cast<char>('0' + v / 10);
    q[1] = static_cast<char>('0' + v % 10);
  };
  const auto yy = static_cast<unsigned>(y < 0 ? 0 : y > 9999 ? 9999 : y);
  two(p, yy / 100);
  two(p + 2, yy % 100);
  p[4] = '-';
  two(p + 5, m);
  p[7] = '-';
  two(p + 8, d);
  p[10] = 'T';
  two(p + 11, hh);
  p[13] = ':';
  two(p + 14, mm);
  p[16] = ':';
  two(p + 17, ss);
  p[19] = '.';
  p[20] = static_cast<char>('0' + ms / 100);
  two(p + 21, ms % 100);
  p[23] = 'Z';
}

void append_rfc3339(std::string& out, time_ms t) {
  const std::size_t n = out.size();
  out.resize(n + 24);
  write_rfc3339(out.data() + n, t);
}

std::string format_rfc3339(time_ms t) {
  std::string s;
  append_rfc3339(s, t);
  return s;
}

std::optional<time_ms> parse_duration(std::string_view s) {
  if (s.empty()) return std::nullopt;
  double total = 0;
  std::size_t pos = 0;
  while (pos < s.size()) {
    const std::size_t start = pos;
    bool dot = false;
    while (pos < s.size() && ((s[pos] >= '0' && s[pos] <= '9') || (s[pos] == '.' && !dot))) {
      dot = dot || s[pos] == '.';
      ++pos;
    }
    if (pos == start) return std::nullopt;
    double value = 0;
    if (std::sscanf(std::string(s.substr(start, pos - start)).c_str(), "%lf", &value) != 1)
      return std::nullopt;
    std::size_t unit_end = pos;
    while (unit_end < s.size() && s[unit_end] >= 'a' && s[unit_end] <= 'z') ++unit_end;
    const std::string_view unit = s.substr(pos, unit_end - pos);
    double scale;
    if (unit.empty() && start == 0 && unit_end == s.size()) scale = 1000;
    else if (unit == "ms") scale = 1;
    else if (unit == "s") scale = 1000;
    else if (unit == "m") scale = 60000;
    else if (unit == "h") scale = 3600000;
    else if (unit == "d") scale = 86400000;
    else return std::nullopt;
    total += value * scale;
    pos = unit_end;
  }
  if (total > 9.0e15) return std::nullopt;
  return static_cast<time_ms>(std::llround(total));
}

std::string format_duration(time_ms d) {
  struct unit { time_ms ms; const char* name; };
  static constexpr unit units[] = {{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}};
  for (const auto& u : units)
    if (d != 0 && d % u.ms == 0) return std::to_string(d / u.ms) + u.name;
  return std::to_string(d) + "ms";
}

time_ms wall_clock_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace citypipe
