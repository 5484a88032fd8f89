// Rows for PostgreSQL's COPY FROM STDIN, from JSON values: the binary format
// (no server-side parsing, the fast path) or the text format (for column
// types pg-sink does not convert itself). Pure encoding, no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "citypipe/core/json_record.h"
#include "citypipe/pg/schema.h"

namespace citypipe::pg {

// True when pg-sink can encode the type in binary COPY format.
bool binary_supported(col_type t);

// Microseconds since 2000-01-01 UTC, PostgreSQL's timestamp origin.
std::int64_t pg_timestamp_us(time_ms t);

// Where one column's value went in an encoded row: out[begin, end). In binary
// format the span starts at the value's 4-byte length; in text format it is
// the escaped value between the tabs (\N for NULL).
struct FieldSpan {
  std::size_t begin = 0, end = 0;
};

// The row a failed COPY FROM STDIN stopped at, 1-based, from the error's
// context ("COPY t, line 12" or "COPY t, line 12, column v: ..."), which the
// server gives in both formats (in binary, lines are rows); 0 when it names none.
std::uint64_t copy_failed_row(std::string_view context);

class CopyEncoder {
 public:
  // binary: every type must be binary_supported.
  CopyEncoder(std::vector<col_type> types, bool binary);

  bool binary() const { return binary_; }
  std::size_t columns() const { return types_.size(); }

  // The bytes that open and close one COPY stream (empty in text format).
  std::string_view header() const;
  std::string_view trailer() const;

  // Appends one row; values[i] is column i's field, nullptr or JSON null for
  // NULL. On a value that does not convert, leaves out unchanged, sets error
  // ("field 'x': ...") and returns false. With spans (columns() of them),
  // also says where each column's value went, for a caller that needs some
  // of them (pg-sink routes rows by their key columns' bytes).
  bool append_row(std::string& out, const JsonField* const* values, std::string& error,
                  FieldSpan* spans = nullptr) const;

 private:
  bool append_binary(std::string& out, col_type t, const JsonField& f, std::string& error) const;
  bool append_text(std::string& out, col_type t, const JsonField& f, std::string& error) const;
  std::vector<col_type> types_;
  bool binary_;
};

}  // namespace citypipe::pg
