#include "citypipe/pg/schema.h"

#include <algorithm>

#include "citypipe/core/event_time.h"

namespace citypipe::pg {

col_type type_from_oid(std::uint32_t oid) {
  switch (oid) {
    case 16: return col_type::boolean;
    case 20: return col_type::bigint;
    case 21: return col_type::smallint;
    case 23: return col_type::integer;
    case 19:    // name
    case 25:    // text
    case 1042:  // character
    case 1043:  // character varying
      return col_type::text;
    case 114: return col_type::json;
    case 700: return col_type::real;
    case 701: return col_type::double_precision;
    case 1114: return col_type::timestamp;
    case 1184: return col_type::timestamptz;
    case 3802: return col_type::jsonb;
    default: return col_type::other;
  }
}

std::string_view type_name(col_type t) {
  switch (t) {
    case col_type::bigint: return "bigint";
    case col_type::integer: return "integer";
    case col_type::smallint: return "smallint";
    case col_type::double_precision: return "double precision";
    case col_type::real: return "real";
    case col_type::boolean: return "boolean";
    case col_type::text: return "text";
    case col_type::timestamptz: return "timestamptz";
    case col_type::timestamp: return "timestamp";
    case col_type::jsonb: return "jsonb";
    case col_type::json: return "json";
    case col_type::other: break;
  }
  return "text";
}

namespace {

// One identifier at text[pos]: "quoted ""like"" this" or plain up to a dot.
bool parse_ident(std::string_view text, std::size_t& pos, std::string& out, std::string& error) {
  out.clear();
  if (pos < text.size() && text[pos] == '"') {
    ++pos;
    for (;;) {
      if (pos >= text.size()) {
        error = "unterminated quoted identifier";
        return false;
      }
      if (text[pos] == '"') {
        if (pos + 1 < text.size() && text[pos + 1] == '"') {
          out += '"';
          pos += 2;
          continue;
        }
        ++pos;
        break;
      }
      out += text[pos++];
    }
  } else {
    while (pos < text.size() && text[pos] != '.') out += text[pos++];
  }
  if (out.empty()) {
    error = "empty name";
    return false;
  }
  if (out.find('\0') != std::string::npos) {
    error = "NUL character in name";
    return false;
  }
  return true;
}

}  // namespace

std::optional<TableName> parse_table_name(std::string_view text, std::string& error) {
  TableName name;
  std::size_t pos = 0;
  std::string first;
  if (!parse_ident(text, pos, first, error)) return std::nullopt;
  if (pos == text.size()) {
    name.table = std::move(first);
    return name;
  }
  if (text[pos] != '.') {
    error = "expected '.' after a quoted name";
    return std::nullopt;
  }
  ++pos;
  if (!parse_ident(text, pos, name.table, error)) return std::nullopt;
  if (pos != text.size()) {
    error = "more than SCHEMA.TABLE";
    return std::nullopt;
  }
  name.schema = std::move(first);
  return name;
}

std::string quote_ident(std::string_view name) {
  std::string out;
  out.reserve(name.size() + 2);
  out += '"';
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string quote_table(const TableName& name) {
  if (name.schema.empty()) return quote_ident(name.table);
  return quote_ident(name.schema) + "." + quote_ident(name.table);
}

std::string quote_literal(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
  return out;
}

SchemaInference::SchemaInference(std::vector<std::string> time_columns)
    : time_columns_(std::move(time_columns)) {}

bool SchemaInference::is_time_column(std::string_view name) const {
  return std::find(time_columns_.begin(), time_columns_.end(), name) != time_columns_.end();
}

void SchemaInference::add(const JsonRecord& record) {
  for (const JsonField& f : record.fields()) {
    auto it = std::find_if(fields_.begin(), fields_.end(),
                           [&](const Field& x) { return x.name == f.key; });
    if (it == fields_.end()) {
      fields_.push_back(Field{std::string(f.key), seen::nothing});
      it = fields_.end() - 1;
    }
    seen kind = seen::nothing;
    switch (f.type) {
      case json_type::null: continue;
      case json_type::boolean: kind = seen::boolean; break;
      case json_type::number: kind = f.integral ? seen::integer : seen::number; break;
      case json_type::string:
        kind = is_time_column(f.key) && parse_rfc3339(f.text) ? seen::time : seen::text;
        break;
      case json_type::array:
      case json_type::object: kind = seen::json; break;
    }
    seen& have = it->kind;
    // The first value decides; only an integer column turns double precision
    // when a later number of the batch has a fraction (21 then 21.5).
    if (have == seen::nothing || (have == seen::integer && kind == seen::number)) have = kind;
  }
}

std::vector<Column> SchemaInference::columns() const {
  std::vector<Column> out;
  out.reserve(fields_.size());
  for (const Field& f : fields_) {
    col_type t = col_type::text;
    switch (f.kind) {
      case seen::integer: t = col_type::bigint; break;
      case seen::number: t = col_type::double_precision; break;
      case seen::boolean: t = col_type::boolean; break;
      case seen::time: t = col_type::timestamptz; break;
      case seen::json: t = col_type::jsonb; break;
      case seen::nothing:
      case seen::text: t = col_type::text; break;
    }
    out.push_back(Column{f.name, t});
  }
  return out;
}

std::optional<std::string> pick_time_column(const std::vector<Column>& columns,
                                            const std::vector<std::string>& time_columns) {
  for (const std::string& name : time_columns)
    for (const Column& c : columns)
      if (c.name == name && c.type == col_type::timestamptz) return name;
  return std::nullopt;
}

namespace {

std::string column_list(const std::vector<Column>& columns, std::string_view prefix = {}) {
  std::string out;
  for (const Column& c : columns) {
    if (!out.empty()) out += ", ";
    out += prefix;
    out += quote_ident(c.name);
  }
  return out;
}

std::string name_list(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) {
    if (!out.empty()) out += ", ";
    out += quote_ident(n);
  }
  return out;
}

// Index names: "<table>_<suffix>"; the server cuts names over 63 bytes itself.
std::string index_name(const TableName& table, std::string_view suffix) {
  return quote_ident(table.table + "_" + std::string(suffix));
}

}  // namespace

std::string create_table_sql(const TableName& table, const std::vector<Column>& columns) {
  std::string sql = "CREATE TABLE IF NOT EXISTS " + quote_table(table) + " (";
  bool first = true;
  for (const Column& c : columns) {
    if (!first) sql += ", ";
    first = false;
    sql += quote_ident(c.name);
    sql += ' ';
    sql += type_name(c.type);
  }
  sql += ")";
  return sql;
}

std::string alter_table_sql(const TableName& table, const std::vector<Column>& add,
                            const std::vector<std::string>& widen) {
  std::string actions;
  for (const Column& c : add) {
    if (!actions.empty()) actions += ", ";
    actions += "ADD COLUMN IF NOT EXISTS " + quote_ident(c.name) + " " + std::string(type_name(c.type));
  }
  for (const std::string& name : widen) {
    if (!actions.empty()) actions += ", ";
    actions += "ALTER COLUMN " + quote_ident(name) + " TYPE double precision";
  }
  return actions.empty() ? std::string() : "ALTER TABLE " + quote_table(table) + " " + actions;
}

std::vector<std::string> create_index_sql(const TableName& table,
                                          const std::optional<std::string>& time_column,
                                          const std::vector<std::string>& key) {
  std::vector<std::string> out;
  const std::string target = quote_table(table);
  const bool keyed_by_time = time_column && std::find(key.begin(), key.end(), *time_column) != key.end();
  if (keyed_by_time) {
    // Time first: rows arrive in time order, so each insert lands at the
    // index's right edge, and this one index also serves time ranges (1.4x
    // the keyed load of the key-ordered index plus a time index).
    std::vector<std::string> columns{*time_column};
    for (const std::string& k : key)
      if (k != *time_column) columns.push_back(k);
    out.push_back("CREATE UNIQUE INDEX IF NOT EXISTS " + index_name(table, "key") + " ON " + target + " (" +
                  name_list(columns) + ")");
    return out;
  }
  if (time_column)
    out.push_back("CREATE INDEX IF NOT EXISTS " + index_name(table, *time_column + "_idx") +
                  " ON " + target + " (" + quote_ident(*time_column) + ")");
  if (!key.empty()) {
    out.push_back("CREATE UNIQUE INDEX IF NOT EXISTS " + index_name(table, "key") + " ON " +
                  target + " (" + name_list(key) + ")");
    if (time_column)
      out.push_back("CREATE INDEX IF NOT EXISTS " + index_name(table, "key_" + *time_column + "_idx") +
                    " ON " + target + " (" + name_list(key) + ", " + quote_ident(*time_column) + ")");
  }
  return out;
}

std::string_view columns_query() {
  return "SELECT a.attname, a.atttypid::int8, (a.atthasdef OR a.attidentity <> '')::int, "
         "(a.attgenerated <> '')::int FROM pg_attribute a "
         "WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped "
         "ORDER BY a.attnum";
}

std::string_view unique_index_query() {
  return "SELECT 1 FROM pg_index i WHERE i.indrelid = to_regclass($1) AND i.indisunique "
         "AND i.indpred IS NULL AND i.indexprs IS NULL AND i.indnkeyatts = cardinality($2::text[]) "
         "AND (SELECT array_agg(a.attname::text ORDER BY a.attname::text) FROM pg_attribute a "
         "WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey[0:i.indnkeyatts - 1])) = "
         "(SELECT array_agg(k ORDER BY k) FROM unnest($2::text[]) k) LIMIT 1";
}

std::string text_array_literal(const std::vector<std::string>& items) {
  std::string out = "{";
  for (const std::string& item : items) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (char c : item) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

std::string copy_sql(std::string_view target, const std::vector<Column>& columns, bool binary) {
  std::string sql = "COPY " + std::string(target) + " (" + column_list(columns) + ") FROM STDIN";
  if (binary) sql += " (FORMAT binary)";
  return sql;
}

std::string stage_table_sql(std::string_view stage, const TableName& table,
                            const std::vector<Column>& columns) {
  return "DROP TABLE IF EXISTS pg_temp." + std::string(stage) + "; CREATE TEMP TABLE " + std::string(stage) +
         " ON COMMIT DELETE ROWS AS SELECT " +
         column_list(columns) + " FROM " + quote_table(table) + " WITH NO DATA";
}

std::string upsert_sql(const TableName& table, std::string_view stage,
                       const std::vector<Column>& columns, const std::vector<std::string>& key,
                       on_conflict mode) {
  const std::string cols = column_list(columns);
  std::string sql = "INSERT INTO " + quote_table(table) + " (" + cols + ") ";
  if (mode == on_conflict::update) {
    // DO UPDATE may touch a row once per statement: keep the batch's last
    // row per key (a fresh heap is in insertion order, so ctid orders it).
    sql += "SELECT DISTINCT ON (" + name_list(key) + ") " + cols + " FROM " + std::string(stage) +
           " ORDER BY " + name_list(key) + ", ctid DESC";
  } else {
    sql += "SELECT " + cols + " FROM " + std::string(stage);
  }
  sql += " ON CONFLICT (" + name_list(key) + ") DO ";
  if (mode == on_conflict::update) {
    std::string sets;
    for (const Column& c : columns) {
      if (std::find(key.begin(), key.end(), c.name) != key.end()) continue;
      if (!sets.empty()) sets += ", ";
      sets += quote_ident(c.name) + " = EXCLUDED." + quote_ident(c.name);
    }
    sql += sets.empty() ? "NOTHING" : "UPDATE SET " + sets;
  } else {
    sql += "NOTHING";
  }
  return sql;
}

}  // namespace citypipe::pg
