#include <catch2/catch.hpp>

#include "citypipe/kafka/offsets.h"

using namespace citypipe;

TEST_CASE("offsets become committable only once flushed", "[kafka]") {
  OffsetTracker t;
  CHECK(t.flushed().empty());
  t.written(0, 10);
  t.written(0, 11);
  t.written(3, 5);
  CHECK(t.has_pending());
  auto c = t.flushed();
  REQUIRE(c.size() == 2);
  CHECK(c[0] == std::pair<std::int32_t, std::int64_t>(0, 12));
  CHECK(c[1] == std::pair<std::int32_t, std::int64_t>(3, 6));
  CHECK_FALSE(t.has_pending());
  CHECK(t.flushed().empty());  // nothing new since
}

TEST_CASE("a revoked partition's unflushed records are never committed", "[kafka]") {
  OffsetTracker t;
  t.written(1, 7);
  t.written(2, 9);
  t.forget(1);
  auto c = t.flushed();
  REQUIRE(c.size() == 1);
  CHECK(c[0].first == 2);
  CHECK(c[0].second == 10);
}

TEST_CASE("start offsets for -o", "[kafka]") {
  CHECK(parse_start_offset("beginning")->where == StartOffset::kind::beginning);
  CHECK(parse_start_offset("end")->where == StartOffset::kind::end);
  CHECK(parse_start_offset("stored")->where == StartOffset::kind::stored);
  auto a = parse_start_offset("42");
  REQUIRE(a);
  CHECK(a->where == StartOffset::kind::absolute);
  CHECK(a->value == 42);
  auto r = parse_start_offset("-5");
  REQUIRE(r);
  CHECK(r->where == StartOffset::kind::relative_end);
  CHECK(r->value == 5);
  CHECK_FALSE(parse_start_offset(""));
  CHECK_FALSE(parse_start_offset("-"));
  CHECK_FALSE(parse_start_offset("12x"));
  CHECK_FALSE(parse_start_offset("latest"));
}

TEST_CASE("properties files and -X", "[kafka]") {
  std::vector<std::pair<std::string, std::string>> props;
  REQUIRE(parse_properties("# comment\n\n security.protocol = SASL_SSL\nsasl.password=a=b\r\n", props).is_ok());
  REQUIRE(props.size() == 2);
  CHECK(props[0].first == "security.protocol");
  CHECK(props[0].second == "SASL_SSL");
  CHECK(props[1].second == "a=b");
  auto bad = parse_properties("ok=1\nnot a property\n", props);
  CHECK(bad.kind() == errc::invalid_argument);
  CHECK(bad.message().find("line 2") != std::string::npos);
  CHECK_FALSE(split_property("novalue"));
  CHECK_FALSE(split_property("=x"));
  CHECK(split_property("linger.ms=0")->second == "0");
}
