#include "citypipe/forest/rules.h"

#include <cctype>
#include <charconv>
#include <cmath>

namespace citypipe {

std::string_view severity_name(Severity s) {
  switch (s) {
    case Severity::none: return "none";
    case Severity::low: return "low";
    case Severity::medium: return "medium";
    case Severity::high: return "high";
  }
  return "none";
}

std::optional<Severity> parse_severity(std::string_view text) {
  if (text == "low") return Severity::low;
  if (text == "medium") return Severity::medium;
  if (text == "high") return Severity::high;
  return std::nullopt;
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

Status bad(std::string_view text, std::string_view why) {
  return Status::error(errc::invalid_argument, "bad rule '" + std::string(text) + "': " + std::string(why));
}

}  // namespace

bool Rule::fires(double v) const {
  switch (op) {
    case Op::gt: return v > value;
    case Op::ge: return v >= value;
    case Op::lt: return v < value;
    case Op::le: return v <= value;
    case Op::eq: return v == value;
    case Op::ne: return v != value;
  }
  return false;
}

bool Rule::fires(const JsonRecord& record) const {
  const JsonField* f = record.find(field);
  if (f == nullptr) return false;
  if (numeric) return f->type == json_type::number && fires(f->number);
  if (f->type != json_type::string) return false;
  return (op == Op::eq) == (f->text == text_value);
}

Status parse_rule(std::string_view text, Rule& out) {
  out = Rule{};
  std::string_view body = trim(text);
  if (auto colon = body.rfind(':'); colon != std::string_view::npos) {
    auto sev = parse_severity(trim(body.substr(colon + 1)));
    if (!sev) return bad(text, "severity must be low, medium or high");
    out.severity = *sev;
    body = trim(body.substr(0, colon));
  }
  const std::size_t at = body.find_first_of("<>=!");
  if (at == std::string_view::npos) return bad(text, "no operator (> >= < <= == !=)");
  out.field = std::string(trim(body.substr(0, at)));
  if (out.field.empty()) return bad(text, "no field name");
  std::string_view rest = body.substr(at);
  static constexpr std::pair<std::string_view, Rule::Op> ops[] = {
      {">=", Rule::Op::ge}, {"<=", Rule::Op::le}, {"==", Rule::Op::eq},
      {"!=", Rule::Op::ne}, {">", Rule::Op::gt},  {"<", Rule::Op::lt}};
  bool matched = false;
  for (const auto& [sym, op] : ops) {
    if (rest.substr(0, sym.size()) == sym) {
      out.op = op;
      rest.remove_prefix(sym.size());
      matched = true;
      break;
    }
  }
  if (!matched) return bad(text, "unknown operator (use > >= < <= == !=)");
  const std::string_view value = trim(rest);
  if (value.empty()) return bad(text, "no value");
  if (value.find_first_of("<>=!") != std::string_view::npos) return bad(text, "two operators");
  const auto res = std::from_chars(value.data(), value.data() + value.size(), out.value);
  if (res.ec == std::errc() && res.ptr == value.data() + value.size() && std::isfinite(out.value)) {
    out.numeric = true;
  } else {
    if (out.op != Rule::Op::eq && out.op != Rule::Op::ne)
      return bad(text, "a text value compares with == or != only");
    out.numeric = false;
    out.text_value = std::string(value);
    if (out.text_value.size() >= 2 && out.text_value.front() == '"' && out.text_value.back() == '"')
      out.text_value = out.text_value.substr(1, out.text_value.size() - 2);
  }
  out.text = out.field + std::string(body.substr(at, body.size() - at - rest.size())) + std::string(value);
  return Status::ok();
}

Status preset_rules(std::string_view name, std::vector<Rule>& out) {
  if (name != "city")
    return Status::error(errc::invalid_argument, "unknown rule set '" + std::string(name) + "' (known: city)");
  for (const char* r : {"temperature<-5:medium", "temperature>40:medium", "aqi>300:high",
                        "noise_db>100:medium", "traffic>500:medium"}) {
    Rule rule;
    if (Status s = parse_rule(r, rule); !s.is_ok()) return s;
    out.push_back(std::move(rule));
  }
  return Status::ok();
}

}  // namespace citypipe
