#!/usr/bin/env bash
# pg-sink --create after the first batch: a fraction in a bigint column widens
# it to double precision, a field first seen later gets a column, so a trickle
# loses nothing; --print-ddl shows the statements without connecting.
source "$(dirname "$0")/lib/testlib.sh"
source "$(dirname "$0")/lib/pg.sh"

printf '{"id":1,"v":1,"ts":"2026-01-01T00:00:00Z"}\n{"id":2,"v":2.5}\n' > "$T/two"
# --print-ddl connects to nothing: no server is running yet.
rc=0; pg-sink -d "host=/nonexistent dbname=none" -t city.t --create --key id --print-ddl "$T/two" > "$T/ddl" 2> "$T/err" || rc=$?
assert_eq "$rc" 0 "--print-ddl without a server"
assert_eq "$(cat "$T/ddl")" 'CREATE TABLE IF NOT EXISTS "city"."t" ("id" bigint, "v" double precision, "ts" timestamptz);
CREATE INDEX IF NOT EXISTS "t_ts_idx" ON "city"."t" ("ts");
CREATE UNIQUE INDEX IF NOT EXISTS "t_key" ON "city"."t" ("id");
CREATE INDEX IF NOT EXISTS "t_key_ts_idx" ON "city"."t" ("id", "ts");' "--print-ddl prints what --create runs"

pg_start
# A trickle: each record is its own batch (--batch-ms 50ms): the next one is
# written only once the one before is in the table, so the table is made from
# the first record alone, whatever the machine's load.
trickle() {
  local l n=0 i
  while IFS= read -r l; do
    echo "$l"
    n=$((n + 1))
    for ((i = 0; i < 300; i++)); do
      [ "$(sql "select count(*) from tr$workers" 2> /dev/null || echo 0)" -ge "$n" ] && break
      sleep 0.05
    done
  done
}
printf '%s\n' '{"id":1,"v":1}' '{"id":2,"v":2.5}' '{"id":3,"v":3,"w":"new"}' '{"id":4,"v":4.25,"w":"x","z":null}' \
  '{"id":5,"z":true}' > "$T/trickle"
for workers in 1 2; do
  trickle < "$T/trickle" | pg-sink -t tr$workers --create --key id --batch-ms 50ms --workers $workers --stats 2> "$T/err" ||
    fail "trickle: pg-sink failed: $(cat "$T/err")"
  assert_contains "$T/err" "in=5 out=5 rejected=0" "--workers $workers: a trickle with a later fraction and later fields: nothing refused"
  assert_contains "$T/err" 'ALTER COLUMN "v" TYPE double precision' "--workers $workers: the widening is reported"
  assert_eq "$(cols tr$workers)" "id:bigint v:double precision w:text z:boolean" "--workers $workers: v widened, w and z added"
  assert_eq "$(sql "select string_agg(concat_ws(',', id, v, w, z), ' ' order by id) from tr$workers")" \
    "1,1 2,2.5 3,3,new 4,4.25,x 5,t" "--workers $workers: every value stored"
done

# Without --create the table is left alone: an unknown field is ignored, a
# fraction for a bigint column refused.
printf '%s\n' '{"id":9,"v":9.5,"q":1}' '{"id":10,"v":10,"n":1.5}' > "$T/more"
sql "alter table tr1 add column n bigint"
pg-sink -t tr1 --key id --stats "$T/more" 2> "$T/err"
assert_contains "$T/err" "field 'q' has no column" "without --create an unknown field is ignored"
assert_contains "$T/err" "is not an integer (column is bigint)" "without --create a fraction for a bigint column is refused"
assert_eq "$(cols tr1)" "id:bigint v:double precision w:text z:boolean n:bigint" "without --create the table is unchanged"

# A key that holds the time column: one unique index, time first, and it is
# the one --key finds; a replay of the same records adds nothing.
sensor-gen --fast -c 3000 --seed 3 > "$T/city"
pg-sink -t tk --create --key sensor_id,ts --stats "$T/city" 2> "$T/err" || fail "time key: $(cat "$T/err")"
assert_eq "$(sql "select string_agg(indexdef, ' ') from pg_indexes where tablename = 'tk'")" \
  'CREATE UNIQUE INDEX tk_key ON public.tk USING btree (ts, sensor_id)' "a time key: one unique index, time first"
pg-sink -t tk --key sensor_id,ts --stats "$T/city" 2> "$T/err" || fail "time key replay: $(cat "$T/err")"
assert_eq "$(sql "select count(*) from tk")" 3000 "a replay into the time-first index adds nothing"
