#include <catch2/catch.hpp>

#include "citypipe/pg/schema.h"

using namespace citypipe;
using namespace citypipe::pg;

namespace {

std::vector<Column> infer(std::initializer_list<std::string_view> lines,
                          std::vector<std::string> time_cols = {"ts", "window_start", "window_end"}) {
  SchemaInference inf(std::move(time_cols));
  JsonParser parser;
  JsonRecord rec;
  std::string error;
  for (std::string_view l : lines) {
    REQUIRE(parser.parse(l, rec, error));
    inf.add(rec);
  }
  return inf.columns();
}

col_type type_of(const std::vector<Column>& cols, std::string_view name) {
  for (const auto& c : cols)
    if (c.name == name) return c.type;
  FAIL("no column " << name);
  return col_type::other;
}

}  // namespace

TEST_CASE("identifiers are always quoted, quotes doubled", "[pg_schema]") {
  CHECK(quote_ident("sensor_data") == "\"sensor_data\"");
  CHECK(quote_ident("x\"; drop table y; --") == "\"x\"\"; drop table y; --\"");
  CHECK(quote_literal("it's") == "'it''s'");
  CHECK(quote_table({"", "t"}) == "\"t\"");
  CHECK(quote_table({"s", "T"}) == "\"s\".\"T\"");
}

TEST_CASE("table names: TABLE, SCHEMA.TABLE and quoted parts", "[pg_schema]") {
  std::string error;
  auto a = parse_table_name("metrics_1min", error);
  REQUIRE(a);
  CHECK(a->schema.empty());
  CHECK(a->table == "metrics_1min");
  auto b = parse_table_name("city.sensor_data", error);
  REQUIRE(b);
  CHECK(b->schema == "city");
  CHECK(b->table == "sensor_data");
  auto c = parse_table_name("\"my.schema\".\"a \"\"b\"\"\"", error);
  REQUIRE(c);
  CHECK(c->schema == "my.schema");
  CHECK(c->table == "a \"b\"");
  auto hostile = parse_table_name("x\"; drop table y; --", error);
  REQUIRE(hostile);
  CHECK(hostile->table == "x\"; drop table y; --");
  CHECK_FALSE(parse_table_name("", error));
  CHECK_FALSE(parse_table_name("a.", error));
  CHECK_FALSE(parse_table_name("a.b.c", error));
  CHECK_FALSE(parse_table_name("\"open", error));
}

TEST_CASE("type rules from the first records", "[pg_schema]") {
  auto cols = infer({R"({"ts":"2026-11-22T14:00:00.000Z","sensor_id":"city-0001","aqi":42,)"
                     R"("temperature":21.4,"ok":false,"tags":["a"],"meta":{"x":1},"note":null,)"
                     R"("label":"2026-11-22T14:00:00Z","window_end":"soon"})"});
  CHECK(type_of(cols, "ts") == col_type::timestamptz);
  CHECK(type_of(cols, "sensor_id") == col_type::text);
  CHECK(type_of(cols, "aqi") == col_type::bigint);
  CHECK(type_of(cols, "temperature") == col_type::double_precision);
  CHECK(type_of(cols, "ok") == col_type::boolean);
  CHECK(type_of(cols, "tags") == col_type::jsonb);
  CHECK(type_of(cols, "meta") == col_type::jsonb);
  CHECK(type_of(cols, "note") == col_type::text);        // only null seen
  CHECK(type_of(cols, "label") == col_type::text);       // not a time column
  CHECK(type_of(cols, "window_end") == col_type::text);  // not RFC 3339
  REQUIRE(cols.size() == 10);
  CHECK(cols[0].name == "ts");
  CHECK(cols[9].name == "window_end");
}

TEST_CASE("the first value decides, integers turn double on a fraction", "[pg_schema]") {
  auto cols = infer({R"({"t":21,"n":null,"m":1,"j":1,"at":"2026-01-01T00:00:00Z"})",
                     R"({"t":21.5,"n":3,"m":"x","j":[1],"at":"2026-01-01T00:00:01Z"})"},
                    {"at"});
  CHECK(type_of(cols, "t") == col_type::double_precision);
  CHECK(type_of(cols, "n") == col_type::bigint);
  CHECK(type_of(cols, "m") == col_type::bigint);  // "x" later is a bad value
  CHECK(type_of(cols, "j") == col_type::bigint);
  CHECK(type_of(cols, "at") == col_type::timestamptz);
  CHECK(pick_time_column(cols, {"ts", "at"}) == std::optional<std::string>("at"));
  CHECK_FALSE(pick_time_column(cols, {"ts"}));
}

TEST_CASE("SQL quotes every name", "[pg_schema]") {
  TableName t{"s", "x\"y"};
  std::vector<Column> cols{{"ts", col_type::timestamptz}, {"id", col_type::text}, {"v", col_type::double_precision}};
  CHECK(create_table_sql(t, cols) ==
        "CREATE TABLE IF NOT EXISTS \"s\".\"x\"\"y\" (\"ts\" timestamptz, \"id\" text, \"v\" double precision)");
  CHECK(copy_sql(quote_table(t), cols, true) ==
        "COPY \"s\".\"x\"\"y\" (\"ts\", \"id\", \"v\") FROM STDIN (FORMAT binary)");
  auto idx = create_index_sql(t, std::string("ts"), {"id"});
  REQUIRE(idx.size() == 3);
  CHECK(idx[0] == "CREATE INDEX IF NOT EXISTS \"x\"\"y_ts_idx\" ON \"s\".\"x\"\"y\" (\"ts\")");
  CHECK(idx[1] == "CREATE UNIQUE INDEX IF NOT EXISTS \"x\"\"y_key\" ON \"s\".\"x\"\"y\" (\"id\")");
  CHECK(idx[2] == "CREATE INDEX IF NOT EXISTS \"x\"\"y_key_ts_idx\" ON \"s\".\"x\"\"y\" (\"id\", \"ts\")");
  auto by_time = create_index_sql(t, std::string("ts"), {"id", "ts", "k"});
  REQUIRE(by_time.size() == 1);
  CHECK(by_time[0] == "CREATE UNIQUE INDEX IF NOT EXISTS \"x\"\"y_key\" ON \"s\".\"x\"\"y\" (\"ts\", \"id\", \"k\")");
  CHECK(create_index_sql(t, std::nullopt, {"id", "ts"}).size() == 1);
  CHECK(create_index_sql(t, std::nullopt, {}).empty());
}

TEST_CASE("upserts: nothing, and update with the batch's last row", "[pg_schema]") {
  TableName t{"", "m"};
  std::vector<Column> cols{{"k", col_type::text}, {"v", col_type::bigint}};
  CHECK(upsert_sql(t, "stage", cols, {"k"}, on_conflict::nothing) ==
        "INSERT INTO \"m\" (\"k\", \"v\") SELECT \"k\", \"v\" FROM stage ON CONFLICT (\"k\") DO NOTHING");
  CHECK(upsert_sql(t, "stage", cols, {"k"}, on_conflict::update) ==
        "INSERT INTO \"m\" (\"k\", \"v\") SELECT DISTINCT ON (\"k\") \"k\", \"v\" FROM stage "
        "ORDER BY \"k\", ctid DESC ON CONFLICT (\"k\") DO UPDATE SET \"v\" = EXCLUDED.\"v\"");
}

TEST_CASE("type OIDs", "[pg_schema]") {
  CHECK(type_from_oid(20) == col_type::bigint);
  CHECK(type_from_oid(1184) == col_type::timestamptz);
  CHECK(type_from_oid(3802) == col_type::jsonb);
  CHECK(type_from_oid(1043) == col_type::text);
  CHECK(type_from_oid(1700) == col_type::other);  // numeric
}

TEST_CASE("ALTER TABLE for later records, and text[] literals", "[pg_schema]") {
  TableName t{"s", "t\"x"};
  CHECK(alter_table_sql(t, {}, {}).empty());
  CHECK(alter_table_sql(t, {{"w", col_type::text}, {"n", col_type::bigint}}, {"v"}) ==
        R"(ALTER TABLE "s"."t""x" ADD COLUMN IF NOT EXISTS "w" text, ADD COLUMN IF NOT EXISTS "n" bigint, )"
        R"(ALTER COLUMN "v" TYPE double precision)");
  CHECK(text_array_literal({"a", "b\"c", "d\\e"}) == R"({"a","b\"c","d\\e"})");
}
