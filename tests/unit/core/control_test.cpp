#include "citypipe/core/control.h"

#include <catch2/catch.hpp>

using namespace citypipe;

TEST_CASE("control lines are recognised by their first member", "[control]") {
  CHECK(is_control_line(R"({"_ctl":"drain"})"));
  CHECK(!is_control_line(R"({"ts":1,"_ctl":"drain"})"));
  CHECK(!is_control_line(R"( {"_ctl":"drain"})"));
  CHECK(control_kind_of(R"({"_ctl":"checkpoint","id":1,"parts":[]})") == control_kind::checkpoint);
  CHECK(control_kind_of(R"({"_ctl":"assign"})") == control_kind::assign);
  CHECK(control_kind_of(R"({"_ctl":"revoke"})") == control_kind::revoke);
  CHECK(control_kind_of(R"({"_ctl":"drain"})") == control_kind::drain);
  CHECK(control_kind_of(R"({"_ctl":"future"})") == control_kind::other);
  CHECK(control_kind_of(R"({"_ctl":1})") == control_kind::other);
}

TEST_CASE("control lines round-trip through parse and format", "[control]") {
  for (const char* text : {
           R"({"_ctl":"checkpoint","id":7,"parts":[{"topic":"city","partition":3,"next":1200,"restart":1100,"state":"w=5;n=1200"},{"topic":"city","partition":4,"next":9}]})",
           R"({"_ctl":"checkpoint","id":1,"parts":[]})",
           R"({"_ctl":"assign","topic":"t\"q","partition":0,"offset":-1,"state":""})",
           R"({"_ctl":"revoke","topic":"city","partition":2})",
           R"({"_ctl":"drain"})"}) {
    std::string error;
    auto c = parse_control(text, error);
    INFO(text << " " << error);
    REQUIRE(c);
    CHECK(format_control(*c) == text);
  }
}

TEST_CASE("malformed control lines are errors", "[control]") {
  std::string error;
  CHECK(!parse_control(R"({"_ctl":"checkpoint","parts":[]})", error));
  CHECK(error.find("needs id") != std::string::npos);
  CHECK(!parse_control(R"({"_ctl":"assign","topic":"x"})", error));
  CHECK(!parse_control(R"({"_ctl":"revoke","topic":"x","partition":-2})", error));
  CHECK(!parse_control(R"({"_ctl":"drain")", error));
}

TEST_CASE("kafka_position reads kafka-cat-in's _kafka member", "[control]") {
  auto p = kafka_position(R"({"topic":"city","partition":12,"offset":34567,"key":"partition","timestamp":null})");
  REQUIRE(p);
  CHECK(p->topic == "city");
  CHECK(p->partition == 12);
  CHECK(p->offset == 34567);
  CHECK(!kafka_position(R"({"topic":"city","offset":1})"));
  CHECK(!kafka_position(R"({"partition":1,"offset":1})"));
  CHECK(!kafka_position(R"({"topic":"city","partition":"1","offset":1})"));
}
