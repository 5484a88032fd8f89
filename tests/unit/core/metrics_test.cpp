#include "citypipe/core/metrics.h"

#include <fstream>
#include <sstream>

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

TEST_CASE("metrics files are replaced whole", "[metrics]") {
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
