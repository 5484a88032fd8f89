#include <catch2/catch.hpp>

#include "citypipe/pg/copy_encoder.h"

using namespace citypipe;
using namespace citypipe::pg;

namespace {

struct Row {
  JsonParser parser;
  JsonRecord rec;
  std::vector<const JsonField*> values(std::string_view line, const std::vector<std::string>& names) {
    std::string error;
    REQUIRE(parser.parse(line, rec, error));
    std::vector<const JsonField*> out;
    for (const auto& n : names) out.push_back(rec.find(n));
    return out;
  }
};

std::string hex(std::string_view s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) out += {d[c >> 4], d[c & 15]};
  return out;
}

}  // namespace

TEST_CASE("binary COPY header, trailer and scalar encodings", "[copy]") {
  CopyEncoder enc({col_type::bigint, col_type::double_precision, col_type::boolean, col_type::text,
                   col_type::timestamptz, col_type::integer},
                  true);
  CHECK(hex(enc.header()) == "5047434f50590aff0d0a00" "00000000" "00000000");
  CHECK(hex(enc.trailer()) == "ffff");
  Row r;
  auto v = r.values(R"({"a":-2,"b":1.5,"c":true,"d":"hé","e":"2000-01-01T00:00:01.5Z"})",
                    {"a", "b", "c", "d", "e", "missing"});
  std::string out, error;
  REQUIRE(enc.append_row(out, v.data(), error));
  CHECK(hex(out) ==
        "0006"
        "00000008" "fffffffffffffffe"
        "00000008" "3ff8000000000000"
        "00000001" "01"
        "00000003" "68c3a9"
        "00000008" "000000000016e360"  // 1.5 s in microseconds
        "ffffffff");
}

TEST_CASE("jsonb gets its version byte, strings inside are re-escaped", "[copy]") {
  CopyEncoder enc({col_type::jsonb, col_type::jsonb}, true);
  Row r;
  auto v = r.values(R"({"a":[1, 2],"b":"q\"x"})", {"a", "b"});
  std::string out, error;
  REQUIRE(enc.append_row(out, v.data(), error));
  CHECK(out.substr(2) == std::string("\0\0\0\x07\x01[1, 2]\0\0\0\x07\x01\"q\\\"x\"", 22));
}

TEST_CASE("values that do not convert leave the output unchanged", "[copy]") {
  CopyEncoder enc({col_type::bigint, col_type::smallint, col_type::boolean, col_type::timestamptz,
                   col_type::jsonb, col_type::text},
                  true);
  Row r;
  std::string out = "keep", error;
  auto bad_int = r.values(R"({"a":21.4})", {"a", "x", "x", "x", "x", "x"});
  CHECK_FALSE(enc.append_row(out, bad_int.data(), error));
  CHECK(error == "field 'a': 21.4 is not an integer (column is bigint)");
  CHECK(out == "keep");
  auto ok_int = r.values(R"({"a":21.0})", {"a", "x", "x", "x", "x", "x"});
  CHECK(enc.append_row(out, ok_int.data(), error));
  auto small = r.values(R"({"b":40000})", {"x", "b", "x", "x", "x", "x"});
  CHECK_FALSE(enc.append_row(out, small.data(), error));
  CHECK(error == "field 'b': 40000 is out of range (column is smallint)");
  auto str_bool = r.values(R"({"c":"yes"})", {"x", "x", "c", "x", "x", "x"});
  CHECK_FALSE(enc.append_row(out, str_bool.data(), error));
  auto bad_time = r.values(R"({"d":"yesterday"})", {"x", "x", "x", "d", "x", "x"});
  CHECK_FALSE(enc.append_row(out, bad_time.data(), error));
  CHECK(error == "field 'd': \"yesterday\" is not an RFC 3339 time (column is timestamptz)");
  auto nul_json = r.values(R"({"e":"a\u0000b"})", {"x", "x", "x", "x", "e", "x"});
  CHECK_FALSE(enc.append_row(out, nul_json.data(), error));
  auto nul_text = r.values(R"({"f":"a\u0000b"})", {"x", "x", "x", "x", "x", "f"});
  CHECK_FALSE(enc.append_row(out, nul_text.data(), error));
}

TEST_CASE("text COPY format escapes and writes NULL as \\N", "[copy]") {
  CopyEncoder enc({col_type::text, col_type::other, col_type::bigint, col_type::timestamptz,
                   col_type::boolean, col_type::jsonb},
                  false);
  CHECK(enc.header().empty());
  Row r;
  auto v = r.values(R"({"a":"t\tab\\n\nl","b":"1.50","c":7,"d":1700000000,"e":false,"f":{"k":"v"}})",
                    {"a", "b", "c", "d", "e", "f"});
  std::string out, error;
  REQUIRE(enc.append_row(out, v.data(), error));
  CHECK(out == "t\\tab\\\\n\\nl\t1.50\t7\t2023-11-14T22:13:20.000Z\tf\t{\"k\":\"v\"}\n");
  auto nulls = r.values(R"({"a":null})", {"a", "b", "c", "d", "e", "f"});
  out.clear();
  REQUIRE(enc.append_row(out, nulls.data(), error));
  CHECK(out == "\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n");
}

TEST_CASE("spans say where each column's value went", "[copy]") {
  Row r;
  auto v = r.values(R"({"a":7,"b":"x\ty","c":null})", {"a", "b", "c"});
  std::string error;
  for (bool binary : {true, false}) {
    CopyEncoder enc({col_type::bigint, col_type::text, col_type::text}, binary);
    std::string out = "prefix", plain = "prefix";
    FieldSpan spans[3];
    REQUIRE(enc.append_row(out, v.data(), error, spans));
    REQUIRE(enc.append_row(plain, v.data(), error));
    CHECK(out == plain);  // spans change nothing in the row
    auto at = [&](int i) { return out.substr(spans[i].begin, spans[i].end - spans[i].begin); };
    if (binary) {
      CHECK(hex(at(0)) == "00000008" "0000000000000007");
      CHECK(hex(at(1)) == "00000003" "780979");
      CHECK(hex(at(2)) == "ffffffff");
    } else {
      CHECK(at(0) == "7");
      CHECK(at(1) == "x\\ty");
      CHECK(at(2) == "\\N");
    }
  }
}

TEST_CASE("the row a failed COPY stopped at, from the error's context", "[copy]") {
  CHECK(copy_failed_row("COPY bench_k, line 12") == 12);
  CHECK(copy_failed_row("COPY t, line 3, column v: \"x\"") == 3);
  CHECK(copy_failed_row("COPY t, line 7: \"7\t2026-01-01\"") == 7);
  CHECK(copy_failed_row("COPY t, line 5\nPL/pgSQL function f() line 2 at RAISE") == 5);
  CHECK(copy_failed_row("PL/pgSQL function f() line 2 at RAISE\nCOPY t, line 5") == 0);
  CHECK(copy_failed_row("COPY t, line x") == 0);
  CHECK(copy_failed_row("") == 0);
}
