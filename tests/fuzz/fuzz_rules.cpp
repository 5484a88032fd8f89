// libFuzzer target: the rule parser. Whatever parses must print (its text and
// severity) and parse back to the same rule, and must evaluate against a
// record holding its field exactly as against the bare number.
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include "citypipe/core/json_record.h"
#include "citypipe/core/json_write.h"
#include "citypipe/forest/rules.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  citypipe::Rule rule;
  if (!citypipe::parse_rule(text, rule).is_ok()) return 0;
  if (rule.field.empty() || rule.text.empty()) __builtin_trap();
  if (rule.numeric && !std::isfinite(rule.value)) __builtin_trap();

  // The reported text plus the severity is the canonical form of the rule.
  const std::string canonical = rule.text + ":" + std::string(citypipe::severity_name(rule.severity));
  citypipe::Rule again;
  if (!citypipe::parse_rule(canonical, again).is_ok()) __builtin_trap();
  if (again.field != rule.field || again.op != rule.op || again.numeric != rule.numeric ||
      again.severity != rule.severity || again.text != rule.text || again.text_value != rule.text_value)
    __builtin_trap();
  if (rule.numeric && !(again.value == rule.value)) __builtin_trap();

  // A record whose field holds a probe value fires exactly when the value does;
  // a record of another type for that field never fires.
  static citypipe::JsonParser parser;
  citypipe::JsonRecord record;
  std::string line, error;
  for (double probe : {rule.numeric ? rule.value : 0.0, -1e300, 0.0, 1.5, 1e300}) {
    line.clear();
    citypipe::ObjectWriter(line).key(rule.field).number(probe).finish();
    line.pop_back();
    if (!parser.parse(line, record, error)) continue;  // a field name that is not valid UTF-8
    if (record.find(rule.field) == nullptr) __builtin_trap();
    const bool expect = rule.numeric && rule.fires(probe);
    if (rule.fires(record) != expect) __builtin_trap();
  }
  line.clear();
  citypipe::ObjectWriter(line).key(rule.field).string(rule.numeric ? "1" : rule.text_value).finish();
  line.pop_back();
  if (parser.parse(line, record, error)) {
    const bool expect = !rule.numeric && rule.op == citypipe::Rule::Op::eq;
    if (rule.fires(record) != expect) __builtin_trap();
  }
  return 0;
}
