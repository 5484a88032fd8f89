#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "citypipe/core/tool.h"
#include "../temp_file.h"

using namespace citypipe;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("bad lines are skipped, counted and kept whole in the reject file", "[ndjson][policy]") {
  const std::string huge = "{\"a\":\"" + std::string(3 << 20, 'x') + "\"}";
  const std::vector<std::string> bad = {"not json", "{\"a\":", "", "[1]", huge, "{\"a\":1}}"};
  std::string content;
  std::vector<int> good_values;
  for (int i = 0; i < 60; ++i) {
    content += "{\"a\":" + std::to_string(i) + "}\n";
    good_values.push_back(i);
    if (i % 10 == 3) content += bad[static_cast<std::size_t>(i / 10)] + "\n";
  }
  const std::string input = temp_file(content);
  const std::string reject = input + ".rej";
  Tool tool("test-tool", "test");
  REQUIRE_FALSE(tool.parse({"--reject", reject, input}).has_value());
  RecordInput in(tool);
  JsonRecord rec;
  std::vector<int> seen;
  while (in.next(rec)) seen.push_back(static_cast<int>(*rec.number("a")));
  CHECK(in.status().is_ok());
  CHECK(seen == good_values);
  CHECK(tool.bad_input().count() == bad.size());
  CHECK(tool.stats().in == 60);
  std::string expected;
  for (const auto& b : bad) expected += b + "\n";
  const std::string kept = slurp(reject);
  CHECK(kept.size() == expected.size());
  CHECK(kept == expected);
  CHECK(tool.finish() == exit_ok);
  std::remove(input.c_str());
  std::remove(reject.c_str());
}

TEST_CASE("strict mode stops at the first bad line with 65, a missing file is 66", "[ndjson][policy]") {
  const std::string input = temp_file("{\"a\":1}\nbad\n{\"a\":2}\n");
  {
    Tool tool("test-tool", "test");
    REQUIRE_FALSE(tool.parse({"--strict", input}).has_value());
    RecordInput in(tool);
    JsonRecord rec;
    int n = 0;
    while (in.next(rec)) ++n;
    CHECK(n == 1);
    CHECK(tool.finish(in.status()) == exit_data);
  }
  {
    Tool tool("test-tool", "test");
    REQUIRE_FALSE(tool.parse({input, "/nonexistent/x.ndjson"}).has_value());
    RecordInput in(tool);
    JsonRecord rec;
    CHECK_FALSE(in.next(rec));
    CHECK(tool.finish(in.status()) == exit_no_input);
  }
  {
    Tool tool("test-tool", "test");
    CHECK(tool.parse({"--no-such-option"}) == exit_usage);
  }
  std::remove(input.c_str());
}

TEST_CASE("a record the tool rejects goes through the same policy", "[ndjson][policy]") {
  const std::string input = temp_file("{\"a\":1}\n{\"b\":2}\n{\"a\":3}\n");
  Tool tool("test-tool", "test");
  REQUIRE_FALSE(tool.parse({input}).has_value());
  RecordInput in(tool);
  JsonRecord rec;
  int good = 0;
  while (in.next(rec)) {
    if (!rec.number("a")) {
      CHECK(in.where().number == 2);
      CHECK(in.reject("missing field \"a\""));
      continue;
    }
    ++good;
  }
  CHECK(good == 2);
  CHECK(tool.stats().in == 2);
  CHECK(tool.bad_input().count() == 1);
  std::remove(input.c_str());
}
