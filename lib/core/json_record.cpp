#include "citypipe/core/json_record.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>

#include <simdjson.h>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace citypipe {

namespace od = simdjson::ondemand;

std::uint64_t name_prefix(std::string_view name) {
  std::uint64_t v = 0;
  std::memcpy(&v, name.data(), std::min<std::size_t>(name.size(), 8));
  return v;
}

const JsonField* JsonRecord::find_from_start(const FieldName& key, std::size_t& hint) const {
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    if (key.names(fields_[i])) {
      hint = i;
      return &fields_[i];
    }
  }
  return nullptr;
}

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

namespace {

std::optional<time_ms> time_of(const JsonField* f) {
  if (f == nullptr) return std::nullopt;
  if (f->type == json_type::string) return parse_rfc3339(f->text);
  if (f->type == json_type::number) return time_from_number(f->number);
  return std::nullopt;
}

}  // namespace

std::optional<time_ms> JsonRecord::time(std::string_view key) const { return time_of(find(key)); }

std::optional<time_ms> JsonRecord::time(const FieldName& key, std::size_t& hint) const {
  return time_of(find(key, hint));
}

struct JsonParser::impl {
  od::parser parser;
  simdjson::padded_string copy;  // used only when the caller cannot offer padding
};

JsonParser::JsonParser(bool fast) : impl_(std::make_unique<impl>()), fast_(fast) {}
JsonParser::~JsonParser() = default;

std::size_t JsonParser::padding() { return simdjson::SIMDJSON_PADDING; }

namespace {

bool fail(std::string& error, simdjson::error_code code) {
  error = "invalid JSON: ";
  error += simdjson::error_message(code);
  return false;
}

// The top-level fields of an object, in order, into out.
bool read_fields(od::object& obj, std::vector<JsonField>& fields, std::string& error) {
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
    fields.push_back(f);
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

#if defined(__AVX2__)
// What 32 bytes hold, one bit per byte: quotes; backslashes and control
// characters (below 0x20), which the fast paths leave to others; bytes over
// 0x7f, which make UTF-8 to check.
struct ByteClasses {
  std::uint32_t quote, escape_or_control, high;
};

ByteClasses classify(const char* p) {
  const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  const __m256i control = _mm256_cmpeq_epi8(_mm256_max_epu8(v, _mm256_set1_epi8(0x1f)), _mm256_set1_epi8(0x1f));
  const __m256i escape = _mm256_or_si256(control, _mm256_cmpeq_epi8(v, _mm256_set1_epi8('\\')));
  return {static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('"')))),
          static_cast<std::uint32_t>(_mm256_movemask_epi8(escape)),
          static_cast<std::uint32_t>(_mm256_movemask_epi8(v))};
}
#endif

class FlatScanner {
 public:
  // readable: bytes readable from line.data(), at least line.size().
  FlatScanner(std::string_view line, std::size_t readable)
      : p_(line.data()),
        end_(line.data() + line.size()),
        wide_end_(readable >= 8 ? line.data() + readable - 7 : line.data()),
        readable_end_(line.data() + readable) {}

#if defined(__AVX2__)
  // The compact form most producers write, {"k":v,...} with no white space
  // and no escapes, with every string found through one bitmap of the line's
  // quotes instead of a scan per string. False, having read nothing, for a
  // line not in that form (or too long for the bitmap): object() reads it.
  bool compact_object(std::vector<JsonField>& fields) {
    constexpr std::size_t max_blocks = 16;  // lines up to 512 bytes
    const auto n = static_cast<std::size_t>(end_ - p_);
    const std::size_t blocks = (n + 31) / 32;
    if (n < 2 || blocks > max_blocks || readable_end_ - p_ <= static_cast<std::ptrdiff_t>(32 * blocks)) return false;
    const char* const base = p_;
    if (base[0] != '{' || end_[-1] != '}') return false;
    std::uint32_t quotes[max_blocks];
    std::uint32_t special = 0, high = 0;
    for (std::size_t b = 0; b < blocks; ++b) {
      const ByteClasses c = classify(base + 32 * b);
      const std::uint32_t valid = b + 1 < blocks || n % 32 == 0 ? ~0U : (1U << (n % 32)) - 1;
      quotes[b] = c.quote & valid;
      // Tab, CR and LF are control characters too. A space may be in a
      // string; anywhere else the walk below refuses it.
      special |= c.escape_or_control & valid;
      high |= c.high & valid;
    }
    if (special != 0) return false;
    std::size_t block = 0;
    std::uint32_t bits = quotes[0];
    // The offset of the next quote of the line, or n when there is none.
    auto next_quote = [&]() -> std::size_t {
      while (bits == 0) {
        if (++block == blocks) return n;
        bits = quotes[block];
      }
      const auto at = 32 * block + static_cast<std::size_t>(std::countr_zero(bits));
      bits &= bits - 1;
      return at;
    };
    // A string starting at p: its text up to the closing quote, p after it.
    auto string_at = [&](const char*& p, std::string_view& out) {
      const auto open = static_cast<std::size_t>(p - base);
      if (next_quote() != open) return false;
      const std::size_t close = next_quote();
      if (close == n) return false;
      out = std::string_view(p + 1, close - open - 1);
      p = base + close + 1;
      return true;
    };
    const std::size_t first_field = fields.size();
    const char* p = base + 1;
    if (*p != '}') {
      for (;;) {
        JsonField& f = fields.emplace_back();
        if (*p != '"' || !string_at(p, f.key) || *p != ':') return undo(fields, first_field);
        f.key_prefix = prefix_of(f.key);
        ++p;
        if (*p == '"') {
          f.type = json_type::string;
          if (!string_at(p, f.text)) return undo(fields, first_field);
        } else {
          p_ = p;
          const bool ok = value(f);
          p = p_;
          p_ = base;
          if (!ok) return undo(fields, first_field);
        }
        if (*p == ',') {
          ++p;
          continue;
        }
        if (*p != '}') return undo(fields, first_field);
        break;
      }
    }
    // Every quote was a string's, and the closing brace ends the line.
    if (p + 1 != end_ || next_quote() != n) return undo(fields, first_field);
    high_ = high != 0;
    p_ = end_;
    return true;
  }
#else
  bool compact_object(std::vector<JsonField>&) { return false; }
#endif

  bool object(std::vector<JsonField>& fields) {
    space();
    if (!take('{')) return false;
    space();
    if (!take('}')) {
      for (;;) {
        if (!take('"')) return false;
        JsonField& f = fields.emplace_back();  // on failure the caller clears fields
        if (!string(f.key)) return false;
        f.key_prefix = prefix_of(f.key);
        space();
        if (!take(':')) return false;
        space();
        if (!value(f)) return false;
        space();
        if (p_ == end_) return false;
        const char next = *p_++;
        if (next == ',') {
          space();
          continue;
        }
        if (next == '}') break;
        return false;
      }
    }
    space();
    return p_ == end_;
  }
  bool high_bytes() const { return high_; }

 private:
  // name_prefix(), with one load where eight bytes may be read.
  std::uint64_t prefix_of(std::string_view key) const {
    if (std::endian::native != std::endian::little || key.data() >= wide_end_) return name_prefix(key);
    std::uint64_t v;
    std::memcpy(&v, key.data(), 8);
    return key.size() >= 8 ? v : v & ((std::uint64_t{1} << (8 * key.size())) - 1);
  }

  bool take(char c) {
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }
  void space() {
    // Compact NDJSON has no space between tokens: one test for the usual case.
    if (p_ < end_ && static_cast<unsigned char>(*p_) > ' ') return;
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\r' || *p_ == '\n')) ++p_;
  }
  bool word(std::string_view w) {
    if (static_cast<std::size_t>(end_ - p_) < w.size() || std::memcmp(p_, w.data(), w.size()) != 0)
      return false;
    p_ += w.size();
    return true;
  }
  // After the opening quote. Escapes and control characters are left to simdjson.
  [[gnu::always_inline]] bool string(std::string_view& out) {
    const char* from = p_;
    for (;;) {
      skip_plain();
      if (p_ >= end_) return false;
      switch (string_class[static_cast<unsigned char>(*p_)]) {
        case quote:
          out = std::string_view(from, static_cast<std::size_t>(p_ - from));
          ++p_;
          return true;
        case high:
          high_ = true;
          ++p_;
          break;
        default:
          return false;
      }
    }
  }
  // Moves to the first byte in a string that is not plain, eight at a time
  // where the bytes past the line may be read.
  [[gnu::always_inline]] void skip_plain() {
#if defined(__AVX2__)
    // Most strings and keys fit one 32-byte look.
    while (p_ < end_ && p_ + 24 < wide_end_) {
      const ByteClasses c = classify(p_);
      const std::uint32_t m = c.quote | c.escape_or_control | c.high;
      if (m != 0) {
        p_ += std::countr_zero(m);
        return;
      }
      p_ += 32;
    }
#endif
    constexpr std::uint64_t ones = 0x0101010101010101, highs = 0x8080808080808080;
    while (p_ < end_ && p_ < wide_end_) {
      std::uint64_t x;
      std::memcpy(&x, p_, 8);
      const std::uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
      // The lowest flagged byte of each term is exact, so is their lowest.
      const std::uint64_t special = ((q - ones) & ~q) | ((b - ones) & ~b) | ((x - ones * 0x20) & ~x) | x;
      if (const std::uint64_t m = special & highs; m != 0) {
        p_ += std::countr_zero(m) / 8;
        return;
      }
      p_ += 8;
    }
    while (p_ < end_ && string_class[static_cast<unsigned char>(*p_)] == plain) ++p_;
  }
  [[gnu::always_inline]] bool value(JsonField& f) {
    if (p_ == end_) return false;
    switch (*p_) {
      case '"':
        ++p_;
        f.type = json_type::string;
        return string(f.text);
      case 't':
        f.type = json_type::boolean;
        f.boolean = true;
        return word("true");
      case 'f':
        f.type = json_type::boolean;
        return word("false");
      case 'n':
        f.type = json_type::null;
        return word("null");
      default:
        f.type = json_type::number;
        return number(f);
    }
  }
  // Integers that fit int64, and decimals whose digits fit 2^53 with a power
  // of ten up to 22: one exact multiplication or division, so the double is
  // correctly rounded, as simdjson's is.
  bool number(JsonField& f) {
    const bool negative = take('-');
    if (p_ == end_ || !is_digit(*p_)) return false;
    if (*p_ == '0' && p_ + 1 < end_ && is_digit(p_[1])) return false;
    std::uint64_t digits = 0;
    int count = 0, exponent = 0;
    for (; p_ < end_ && is_digit(*p_); ++p_, ++count) {
      if (count == 19) return false;
      digits = digits * 10 + static_cast<std::uint64_t>(*p_ - '0');
    }
    bool integral = true;
    if (take('.')) {
      integral = false;
      if (p_ == end_ || !is_digit(*p_)) return false;
      for (; p_ < end_ && is_digit(*p_); ++p_, ++count, --exponent) {
        if (count == 19) return false;
        digits = digits * 10 + static_cast<std::uint64_t>(*p_ - '0');
      }
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      integral = false;
      ++p_;
      const bool minus = take('-');
      if (!minus) take('+');
      if (p_ == end_ || !is_digit(*p_)) return false;
      int e = 0;
      for (; p_ < end_ && is_digit(*p_); ++p_) {
        if (e > 1000) return false;
        e = e * 10 + (*p_ - '0');
      }
      exponent += minus ? -e : e;
    }
    if (integral) {
      if (digits > static_cast<std::uint64_t>(INT64_MAX) || (negative && digits == 0)) return false;
      f.integral = true;
      f.integer = negative ? -static_cast<std::int64_t>(digits) : static_cast<std::int64_t>(digits);
      f.number = static_cast<double>(f.integer);
      return true;
    }
    if (digits > (std::uint64_t{1} << 53) || exponent < -22 || exponent > 22) return false;
    double v = static_cast<double>(digits);
    v = exponent < 0 ? v / exact_powers[-exponent] : v * exact_powers[exponent];
    f.number = negative ? -v : v;
    return true;
  }

  bool undo(std::vector<JsonField>& fields, std::size_t size) {
    fields.resize(size);
    return false;
  }

  const char* p_;
  const char* end_;
  const char* wide_end_;  // eight bytes may be read from before here
  const char* readable_end_;
  bool high_ = false;  // bytes over 0x7f inside strings: UTF-8 to check
};

}  // namespace

bool parse_flat(std::string_view line, std::size_t readable, std::vector<JsonField>& fields) {
  FlatScanner scan(line, std::max(readable, line.size()));
  if (!scan.compact_object(fields) && !scan.object(fields)) return false;
  return !scan.high_bytes() || simdjson::validate_utf8(line.data(), line.size());
}

}  // namespace detail

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
  if (fast_ && detail::parse_flat(line, capacity, out.fields_)) return true;
  out.fields_.clear();
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
