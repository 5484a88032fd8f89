#include "citypipe/core/event_time.h"

#include <string>

#include <catch2/catch.hpp>

using namespace citypipe;

TEST_CASE("RFC 3339 parses with and without fraction and offset", "[time]") {
  CHECK(parse_rfc3339("1970-01-01T00:00:00Z") == 0);
  CHECK(parse_rfc3339("2026-11-22T14:46:38Z") == 1795358798000);
  CHECK(parse_rfc3339("2026-11-22T14:46:38.5Z") == 1795358798500);
  CHECK(parse_rfc3339("2026-11-22T14:46:38.123456Z") == 1795358798123);
  CHECK(parse_rfc3339("2026-11-22T15:46:38+01:00") == 1795358798000);
  CHECK(parse_rfc3339("2026-11-22T09:16:38.000-05:30") == 1795358798000);
  CHECK(parse_rfc3339("2026-11-22 14:46:38Z") == 1795358798000);
  CHECK(parse_rfc3339("1969-12-31T23:59:59.999Z") == -1);
  CHECK(parse_rfc3339("2024-02-29T00:00:00Z").has_value());
}

TEST_CASE("malformed times are rejected", "[time]") {
  for (const char* bad : {"", "2026-11-22", "2026-11-22T14:46:38", "2026-13-01T00:00:00Z",
                          "2023-02-29T00:00:00Z", "2026-11-22T24:00:00Z", "2026-11-22T14:46:38.Z",
                          "2026-11-22T14:46:38Zjunk", "2026-11-22T14:46:38+0100", "abcd-11-22T14:46:38Z"})
    CHECK_FALSE(parse_rfc3339(bad).has_value());
  // The common form with milliseconds is read on a shorter path; the same rules hold there.
  for (const char* bad : {"2026-11-22T24:00:00.000Z", "2026-11-22T14:60:38.000Z", "2026-11-22T14:46:61.000Z",
                          "2026-11-22T14:46:38.0a0Z", "2026-11-22T14:46:38.00/Z", "2026-11-22T1:46:38.0000Z",
                          "2026-11-22T14:46:38,000Z", "2026-11-32T14:46:38.000Z", "2026-11-22T14:4 :38.000Z"})
    CHECK_FALSE(parse_rfc3339(bad).has_value());
  CHECK(parse_rfc3339("2026-11-22T14:46:38.123Z") == 1795358798123);
  CHECK(parse_rfc3339("2026-11-22T23:59:60.999Z") == 1795391999000 + 1999);
  CHECK(parse_rfc3339("2026-11-22t14:46:38.123Z") == 1795358798123);
  CHECK(parse_rfc3339("2026-11-22T14:46:38.123z") == 1795358798123);
}

TEST_CASE("output is RFC 3339 UTC with milliseconds and round-trips", "[time]") {
  CHECK(format_rfc3339(0) == "1970-01-01T00:00:00.000Z");
  CHECK(format_rfc3339(1795358798123) == "2026-11-22T14:46:38.123Z");
  CHECK(format_rfc3339(-1) == "1969-12-31T23:59:59.999Z");
  for (time_ms t : {0LL, 951782400000LL, 1795358798123LL, 4102444799999LL, -86400000LL})
    CHECK(parse_rfc3339(format_rfc3339(t)) == t);
}

TEST_CASE("epoch numbers are seconds, or milliseconds when large", "[time]") {
  CHECK(time_from_number(1795358798) == 1795358798000);
  CHECK(time_from_number(1795358798.25) == 1795358798250);
  CHECK(time_from_number(1795358798123.0) == 1795358798123);
}

TEST_CASE("durations", "[time]") {
  CHECK(parse_duration("250ms") == 250);
  CHECK(parse_duration("30s") == 30000);
  CHECK(parse_duration("1m") == 60000);
  CHECK(parse_duration("5m") == 300000);
  CHECK(parse_duration("1h") == 3600000);
  CHECK(parse_duration("1d") == 86400000);
  CHECK(parse_duration("1.5s") == 1500);
  CHECK(parse_duration("1h30m") == 5400000);
  CHECK(parse_duration("10") == 10000);
  CHECK(parse_duration("0s") == 0);
  for (const char* bad : {"", "m", "5x", "-1s", "1 m", "5mm", "1m5"})
    CHECK_FALSE(parse_duration(bad).has_value());
  CHECK(format_duration(60000) == "1m");
  CHECK(format_duration(86400000) == "1d");
  CHECK(format_duration(1500) == "1500ms");
  CHECK(format_duration(0) == "0ms");
}

TEST_CASE("the remembered date never lets a bad time through", "[time]") {
  REQUIRE(parse_rfc3339("2026-11-22T10:00:00Z").has_value());
  CHECK(parse_rfc3339("2026-11-22T10:00:00Z") == parse_rfc3339("2026-11-22T10:00:00.000+00:00"));
  CHECK_FALSE(parse_rfc3339("2026-11-22X10:00:00Z").has_value());
  CHECK_FALSE(parse_rfc3339("2026-11-22T25:00:00Z").has_value());
  CHECK_FALSE(parse_rfc3339("2026-11-22").has_value());
  CHECK_FALSE(parse_rfc3339(std::string(10, '\0') + "T00:00:00Z").has_value());
  CHECK_FALSE(parse_rfc3339("2026-02-30T00:00:00Z").has_value());
  CHECK(parse_rfc3339("2026-11-23T00:00:00Z") == *parse_rfc3339("2026-11-22T00:00:00Z") + 86400000);
}
