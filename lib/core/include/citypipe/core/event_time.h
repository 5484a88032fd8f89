// Event time and durations: parsing what users and records give, and printing
// the one output form (RFC 3339, UTC, milliseconds).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace citypipe {

// Milliseconds since the Unix epoch, UTC.
using time_ms = std::int64_t;

// Parses RFC 3339 ("2026-11-22T14:46:38Z", fractional seconds and +hh:mm
// offsets allowed; a space instead of 'T' too). Returns nullopt if malformed.
std::optional<time_ms> parse_rfc3339(std::string_view text);

// Interprets a JSON number as epoch seconds, or milliseconds when its magnitude
// is above 1e11 (later than year 5138 in seconds). Returns nullopt for NaN/inf.
std::optional<time_ms> time_from_number(double value);

// Appends "YYYY-MM-DDTHH:MM:SS.mmmZ" (24 characters) to out.
void append_rfc3339(std::string& out, time_ms t);
std::string format_rfc3339(time_ms t);

// Writes the 24 characters of append_rfc3339 to dst (no terminator).
void write_rfc3339(char* dst, time_ms t);

// Parses "250ms", "30s", "1m", "5m", "1h", "1d", also "1.5s" and "1h30m".
// A bare number is seconds. Returns nullopt if malformed or negative.
std::optional<time_ms> parse_duration(std::string_view text);

// The shortest form parse_duration accepts back: 60000 -> "1m", 1500 -> "1500ms".
std::string format_duration(time_ms d);

// Wall clock now, in milliseconds since the epoch.
time_ms wall_clock_ms();

// Days since 1970-01-01 for a proleptic Gregorian date, and back.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d);
void civil_from_days(std::int64_t days, std::int64_t& y, unsigned& m, unsigned& d);

}  // namespace citypipe
