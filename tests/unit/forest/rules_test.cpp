#include "citypipe/forest/rules.h"

#include <catch2/catch.hpp>

using namespace citypipe;

TEST_CASE("rules parse field, operator, value and severity", "[rules]") {
  Rule r;
  REQUIRE(parse_rule("aqi>300:high", r).is_ok());
  CHECK(r.field == "aqi");
  CHECK(r.op == Rule::Op::gt);
  CHECK(r.value == 300);
  CHECK(r.severity == Severity::high);
  CHECK(r.text == "aqi>300");
  // The longest operator wins: >= is not > followed by "=1".
  REQUIRE(parse_rule("a>=1", r).is_ok());
  CHECK(r.op == Rule::Op::ge);
  CHECK(r.severity == Severity::medium);  // the default
  REQUIRE(parse_rule(" temperature < -5 : low ", r).is_ok());
  CHECK(r.op == Rule::Op::lt);
  CHECK(r.value == -5);
  CHECK(r.text == "temperature<-5");
  REQUIRE(parse_rule("x<=2.5", r).is_ok());
  CHECK(r.op == Rule::Op::le);
  REQUIRE(parse_rule("x!=0", r).is_ok());
  CHECK(r.op == Rule::Op::ne);
  REQUIRE(parse_rule("zone==Downtown:low", r).is_ok());
  CHECK_FALSE(r.numeric);
  CHECK(r.text_value == "Downtown");
}

TEST_CASE("malformed rules fail with a usage error", "[rules]") {
  Rule r;
  for (const char* bad : {"", "aqi", ">300", "aqi>", "aqi>300:urgent", "aqi=300", "aqi>>300", "zone>abc"}) {
    INFO(bad);
    Status s = parse_rule(bad, r);
    CHECK(s.kind() == errc::invalid_argument);
  }
}

TEST_CASE("rules fire on numbers only when the field is there", "[rules]") {
  JsonParser parser;
  JsonRecord rec;
  std::string error;
  REQUIRE(parser.parse(R"({"aqi":301,"noise_db":"loud","zone":"Downtown"})", rec, error));
  Rule r;
  REQUIRE(parse_rule("aqi>300", r).is_ok());
  CHECK(r.fires(rec));
  REQUIRE(parse_rule("aqi>301", r).is_ok());
  CHECK_FALSE(r.fires(rec));
  REQUIRE(parse_rule("aqi>=301", r).is_ok());
  CHECK(r.fires(rec));
  REQUIRE(parse_rule("noise_db>100", r).is_ok());
  CHECK_FALSE(r.fires(rec));  // not a number
  REQUIRE(parse_rule("traffic>500", r).is_ok());
  CHECK_FALSE(r.fires(rec));  // absent
  REQUIRE(parse_rule("zone==Downtown", r).is_ok());
  CHECK(r.fires(rec));
  REQUIRE(parse_rule("zone!=Downtown", r).is_ok());
  CHECK_FALSE(r.fires(rec));
}

TEST_CASE("the city preset and severity precedence", "[rules]") {
  std::vector<Rule> rules;
  REQUIRE(preset_rules("city", rules).is_ok());
  REQUIRE(rules.size() == 5);
  CHECK(rules[2].text == "aqi>300");
  CHECK(rules[2].severity == Severity::high);
  CHECK(rules[0].fires(-6.0));
  CHECK_FALSE(rules[0].fires(-5.0));
  CHECK(preset_rules("country", rules).kind() == errc::invalid_argument);
  CHECK(max_severity(Severity::low, Severity::high) == Severity::high);
  CHECK(max_severity(Severity::medium, Severity::none) == Severity::medium);
  CHECK(severity_name(Severity::medium) == "medium");
  CHECK(parse_severity("high") == Severity::high);
  CHECK_FALSE(parse_severity("HIGH"));
}
