// PostgreSQL tables as pg-sink sees them: column types, identifier quoting,
// type inference from records and the SQL it sends. Pure functions, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "citypipe/core/json_record.h"

namespace citypipe::pg {

// The column types pg-sink converts JSON values into; `other` is any type it
// leaves to the server to parse from text (numeric, uuid, date, ...).
enum class col_type : std::uint8_t {
  bigint, integer, smallint, double_precision, real, boolean, text,
  timestamptz, timestamp, jsonb, json, other
};

// The type of a column from its pg_type OID (`other` for any type not above).
col_type type_from_oid(std::uint32_t oid);
// The SQL name of a type, as used in CREATE TABLE ("double precision").
std::string_view type_name(col_type t);

// A table name with an optional schema, both unquoted.
struct TableName {
  std::string schema;  // empty: the search_path decides
  std::string table;
};

// Parses "TABLE" or "SCHEMA.TABLE"; either part may be written as a quoted SQL
// identifier ("my.schema"."my table") to contain dots or quotes. Returns
// nullopt with a reason in error when malformed.
std::optional<TableName> parse_table_name(std::string_view text, std::string& error);

// Always-quoted SQL identifier: "name", with embedded quotes doubled.
std::string quote_ident(std::string_view name);
// "schema"."table", or "table" without a schema.
std::string quote_table(const TableName& name);
// A SQL string literal: 'text', with embedded quotes doubled.
std::string quote_literal(std::string_view text);

struct Column {
  std::string name;
  col_type type = col_type::text;
};

// Infers column types from records (pg-sink gives it the first batch): a
// column's first non-null value decides: integral numbers -> bigint, other
// numbers -> double precision, booleans -> boolean, RFC 3339 strings in a
// time column -> timestamptz, arrays and objects -> jsonb, other strings ->
// text. A bigint column becomes double precision if a later number has a
// fraction; a column with only nulls is text.
class SchemaInference {
 public:
  explicit SchemaInference(std::vector<std::string> time_columns);
  void add(const JsonRecord& record);
  // Columns in order of first appearance.
  std::vector<Column> columns() const;
  bool empty() const { return fields_.empty(); }

 private:
  enum class seen : std::uint8_t { nothing, integer, number, boolean, time, text, json };
  struct Field {
    std::string name;
    seen kind = seen::nothing;
  };
  bool is_time_column(std::string_view name) const;
  std::vector<std::string> time_columns_;
  std::vector<Field> fields_;
};

// The first of `time_columns` that is a timestamptz column, or nullopt.
std::optional<std::string> pick_time_column(const std::vector<Column>& columns,
                                            const std::vector<std::string>& time_columns);

enum class on_conflict : std::uint8_t { none, nothing, update };

// CREATE TABLE IF NOT EXISTS with the given columns.
std::string create_table_sql(const TableName& table, const std::vector<Column>& columns);

// ALTER TABLE for a table --create made, as later records need: new columns,
// and bigint columns widened to double precision (exact for every bigint a
// JSON number can hold). Empty when both lists are.
std::string alter_table_sql(const TableName& table, const std::vector<Column>& add,
                            const std::vector<std::string>& widen);

// Indexes made with --create. A key that holds the time column gets one unique
// index, time first, then the rest of the key; otherwise the time column gets
// an index, and a key its unique index and one on (key, time).
std::vector<std::string> create_index_sql(const TableName& table,
                                          const std::optional<std::string>& time_column,
                                          const std::vector<std::string>& key);

// The columns of an existing table, one row each: name, type OID, whether it
// has a default (or is an identity) column, whether it is generated. $1 is the
// quoted table name. Empty result: no such table.
std::string_view columns_query();

// One row if the table has a unique index ON CONFLICT can use for the key:
// on exactly the key's columns, in any order, without a predicate or an
// expression. $1 is the quoted table name, $2 the key as a text array.
std::string_view unique_index_query();
// A text[] literal, {"a","b"}, for a query parameter.
std::string text_array_literal(const std::vector<std::string>& items);

// COPY target (columns) FROM STDIN, in binary or text format.
std::string copy_sql(std::string_view target, const std::vector<Column>& columns, bool binary);

// The session's staging table for idempotent writes: same column types, no
// constraints, emptied at every commit; replaces an older one of the session.
std::string stage_table_sql(std::string_view stage, const TableName& table,
                            const std::vector<Column>& columns);

// Moves a committed-together batch from the stage into the table. With
// `update`, the last row of the batch wins among equal keys.
std::string upsert_sql(const TableName& table, std::string_view stage,
                       const std::vector<Column>& columns, const std::vector<std::string>& key,
                       on_conflict mode);

}  // namespace citypipe::pg
