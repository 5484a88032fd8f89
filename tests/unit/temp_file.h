// Test helper: a new file under /tmp holding content; its path. The test
// removes it when it cares to.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <string>

#include <catch2/catch.hpp>

inline std::string temp_file(const std::string& content) {
  char path[] = "/tmp/citypipe-unit-XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
  close(fd);
  return path;
}
