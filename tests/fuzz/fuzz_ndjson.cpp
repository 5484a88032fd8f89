// libFuzzer target: arbitrary bytes through the NDJSON reader and record
// parser, with a small line limit so that chunk and over-long paths are hit.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "citypipe/json_record.h"
#include "citypipe/json_write.h"
#include "citypipe/line_reader.h"

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
  while (reader.next(line)) {
    if (line.too_long) continue;
    if (!parser.parse(line.text, line.capacity, record, error)) continue;
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
