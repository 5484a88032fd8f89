#include "citypipe/core/json_record.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>

#include <immintrin.h>
#include <simdjson.h>

#include "citypipe/core/cpu.h"

namespace citypipe {

namespace od = simdjson::ondemand;

std::uint64_t name_prefix(std::string_view name) {
  std::uint64_t v = 0;
  std::memcpy(&v, name.data(), std::min<std::size_t>(name.size(), 8));
  return v;
}

const JsonField* JsonRecord::find_from_start(const FieldName& key, std::size_t& hint) const {
  for (std::size_t i = 0; i < fields_.size; ++i) {
    if (key.names(fields_.room[i])) {
      hint = i;
      return &fields_.room[i];
    }
  }
  return nullptr;
}

FieldHits FieldLookup::find_by_name(const JsonRecord& rec) {
  // The last layout becomes the other one; its indexes are the hints: most
  // layouts that follow one another differ by a field or two.
  index_.swap(other_);
  std::swap(layout_, other_layout_);
  for (std::size_t i = 0; i < names_.size(); ++i) {
    std::size_t hint = other_[i] == absent ? 0 : other_[i];
    index_[i] = rec.find(names_[i], hint) != nullptr ? hint : absent;
  }
  layout_ = rec.layout();
  return {rec.fields().data(), index_.data()};
}

const JsonField* JsonRecord::find(std::string_view key) const {
  for (const auto& f : fields())
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

std::optional<time_ms> event_time(const JsonField* f) {
  if (f == nullptr) return std::nullopt;
  if (f->type == json_type::string) return parse_rfc3339(f->text);
  if (f->type == json_type::number) return time_from_number(f->number);
  return std::nullopt;
}

std::optional<time_ms> JsonRecord::time(std::string_view key) const { return event_time(find(key)); }

std::optional<time_ms> JsonRecord::time(const FieldName& key, std::size_t& hint) const {
  return event_time(find(key, hint));
}

namespace detail {

// The keys of the last compact line read, by position, each as the bytes
// '"key":' that open its field: the lines of a stream mostly repeat their
// keys in order, and one 32-byte compare then takes a key where a scan for
// its closing quote would be. An entry is only a guess, checked byte by byte.
struct KeyLayout {
  static constexpr std::size_t max_keys = 32;
  static constexpr std::size_t max_key = 29;  // '"', the key, '"' and ':' in 32 bytes
  struct Key {
    alignas(32) char bytes[32] = {};  // no line byte is 0: never matches until set
    std::uint32_t mask = 1;           // the bytes to compare: size + 3
    std::uint32_t size = 0;
    std::uint64_t prefix = 0;
  };
  Key keys[max_keys];
  // JsonRecord::layout(): ids[n] is the id of a line of n fields whose keys
  // are keys[0, n), or 0 until one is read; line_id the id given to the last
  // line. A stream whose lines now and then carry one more field (say, an
  // anomaly's kind) goes back and forth between two ids. Ids are this
  // parser's serial number and a count: one parser's ids never meet another's.
  std::uint64_t ids[max_keys + 1] = {};
  std::uint64_t line_id = 0, serial = 0, count = 0;

  std::uint64_t fresh() { return serial << 40 | ++count; }
  // The id of a line of n fields whose keys all stood where keys[] has them.
  std::uint64_t id_of(std::size_t n) {
    if (n > max_keys) return fresh();  // keys past max_keys are not kept
    if (ids[n] == 0) ids[n] = fresh();
    return ids[n];
  }

  [[gnu::noinline, gnu::cold]] void learn(std::size_t i, std::string_view key, std::uint64_t prefix) {
    // Key i changes (or, too long to keep, is not the one kept): so do the
    // ids of the lines that have it.
    for (std::size_t n = i + 1; n <= max_keys; ++n) ids[n] = 0;
    if (i >= max_keys) return;
    Key& k = keys[i];
    std::memset(k.bytes, 0, sizeof k.bytes);
    k.mask = 1;  // byte 0, now 0, is in no line: matches none
    // A pattern with a '}' could match across the line's closing brace.
    if (key.size() > max_key || key.find('}') != std::string_view::npos) return;
    k.bytes[0] = '"';
    std::memcpy(k.bytes + 1, key.data(), key.size());
    k.bytes[key.size() + 1] = '"';
    k.bytes[key.size() + 2] = ':';
    k.mask = static_cast<std::uint32_t>((std::uint64_t{1} << (key.size() + 3)) - 1);
    k.size = static_cast<std::uint32_t>(key.size());
    k.prefix = prefix;
  }
};

}  // namespace detail

struct JsonParser::impl {
  detail::KeyLayout layout;
  od::parser parser;
  simdjson::padded_string copy;  // used only when the caller cannot offer padding
};

JsonParser::JsonParser(bool fast) : impl_(std::make_unique<impl>()) {
  static std::atomic<std::uint64_t> parsers{0};
  impl_->layout.serial = ++parsers;
  layout_ = &impl_->layout;
  if (fast) flat_ = detail::flat_parse();
}
JsonParser::~JsonParser() = default;

std::size_t JsonParser::padding() { return simdjson::SIMDJSON_PADDING; }

std::string_view JsonParser::kernel() { return cpu_has_avx512() ? "avx512" : cpu_has_avx2() ? "avx2" : "portable"; }

namespace {

bool fail(std::string& error, simdjson::error_code code) {
  error = "invalid JSON: ";
  error += simdjson::error_message(code);
  return false;
}

// The top-level fields of an object, in order, into out.
bool read_fields(od::object& obj, detail::FieldStore& fields, std::string& error) {
  for (auto field_result : obj) {
    od::field field;
    if (auto err = std::move(field_result).get(field)) return fail(error, err);
    JsonField f;
    if (auto err = field.unescaped_key().get(f.key)) return fail(error, err);
    f.key_prefix = name_prefix(f.key);
    od::value value = field.value();
    od::json_type type;
    if (auto err = value.type().get(type)) return fail(error, err);
    switch (type) {
      case od::json_type::null:
        {
          bool is_null = false;
          if (value.is_null().get(is_null) || !is_null) return fail(error, simdjson::N_ATOM_ERROR);
        }
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
    fields.add() = f;
  }
  return true;
}

}  // namespace

namespace detail {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Powers of ten that doubles hold exactly.
constexpr double exact_powers[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

enum : std::uint8_t { plain, quote, high, other };

// What a byte means inside a string: most bytes are plain; high bytes are
// UTF-8 to check; escapes and control characters are left to simdjson.
constexpr auto string_class = [] {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[static_cast<std::size_t>(c)] = other;
  t['"'] = quote;
  t['\\'] = other;
  for (int c = 0x80; c < 0x100; ++c) t[static_cast<std::size_t>(c)] = high;
  return t;
}();

namespace portable {
#define CITYPIPE_FLAT_AVX2 0
#include "flat_scanner.inc"
#undef CITYPIPE_FLAT_AVX2
}  // namespace portable

// The same, with 32 bytes classified at a time. Only parse_flat below calls
// into it, after checking the CPU.
CITYPIPE_TARGET_AVX2_BEGIN
namespace avx2 {
#define CITYPIPE_FLAT_AVX2 1
#include "flat_scanner.inc"
#undef CITYPIPE_FLAT_AVX2
}  // namespace avx2
CITYPIPE_TARGET_AVX2_END

// The same, with 64 bytes classified at a time.
CITYPIPE_TARGET_AVX512_BEGIN
namespace avx512 {
#define CITYPIPE_FLAT_AVX2 1
#define CITYPIPE_FLAT_AVX512 1
#include "flat_scanner.inc"
#undef CITYPIPE_FLAT_AVX512
#undef CITYPIPE_FLAT_AVX2
}  // namespace avx512
CITYPIPE_TARGET_AVX512_END

}  // namespace

std::uint64_t parse_flat(std::string_view line, std::size_t readable, FieldStore& out, KeyLayout* layout) {
  return flat_parse()(line, readable, out, layout);
}

FlatParse flat_parse() {
  return cpu_has_avx512() ? &avx512::parse_flat : cpu_has_avx2() ? &avx2::parse_flat : &portable::parse_flat;
}

}  // namespace detail

bool JsonParser::parse_other(std::string_view line, std::size_t capacity, JsonRecord& out, std::string& error,
                             bool brace) {
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
  if (!brace && flat_ != nullptr) {
    if (const std::uint64_t layout = flat_(line, capacity, out.fields_, layout_); layout != 0) {
      out.layout_ = layout;
      return true;
    }
  }
  out.fields_.size = 0;
  out.layout_ = impl_->layout.fresh();
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
  if (!read_fields(obj, out.fields_, error)) return false;
  // Anything after the closing brace makes the line something other than one object.
  const char* location = nullptr;
  if (!doc.current_location().get(location)) {
    error = "trailing characters after the JSON object";
    return false;
  }
  return true;
}

}  // namespace citypipe
