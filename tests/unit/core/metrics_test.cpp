#include "citypipe/core/metrics.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string_view>
#include <thread>

#include <catch2/catch.hpp>

using namespace citypipe;

TEST_CASE("metrics render in the Prometheus text format", "[metrics]") {
  Stats stats;
  stats.in = 10;
  stats.out = 7;
  stats.rejected = 2;
  stats.set_extra("late", 1);
  const std::string text = render_metrics("window-agg", stats, 1795358798.5);
  CHECK(text.find("# TYPE citypipe_records_in_total counter\ncitypipe_records_in_total{tool=\"window-agg\"} 10\n") != std::string::npos);
  CHECK(text.find("citypipe_records_out_total{tool=\"window-agg\"} 7\n") != std::string::npos);
  CHECK(text.find("citypipe_records_rejected_total{tool=\"window-agg\"} 2\n") != std::string::npos);
  CHECK(text.find("citypipe_late_total{tool=\"window-agg\"} 1\n") != std::string::npos);
  CHECK(text.find("citypipe_last_update_timestamp_seconds{tool=\"window-agg\"} 1795358798.5\n") != std::string::npos);
}

TEST_CASE("metrics files: the last write wins, an unwritable path is an error", "[metrics]") {
  const std::string path = "/tmp/citypipe-metrics-test.prom";
  REQUIRE(write_file_atomically(path, "a 1\n").is_ok());
  REQUIRE(write_file_atomically(path, "b 2\n").is_ok());
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  CHECK(ss.str() == "b 2\n");
  CHECK(write_file_atomically("/nonexistent-dir/x.prom", "x").kind() == errc::io);
  std::remove(path.c_str());
}

// What a plain fwrite over the old file would break: a reader that opened the
// old file keeps reading it whole, the path names a new file, readers racing
// the writer see one content or the other, never a mix or a part, and no
// temporary file is left behind.
TEST_CASE("a file written atomically is a new file, never seen half-written", "[metrics]") {
  char dir_template[] = "/tmp/citypipe-atomic-XXXXXX";
  const char* dir = mkdtemp(dir_template);
  REQUIRE(dir != nullptr);
  const std::string path = std::string(dir) + "/m.prom";
  const std::string a(1 << 20, 'a'), b((1 << 19) + 7, 'b');
  auto slurp_fd = [](int fd) {
    std::string s;
    char buf[65536];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) s.append(buf, static_cast<std::size_t>(n));
    return s;
  };
  auto slurp = [&](const std::string& p) {
    const int fd = ::open(p.c_str(), O_RDONLY);
    if (fd < 0) return std::string("<missing>");
    std::string s = slurp_fd(fd);
    ::close(fd);
    return s;
  };

  REQUIRE(write_file_atomically(path, a).is_ok());
  struct stat before {};
  REQUIRE(::stat(path.c_str(), &before) == 0);
  const int old_reader = ::open(path.c_str(), O_RDONLY);
  REQUIRE(old_reader >= 0);
  REQUIRE(write_file_atomically(path, b).is_ok());
  struct stat after {};
  REQUIRE(::stat(path.c_str(), &after) == 0);
  CHECK(after.st_ino != before.st_ino);      // renamed into place, not rewritten
  CHECK(slurp_fd(old_reader) == a);          // the old file, whole
  ::close(old_reader);
  CHECK(slurp(path) == b);

  // A writer alternating two contents of different sizes, a reader racing it.
  std::atomic<bool> done{false};
  std::atomic<int> failed_writes{0};
  std::thread writer([&] {  // no Catch2 assertions off the main thread
    for (int i = 0; i < 200; ++i)
      if (!write_file_atomically(path, i % 2 ? a : b).is_ok()) ++failed_writes;
    done = true;
  });
  std::size_t reads = 0, bad = 0;
  while (!done || reads == 0) {
    const std::string seen = slurp(path);
    ++reads;
    if (seen != a && seen != b) ++bad;
  }
  writer.join();
  CHECK(failed_writes == 0);
  CHECK(bad == 0);
  CHECK(reads > 0);

  std::size_t entries = 0;
  if (DIR* d = ::opendir(dir)) {
    while (const dirent* e = ::readdir(d))
      if (std::string_view(e->d_name) != "." && std::string_view(e->d_name) != "..") ++entries;
    ::closedir(d);
  }
  CHECK(entries == 1);  // no temporary left behind
  std::remove(path.c_str());
  ::rmdir(dir);
}
