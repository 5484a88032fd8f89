// libFuzzer target: the time and duration parsers; whatever parses must
// print and parse back to the same value.
#include <cstdint>
#include <string_view>

#include "citypipe/core/event_time.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto t = citypipe::parse_rfc3339(text)) {
    if (*t >= -62135596800000LL && *t < 253402300800000LL &&
        citypipe::parse_rfc3339(citypipe::format_rfc3339(*t)) != *t)
      __builtin_trap();
  }
  if (auto d = citypipe::parse_duration(text)) {
    if (*d < 0 || citypipe::parse_duration(citypipe::format_duration(*d)) != *d) __builtin_trap();
  }
  return 0;
}
