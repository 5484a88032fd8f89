#!/usr/bin/env bash
# pg-sink against psql on the same rows, on a throwaway server:
#  plain:      pg-sink (JSON -> binary COPY)  vs  psql \copy of the rows already in
#              PostgreSQL's text COPY format;
#  idempotent: pg-sink --key  vs  psql doing it by hand in one transaction: COPY into
#              a temporary table, INSERT ... SELECT ... ON CONFLICT DO NOTHING;
#              pg-sink on one connection and on PG_SINK_BENCH_WORKERS (2), each
#              key on one of them, against the same psql runs.
# Rows per second, medians of 3 runs; ratio > 1 means pg-sink is faster.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
src=${CITYPIPE_SOURCE:-$(cd "$(dirname "$0")/.." && pwd)}
bash "$src/scripts/deps.sh" postgresql
rows=${PG_SINK_BENCH_ROWS:-1000000}
workers=${PG_SINK_BENCH_WORKERS:-2}
work=$(mktemp -d "${TMPDIR:-/tmp}/pgbench.XXXXXX")
chmod 755 "$work"
eval "$(bash "$src/scripts/pg-tmp.sh" start --owner $$)"
trap 'bash "$src/scripts/pg-tmp.sh" stop "$PG_TMP_DIR"; rm -rf "$work"' EXIT
sql() { psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"; }

if command -v sensor-gen >/dev/null; then
  sensor-gen --fast --count "$rows" --seed 7 > "$work/in.ndjson"
else
  awk -v n="$rows" 'BEGIN { for (i = 0; i < n; i++) printf "{\"ts\":\"2026-01-01T%02d:%02d:%02d.000Z\",\"sensor_id\":\"city-%04d\",\"zone\":\"Downtown\",\"temperature\":%.1f,\"humidity\":55.2,\"aqi\":%d,\"noise_db\":61.3,\"traffic\":%d,\"injected_anomaly\":false}\n", (i/144000)%24, (i/2400)%60, (i/40)%60, i%40, 15+(i%100)/10, i%300, i%200 }' > "$work/in.ndjson"
fi
# The table and the same rows in text COPY format, made once.
pg-sink -t bench --create "$work/in.ndjson"
sql "\\copy bench to '$work/in.copy'" 2>/dev/null || psql -X -q -c "\\copy bench to '$work/in.copy'"
n=$(sql "select count(*) from bench")
cols=$(sql "select string_agg(quote_ident(column_name), ', ' order by ordinal_position) from information_schema.columns where table_name = 'bench'")
sql "create table bench_k (like bench); create unique index on bench_k (sensor_id, ts)"

seconds() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l; }
median() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
rate() { echo "$n / $1" | bc -l | xargs printf '%.0f'; }

ours=() theirs=() ours_k=() theirs_k=() ours_kw=()
cat > "$work/by-hand.sql" <<SQL
create temp table stage (like bench_k) on commit drop;
\\copy stage from '$work/in.copy'
insert into bench_k ($cols) select $cols from stage on conflict (sensor_id, ts) do nothing;
SQL
for _ in 1 2 3; do
  sql "truncate bench; checkpoint"
  theirs+=("$(seconds psql -X -q -c "\\copy bench from '$work/in.copy'")")
  sql "truncate bench; checkpoint"
  ours+=("$(seconds pg-sink -t bench "$work/in.ndjson")")
  sql "truncate bench_k; checkpoint"
  theirs_k+=("$(seconds psql -X -q -1 -v ON_ERROR_STOP=1 -f "$work/by-hand.sql")")
  sql "truncate bench_k; checkpoint"
  ours_k+=("$(seconds pg-sink -t bench_k --key sensor_id,ts "$work/in.ndjson")")
  [ "$(sql "select count(*) from bench_k")" = "$n" ] || echo "40-pg-sink: bench_k has the wrong row count" >&2
  sql "truncate bench_k; checkpoint"
  ours_kw+=("$(seconds pg-sink -t bench_k --key sensor_id,ts --workers "$workers" "$work/in.ndjson")")
  [ "$(sql "select count(*) from bench_k")" = "$n" ] || echo "40-pg-sink: bench_k has the wrong row count (workers)" >&2
done

a=$(median "${ours[@]}") b=$(median "${theirs[@]}")
echo "pg-sink plain        $n rows: pg-sink $(rate "$a") rows/s, psql \\copy (text COPY) $(rate "$b") rows/s, ratio $(echo "$b / $a" | bc -l | xargs printf '%.2f')"
table_row "pg-sink plain, rows/s" "$(rate "$a")" "psql \\copy text COPY: $(rate "$b")" "$(echo "$b / $a" | bc -l | xargs printf '%.2f')" ">= 1.0"
a=$(median "${ours_k[@]}") b=$(median "${theirs_k[@]}")
echo "pg-sink --key        $n rows: pg-sink $(rate "$a") rows/s, psql temp table + ON CONFLICT $(rate "$b") rows/s, ratio $(echo "$b / $a" | bc -l | xargs printf '%.2f')"
table_row "pg-sink --key, rows/s" "$(rate "$a")" "psql temp table + ON CONFLICT: $(rate "$b")" "$(echo "$b / $a" | bc -l | xargs printf '%.2f')" ">= 1.0"
a=$(median "${ours_kw[@]}")
echo "pg-sink --key --workers $workers $n rows: pg-sink $(rate "$a") rows/s, psql temp table + ON CONFLICT $(rate "$b") rows/s, ratio $(echo "$b / $a" | bc -l | xargs printf '%.2f')"
table_row "pg-sink --key --workers $workers, rows/s" "$(rate "$a")" "psql temp table + ON CONFLICT: $(rate "$b")" "$(echo "$b / $a" | bc -l | xargs printf '%.2f')" ">= 1.0"
