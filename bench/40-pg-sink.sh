#!/usr/bin/env bash
# pg-sink against psql on the same rows, on a throwaway server configured as a
# real one (scripts/pg-tmp.sh --durable: fsync, full_page_writes and
# synchronous_commit on), the table indexed on ts as pg-sink --create makes it:
#  plain:      pg-sink (JSON -> binary COPY)  vs  psql \copy of the rows already in
#              PostgreSQL's text COPY format;
#  idempotent: pg-sink --key  vs  psql doing it by hand in one transaction: COPY into
#              a temporary table, INSERT ... SELECT ... ON CONFLICT DO NOTHING;
#              into an empty table, and into one that already holds the first
#              half of the rows (a replay after a crash);
#              and pg-sink --key against pg-sink plain;
#  reference:  psql \copy into the keyed table against into the plain one: what
#              the unique index costs the server whoever loads, the bound on
#              pg-sink --key against pg-sink plain.
# Rows per second over PG_SINK_BENCH_ROUNDS (5) alternating rounds: median, min
# and max; ratio of medians > 1 means pg-sink is faster. Also the median CPU
# seconds of each, client (user+sys) and server together: steadier under load.
# Table contents after pg-sink --key and after psql are compared (sorted dumps).
# Measured 2026-12-03 (eleventh session) in `make bench` on the 2-core machine,
# quiet (load about 1), 1M sensor-gen rows, medians of 5 (CPU ratios:
# anchor/ours): plain 1.73x psql \copy (CPU 1.11x; two connections for a
# file, and a client at 0.4 s of CPU per 1M rows leave the second core to
# the second backend); --key new rows 3.41x the anchor (CPU 2.07x) and 0.94x
# pg-sink plain; --key half there 2.11x; psql \copy into the keyed table
# 1.08x into the plain one (each has one index). A second run the same hour:
# 1.71x, 3.18x, 0.91x, 2.43x. The ninth session, before the client's CPU was
# halved: 0.92x, 2.26x, 0.95x, 1.33x.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
src=${CITYPIPE_SOURCE:-$(cd "$(dirname "$0")/.." && pwd)}
bash "$src/scripts/deps.sh" postgresql
rows=${PG_SINK_BENCH_ROWS:-1000000}
rounds=${PG_SINK_BENCH_ROUNDS:-5}
work=$(mktemp -d "${TMPDIR:-/tmp}/pgbench.XXXXXX")
chmod 755 "$work"
durable_pg "$src" "$work"

if command -v sensor-gen >/dev/null; then
  sensor-gen --fast --count "$rows" --seed 7 > "$work/in.ndjson"
else
  awk -v n="$rows" 'BEGIN { for (i = 0; i < n; i++) printf "{\"ts\":\"2026-01-01T%02d:%02d:%02d.000Z\",\"sensor_id\":\"city-%04d\",\"zone\":\"Downtown\",\"temperature\":%.1f,\"humidity\":55.2,\"aqi\":%d,\"noise_db\":61.3,\"traffic\":%d,\"injected_anomaly\":false}\n", (i/144000)%24, (i/2400)%60, (i/40)%60, i%40, 15+(i%100)/10, i%300, i%200 }' > "$work/in.ndjson"
fi
# The table and the same rows in text COPY format, made once.
pg-sink -t bench --create "$work/in.ndjson"
sql "\\copy bench to '$work/in.copy'" 2>/dev/null || psql -X -q -c "\\copy bench to '$work/in.copy'"
n=$(sql "select count(*) from bench")
half=$((n / 2))
head -n "$half" "$work/in.copy" > "$work/half.copy"
cols=$(sql "select string_agg(quote_ident(column_name), ', ' order by ordinal_position) from information_schema.columns where table_name = 'bench'")
# The keyed table as pg-sink --create --key makes it (a time-first unique index).
pg-sink -t bench_k --create --key sensor_id,ts "$work/in.ndjson"
sql "select indexdef from pg_indexes where tablename = 'bench_k'" | sed 's/^/# keyed table: /'
sql "truncate bench_k"
cat > "$work/by-hand.sql" <<SQL
create temp table stage (like bench_k) on commit drop;
\\copy stage from '$work/in.copy'
insert into bench_k ($cols) select $cols from stage on conflict (sensor_id, ts) do nothing;
SQL

fresh() { sql "truncate $1"; sql "checkpoint"; }
half_full() { sql "truncate bench_k"; psql -X -q -c "\\copy bench_k from '$work/half.copy'"; sql "checkpoint"; }
check() { [ "$(sql "select count(*) from $1")" = "$n" ] || echo "40-pg-sink: $1 has the wrong row count after $2" >&2; }

# server_ticks: CPU clock ticks of the server so far: the postmaster's own,
# its exited children's (backends, once reaped) and its live children's. A
# child reaped while they are read is counted in neither: then read again.
pm=$(head -1 "$PG_TMP_DIR/data/postmaster.pid")
server_ticks() {
  local before after t c
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    before=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pm/stat")
    t=0
    for c in $(pgrep -P "$pm"); do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$c/stat" 2>/dev/null || echo 0))); done
    after=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pm/stat")
    [ "$before" = "$after" ] && break
    sleep 0.05
  done
  echo $((after + t))
}
# timed NAME CMD...: appends the wall seconds of one run to array NAME, and
# its CPU seconds, client (user+sys) and server together, to NAME_cpu.
timed() {
  local -n w=$1 c=${1}_cpu
  shift
  local s0 s1 client t0 t1
  s0=$(server_ticks)
  t0=$(date +%s.%N)
  client=$(/usr/bin/time -f '%U %S' "$@" 2>&1 >/dev/null | tail -1)
  t1=$(date +%s.%N)
  s1=$(server_ticks)
  w+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')")
  c+=("$(awk -v u="$client" -v s=$((s1 - s0)) -v hz="$(getconf CLK_TCK)" 'BEGIN { split(u, x, " "); printf "%.2f", x[1] + x[2] + s / hz }')")
}

plain=() copy=() copy_k=() key=() anchor=() key_half=() anchor_half=()
plain_cpu=() copy_cpu=() copy_k_cpu=() key_cpu=() anchor_cpu=() key_half_cpu=() anchor_half_cpu=()
for r in $(seq 1 "$rounds"); do
  fresh bench;   timed copy psql -X -q -c "\\copy bench from '$work/in.copy'"
  fresh bench;   timed plain pg-sink -t bench "$work/in.ndjson"; check bench "pg-sink"
  fresh bench_k; timed copy_k psql -X -q -c "\\copy bench_k from '$work/in.copy'"
  fresh bench_k; timed anchor psql -X -q -1 -v ON_ERROR_STOP=1 -f "$work/by-hand.sql"
  fresh bench_k; timed key pg-sink -t bench_k --key sensor_id,ts "$work/in.ndjson"; check bench_k "pg-sink --key"
  [ "$r" = 1 ] && psql -X -q -c "\\copy (select * from bench_k order by sensor_id, ts) to '$work/key.sorted'"
  half_full;     timed anchor_half psql -X -q -1 -v ON_ERROR_STOP=1 -f "$work/by-hand.sql"
  [ "$r" = 1 ] && psql -X -q -c "\\copy (select * from bench_k order by sensor_id, ts) to '$work/anchor.sorted'"
  half_full;     timed key_half pg-sink -t bench_k --key sensor_id,ts "$work/in.ndjson"; check bench_k "pg-sink --key, half there"
  if [ "$r" = 1 ]; then
    psql -X -q -c "\\copy (select * from bench_k order by sensor_id, ts) to '$work/key_half.sorted'"
    cmp -s "$work/key.sorted" "$work/anchor.sorted" && cmp -s "$work/key_half.sorted" "$work/anchor.sorted" ||
      echo "40-pg-sink: pg-sink --key left other table contents than psql" >&2
  fi
  echo "# round $r: wall (CPU client+server) copy ${copy[-1]} s (${copy_cpu[-1]}), plain ${plain[-1]} s (${plain_cpu[-1]})," \
    "copy keyed ${copy_k[-1]} s (${copy_k_cpu[-1]}), anchor ${anchor[-1]} s (${anchor_cpu[-1]}), key ${key[-1]} s (${key_cpu[-1]})," \
    "anchor half ${anchor_half[-1]} s (${anchor_half_cpu[-1]}), key half ${key_half[-1]} s (${key_half_cpu[-1]})"
done

# stats SECONDS...: "median min max" in rows/s.
stats() {
  printf '%s\n' "$@" | awk -v n="$n" '{ print n / $1 }' | sort -g | awk '{ r[NR] = $1 } END {
    med = (NR % 2) ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2
    printf "%.0f %.0f %.0f", med, r[1], r[NR] }'
}
# report WHAT ANCHOR_NAME TARGET OURS_VAR ANCHOR_VAR: rows/s of wall time, and
# the ratio of median CPU seconds (client and server), steadier under load.
report() {
  local -n o=$4 a=$5 oc=${4}_cpu ac=${5}_cpu
  local os as ratio cpu
  read -r -a os <<< "$(stats "${o[@]}")"
  read -r -a as <<< "$(stats "${a[@]}")"
  ratio=$(awk -v x="${os[0]}" -v y="${as[0]}" 'BEGIN { printf "%.2f", x / y }')
  cpu=$(awk -v x="$(median "${oc[@]}")" -v y="$(median "${ac[@]}")" 'BEGIN { printf "CPU %.2f s vs %.2f s: ratio %.2f", x, y, y / x }')
  echo "$1, $n rows: ${os[0]} rows/s (min ${os[1]}, max ${os[2]}) vs $2 ${as[0]} rows/s (min ${as[1]}, max ${as[2]}): ratio ${ratio} (target $3); $cpu"
  table_row "$1, rows/s (fsync on)" "${os[0]} (${os[1]}-${os[2]})" "$2: ${as[0]} (${as[1]}-${as[2]})" "$ratio" "$3"
}
report "pg-sink plain" "psql \\copy text" ">= 1.5" plain copy
report "pg-sink --key, new rows" "psql temp table + ON CONFLICT" ">= 3" key anchor
report "pg-sink --key, new rows" "pg-sink plain" ">= 0.8" key plain
report "pg-sink --key, half already there" "psql temp table + ON CONFLICT" ">= 1.5" key_half anchor_half
# What the unique index costs the server, whoever loads: the bound on the line above.
report "psql \\copy into the keyed table" "psql \\copy into the plain one" "(the index's cost)" copy_k copy
report "pg-sink --key, new rows" "psql \\copy into the keyed table" "(reference)" key copy_k
