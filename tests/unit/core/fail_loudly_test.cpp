// Issue 15's core pieces: error categories, the one atomic file write, the
// reject file's write errors, the all-rejected diagnosis, "did you mean",
// and the option checks.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "citypipe/core/bad_input.h"
#include "citypipe/core/file_write.h"
#include "citypipe/core/option_checks.h"
#include "citypipe/core/status.h"
#include "citypipe/core/suggest.h"

using namespace citypipe;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string temp_dir() {
  char tmpl[] = "/tmp/citypipe-unit-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  return tmpl;
}

std::size_t entries(const std::string& dir) {
  std::size_t n = 0;
  if (FILE* p = ::popen(("ls -A " + dir).c_str(), "r")) {
    char line[512];
    while (std::fgets(line, sizeof line, p)) ++n;
    ::pclose(p);
  }
  return n;
}

}  // namespace

TEST_CASE("error categories map to the documented exit codes", "[status]") {
  CHECK(exit_code_for(errc::ok) == 0);
  CHECK(exit_code_for(errc::invalid_argument) == 64);
  CHECK(exit_code_for(errc::corrupt) == 65);
  CHECK(exit_code_for(errc::not_found) == 66);
  CHECK(exit_code_for(errc::unavailable) == 69);
  CHECK(exit_code_for(errc::io) == 74);
  CHECK(exit_code_for(errc::interrupted) == 130);
  CHECK(Status::error(exit_no_input, "x").kind() == errc::not_found);
  CHECK(Status::error(errc::io, "disk").with_prefix("f").message() == "f: disk");
}

TEST_CASE("write_file_atomically replaces a regular file and leaves no temporary", "[file_write]") {
  const std::string dir = temp_dir();
  const std::string path = dir + "/model.json";
  REQUIRE(write_file_atomically(path, "one\n").is_ok());
  ::chmod(path.c_str(), 0640);
  REQUIRE(write_file_atomically(path, "two\n").is_ok());
  CHECK(slurp(path) == "two\n");
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0640);  // the existing file's permissions are kept
  CHECK(entries(dir) == 1);
  std::remove(path.c_str());
  ::rmdir(dir.c_str());
}

TEST_CASE("write_file_atomically writes through a symlink to its target", "[file_write]") {
  const std::string dir = temp_dir();
  const std::string target = dir + "/real.json", link = dir + "/link.json";
  REQUIRE(write_file_atomically(target, "old\n").is_ok());
  REQUIRE(::symlink("real.json", link.c_str()) == 0);  // relative, as users make them
  REQUIRE(write_file_atomically(link, "new\n").is_ok());
  struct stat st {};
  REQUIRE(::lstat(link.c_str(), &st) == 0);
  CHECK(S_ISLNK(st.st_mode));
  CHECK(slurp(target) == "new\n");
  CHECK(entries(dir) == 2);
  std::remove(link.c_str());
  std::remove(target.c_str());
  ::rmdir(dir.c_str());
}

TEST_CASE("write_file_atomically writes straight to a device and reports its errors", "[file_write]") {
  const Status full = write_file_atomically("/dev/full", "x\n");
  CHECK(full.kind() == errc::io);
  CHECK(full.message().find("/dev/full") != std::string::npos);
  CHECK(full.message().find("No space left") != std::string::npos);
  CHECK(write_file_atomically("/dev/null", "x\n").is_ok());
}

TEST_CASE("write_file_atomically removes its temporary when it fails", "[file_write]") {
  const std::string dir = temp_dir();
  CHECK(write_file_atomically(dir + "/no/such/dir/x", "x").kind() == errc::io);
  // A directory where the file should be: the rename fails after the write.
  REQUIRE(::mkdir((dir + "/taken").c_str(), 0755) == 0);
  const Status s = write_file_atomically(dir + "/taken", "x");
  CHECK(s.kind() == errc::io);
  CHECK(entries(dir) == 1);  // only "taken", no temporary left
  ::rmdir((dir + "/taken").c_str());
  ::rmdir(dir.c_str());
}

TEST_CASE("a reject file that cannot be written stops the tool with an io error", "[bad_input]") {
  BadInput bad("t", false);
  REQUIRE(bad.open_reject_file("/dev/full").is_ok());
  // stdio buffers, but every reported line is flushed: the first one fails.
  CHECK_FALSE(bad.report("f", 1, "bad", "garbage"));
  CHECK(bad.reject_status().kind() == errc::io);
  CHECK(bad.reject_status().message().find("/dev/full") != std::string::npos);
  CHECK_FALSE(bad.stopped());  // not a strict stop: 74, not 65
}

TEST_CASE("the all-rejected diagnosis names the most common reason and binary input", "[bad_input]") {
  BadInput bad("t", false, 0);
  for (int i = 0; i < 3; ++i) bad.report("f", 1, "missing or invalid time field 'ts'", "{}");
  bad.report("f", 4, "not a JSON object", "[]");
  CHECK(bad.most_common_reason() == "missing or invalid time field 'ts'");
  const std::string d = bad.diagnosis("is the time field named differently? (--time-field)");
  CHECK(d == "all 4 input lines were rejected, most (3) with: missing or invalid time field 'ts'; "
             "is the time field named differently? (--time-field)");

  BadInput gz("t", false, 0);
  gz.report("data.ndjson.gz", 1, "invalid JSON", std::string("\x1f\x8b\x08\x00\x01\x02", 6));
  CHECK(gz.diagnosis().find("data.ndjson.gz is gzip-compressed") != std::string::npos);
  BadInput bin("t", false, 0);
  bin.report("blob", 1, "invalid JSON", std::string("\x7f" "ELF\x02\x01\x01\x00", 8));
  CHECK(bin.diagnosis().find("blob is binary data") != std::string::npos);
}

TEST_CASE("did you mean: the closest name within a few edits", "[suggest]") {
  CHECK(edit_distance("temprature", "temperature") == 1);
  CHECK(edit_distance("--coutn", "--count") == 1);  // a swap is one edit
  CHECK(edit_distance("", "abc") == 3);
  const std::vector<std::string> fields{"ts", "zone", "temperature", "traffic", "aqi"};
  CHECK(closest_name("zon", fields) == std::optional<std::string>("zone"));
  CHECK(closest_name("tempreature", fields) == std::optional<std::string>("temperature"));
  CHECK_FALSE(closest_name("humidity", fields).has_value());
  CHECK_FALSE(closest_name("zone", fields).has_value());  // never the word itself
  CHECK(did_you_mean("--coutn", {"--count", "--seed"}) == "; did you mean '--count'?");
  CHECK(did_you_mean("--bogus", {"--count", "--seed"}).empty());
}

TEST_CASE("option checks say what is expected, briefly", "[option_checks]") {
  auto run = [](const CLI::Validator& v, std::string text) { return v(text); };
  CHECK(run(positive_number(), "2.5").empty());
  CHECK(run(positive_number(), "0") == "must be a number greater than 0, got '0'");
  CHECK(run(positive_number(), "abc") == "must be a number greater than 0, got 'abc'");
  CHECK(run(integer_in(1, 100), "100").empty());
  CHECK(run(integer_in(0, 10), "-1") == "must be a whole number from 0 to 10, got '-1'");
  CHECK(run(integer_in(0, INT64_MAX), "99999999999999999999") ==
        "must be a whole number of at least 0, got '99999999999999999999'");
  CHECK(run(duration_check(), "5m").empty());
  CHECK(run(duration_check(), "5x") == "'5x' is not a duration (e.g. 250ms, 30s, 5m, 1h, 1d)");
  CHECK(run(positive_duration_check(), "0s") == "must be a duration greater than 0, got 0s");
  CHECK(run(number_in(0.0, 1.0), "1.5") == "must be a number from 0 to 1, got '1.5'");
}
