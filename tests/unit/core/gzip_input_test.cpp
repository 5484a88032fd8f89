// LineReader on gzip and zstd input: known by its magic bytes, decompressed as
// it is read, lines numbered in the decompressed text; truncation and
// corruption are errors that name the file.
#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cstdio>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "citypipe/core/line_reader.h"

using namespace citypipe;

namespace {

std::string gzip(const std::string& text) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&z, static_cast<uLong>(text.size())) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string zstd(const std::string& text) {
  std::string out(ZSTD_compressBound(text.size()), '\0');
  const std::size_t n = ZSTD_compress(out.data(), out.size(), text.data(), text.size(), 3);
  REQUIRE_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

std::string temp_file(const std::string& content) {
  char path[] = "/tmp/citypipe-unit-XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
  close(fd);
  return path;
}

struct Read {
  std::vector<std::string> lines;
  std::vector<std::uint64_t> numbers;
  std::vector<bool> too_long;
  Status status;
};

Read read_all(const std::vector<std::string>& files, std::size_t max_line = 1 << 20,
              std::size_t chunk = 1 << 20) {
  LineReader reader(files, max_line, 64, chunk);
  Read r;
  Line line;
  while (reader.next(line)) {
    r.lines.emplace_back(line.text);
    r.numbers.push_back(line.number);
    r.too_long.push_back(line.too_long);
  }
  r.status = reader.status();
  return r;
}

std::string numbered_lines(int n) {
  std::string text;
  for (int i = 1; i <= n; ++i) text += "{\"i\":" + std::to_string(i) + "}\n";
  return text;
}

}  // namespace

TEST_CASE("a gzip file reads as its decompressed lines, numbered in the decompressed text", "[ndjson][gzip]") {
  const std::string text = numbered_lines(100000);
  const std::string plain = temp_file(text);
  const std::string gz = temp_file(gzip(text));
  for (const std::size_t chunk : {std::size_t{1000}, std::size_t{1} << 20}) {
    const Read a = read_all({plain}, 100, chunk);
    const Read b = read_all({gz}, 100, chunk);
    CHECK(b.status.is_ok());
    REQUIRE(b.lines.size() == 100000);
    CHECK(b.lines == a.lines);
    CHECK(b.numbers == a.numbers);
    CHECK(b.lines[76543] == "{\"i\":76544}");
    CHECK(b.numbers[76543] == 76544);
  }
  // Plain and gzip inputs mixed, each numbered from 1; concatenated gzip members are one text.
  const std::string two = temp_file(gzip("a\nb") + gzip("c\nd\n"));
  const Read mixed = read_all({gz, plain, two});
  CHECK(mixed.status.is_ok());
  REQUIRE(mixed.lines.size() == 200003);
  CHECK(mixed.numbers[100000] == 1);
  CHECK(mixed.lines[200000] == "a");
  CHECK(mixed.lines[200001] == "bc");  // a member ends without a newline: its text runs on
  CHECK(mixed.lines[200002] == "d");
  for (const auto& f : {plain, gz, two}) std::remove(f.c_str());
}

TEST_CASE("gzip edge cases: empty, an over-long line, a lone 0x1f byte", "[ndjson][gzip]") {
  const std::string empty = temp_file(gzip(""));
  CHECK(read_all({empty}).lines.empty());
  CHECK(read_all({empty}).status.is_ok());

  const std::string big(5000, 'x');
  const std::string long_line = temp_file(gzip("first\n" + big + "\nlast\n"));
  const Read r = read_all({long_line}, 1000, 1000);
  REQUIRE(r.lines.size() == 3);
  CHECK(r.too_long[1]);
  CHECK(r.lines[2] == "last");
  CHECK(r.numbers[2] == 3);

  const std::string lone = temp_file("\x1f");
  const Read l = read_all({lone});
  REQUIRE(l.lines.size() == 1);
  CHECK(l.lines[0] == "\x1f");
  for (const auto& f : {empty, long_line, lone}) std::remove(f.c_str());
}

TEST_CASE("truncated or corrupt gzip is an error naming the file, after the lines before it", "[ndjson][gzip]") {
  const std::string text = numbered_lines(50000);
  const std::string whole = gzip(text);
  const std::string cut = temp_file(whole.substr(0, whole.size() / 2));
  const Read t = read_all({cut}, 100, 1000);
  CHECK(t.status.code() == exit_data);
  CHECK(t.status.message() == cut + ": truncated gzip data (the file ends inside a compressed stream)");
  CHECK(t.lines.size() > 1000);
  CHECK(t.lines.size() < 50000);
  for (std::size_t i = 0; i < t.lines.size(); ++i) REQUIRE(t.lines[i] == "{\"i\":" + std::to_string(i + 1) + "}");

  std::string damaged = whole;
  damaged[3] = '\xff';  // reserved header flag bits
  const std::string bad = temp_file(damaged);
  const Read b = read_all({bad});
  CHECK(b.status.code() == exit_data);
  CHECK(b.status.message().rfind(bad + ": corrupt gzip data (", 0) == 0);

  const std::string garbage_after = temp_file(gzip("ok\n") + "not gzip\n");
  const Read g = read_all({garbage_after});
  CHECK(g.lines == std::vector<std::string>{"ok"});
  CHECK(g.status.code() == exit_data);
  for (const auto& f : {cut, bad, garbage_after}) std::remove(f.c_str());
}

TEST_CASE("zstd reads like gzip: lines, numbers, frames, truncation, corruption", "[ndjson][gzip][zstd]") {
  const std::string text = numbered_lines(100000);
  const std::string plain = temp_file(text);
  const std::string zst = temp_file(zstd(text));
  for (const std::size_t chunk : {std::size_t{1000}, std::size_t{1} << 20}) {
    const Read a = read_all({plain}, 100, chunk);
    const Read b = read_all({zst}, 100, chunk);
    CHECK(b.status.is_ok());
    CHECK(b.lines == a.lines);
    CHECK(b.numbers == a.numbers);
  }
  const std::string frames = temp_file(zstd("a\nb") + zstd("c\nd\n"));
  CHECK(read_all({frames}).lines == std::vector<std::string>{"a", "bc", "d"});
  const Read mixed = read_all({zst, plain, frames});
  CHECK(mixed.status.is_ok());
  CHECK(mixed.lines.size() == 200003);

  const std::string whole = zstd(text);
  const std::string cut = temp_file(whole.substr(0, whole.size() / 2));
  const Read t = read_all({cut}, 100, 1000);
  CHECK(t.status.code() == exit_data);
  CHECK(t.status.message() == cut + ": truncated zstd data (the file ends inside a compressed stream)");
  CHECK(t.lines.size() < 100000);
  for (std::size_t i = 0; i < t.lines.size(); ++i) REQUIRE(t.lines[i] == "{\"i\":" + std::to_string(i + 1) + "}");

  std::string damaged = whole;
  damaged[4] = static_cast<char>(damaged[4] | 0x08);  // the frame header's reserved bit
  const std::string bad = temp_file(damaged);
  const Read b = read_all({bad});
  CHECK(b.status.code() == exit_data);
  CHECK(b.status.message().rfind(bad + ": corrupt zstd data (", 0) == 0);
  for (const auto& f : {plain, zst, frames, cut, bad}) std::remove(f.c_str());
}
