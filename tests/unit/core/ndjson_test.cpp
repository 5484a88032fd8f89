#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "citypipe/core/json_record.h"
#include "citypipe/core/json_write.h"
#include "citypipe/core/line_reader.h"
#include "../temp_file.h"

using namespace citypipe;

namespace {

struct ReadLine {
  std::string text;
  std::string file;
  std::uint64_t number;
  bool too_long;
};

std::vector<ReadLine> read_all(const std::vector<std::string>& files, std::size_t max_line,
                               std::size_t chunk = 1 << 20) {
  LineReader reader(files, max_line, 64, chunk);
  std::vector<ReadLine> lines;
  Line line;
  while (reader.next(line)) {
    CHECK(line.capacity >= line.text.size() + 64);
    lines.push_back({std::string(line.text), *line.file, line.number, line.too_long});
  }
  CHECK(reader.status().is_ok());
  return lines;
}

}  // namespace

TEST_CASE("lines carry file and number, CRLF and a missing last newline are accepted", "[ndjson]") {
  const std::string a = temp_file("{\"a\":1}\r\n{\"a\":2}\n{\"a\":3}");
  const std::string b = temp_file("x\n\ny\n");
  const auto lines = read_all({a, b}, 1 << 20);
  REQUIRE(lines.size() == 6);
  CHECK(lines[0].text == "{\"a\":1}");
  CHECK(lines[1].text == "{\"a\":2}");
  CHECK(lines[2].text == "{\"a\":3}");
  CHECK(lines[2].file == a);
  CHECK(lines[2].number == 3);
  CHECK(lines[3].file == b);
  CHECK(lines[3].number == 1);
  CHECK(lines[4].text.empty());
  CHECK(lines[5].number == 3);
  std::remove(a.c_str());
  std::remove(b.c_str());
}

TEST_CASE("a line over the limit is reported once and skipped, neighbours intact", "[ndjson]") {
  const std::string big(5000, 'x');
  const std::string f = temp_file("first\n" + big + "\nlast\n" + big);
  const auto lines = read_all({f}, 1000);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0].text == "first");
  CHECK(lines[1].too_long);
  CHECK(lines[1].text.size() >= 1000);
  CHECK(lines[1].number == 2);
  CHECK(lines[2].text == "last");
  CHECK(lines[2].number == 3);
  CHECK(lines[3].too_long);
  std::remove(f.c_str());
}

TEST_CASE("many lines across chunk boundaries come out whole", "[ndjson]") {
  std::string content;
  for (int i = 0; i < 200000; ++i) content += "{\"i\":" + std::to_string(i) + "}\n";
  const std::string f = temp_file(content);
  const auto lines = read_all({f}, 100, 1000);
  REQUIRE(lines.size() == 200000);
  CHECK(lines[123456].text == "{\"i\":123456}");
  std::remove(f.c_str());
}

TEST_CASE("newline_offsets finds every newline, as a byte-by-byte search does", "[ndjson]") {
  // Lengths around the 16- and 64-byte steps of the two kernels, newlines
  // dense and sparse, at the first and the last byte, and none.
  std::uint64_t state = 7;
  auto next = [&state] { return state = state * 6364136223846793005ULL + 1442695040888963407ULL; };
  for (int round = 0; round < 400; ++round) {
    const std::size_t size = round < 200 ? static_cast<std::size_t>(round) : next() % 3000;
    const unsigned every = 1 + static_cast<unsigned>(next() % 200);
    std::string text(size, 'x');
    for (auto& c : text) c = next() % every == 0 ? '\n' : static_cast<char>('a' + next() % 26);
    std::vector<std::uint32_t> want;
    for (std::size_t i = 0; i < text.size(); ++i)
      if (text[i] == '\n') want.push_back(static_cast<std::uint32_t>(i));
    std::vector<std::uint32_t> got(want.size() + 1, 99);
    REQUIRE(citypipe::newline_offsets(text, got.data(), got.size()) == want.size());
    got.pop_back();
    REQUIRE(got == want);
    // With less room: the first ones only, the count still whole.
    std::vector<std::uint32_t> few(want.size() / 2 + 1, 99);
    const std::size_t room = want.size() / 2;
    REQUIRE(citypipe::newline_offsets(text, few.data(), room) == want.size());
    REQUIRE(std::equal(few.begin(), few.begin() + static_cast<std::ptrdiff_t>(room), want.begin()));
    REQUIRE(few[room] == 99);
  }
}

TEST_CASE("a missing file is exit 66 before reading", "[ndjson]") {
  LineReader reader({"/nonexistent/file.ndjson"}, 100);
  CHECK(reader.check_files().code() == exit_no_input);
}

TEST_CASE("records expose typed top-level fields", "[ndjson]") {
  JsonParser parser;
  JsonRecord rec;
  std::string err;
  REQUIRE(parser.parse(
      R"({"ts":"2026-11-22T14:00:00Z","zone":"Down\"town","t":21.5,"n":42,"ok":true,"x":null,"arr":[1,{"b":2}],"o":{"k":"v"}})",
      rec, err));
  CHECK(rec.fields().size() == 8);
  CHECK(rec.string("zone") == std::string_view("Down\"town"));
  CHECK(rec.number("t") == 21.5);
  CHECK(rec.find("n")->integral);
  CHECK(rec.find("n")->integer == 42);
  CHECK_FALSE(rec.find("t")->integral);
  CHECK(rec.boolean("ok") == true);
  CHECK(rec.find("x")->type == json_type::null);
  CHECK(rec.find("arr")->text == R"([1,{"b":2}])");
  CHECK(rec.find("o")->type == json_type::object);
  CHECK(rec.time("ts") == parse_rfc3339("2026-11-22T14:00:00Z"));
  CHECK_FALSE(rec.number("zone").has_value());
  CHECK(rec.find("missing") == nullptr);
}

TEST_CASE("lines that are not one JSON object are refused with a reason", "[ndjson]") {
  JsonParser parser;
  JsonRecord rec;
  std::string err;
  for (const char* bad : {"", "   ", "[1,2]", "42", "\"s\"", "{\"a\":", "{\"a\":1", "{\"a\":NaN}",
                          "{\"a\":1} {\"b\":2}", "{\"a\":1}x", "{a:1}", "{\"a\":1e999}",
                          "{\"a\":\"\xff\xfe\"}", "not json", "{\"a\":nul}", "{\"a\":nulll}",
                          "{\"a\":n}"}) {
    INFO(bad);
    CHECK_FALSE(parser.parse(bad, rec, err));
    CHECK_FALSE(err.empty());
  }
  CHECK(parser.parse("  {\"a\":1}  ", rec, err));
  CHECK(parser.parse("{}", rec, err));
  CHECK(rec.fields().empty());
}

TEST_CASE("JSON output: numbers shortest, strings escaped, objects extended", "[ndjson]") {
  std::string out;
  append_json_number(out, 0.1);
  out += ' ';
  append_json_number(out, 42.0);
  out += ' ';
  append_json_number(out, -1.5e-7);
  out += ' ';
  append_json_number(out, std::numeric_limits<double>::quiet_NaN());
  CHECK(out == "0.1 42 -1.5e-07 null");
  out.clear();
  append_json_string(out, "a\"b\\c\n\x01");
  CHECK(out == R"("a\"b\\c\n\u0001")");
  out.clear();
  ObjectWriter(out, R"({"a":1} )").key("score").number(0.75).finish();
  CHECK(out == "{\"a\":1,\"score\":0.75}\n");
  out.clear();
  ObjectWriter(out, "{ }").key("x").boolean(true).finish();
  CHECK(out == "{\"x\":true}\n");
  out.clear();
  ObjectWriter(out, "{\r}").key("x").integer(1).finish();
  CHECK(out == "{\"x\":1}\n");
  out.clear();
  ObjectWriter w(out);
  w.key("ts").time(0);
  w.key("k").string("v");
  w.finish();
  CHECK(out == "{\"ts\":\"1970-01-01T00:00:00.000Z\",\"k\":\"v\"}\n");
}

namespace {

// A record's fields as text, to compare two parses.
std::string dump(const JsonRecord& rec) {
  std::string out;
  for (const auto& f : rec.fields()) {
    CHECK(f.key_prefix == name_prefix(f.key));
    out += std::string(f.key) + "=" + std::to_string(static_cast<int>(f.type)) + ":" +
           std::to_string(f.number) + ":" + std::to_string(f.integral) + ":" + std::to_string(f.boolean) +
           ":" + std::string(f.text) + ";";
  }
  return out;
}

}  // namespace

TEST_CASE("the flat fast path agrees with simdjson on every line", "[ndjson]") {
  const std::vector<std::string> lines = {
      R"({"ts":"2026-11-22T14:00:00Z","zone":"Downtown","t":21.5,"n":42,"ok":true,"x":null})",
      R"({ "a" : 1 , "b" : [1] })",
      R"({"k\u0065y":"v\"q","o":{"k":"v"}})",
      "{}", " { } ", "\t{\"a\":2}\r", "", "   ", "[1,2]", "42", "\"s\"", "{\"a\":", "{\"a\":1",
      "}", "{\"a\":NaN}", "{\"a\":1} {\"b\":2}", "{\"a\":1}x", "{a:1}", "{\"a\":1e999}",
      "{\"a\":\"\xff\xfe\"}", "{\"a\":\"unclosed}", "not json", "{\"a\":tru}", "{\"a\":truex}",
      "{\"a\":nul}", "{\"a\":nulll}", "{\"a\":[1,2}", "{\"s\":\"caf\xc3\xa9\",\"n\":-0.5e3}",
      "{\"a\":\"tab\there\"}", "{\"a\":-0}", "{\"a\":-0.0}", "{\"a\":0.1}", "{\"a\":01}", "{\"a\":1.}",
      "{\"a\":.5}", "{\"a\":+1}", "{\"a\":1e}", "{\"a\":1e+2}", "{\"a\":1E-2}", "{\"a\":-}",
      "{\"a\":9223372036854775807}", "{\"a\":9223372036854775808}", "{\"a\":-9223372036854775808}",
      "{\"a\":18446744073709551616}", "{\"a\":1234567890123456789012}", "{\"a\":9007199254740993.0}",
      "{\"a\":123456789012345678e-5}", "{\"a\":1e22}", "{\"a\":1e23}", "{\"a\":4.9e-324}",
      "{\"a\":1,}", "{,\"a\":1}", "{\"a\" 1}", "{\"a\":1 \"b\":2}", "{\"a\":\"x\",\"a\":\"y\"}",
      "{\"\":\"\"}", "{\"a\":\"\xc3\"}", "{\"a\":\"\xed\xa0\x80\"}", "{\"a\":1}\xc3\xa9",
      "{\"a\":1234567.1234567}", "{\"a\":12345678}", "{\"a\":0.12345678}", "{\"a\":10.4,\"b\":7}",
      "{\"a\":1234567890123456789.5}", "{\"a\":9999999999999999999.9}", "{\"a\":-1.0000001e3}",
      "{\"a\":123456789.1}", "{\"a\":1.1234567890123456789}", "{\"a\":7", "{\"a\":7.",
      // Digits counted across the point (19 fit), and words cut short at the line's end.
      "{\"a\":1234567890.123456789}", "{\"a\":1234567890.1234567891}", "{\"a\":12345678901234567890}",
      "{\"a\":-12.5,\"b\":false,\"c\":null,\"d\":true}", "{\"a\":fals}", "{\"a\":fal", "{\"a\":nul",
      "{\"a\":tru", "{\"a\":f}", "{\"a\":-x}", "{\"a\":-}", "{\"a\":falsee}", "{\"a\":1.5e}",
      // Quotes where no string may start: each string is taken as its opening quote and the next.
      "{\"a\":1\"b\":2}", "{\"a\"\"b\":1}", "{\"a\":\"x\"\"y\"}", "{\"a\":1,\"b\"}", "{\"a\":\"b\":\"c\"}",
      "{\"a\":\"}", "{\"a\":\"b}\"}", "{\"a\":true\"}", "{\"\"}", "{\"a\":\"b\",\"}", "{\"a\":[\"]\"]}",
      // Arrays and objects as values: the fast path checks them and keeps their text.
      R"({"score":0.4,"reasons":[]})", R"({"a":{}})", R"({"a":[ ]})", R"({"a":[] ,"b":1})", R"({"a":[]})",
      R"({"a":[1,"x",true,null,-2.5,[],{}]})", R"({"a":{"b":[1,{"c":null}]},"d":2})", R"({"a":[1,]})",
      R"({"a":[,1]})", R"({"a":{"b"}})", R"({"a":{"b":}})", R"({"a":{1:2}})", R"({"a":[1 2]})", R"({"a":[tru]})",
      R"({"a":[01]})", R"({"a":[1e999]})", R"({"a":["é"]})", "{\"a\":[\"caf\xc3\xa9\"]}",
      "{\"a\":[\"\xff\"]}", R"({ "a" : [ 1 , 2 ] , "b" : { "c" : [ ] } , "d" : { } })", R"({"a":[[[[]]]]})",
      R"({"a":]})", R"({"a":[})", R"({"a":{]})", R"({"a":[1})", R"({"a":{"k":1]})", R"({"a":[1]])",
      R"({"reasons":["aqi_high","noise"],"score":0.9})", "{\"a\":[\t1\r\n]}", R"({"a":{"k":1,}})",
      std::string("{\"a\":") + std::string(40, '[') + std::string(40, ']') + "}",
      std::string("{\"a\":") + std::string(20, '[') + std::string(20, ']') + "}",
  };
  JsonParser fast(true), slow(false);
  // Each line alone, and again with digits in the readable bytes after it,
  // which a number at the end of the line must not take in.
  std::vector<std::pair<std::string, std::size_t>> cases;
  for (const auto& line : lines) {
    cases.emplace_back(line, line.size());
    cases.emplace_back(line + "0123456789012345678901234567890123456789012345678901234567890123456789", line.size());
    cases.emplace_back(line + "12}" + std::string(70, ' '), line.size());
  }
  for (const auto& [buffer, size] : cases) {
    const std::string_view line(buffer.data(), size);
    INFO(line);
    JsonRecord a, b;
    std::string ea, eb;
    const bool ok_fast = fast.parse(line, buffer.size(), a, ea);
    const bool ok_slow = slow.parse(line, b, eb);
    REQUIRE(ok_fast == ok_slow);
    if (ok_fast) {
      CHECK(dump(a) == dump(b));
      for (std::size_t i = 0; i < a.fields().size(); ++i) {
        CHECK(a.fields()[i].integer == b.fields()[i].integer);
        CHECK(std::signbit(a.fields()[i].number) == std::signbit(b.fields()[i].number));
        CHECK(a.fields()[i].number == b.fields()[i].number);
      }
    } else {
      CHECK(ea == eb);
    }
  }
  // The fast path takes the usual records itself.
  detail::FieldStore fields;
  CHECK(detail::parse_flat(lines[0], lines[0].size(), fields));
  CHECK(fields.size == 6);
  CHECK_FALSE(detail::parse_flat(lines[2], lines[2].size(), fields));
  // And scored records, whose reasons are an array.
  const std::string scored = R"({"ts":"2026-01-01T00:00:00.000Z","score":0.41,"reasons":[],"severity":"none"})";
  CHECK(detail::parse_flat(scored, scored.size(), fields));
  REQUIRE(fields.size == 4);
  CHECK(fields.room[2].type == json_type::array);
  CHECK(fields.room[2].text == "[]");
}

TEST_CASE("the flat fast path agrees with simdjson on damaged records", "[ndjson]") {
  // Typical records, then copies with bytes replaced, dropped or added, each
  // parsed with readable bytes after it, as lines of a read buffer are.
  const std::vector<std::string> records = {
      R"({"ts":"2026-01-01T00:00:00.025Z","sensor_id":"city-0002","zone":"University District","temperature":7.9,"humidity":68.3,"aqi":28,"noise_db":51.4,"traffic":14,"injected_anomaly":false})",
      R"({"ts":"2026-01-01T00:01:00.000Z","zone":"Harbor","kwh":-0.125,"ok":true,"note":null,"tags":["a","b"],"o":{"k":1}})",
      R"({"a":"café","b":"tab	in","c":"caf)" "Ã©" R"(","d":1e5,"e":-0,"f":123456789012,"g":0.000001})",
      R"({"k":"v"})", "{}",
  };
  const char alphabet[] = "{}[]\":,\\ \t\r0123456789.-+eEtrufalsn\x01\x1f\x7f\x80\xc3\xa9\xff xyz";
  const std::string pads[] = {std::string(64, ' '), "12}" + std::string(64, ' '), std::string(64, '"')};
  std::uint64_t seed = 42;
  auto next = [&seed] {  // splitmix64: the same cases on every run
    std::uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  JsonParser fast(true), slow(false);
  JsonRecord a, b;
  std::string ea, eb;
  std::size_t accepted = 0, disagreements = 0;
  for (int i = 0; i < 100000; ++i) {
    std::string line = records[next() % records.size()];
    for (std::uint64_t m = 0, count = next() % 4; m < count && !line.empty(); ++m) {
      const std::size_t at = next() % line.size();
      const char c = alphabet[next() % (sizeof alphabet - 1)];
      switch (next() % 3) {
        case 0: line[at] = c; break;
        case 1: line.erase(at, 1 + next() % 3); break;
        default: line.insert(at, 1, c); break;
      }
    }
    const std::string buffer = line + pads[next() % 3];
    const bool ok_fast = fast.parse(std::string_view(buffer.data(), line.size()), buffer.size(), a, ea);
    const bool ok_slow = slow.parse(line, b, eb);
    bool same = ok_fast == ok_slow && (ok_fast ? dump(a) == dump(b) : ea == eb);
    for (std::size_t f = 0; same && ok_fast && f < a.fields().size(); ++f)
      same = a.fields()[f].number == b.fields()[f].number && a.fields()[f].integer == b.fields()[f].integer &&
             std::signbit(a.fields()[f].number) == std::signbit(b.fields()[f].number);
    if (!same && ++disagreements <= 3) FAIL_CHECK("fast and simdjson disagree on: " << line);
    accepted += ok_fast;
  }
  CHECK(disagreements == 0);
  CHECK(accepted > 10000);  // damaged copies that are still valid JSON, and the originals
}

TEST_CASE("the flat fast path reads numbers of every length as simdjson does", "[ndjson]") {
  // Digit runs of 0 to 10 on each side of the point, signs, exponents and
  // what may follow, in the compact form (whose numbers end before the '}').
  std::uint64_t seed = 7;
  auto next = [&seed] {  // splitmix64
    std::uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  auto digits = [&](std::size_t n) {
    std::string d;
    for (std::size_t i = 0; i < n; ++i) d += static_cast<char>('0' + next() % 10);
    return d;
  };
  const char* tails[] = {"", "", "", "e3", "E-2", ".", "x", "-1", "e", " "};
  JsonParser fast(true), slow(false);
  JsonRecord a, b;
  std::string ea, eb;
  std::size_t accepted = 0, disagreements = 0;
  for (int i = 0; i < 200000; ++i) {
    std::string number = next() % 4 == 0 ? "-" : "";
    number += digits(next() % 11);
    if (next() % 3 != 0) {
      number += '.';
      number += digits(next() % 11);
    }
    number += tails[next() % 10];
    const std::string line = R"({"a":)" + number + R"(,"b":)" + digits(1 + next() % 3) + "}";
    const std::string buffer = line + digits(40);
    const bool ok_fast = fast.parse(std::string_view(buffer.data(), line.size()), buffer.size(), a, ea);
    const bool ok_slow = slow.parse(line, b, eb);
    bool same = ok_fast == ok_slow && (ok_fast ? dump(a) == dump(b) : ea == eb);
    for (std::size_t f = 0; same && ok_fast && f < a.fields().size(); ++f)
      same = a.fields()[f].number == b.fields()[f].number && a.fields()[f].integer == b.fields()[f].integer &&
             a.fields()[f].integral == b.fields()[f].integral &&
             std::signbit(a.fields()[f].number) == std::signbit(b.fields()[f].number);
    if (!same && ++disagreements <= 3) FAIL_CHECK("fast and simdjson disagree on: " << line);
    accepted += ok_fast;
  }
  CHECK(disagreements == 0);
  CHECK(accepted > 50000);
}

TEST_CASE("the flat fast path takes keys where the line before had them only when they are there", "[ndjson]") {
  // Each line parsed right after each other one by the same parser, which
  // guesses the keys of a line from those of the line before.
  const std::vector<std::string> lines = {
      R"({"a":1,"b":2})", R"({"a":1,"b":2,"c":3})", R"({"ab":1,"b":2})", R"({"a":"b","b":2})", R"({"b":1,"a":2})",
      R"({"a":1})", R"({"a}":1})", R"({"a":1,"b})", R"({"a":1,"b"})", R"({"a":1,"b":})", R"({"a":1,"b":2,})",
      R"({"a":1,"b":"A"})", R"({"a"b":1})", R"({"a":1,"b":2}x)", R"({"a":1,"b:2})", R"({"a":1,"b" :2})",
      R"({"a_very_long_key_of_thirty_char":1,"b":2})", R"({"a_very_long_key_of_twenty_nine":1,"b":2})",
      R"({"a_very_long_key_of_twenty_nin":1,"b":2})", R"({"a_very_long_key_of_twenty_nine":1})", "{}",
      R"({"ts":"2026-01-01T00:00:00.025Z","zone":"Harbor","aqi":28})", R"({"ts":"x","zone":"Harbor","aqi":28})",
  };
  JsonParser fast(true), slow(false);
  JsonRecord a, b;
  std::string ea, eb;
  std::size_t disagreements = 0;
  for (const auto& before : lines) {
    for (const auto& line : lines) {
      // Padding that repeats the line's own tail, so that a key may seem to
      // go on past the end; and padding too short for the compact path.
      const std::string room(32, ' ');
      for (const std::string& pad : {std::string(64, ' '), line + line + room, std::string(2, '"') + line + room,
                                     line + line}) {
        const std::string buffer = line + pad;
        const std::string before_buffer = before + room;
        fast.parse(std::string_view(before_buffer.data(), before.size()), before_buffer.size(), a, ea);
        const bool ok_fast = fast.parse(std::string_view(buffer.data(), line.size()), buffer.size(), a, ea);
        const bool ok_slow = slow.parse(line, b, eb);
        if ((ok_fast != ok_slow || (ok_fast ? dump(a) != dump(b) : ea != eb)) && ++disagreements <= 3)
          FAIL_CHECK("after " << before << ", fast and simdjson disagree on: " << line);
      }
    }
  }
  CHECK(disagreements == 0);
}

TEST_CASE("a guessed key never matches across the line's closing brace", "[ndjson]") {
  // The line ends inside what the line before had as a key, "b}"; after it,
  // to the very end of the readable bytes, what would complete that key and
  // a number. Taking the key there would read on past the line, and, under
  // the sanitizers, past the buffer.
  JsonParser parser;
  JsonRecord rec;
  std::string error;
  const std::string before = R"({"x":1,"b}":2})" + std::string(64, ' ');
  REQUIRE(parser.parse(std::string_view(before.data(), 14), before.size(), rec, error));
  const std::string line = R"({"x":1,"b})", rest = "\":" + std::string(40, '7');
  const auto buffer = std::make_unique<char[]>(line.size() + rest.size());
  std::memcpy(buffer.get(), line.data(), line.size());
  std::memcpy(buffer.get() + line.size(), rest.data(), rest.size());
  CHECK_FALSE(parser.parse(std::string_view(buffer.get(), line.size()), line.size() + rest.size(), rec, error));
}

TEST_CASE("records with the same layout id have the same keys in the same order", "[ndjson]") {
  // Lines in an order that changes keys, their order and count, and a bad
  // line that changes the guessed keys half way; then every pair of records
  // from one parser: equal ids only with equal key lists.
  const std::vector<std::string> lines = {
      R"({"a":1,"b":2})", R"({"a":3,"b":4})", R"({"a":1,"b":2,"c":3})", R"({"a":1,"b":2})", R"({"b":1,"a":2})",
      R"({"a":1,"b":2})", R"({"c":1,"d":x})", R"({"c":1,"d":2})", R"({"a":1,"b":2})", R"({"a":1})",
      R"({ "a":1, "b":2 })", R"({"a":1,"b":2})", R"({"a":"A","b":2})", R"({"a":1,"b":2})", "{}", "{}",
      R"({"a_key_much_longer_than_thirty_bytes_is_never_guessed":1})",
      R"({"a_key_much_longer_than_thirty_bytes_is_never_guessed":1})", R"({"a":1,"b":2})",
      R"({"a":1,"b":2,"c":3})", R"({"a":1,"b":2})", R"({"a":1,"x":2,"c":3})", R"({"a":1,"b":2,"c":3})",
      R"({"a":1,"b":2})", R"({"a":1,"b":2,"d":3})", R"({"a":1,"b":2,"c":3})", R"({"a":1,"b":2})",
  };
  JsonParser parser;
  std::vector<std::pair<std::uint64_t, std::vector<std::string>>> seen;
  std::size_t same = 0;
  for (const auto& line : lines) {
    const std::string buffer = line + std::string(64, ' ');
    JsonRecord rec;
    std::string error;
    if (!parser.parse(std::string_view(buffer.data(), line.size()), buffer.size(), rec, error)) continue;
    std::vector<std::string> keys;
    for (const auto& f : rec.fields()) keys.emplace_back(f.key);
    CHECK(rec.layout() != 0);
    for (const auto& [id, other] : seen) {
      if (id == rec.layout()) {
        ++same;
        CHECK(other == keys);
      }
    }
    seen.emplace_back(rec.layout(), keys);
  }
  // The usual stream keeps its id where the compact path guesses keys (the
  // AVX2 and AVX-512 kernels); the portable one gives every record a new id.
  if (JsonParser::kernel() != "portable") CHECK(same >= 5);
  else CHECK(same == 0);
  // A stream whose lines now and then have one more field goes back and
  // forth between two ids.
  {
    JsonParser alternating;
    std::set<std::uint64_t> ids;
    for (int i = 0; i < 6; ++i) {
      const std::string line = i % 2 == 0 ? R"({"a":1,"b":2})" : R"({"a":1,"b":2,"kind":"spike"})";
      const std::string buffer = line + std::string(64, ' ');
      JsonRecord rec;
      std::string error;
      REQUIRE(alternating.parse(std::string_view(buffer.data(), line.size()), buffer.size(), rec, error));
      ids.insert(rec.layout());
    }
    if (JsonParser::kernel() != "portable") CHECK(ids.size() == 2);
    else CHECK(ids.size() == 6);
  }
  // Another parser's ids are its own.
  JsonParser other;
  JsonRecord a, b;
  std::string error;
  const std::string line = R"({"a":1,"b":2})" + std::string(64, ' ');
  REQUIRE(parser.parse(std::string_view(line.data(), 13), line.size(), a, error));
  REQUIRE(other.parse(std::string_view(line.data(), 13), line.size(), b, error));
  CHECK(a.layout() != b.layout());
}

TEST_CASE("FieldLookup finds the same fields as a search by name, record after record", "[ndjson]") {
  const std::vector<std::string> lines = {
      R"({"a":1,"b":2,"c":3})", R"({"a":4,"b":5,"c":6})", R"({"b":7,"a":8})", R"({"b":9,"a":10})",
      R"({"a":11,"b":12,"c":13})", R"({"c":14})", R"({ "a":15, "c":16 })", R"({"a":17,"b":18,"c":19})", "{}",
      R"({"a":20,"b":21,"c":22})", R"({"a":23,"b":24})", R"({"a":25,"b":26,"c":27})", R"({"a":28,"b":29})",
      R"({"a":30,"c":31,"b":32})", R"({"a":33,"b":34})", R"({"a":35,"b":36,"c":37})", R"({"c":38,"a":39})",
  };
  JsonParser parser;
  FieldLookup lookup({FieldName("c"), FieldName("a"), FieldName("x")});
  for (const auto& line : lines) {
    const std::string buffer = line + std::string(64, ' ');
    JsonRecord rec;
    std::string error;
    REQUIRE(parser.parse(std::string_view(buffer.data(), line.size()), buffer.size(), rec, error));
    INFO(line);
    const FieldHits found = lookup.find(rec);
    CHECK(found[0] == rec.find("c"));
    CHECK(found[1] == rec.find("a"));
    CHECK(found[2] == nullptr);
  }
}

TEST_CASE("FieldName finds fields by name, at the hinted slot or elsewhere", "[ndjson]") {
  JsonParser parser;
  JsonRecord rec;
  std::string err;
  REQUIRE(parser.parse(R"({"a":1,"temperature":2,"temperaturE":3,"humidity":4,"hum":5,"x\u0079z":6})", rec, err));
  std::size_t hint = 0;
  CHECK(rec.find(FieldName("temperature"), hint)->number == 2);
  CHECK(hint == 1);
  CHECK(rec.find(FieldName("temperaturE"), hint)->number == 3);
  CHECK(hint == 2);
  CHECK(rec.find(FieldName("humidity"), hint)->number == 4);
  CHECK(rec.find(FieldName("hum"), hint)->number == 5);
  CHECK(rec.find(FieldName("xyz"), hint)->number == 6);  // unescaped by simdjson
  CHECK(rec.find(FieldName("a"), hint)->number == 1);
  CHECK(hint == 0);
  CHECK(rec.find(FieldName("humidit"), hint) == nullptr);
  CHECK(rec.find(FieldName("temperatur"), hint) == nullptr);
  CHECK(rec.find(FieldName(""), hint) == nullptr);
  hint = 99;
  CHECK(rec.find(FieldName("hum"), hint)->number == 5);
}
