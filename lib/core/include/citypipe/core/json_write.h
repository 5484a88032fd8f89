// Appending JSON to a std::string: the one way every tool prints numbers,
// strings and times, so that all output looks alike.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "citypipe/core/event_time.h"

namespace citypipe {

// Shortest text that reads back as the same double; NaN and infinities print null.
void append_json_number(std::string& out, double v);
void append_json_integer(std::string& out, std::int64_t v);

// Appends a quoted JSON string; escapes quotes, backslashes and control characters.
void append_json_string(std::string& out, std::string_view s);

struct JsonField;
// Appends a parsed value as JSON: null, true or false, a number as written (an
// integer exactly), a quoted string, an array's or object's own text.
void append_json_value(std::string& out, const JsonField& f);

// Builds one JSON object field by field, minding the commas.
class ObjectWriter {
 public:
  // Starts a new object at the end of out.
  explicit ObjectWriter(std::string& out);
  // Starts from an existing object's text, without its closing brace, so that
  // fields appended later extend that record (pass-through of unknown fields).
  ObjectWriter(std::string& out, std::string_view existing_object);

  ObjectWriter& key(std::string_view k);  // then exactly one value call
  ObjectWriter& number(double v) { append_json_number(out_, v); return *this; }
  ObjectWriter& integer(std::int64_t v) { append_json_integer(out_, v); return *this; }
  ObjectWriter& string(std::string_view s) { append_json_string(out_, s); return *this; }
  ObjectWriter& boolean(bool b) { out_ += b ? "true" : "false"; return *this; }
  ObjectWriter& null() { out_ += "null"; return *this; }
  ObjectWriter& time(time_ms t);
  ObjectWriter& raw(std::string_view json) { out_ += json; return *this; }

  // Closes the object and ends the line.
  void finish() { out_ += "}\n"; }

 private:
  std::string& out_;
  bool first_ = true;
};

}  // namespace citypipe
