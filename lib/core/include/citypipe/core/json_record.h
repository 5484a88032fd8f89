// One NDJSON line parsed into its top-level fields. Values stay views into the
// parser's memory until the next parse, so a record is cheap to make and reuse.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "citypipe/core/event_time.h"

namespace citypipe {

enum class json_type : std::uint8_t { null, boolean, number, string, array, object };

// The first eight bytes of a name, zero-padded: most field names fit, so
// comparing names is mostly comparing two integers.
std::uint64_t name_prefix(std::string_view name);

struct JsonField {
  std::string_view key;    // unescaped
  std::uint64_t key_prefix = 0;  // name_prefix(key)
  json_type type = json_type::null;
  bool boolean = false;
  bool integral = false;   // a number written without fraction or exponent
  double number = 0;
  std::int64_t integer = 0;  // valid when integral
  std::string_view text;   // unescaped string, or raw JSON of an array or object
};

// The event time a field holds: an RFC 3339 string or epoch seconds/ms;
// nullopt for a missing field (nullptr) or any other value.
std::optional<time_ms> event_time(const JsonField* f);

namespace detail {
// A record's fields, written into room kept from line to line: a parser's
// field is then a store, not an allocation or a vector's bookkeeping.
struct FieldStore {
  std::vector<JsonField> room;  // room[0, size) are the record's
  std::size_t size = 0;
  // Room for n fields in all.
  void reserve(std::size_t n) {
    if (room.size() < n) room.resize(std::max(n, 2 * room.size()));
  }
  // A new field, reset, at the end.
  JsonField& add() {
    reserve(size + 1);
    JsonField& f = room[size++];
    f = JsonField{};
    return f;
  }
};
}  // namespace detail

// A field name made ready for fast look-ups in records.
class FieldName {
 public:
  FieldName() = default;
  explicit FieldName(std::string name)
      : name_(std::move(name)), prefix_(name_prefix(name_)), suffix_(name_.size() > 8 ? last8(name_) : 0) {}
  const std::string& str() const { return name_; }
  bool names(const JsonField& f) const {
    if (f.key_prefix != prefix_ || f.key.size() != name_.size()) return false;
    if (name_.size() <= 8) return true;
    // The first and last eight bytes cover a name of up to 16.
    return last8(f.key) == suffix_ &&
           (name_.size() <= 16 || std::string_view(name_).substr(8) == f.key.substr(8));
  }

 private:
  static std::uint64_t last8(std::string_view s) {
    std::uint64_t v;
    std::memcpy(&v, s.data() + s.size() - 8, 8);
    return v;
  }
  std::string name_;
  std::uint64_t prefix_ = 0;
  std::uint64_t suffix_ = 0;  // the last eight bytes of a longer name
};

class JsonRecord {
 public:
  std::span<const JsonField> fields() const { return {fields_.room.data(), fields_.size}; }
  // The raw line the record came from (no line terminator).
  std::string_view raw() const { return raw_; }
  // The record's keys in their order, as an id: two records parsed by one
  // JsonParser with the same id have the same keys at the same indexes, so
  // where a field was found in one it is in the other. Not 0 once parsed.
  std::uint64_t layout() const { return layout_; }

  // The first field named key, or nullptr.
  const JsonField* find(std::string_view key) const;
  // The same, faster; hint is where to look first (and is set to where it was
  // found): records of one stream mostly share their layout.
  const JsonField* find(const FieldName& key, std::size_t& hint) const {
    if (hint < fields_.size && key.names(fields_.room[hint])) return &fields_.room[hint];
    return find_from_start(key, hint);
  }

  // Typed look-ups; nullopt when absent or of another type.
  std::optional<double> number(std::string_view key) const;
  std::optional<std::string_view> string(std::string_view key) const;
  std::optional<bool> boolean(std::string_view key) const;

  // The event time of field key: an RFC 3339 string or epoch seconds/ms.
  std::optional<time_ms> time(std::string_view key) const;
  std::optional<time_ms> time(const FieldName& key, std::size_t& hint) const;

 private:
  friend class JsonParser;
  const JsonField* find_from_start(const FieldName& key, std::size_t& hint) const;
  detail::FieldStore fields_;
  std::string_view raw_;
  std::uint64_t layout_ = 0;
};

// The fields a FieldLookup found in one record, by the index of their name:
// nullptr where the record has none.
class FieldHits {
 public:
  static constexpr std::size_t absent = SIZE_MAX;
  FieldHits() = default;
  FieldHits(const JsonField* fields, const std::size_t* index) : fields_(fields), index_(index) {}
  const JsonField* operator[](std::size_t i) const {
    if (index_[i] == absent) return nullptr;
    const JsonField* f = fields_ + index_[i];
    if (f == nullptr) __builtin_unreachable();  // so callers' null tests fold into the one above
    return f;
  }
  // The hits of the names from the i-th on.
  FieldHits from(std::size_t i) const { return {fields_, index_ + i}; }

 private:
  const JsonField* fields_ = nullptr;
  const std::size_t* index_ = nullptr;
};

// Finds a fixed list of fields in record after record: by name in a record
// whose layout() is neither of the last two met, else straight at the
// indexes found then (the usual stream repeats one layout, or two in turn).
class FieldLookup {
 public:
  FieldLookup() = default;
  explicit FieldLookup(std::vector<FieldName> names)
      : names_(std::move(names)), index_(names_.size(), absent), other_(names_.size(), absent) {}
  // The fields of the names in rec. Valid until the next call, and while rec
  // is unchanged.
  FieldHits find(const JsonRecord& rec) {
    if (rec.layout() == layout_) return {rec.fields().data(), index_.data()};
    if (rec.layout() == other_layout_) return {rec.fields().data(), other_.data()};
    return find_by_name(rec);
  }

 private:
  static constexpr std::size_t absent = FieldHits::absent;
  FieldHits find_by_name(const JsonRecord& rec);
  std::vector<FieldName> names_;
  // The indexes in records of layout_, and of the one before; or absent.
  // Layout 0 (a record never parsed, so empty) has none of the names.
  std::vector<std::size_t> index_, other_;
  std::uint64_t layout_ = 0, other_layout_ = 0;
};

namespace detail {
// The common case of an NDJSON record, without simdjson: a flat object of
// scalars, keys and strings without escapes, numbers that convert exactly.
// When the line is exactly that: its fields in out, and its layout id (never
// 0; 1 without a layout); 0 when unsure, which leaves the verdict to
// simdjson. readable: the bytes that may be read from line.data() (>=
// line.size()). layout, when given, remembers the keys of one line as a
// guess at the next one's.
struct KeyLayout;
std::uint64_t parse_flat(std::string_view line, std::size_t readable, FieldStore& out, KeyLayout* layout = nullptr);
// parse_flat's kernel for this CPU (AVX-512, AVX2 or portable), for a parser to keep.
using FlatParse = std::uint64_t (*)(std::string_view, std::size_t, FieldStore&, KeyLayout*);
FlatParse flat_parse();
}  // namespace detail

// Parses lines into JsonRecords. Not thread-safe; keep one per reader.
class JsonParser {
 public:
  // fast=false leaves every line to simdjson (for tests of the fast path).
  explicit JsonParser(bool fast = true);
  ~JsonParser();
  JsonParser(const JsonParser&) = delete;
  JsonParser& operator=(const JsonParser&) = delete;

  // Parses one line. `capacity` is the readable size from line.data(); at
  // least line.size() + padding() avoids a copy. On failure returns false and
  // sets error to a short reason ("not a JSON object", "invalid JSON: ...").
  bool parse(std::string_view line, std::size_t capacity, JsonRecord& out, std::string& error) {
    out.fields_.size = 0;
    out.raw_ = line;
    // The usual line opens with its brace: straight to the fast path, chosen
    // once for the CPU, in line in the caller's loop.
    const bool brace = !line.empty() && line[0] == '{';
    if (brace && flat_ != nullptr) {
      if (const std::uint64_t layout = flat_(line, capacity, out.fields_, layout_); layout != 0) {
        out.layout_ = layout;
        return true;
      }
    }
    return parse_other(line, capacity, out, error, brace);
  }
  bool parse(std::string_view line, JsonRecord& out, std::string& error) {
    return parse(line, line.size(), out, error);
  }

  static std::size_t padding();
  // The fast path's kernel on this CPU: "avx512", "avx2" or "portable".
  static std::string_view kernel();

 private:
  // A line the fast path did not take (brace: it opened with '{'): the
  // fast path after leading blanks, or simdjson's verdict.
  [[gnu::noinline]] bool parse_other(std::string_view line, std::size_t capacity, JsonRecord& out,
                                     std::string& error, bool brace);
  struct impl;
  std::unique_ptr<impl> impl_;
  detail::FlatParse flat_ = nullptr;       // this CPU's fast path; nullptr when not fast
  detail::KeyLayout* layout_ = nullptr;    // impl_'s
};

}  // namespace citypipe
