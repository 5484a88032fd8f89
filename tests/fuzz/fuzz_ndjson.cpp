// libFuzzer target: arbitrary bytes through the NDJSON reader and record
// parser, with a small line limit so that chunk and over-long paths are hit.
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "citypipe/core/json_record.h"
#include "citypipe/core/json_write.h"
#include "citypipe/core/line_reader.h"

namespace {

std::string fields_of(const citypipe::JsonRecord& rec) {
  std::string out(rec.raw());
  for (const auto& f : rec.fields()) {
    out += '|';
    out += f.key;
    if (f.key_prefix != citypipe::name_prefix(f.key)) __builtin_trap();
    out += static_cast<char>('0' + static_cast<int>(f.type));
    out += std::to_string(f.number) + (std::signbit(f.number) ? "-" : "+") + std::to_string(f.integral) +
           std::to_string(f.integer) + std::to_string(f.boolean);
    out += f.text;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const int fd = memfd_create("fuzz", 0);
  if (fd < 0) return 0;
  if (write(fd, data, size) != static_cast<ssize_t>(size)) {
    close(fd);
    return 0;
  }
  citypipe::LineReader reader({"/proc/self/fd/" + std::to_string(fd)}, 64, 64, 100);
  std::uint64_t overlong_bytes = 0;
  reader.on_overlong_bytes([&](std::string_view b, bool) { overlong_bytes += b.size(); });
  static citypipe::JsonParser parser, again;
  citypipe::JsonRecord record;
  std::string error, out;
  citypipe::Line line;
  static citypipe::JsonParser slow(false);  // simdjson alone, against the flat fast path
  citypipe::JsonRecord slow_record;
  while (reader.next(line)) {
    if (line.too_long) continue;
    const bool ok = parser.parse(line.text, line.capacity, record, error);
    std::string slow_error;
    if (ok != slow.parse(line.text, line.capacity, slow_record, slow_error)) __builtin_trap();
    if (!ok) {
      if (error != slow_error) __builtin_trap();
      continue;
    }
    if (fields_of(record) != fields_of(slow_record)) __builtin_trap();
    // Whatever parsed must extend and re-parse as an object with one more field.
    out.clear();
    citypipe::ObjectWriter(out, record.raw()).key("fuzz").number(1.5).finish();
    out.pop_back();
    citypipe::JsonRecord extended;
    if (!again.parse(out, extended, error) || extended.fields().size() != record.fields().size() + 1)
      __builtin_trap();
  }
  close(fd);
  return 0;
}
