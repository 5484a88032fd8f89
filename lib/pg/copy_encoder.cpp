#include "citypipe/pg/copy_encoder.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "citypipe/core/event_time.h"
#include "citypipe/core/json_write.h"

namespace citypipe::pg {

bool binary_supported(col_type t) { return t != col_type::other; }

std::int64_t pg_timestamp_us(time_ms t) {
  constexpr std::int64_t epoch_2000_ms = 946684800000;
  return (t - epoch_2000_ms) * 1000;
}

namespace {

template <typename T>
void be_bytes(char* bytes, T value) {
  auto v = static_cast<std::make_unsigned_t<T>>(value);
  for (std::size_t i = 0; i < sizeof(T); ++i)
    bytes[i] = static_cast<char>(static_cast<unsigned char>(v >> (8 * (sizeof(T) - 1 - i))));
}

// Every field goes through here: kept inline, a call per field showed up in
// pg-sink's profile.
template <typename T>
[[gnu::always_inline]] inline void put_be(std::string& out, T value) {
  char bytes[sizeof(T)];
  be_bytes(bytes, value);
  out.append(bytes, sizeof(T));
}

void put_len(std::string& out, std::size_t n) { put_be(out, static_cast<std::int32_t>(n)); }

// A value as an error message shows it: short, and never a whole document.
std::string shown(const JsonField& f) {
  if (f.type == json_type::array) return "an array";
  if (f.type == json_type::object) return "an object";
  std::string s;
  if (f.type == json_type::string) append_json_string(s, f.text.substr(0, 40));
  else append_json_value(s, f);
  return s;
}

bool fail(std::string& error, const JsonField& f, std::string_view why, col_type t) {
  error = "field '";
  error += f.key;
  error += "': ";
  error += shown(f);
  error += ' ';
  error += why;
  error += " (column is ";
  error += type_name(t);
  error += ')';
  return false;
}

bool to_integer(const JsonField& f, col_type t, std::int64_t& v, std::string& error) {
  if (f.type != json_type::number) return fail(error, f, "is not a number", t);
  if (f.integral) {
    v = f.integer;
  } else {
    // 21.0 is an integer written with a fraction; 21.4 is not.
    if (std::trunc(f.number) != f.number || std::fabs(f.number) >= 9.2e18)
      return fail(error, f, "is not an integer", t);
    v = static_cast<std::int64_t>(f.number);
  }
  const std::int64_t limit = t == col_type::smallint ? 32767 : t == col_type::integer ? 2147483647 : INT64_MAX;
  if (v > limit || v < -limit - 1) return fail(error, f, "is out of range", t);
  return true;
}

bool to_time(const JsonField& f, col_type t, time_ms& v, std::string& error) {
  std::optional<time_ms> parsed;
  if (f.type == json_type::string) parsed = parse_rfc3339(f.text);
  else if (f.type == json_type::number) parsed = time_from_number(f.number);
  else return fail(error, f, "is not a time", t);
  if (!parsed) return fail(error, f, "is not an RFC 3339 time", t);
  v = *parsed;
  return true;
}

// JSON text of any value, for json and jsonb columns.
bool json_text(const JsonField& f, col_type t, std::string& out, std::string& error) {
  const std::size_t start = out.size();
  append_json_value(out, f);
  // jsonb refuses \u0000; checking here keeps the batch from failing.
  if (t == col_type::jsonb && std::string_view(out).substr(start).find("\\u0000") != std::string_view::npos) {
    out.resize(start);
    return fail(error, f, "contains \\u0000", t);
  }
  return true;
}

// Text of a scalar for text columns: strings as they are, others as JSON.
bool plain_text(const JsonField& f, col_type t, std::string& out, std::string& error) {
  if (f.type == json_type::string) {
    if (f.text.find('\0') != std::string_view::npos) return fail(error, f, "contains a NUL character", t);
    out += f.text;
    return true;
  }
  return json_text(f, t, out, error);
}

void escape_copy_text(std::string& out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: out += c;
    }
  }
}

}  // namespace

CopyEncoder::CopyEncoder(std::vector<col_type> types, bool binary)
    : types_(std::move(types)), binary_(binary) {}

std::string_view CopyEncoder::header() const {
  // Signature, flags (no OIDs), header extension length.
  static constexpr char bytes[19] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', '\xff', '\r', '\n', '\0',
                                     0, 0, 0, 0, 0, 0, 0, 0};
  return binary_ ? std::string_view(bytes, sizeof bytes) : std::string_view();
}

std::string_view CopyEncoder::trailer() const {
  return binary_ ? std::string_view("\xff\xff", 2) : std::string_view();
}

bool CopyEncoder::append_row(std::string& out, const JsonField* const* values, std::string& error,
                             FieldSpan* spans) const {
  const std::size_t start = out.size();
  if (binary_) put_be(out, static_cast<std::int16_t>(types_.size()));
  for (std::size_t i = 0; i < types_.size(); ++i) {
    const JsonField* f = values[i];
    const bool null = f == nullptr || f->type == json_type::null;
    bool ok = true;
    if (!binary_ && i > 0) out += '\t';
    const std::size_t begin = out.size();
    if (binary_) {
      if (null) put_be(out, std::int32_t{-1});
      else ok = append_binary(out, types_[i], *f, error);
    } else {
      if (null) out += "\\N";
      else ok = append_text(out, types_[i], *f, error);
    }
    if (spans != nullptr) spans[i] = FieldSpan{begin, out.size()};
    if (!ok) {
      out.resize(start);
      return false;
    }
  }
  if (!binary_) out += '\n';
  return true;
}

bool CopyEncoder::append_binary(std::string& out, col_type t, const JsonField& f,
                                std::string& error) const {
  switch (t) {
    case col_type::bigint:
    case col_type::integer:
    case col_type::smallint: {
      std::int64_t v = 0;
      if (!to_integer(f, t, v, error)) return false;
      if (t == col_type::bigint) put_len(out, 8), put_be(out, v);
      else if (t == col_type::integer) put_len(out, 4), put_be(out, static_cast<std::int32_t>(v));
      else put_len(out, 2), put_be(out, static_cast<std::int16_t>(v));
      return true;
    }
    case col_type::double_precision:
      if (f.type != json_type::number) return fail(error, f, "is not a number", t);
      put_len(out, 8);
      put_be(out, std::bit_cast<std::uint64_t>(f.number));
      return true;
    case col_type::real:
      if (f.type != json_type::number) return fail(error, f, "is not a number", t);
      put_len(out, 4);
      put_be(out, std::bit_cast<std::uint32_t>(static_cast<float>(f.number)));
      return true;
    case col_type::boolean:
      if (f.type != json_type::boolean) return fail(error, f, "is not a boolean", t);
      put_len(out, 1);
      out += f.boolean ? '\1' : '\0';
      return true;
    case col_type::timestamptz:
    case col_type::timestamp: {
      time_ms v = 0;
      if (!to_time(f, t, v, error)) return false;
      put_len(out, 8);
      put_be(out, pg_timestamp_us(v));
      return true;
    }
    case col_type::text:
    case col_type::json:
    case col_type::jsonb: {
      const std::size_t len_at = out.size();
      put_len(out, 0);
      if (t == col_type::jsonb) out += '\1';  // jsonb binary format version
      const bool ok = t == col_type::text ? plain_text(f, t, out, error) : json_text(f, t, out, error);
      if (!ok) return false;
      be_bytes(out.data() + len_at, static_cast<std::int32_t>(out.size() - len_at - 4));
      return true;
    }
    case col_type::other: break;
  }
  error = "internal: type without a binary encoding";
  return false;
}

bool CopyEncoder::append_text(std::string& out, col_type t, const JsonField& f,
                              std::string& error) const {
  std::string value;
  switch (t) {
    case col_type::bigint:
    case col_type::integer:
    case col_type::smallint: {
      std::int64_t v = 0;
      if (!to_integer(f, t, v, error)) return false;
      append_json_integer(out, v);
      return true;
    }
    case col_type::double_precision:
    case col_type::real:
      if (f.type != json_type::number) return fail(error, f, "is not a number", t);
      append_json_number(out, f.number);
      return true;
    case col_type::boolean:
      if (f.type != json_type::boolean) return fail(error, f, "is not a boolean", t);
      out += f.boolean ? 't' : 'f';
      return true;
    case col_type::timestamptz:
    case col_type::timestamp: {
      time_ms v = 0;
      if (!to_time(f, t, v, error)) return false;
      append_rfc3339(out, v);
      if (t == col_type::timestamp) out.pop_back();  // no zone: the UTC wall time
      return true;
    }
    case col_type::json:
    case col_type::jsonb:
      if (!json_text(f, t, value, error)) return false;
      break;
    case col_type::text:
    case col_type::other:
      // Other types parse their own text; strings go as they are, so that
      // "1.50" reaches a numeric column and "2026-11-22" a date column.
      if (!plain_text(f, t, value, error)) return false;
      break;
  }
  escape_copy_text(out, value);
  return true;
}

std::uint64_t copy_failed_row(std::string_view context) {
  // The innermost context line comes first; a trigger's lines may follow.
  static constexpr std::string_view copy = "COPY ", line = ", line ";
  if (context.substr(0, copy.size()) != copy) return 0;
  const std::size_t eol = context.find('\n');
  const std::string_view first = context.substr(0, eol);
  const std::size_t at = first.find(line);
  if (at == std::string_view::npos) return 0;
  std::uint64_t n = 0;
  std::size_t i = at + line.size();
  const std::size_t digits = i;
  for (; i < first.size() && first[i] >= '0' && first[i] <= '9'; ++i) n = n * 10 + static_cast<std::uint64_t>(first[i] - '0');
  if (i == digits || (i < first.size() && first[i] != ',' && first[i] != ':')) return 0;
  return n;
}

}  // namespace citypipe::pg
