# pg-sink: --create type rules, NULLs, bad values with a reject file, hostile
# names, schemas, unknown fields, server-side refusals and text-format columns.
source "$(dirname "$0")/lib/testlib.sh"
source "$(dirname "$0")/lib/pg.sh"
pg_start

cat > "$T/in.ndjson" <<'J'
{"ts":"2026-11-22T14:00:00.000Z","sensor_id":"city-0001","aqi":42,"temperature":21,"ok":false,"tags":["a",1],"meta":{"k":"v"},"seen_at":"2026-11-22T13:59:59.5Z","window_start":"soon","note":null}
{"ts":"2026-11-22T14:00:01+01:00","sensor_id":"city-0002","aqi":43,"temperature":21.5,"ok":true,"tags":[],"meta":{},"seen_at":"2026-11-22T13:00:00Z","window_start":"later","note":"tab\there"}
{"ts":"2026-11-22T14:00:02.000Z","sensor_id":"city-0003"}
{"ts":"2026-11-22T14:00:03.000Z","sensor_id":"city-0004","aqi":"bad"}
{"ts":"yesterday","sensor_id":"city-0005"}
{"ts":"2026-11-22T14:00:05.000Z","sensor_id":"city-0006","ok":"yes"}
not json
{"ts":"2026-11-22T14:00:06.000Z","sensor_id":"city-0007","aqi":null,"temperature":null,"ok":null}
J
assert_status 0 "create and load" -- pg-sink -t readings --create --time-columns seen_at \
  --reject "$T/rej" --stats "$T/in.ndjson" 2>"$T/err"
assert_eq "$(cols readings)" \
  "ts:timestamp with time zone sensor_id:text aqi:bigint temperature:double precision ok:boolean tags:jsonb meta:jsonb seen_at:timestamp with time zone window_start:text note:text" \
  "type rules: bigint, double, boolean, jsonb, timestamptz (ts and --time-columns), text"
assert_eq "$(sql "select count(*) from readings")" 4 "good records loaded"
assert_eq "$(count_lines "$T/rej")" 4 "bad records in the reject file"
assert_contains "$T/rej" '"aqi":"bad"' "string in a bigint column rejected"
assert_contains "$T/rej" '"ts":"yesterday"' "non-RFC 3339 time rejected"
assert_contains "$T/rej" '"ok":"yes"' "string in a boolean column rejected"
assert_contains "$T/err" "in.ndjson:4: field 'aqi': \"bad\" is not a number (column is bigint)" "reason with file:line"
assert_contains "$T/err" "in.ndjson:7: " "unparsable line reported"
assert_contains "$T/err" "stats in=4 out=4 rejected=4" "stats"
assert_eq "$(sql "select to_char(ts at time zone 'UTC', 'HH24:MI:SS'), aqi, temperature, ok, tags::text, meta->>'k', to_char(seen_at at time zone 'UTC', 'HH24:MI:SS.MS') from readings where sensor_id = 'city-0001'")" \
  "14:00:00|42|21|f|[\"a\", 1]|v|13:59:59.500" "values of the first record"
assert_eq "$(sql "select to_char(ts at time zone 'UTC', 'HH24:MI:SS'), temperature, note from readings where sensor_id = 'city-0002'")" \
  "13:00:01|21.5|tab	here" "offset time, double, tab in text"
assert_eq "$(sql "select count(*) from readings where aqi is null and temperature is null and ok is null and tags is null")" 2 "missing and null fields are NULL"
assert_eq "$(sql "select count(*) from pg_indexes where tablename = 'readings' and indexdef like '%(ts)%'")" 1 "index on the time column"

# Hostile names are identifiers, nothing else.
sql "create table y (a int)"
echo '{"a\"b":1,"ts":"2026-11-22T14:00:00Z"}' > "$T/h.ndjson"
assert_status 0 "hostile table name" -- pg-sink -t 'x"; drop table y; --' --create "$T/h.ndjson"
assert_eq "$(sql "select count(*) from \"x\"\"; drop table y; --\"")" 1 "table with the hostile name has the row"
assert_eq "$(sql "select count(*) from y")" 0 "table y still exists"
assert_eq "$(sql "select \"a\"\"b\" from \"x\"\"; drop table y; --\"")" 1 "hostile column name"

# SCHEMA.TABLE, and a missing table without --create.
sql "create schema city"
assert_status 0 "schema.table" -- pg-sink -t city.sensor_data --create "$T/h.ndjson"
assert_eq "$(sql "select count(*) from city.sensor_data")" 1 "row in city.sensor_data"
assert_status 64 "missing table without --create" -- pg-sink -t nowhere "$T/h.ndjson" 2>"$T/err"
assert_contains "$T/err" "does not exist" "says the table is missing"

# An existing table: defaults filled by the server, numeric through text COPY,
# NOT NULL refusals rejected row by row, unknown fields reported once.
sql "create table m (id bigserial primary key, at timestamptz default now(), station text not null, level numeric(6,2), d date)"
cat > "$T/m.ndjson" <<'J'
{"station":"a","level":"1.50","d":"2026-11-22","junk":1}
{"station":null,"level":2}
{"station":"c","level":3.25,"junk":2}
{"station":"d","level":"high"}
{"station":"e"}
J
assert_status 0 "existing table" -- pg-sink -t m --reject "$T/rej2" --stats "$T/m.ndjson" 2>"$T/err"
assert_eq "$(sql "select string_agg(station || '=' || coalesce(level::text, '-') || '@' || (at is not null)::text, ' ' order by id) from m")" \
  "a=1.50@true c=3.25@true e=-@true" "rows in, ids and defaults by the server"
assert_eq "$(count_lines "$T/rej2")" 2 "refused rows rejected alone"
assert_contains "$T/err" "m.ndjson:2: PostgreSQL refused the row" "NOT NULL refusal names the line"
assert_contains "$T/err" "m.ndjson:4: PostgreSQL refused the row" "numeric refusal names the line"
assert_eq "$(grep -c "field 'junk' has no column" "$T/err")" 1 "unknown field reported once"
assert_status 65 "--strict-columns with --strict" -- pg-sink -t m --strict-columns --strict "$T/m.ndjson" 2>"$T/err"
assert_contains "$T/err" "field 'junk' has no column in \"m\"" "strict columns reason"
