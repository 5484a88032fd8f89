#include "citypipe/core/record_fields.h"

#include "citypipe/core/json_write.h"

namespace citypipe {

bool is_measurement_name(std::string_view name) {
  for (std::string_view n : {"ts", "time", "timestamp", "id", "seq", "label"})
    if (name == n) return false;
  for (std::string_view suffix : {"_ts", "_time", "_id", "Id", "ID"})
    if (name.ends_with(suffix)) return false;
  return true;
}

std::optional<std::string_view> key_text(const JsonField& f, std::string& scratch) {
  switch (f.type) {
    case json_type::string:
    case json_type::array:
    case json_type::object: return f.text;
    case json_type::boolean: return f.boolean ? std::string_view("true") : std::string_view("false");
    case json_type::number:
      scratch.clear();
      if (f.integral) append_json_integer(scratch, f.integer);
      else append_json_number(scratch, f.number);
      return std::string_view(scratch);
    case json_type::null: break;
  }
  return std::nullopt;
}

}  // namespace citypipe
