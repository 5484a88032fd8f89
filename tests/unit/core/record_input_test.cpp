#include <unistd.h>

#include <cstdio>
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

namespace {

// The value of "a" of each good record, and the lines, as a tool keeps them.
struct Numbers : BatchHandler {
  struct Batch : RecordBatch {
    std::vector<int> a;
  };
  std::vector<int> seen;
  std::vector<std::string> lines;
  std::string order;  // 'r' per run of records taken, 'c' per control line
  std::unique_ptr<RecordBatch> make_batch() override { return std::make_unique<Batch>(); }
  void clear(RecordBatch& b, std::size_t) override { static_cast<Batch&>(b).a.clear(); }
  std::optional<std::string> parse(const JsonRecord& rec, RecordBatch& b, std::size_t) override {
    if (!rec.number("a")) return "missing field \"a\"";
    static_cast<Batch&>(b).a.push_back(static_cast<int>(*rec.number("a")));
    return std::nullopt;
  }
  bool take(RecordBatch& b, std::size_t first, std::size_t count) override {
    const auto& a = static_cast<Batch&>(b).a;
    CHECK(a.size() == b.rows());
    for (std::size_t r = first; r < first + count; ++r) {
      seen.push_back(a[r]);
      lines.emplace_back(b.row_line(r));
    }
    order += 'r';
    return true;
  }
};

}  // namespace

TEST_CASE("replay in batches: the records, bad lines, control lines and counts of next()", "[core][ndjson][policy]") {
  // One record read by next() first, as window-agg does, then batches.
  const std::string huge = "{\"a\":\"" + std::string(3 << 20, 'x') + "\"}";
  const std::vector<std::string> bad = {"not json", "{\"b\":2}", "", "[1]", huge, "{\"a\":1}}",
                                        std::string(3000, 'y')};
  std::string content, expected_lines;
  std::vector<int> good_values;
  for (int i = 0; i < 70000; ++i) {
    const std::string line = "{\"a\":" + std::to_string(i) + "}";
    content += line + (i % 7 == 0 ? "\r\n" : "\n");
    if (i > 0) good_values.push_back(i);
    if (i > 0) expected_lines += line + "\n";
    if (i % 10000 == 3) content += bad[static_cast<std::size_t>(i / 10000)] + "\n";
    if (i == 5) content += "{\"_ctl\":\"note\"}\n";
  }
  content += "{\"a\":70000}";  // no final newline
  good_values.push_back(70000);
  expected_lines += "{\"a\":70000}\n";
  const std::string input = temp_file(content);
  const std::string reject = input + ".rej";
  Tool tool("test-tool", "test");
  REQUIRE_FALSE(tool.parse({"--reject", reject, "--max-line-bytes", "2000", input}).has_value());
  RecordInput in(tool);
  JsonRecord rec;
  REQUIRE(in.next(rec));
  CHECK(*rec.number("a") == 0);
  Numbers numbers;
  std::string controls;
  in.on_control([&](std::string_view line) {
    controls += std::string(line) + "\n";
    numbers.order += 'c';
    return true;
  });
  in.replay(numbers, 1);
  CHECK(in.status().is_ok());
  CHECK(numbers.seen == good_values);
  std::string lines;
  for (const auto& l : numbers.lines) lines += l + "\n";
  CHECK(lines == expected_lines);
  CHECK(controls == "{\"_ctl\":\"note\"}\n");
  CHECK(numbers.order.substr(0, 4) == "rrcr");  // records 1-3, a bad line, 4-5, the control line, then on
  CHECK(in.control_lines() == 1);
  CHECK(tool.stats().in == 70001);
  CHECK(tool.bad_input().count() == bad.size());
  std::string expected;
  for (const auto& b : bad) expected += b + "\n";
  CHECK(slurp(reject) == expected);
  CHECK(tool.finish() == exit_ok);
  std::remove(input.c_str());
  std::remove(reject.c_str());
}

TEST_CASE("replay in batches stops at the first bad line under --strict", "[core][ndjson][policy]") {
  std::string content;
  for (int i = 0; i < 20000; ++i) content += "{\"a\":" + std::to_string(i) + "}\n" + (i == 15000 ? "bad\n" : "");
  const std::string input = temp_file(content);
  Tool tool("test-tool", "test");
  REQUIRE_FALSE(tool.parse({"--strict", input}).has_value());
  RecordInput in(tool);
  Numbers numbers;
  in.replay(numbers, 2);
  REQUIRE(numbers.seen.size() == 15001);
  CHECK(numbers.seen.back() == 15000);
  CHECK(tool.stats().in == 15001);
  CHECK(tool.finish(in.status()) == exit_data);
  std::remove(input.c_str());
}

TEST_CASE("replay in batches names the file of a bad line after the next file opened", "[core][ndjson][policy]") {
  const std::string a = temp_file("{\"a\":1}\nbad in a\n{\"a\":2}\n");
  const std::string b = temp_file("{\"a\":3}\nbad in b\n");
  const std::string err = temp_file("");
  Tool tool("test-tool", "test");
  REQUIRE_FALSE(tool.parse({a, b}).has_value());
  RecordInput in(tool);
  Numbers numbers;
  {
    // BadInput prints to stderr: catch it.
    std::fflush(stderr);
    const int saved = dup(2);
    std::FILE* f = std::fopen(err.c_str(), "w");
    dup2(fileno(f), 2);
    in.replay(numbers, 1);
    std::fflush(stderr);
    dup2(saved, 2);
    close(saved);
    std::fclose(f);
  }
  CHECK(numbers.seen == std::vector<int>{1, 2, 3});
  CHECK(slurp(err) == "test-tool: " + a + ":2: not a JSON object\ntest-tool: " + b + ":2: not a JSON object\n");
  std::remove(a.c_str());
  std::remove(b.c_str());
  std::remove(err.c_str());
}
