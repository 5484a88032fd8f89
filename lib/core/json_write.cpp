#include "citypipe/core/json_write.h"

#include <cmath>
#include <iterator>

#include <fmt/format.h>

#include "citypipe/core/json_record.h"

namespace citypipe {

void append_json_number(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  // Integral values print without ".0" (as JSON writers commonly do), others shortest round trip.
  if (v == std::trunc(v) && std::fabs(v) < 1e15) {
    append_json_integer(out, static_cast<std::int64_t>(v));
    return;
  }
  fmt::format_to(std::back_inserter(out), "{}", v);
}

void append_json_integer(std::string& out, std::int64_t v) {
  char buf[24];
  char* end = buf + sizeof buf;
  char* p = end;
  std::uint64_t u = v < 0 ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
  do {
    *--p = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u != 0);
  if (v < 0) *--p = '-';
  out.append(p, static_cast<std::size_t>(end - p));
}

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  std::size_t run = 0;  // start of the pending run that needs no escaping
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out += hex[c >> 4];
        out += hex[c & 15];
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

ObjectWriter::ObjectWriter(std::string& out) : out_(out) { out_ += '{'; }

ObjectWriter::ObjectWriter(std::string& out, std::string_view existing) : out_(out) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!existing.empty() && is_space(existing.back())) existing.remove_suffix(1);
  if (!existing.empty() && existing.back() == '}') existing.remove_suffix(1);
  while (!existing.empty() && is_space(existing.back())) existing.remove_suffix(1);
  out_ += existing;
  // No value ends in '{', so the object was empty exactly when '{' is all that is left.
  first_ = !existing.empty() && existing.back() == '{';
}

ObjectWriter& ObjectWriter::key(std::string_view k) {
  if (!first_) out_ += ',';
  first_ = false;
  append_json_string(out_, k);
  out_ += ':';
  return *this;
}

ObjectWriter& ObjectWriter::time(time_ms t) {
  out_ += '"';
  append_rfc3339(out_, t);
  out_ += '"';
  return *this;
}

void append_json_value(std::string& out, const JsonField& f) {
  switch (f.type) {
    case json_type::null: out += "null"; break;
    case json_type::boolean: out += f.boolean ? "true" : "false"; break;
    case json_type::number:
      if (f.integral) append_json_integer(out, f.integer);
      else append_json_number(out, f.number);
      break;
    case json_type::string: append_json_string(out, f.text); break;
    case json_type::array:
    case json_type::object: out += f.text; break;
  }
}

}  // namespace citypipe
