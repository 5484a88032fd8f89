#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "citypipe/window/minute_cache.h"

using namespace citypipe;

TEST_CASE("MinuteCache gives what parse_rfc3339 gives, in the minute and out of it", "[window]") {
  std::vector<std::string> times = {
      "2026-01-01T00:00:00.000Z", "2026-01-01T00:00:59.999Z", "2026-01-01T00:00:60.000Z",  // a leap second
      "2026-01-01T00:00:07.5Z",   "2026-01-01T00:00:07.500+01:00", "2026-01-01T00:00:7a.000Z",
      "2026-01-01T00:01:00.000Z", "2026-01-01T00:00:01.000Z", "2026-02-30T00:00:01.000Z",
      "2026-01-01T00:00:61.000Z", "2026-01-01T00:00:0:.000Z", "2026-01-01T00:00:01.000z",
      "2026-01-01T00:00:01",      "2025-12-31T23:59:59.999Z", "2026-01-01T00:00:01.000Z"};
  for (int i = 0; i < 2000; ++i) {  // neighbours of a cached minute, valid and not
    std::string t = "2026-03-04T05:06:" + std::to_string(10 + i % 50) + ".123Z";
    t[17 + i % 7] = "0123456789:.Zx"[i % 14];
    times.push_back(t);
  }
  MinuteCache cache;
  for (const auto& t : times) {
    INFO(t);
    CHECK(cache.parse(t) == parse_rfc3339(t));
  }
}
