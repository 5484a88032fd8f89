// The shared record conventions: one rule each, stated here by example.
#include <unistd.h>

#include <string>
#include <unordered_map>
#include <vector>

#include <catch2/catch.hpp>

#include "citypipe/core/json_record.h"
#include "citypipe/core/json_write.h"
#include "citypipe/core/line_reader.h"
#include "citypipe/core/record_fields.h"
#include "citypipe/core/util.h"
#include "../temp_file.h"

using namespace citypipe;

namespace {

// The record {"k": <json>} parsed by the real parser; its field k.
struct OneField {
  JsonParser parser;
  JsonRecord record;
  std::string line, error;  // the record's views point into line
  const JsonField& parse(const std::string& json) {
    line = "{\"k\":" + json + "}";
    REQUIRE(parser.parse(line, record, error));
    REQUIRE(record.fields().size() == 1);
    return record.fields()[0];
  }
};

}  // namespace

TEST_CASE("the input is live standard input when none is named or '-' is among them", "[conventions]") {
  CHECK(reads_live_stdin({}));
  CHECK(reads_live_stdin({"-"}));
  CHECK_FALSE(reads_live_stdin({"a.ndjson"}));
  CHECK(reads_live_stdin({"a.ndjson", "-"}));
  CHECK(reads_live_stdin({"-", "a.ndjson"}));
  CHECK_FALSE(reads_live_stdin({"a.ndjson", "b.ndjson"}));
}

TEST_CASE("a reader knows while it reads standard input", "[conventions]") {
  const std::string path = temp_file("{}\n");
  LineReader reader({path}, 1024);
  CHECK_FALSE(reader.reading_stdin());
  Line line;
  REQUIRE(reader.next(line));
  CHECK_FALSE(reader.reading_stdin());
  CHECK_FALSE(reader.next(line));
  unlink(path.c_str());

  // "-" after a file: standard input (a pipe here) only once the file is done.
  const std::string path2 = temp_file("{}\n");
  int p[2];
  REQUIRE(pipe(p) == 0);
  REQUIRE(write(p[1], "{}\n", 3) == 3);
  close(p[1]);
  const int saved = dup(0);
  REQUIRE(dup2(p[0], 0) == 0);
  close(p[0]);
  {
    LineReader both({path2, "-"}, 1024);
    REQUIRE(both.next(line));
    CHECK_FALSE(both.reading_stdin());
    REQUIRE(both.next(line));
    CHECK(both.reading_stdin());
    CHECK(both.current_file() == "<stdin>");
    CHECK_FALSE(both.next(line));
  }
  dup2(saved, 0);
  close(saved);
  unlink(path2.c_str());
}

TEST_CASE("measurements: numbers that are not times, ids or bookkeeping", "[conventions]") {
  for (const char* name : {"temperature", "aqi", "noise_db", "score", "year", "window_ms", "idle", "valid"})
    CHECK(is_measurement_name(name));
  for (const char* name : {"ts", "time", "timestamp", "device_ts", "arrival_time", "id", "sensor_id",
                           "sensorId", "deviceID", "seq", "label"})
    CHECK_FALSE(is_measurement_name(name));
  OneField one;
  CHECK(is_measurement(one.parse("21.5")));
  CHECK_FALSE(is_measurement(one.parse("\"21.5\"")));
  CHECK_FALSE(is_measurement(one.parse("true")));
  CHECK_FALSE(is_measurement(one.parse("null")));
}

TEST_CASE("a value as key text: one rule for null, numbers, booleans and strings", "[conventions]") {
  OneField one;
  std::string scratch;
  auto text = [&](const std::string& json) { return key_text(one.parse(json), scratch); };
  CHECK(text("\"Downtown\"") == "Downtown");
  CHECK(text("\"a\\\"b\"") == "a\"b");  // unescaped, not quoted
  CHECK(text("\"\"") == "");
  CHECK(text("21") == "21");
  CHECK(text("21.0") == "21");  // one key however the JSON wrote it
  CHECK(text("2.1e1") == "21");
  CHECK(text("-0.5") == "-0.5");
  CHECK(text("9007199254740993") == "9007199254740993");  // an integer exactly, past 2^53
  CHECK(text("true") == "true");
  CHECK(text("false") == "false");
  CHECK(text("[1,2]") == "[1,2]");
  CHECK(text("{\"a\":1}") == "{\"a\":1}");
  CHECK_FALSE(text("null").has_value());
}

TEST_CASE("floor_div rounds toward negative infinity", "[conventions]") {
  CHECK(floor_div(7, 2) == 3);
  CHECK(floor_div(-7, 2) == -4);
  CHECK(floor_div(-8, 2) == -4);
  CHECK(floor_div(7, -2) == -4);
  CHECK(floor_div(0, 5) == 0);
  CHECK(floor_div(-1, 60000) == -1);
  static_assert(floor_div(-1, 1000) == -1);
}

TEST_CASE("StringHash finds std::string keys by string_view", "[conventions]") {
  std::unordered_map<std::string, int, StringHash, std::equal_to<>> m;
  m.emplace("zone", 1);
  const std::string_view probe = "zone";
  auto it = m.find(probe);
  REQUIRE(it != m.end());
  CHECK(it->second == 1);
  CHECK(m.find(std::string_view("zon")) == m.end());
}

TEST_CASE("a value as JSON: strings quoted, numbers as written, the rest as it came", "[conventions]") {
  OneField one;
  auto json = [&](const std::string& text) {
    std::string out;
    append_json_value(out, one.parse(text));
    return out;
  };
  CHECK(json("null") == "null");
  CHECK(json("true") == "true");
  CHECK(json("21.0") == "21");
  CHECK(json("9007199254740993") == "9007199254740993");
  CHECK(json("-0.5") == "-0.5");
  CHECK(json("\"a\\\"b\\n\"") == "\"a\\\"b\\n\"");
  CHECK(json("[1, 2]") == "[1, 2]");
  CHECK(json("{\"a\":1}") == "{\"a\":1}");
}
