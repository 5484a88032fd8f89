#include "citypipe/json_record.h"

#include <cmath>

#include <simdjson.h>

namespace citypipe {

namespace od = simdjson::ondemand;

const JsonField* JsonRecord::find(std::string_view key) const {
  for (const auto& f : fields_)
    if (f.key == key) return &f;
  return nullptr;
}

std::optional<double> JsonRecord::number(std::string_view key) const {
  const JsonField* f = find(key);
  if (f == nullptr || f->type != json_type::number) return std::nullopt;
  return f->number;
}

std::optional<std::string_view> JsonRecord::string(std::string_view key) const {
  const JsonField* f = find(key);
  if (f == nullptr || f->type != json_type::string) return std::nullopt;
  return f->text;
}

std::optional<bool> JsonRecord::boolean(std::string_view key) const {
  const JsonField* f = find(key);
  if (f == nullptr || f->type != json_type::boolean) return std::nullopt;
  return f->boolean;
}

std::optional<time_ms> JsonRecord::time(std::string_view key) const {
  const JsonField* f = find(key);
  if (f == nullptr) return std::nullopt;
  if (f->type == json_type::string) return parse_rfc3339(f->text);
  if (f->type == json_type::number) return time_from_number(f->number);
  return std::nullopt;
}

struct JsonParser::impl {
  od::parser parser;
  simdjson::padded_string copy;  // used only when the caller cannot offer padding
};

JsonParser::JsonParser() : impl_(std::make_unique<impl>()) {}
JsonParser::~JsonParser() = default;

std::size_t JsonParser::padding() { return simdjson::SIMDJSON_PADDING; }

namespace {

bool fail(std::string& error, simdjson::error_code code) {
  error = "invalid JSON: ";
  error += simdjson::error_message(code);
  return false;
}

}  // namespace

bool JsonParser::parse(std::string_view line, std::size_t capacity, JsonRecord& out,
                       std::string& error) {
  out.fields_.clear();
  out.raw_ = line;
  std::size_t first = 0;
  while (first < line.size() && (line[first] == ' ' || line[first] == '\t')) ++first;
  if (first == line.size()) {
    error = "empty line";
    return false;
  }
  if (line[first] != '{') {
    error = "not a JSON object";
    return false;
  }
  const char* data = line.data();
  if (capacity < line.size() + simdjson::SIMDJSON_PADDING) {
    impl_->copy = simdjson::padded_string(line);
    data = impl_->copy.data();
    capacity = line.size() + simdjson::SIMDJSON_PADDING;
  }
  od::document doc;
  if (auto err = impl_->parser.iterate(data, line.size(), capacity).get(doc)) return fail(error, err);
  od::object obj;
  if (auto err = doc.get_object().get(obj)) return fail(error, err);
  for (auto field_result : obj) {
    od::field field;
    if (auto err = std::move(field_result).get(field)) return fail(error, err);
    JsonField f;
    if (auto err = field.unescaped_key().get(f.key)) return fail(error, err);
    od::value value = field.value();
    od::json_type type;
    if (auto err = value.type().get(type)) return fail(error, err);
    switch (type) {
      case od::json_type::null:
        if (!value.is_null()) return fail(error, simdjson::N_ATOM_ERROR);
        f.type = json_type::null;
        break;
      case od::json_type::boolean:
        if (auto err = value.get_bool().get(f.boolean)) return fail(error, err);
        f.type = json_type::boolean;
        break;
      case od::json_type::number: {
        od::number n;
        if (auto err = value.get_number().get(n)) return fail(error, err);
        f.type = json_type::number;
        if (n.is_int64()) {
          f.integral = true;
          f.integer = n.get_int64();
          f.number = static_cast<double>(f.integer);
        } else {
          f.number = n.as_double();
          if (!std::isfinite(f.number)) return fail(error, simdjson::NUMBER_ERROR);
        }
        break;
      }
      case od::json_type::string:
        if (auto err = value.get_string().get(f.text)) return fail(error, err);
        f.type = json_type::string;
        break;
      case od::json_type::array: {
        od::array a;
        if (auto err = value.get_array().get(a)) return fail(error, err);
        if (auto err = a.raw_json().get(f.text)) return fail(error, err);
        f.type = json_type::array;
        break;
      }
      case od::json_type::object: {
        od::object o;
        if (auto err = value.get_object().get(o)) return fail(error, err);
        if (auto err = o.raw_json().get(f.text)) return fail(error, err);
        f.type = json_type::object;
        break;
      }
    }
    out.fields_.push_back(f);
  }
  // Anything after the closing brace makes the line something other than one object.
  const char* location = nullptr;
  if (!doc.current_location().get(location)) {
    error = "trailing characters after the JSON object";
    return false;
  }
  return true;
}

}  // namespace citypipe
