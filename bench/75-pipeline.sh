#!/usr/bin/env bash
# The whole demo pipeline on 1M records, end to end, against the same job done by
# the anchor tools one after another (issue 18), on a throwaway server configured
# as a real one (scripts/pg-tmp.sh --durable: fsync, full_page_writes and
# synchronous_commit on), the two tables as pg-sink --create --key makes them
# (a ts or window_start index and the unique key).
#
#  citypipe, one shell pipeline, every stage running at once:
#    sensor-gen --fast (city) | iforest-score -m MODEL --rules city | tee FIFO
#      | pg-sink -t readings --key sensor_id,ts
#    FIFO: window-agg tumble:1m + slide:5m,1m by zone (the demo's fields and
#      aggregates) | pg-sink -t metrics --key window,window_start,zone
#  anchor, one step after another through files:
#    bench/city_gen.py (random + json.dumps, records of sensor-gen's shape and times)
#    bench/iforest_sklearn.py score (scikit-learn IsolationForest.score_samples, the
#      city rules, json.loads/dumps)
#    DuckDB (@duckdb/node-api from npm, as bench/20): the scored file read once,
#      written as CSV for psql, and both windows computed into a second CSV
#    two psql loads, each one transaction: COPY into a temporary table, then
#      INSERT ... ON CONFLICT DO NOTHING into the keyed table (as bench/40's anchor)
# Both models are trained once beforehand on the first 20000 records, outside the
# timing. Every round starts from empty tables after a checkpoint and ends when
# both tables are committed; then the raw table must hold every record and the
# metrics table every window. Alternating rounds (anchor first), PIPELINE_BENCH_ROUNDS
# (5) of each: records/s end to end, median, min and max; CPU seconds of our
# processes (user+sys) and of the PostgreSQL server (its processes and reaped
# backends), medians. Then each of our stages alone on the same data, to show
# which one caps the pipeline.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
src=${CITYPIPE_SOURCE:-$(cd "$here/.." && pwd)}
need=(postgresql python3-sklearn time)
command -v node > /dev/null || need+=(nodejs)
command -v npm > /dev/null || need+=(npm)
bash "$src/scripts/deps.sh" "${need[@]}"
py=/usr/bin/python3
n=${PIPELINE_BENCH_RECORDS:-1000000}
rounds=${PIPELINE_BENCH_ROUNDS:-5}
work=$(mktemp -d "${TMPDIR:-/tmp}/pipebench.XXXXXX")
chmod 755 "$work"
durable_pg "$src" "$work"
echo "pipeline: $n records, generate -> score -> tee -> keyed raw table + tumbling and sliding windows -> keyed metrics table"

# DuckDB, installed from npm into the cache folder, as bench/20 does.
npm_dir=${CITYPIPE_BENCH_CACHE:-$src/build/bench-cache}/npm
if [ ! -d "$npm_dir/node_modules/@duckdb/node-api" ]; then
  mkdir -p "$npm_dir"
  (cd "$npm_dir" && npm install --silent --no-audit --no-fund --prefix . @duckdb/node-api > /dev/null 2>&1) || true
fi
[ -d "$npm_dir/node_modules/@duckdb/node-api" ] || { echo "  DuckDB: npm install @duckdb/node-api failed; no comparison"; exit 0; }
duck_version=$(node -e "console.log(require('$npm_dir/node_modules/@duckdb/node-api/package.json').version)")
sk_version=$($py -c 'import sklearn; print(sklearn.__version__)')

# The demo's aggregation (examples/demo.sh).
fields=temperature,humidity,aqi,noise_db,traffic
win=(window-agg --window tumble:1m --window slide:5m,1m --key zone --fields "$fields" --agg count,avg,max
     --count-true anomaly --count-true injected_anomaly)

# Outside the timing: both models, both tables, the number of windows.
sensor-gen --fast --count "$n" --seed 1 > "$work/in.ndjson"
head -n 20000 "$work/in.ndjson" | iforest-score train --seed 1 -o "$work/model.json"
iforest-score -m "$work/model.json" --rules city "$work/in.ndjson" > "$work/scored.ndjson"
"${win[@]}" "$work/scored.ndjson" > "$work/metrics.ndjson"
windows=$(wc -l < "$work/metrics.ndjson")
{ pg-sink -t readings --key sensor_id,ts --print-ddl "$work/scored.ndjson"
  pg-sink -t metrics --key window,window_start,zone --print-ddl "$work/metrics.ndjson"; } | psql -X -q -v ON_ERROR_STOP=1
$py "$here/city_gen.py" 20000 1 | $py "$here/iforest_sklearn.py" train "$work/model.pkl"
cols() { sql "select string_agg(quote_ident(column_name), ', ' order by ordinal_position) from information_schema.columns where table_name = '$1'"; }
raw_cols=$(cols readings)
metric_cols=$(cols metrics)

cat > "$npm_dir/pipeline-windows.mjs" <<'JS'
// DuckDB step of bench/75-pipeline.sh's anchor: SCORED.ndjson -> RAW.csv, METRICS.csv
import { DuckDBInstance } from '@duckdb/node-api';
const [scored, raw, metrics] = process.argv.slice(2);
const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
await con.run(`CREATE TABLE s AS SELECT * FROM read_ndjson('${scored}', columns = {ts: 'TIMESTAMP',
  sensor_id: 'VARCHAR', zone: 'VARCHAR', temperature: 'DOUBLE', humidity: 'DOUBLE', aqi: 'BIGINT',
  noise_db: 'DOUBLE', traffic: 'BIGINT', injected_anomaly: 'BOOLEAN', anomaly_kind: 'VARCHAR',
  score: 'DOUBLE', anomaly: 'BOOLEAN', severity: 'VARCHAR', reasons: 'JSON'})`);
await con.run(`COPY (SELECT ts, sensor_id, zone, temperature, humidity, aqi, noise_db, traffic,
  injected_anomaly, score, anomaly, severity, reasons, anomaly_kind FROM s) TO '${raw}' (FORMAT csv, HEADER false)`);
const aggs = `count(*), avg(temperature), max(temperature), avg(humidity), max(humidity), avg(aqi), max(aqi),
  avg(noise_db), max(noise_db), avg(traffic), max(traffic), count_if(anomaly), count_if(injected_anomaly)`;
await con.run(`COPY (
  WITH b AS (SELECT *, time_bucket(INTERVAL 1 minute, ts) AS m FROM s)
  SELECT 'tumble:1m', m, m + INTERVAL 1 minute, zone, ${aggs} FROM b GROUP BY zone, m
  UNION ALL
  SELECT 'slide:5m,1m', m - to_minutes(k), m - to_minutes(k) + INTERVAL 5 minute, zone, ${aggs}
  FROM b, range(5) AS r(k) GROUP BY zone, m - to_minutes(k)
  ) TO '${metrics}' (FORMAT csv, HEADER false)`);
JS
# load TABLE KEY CSV: the psql script of one load
load() {
  local c; c=$(cols "$1")
  cat <<SQL
set timezone = 'UTC';
create temp table stage (like $1) on commit drop;
\\copy stage ($c) from '$3' csv
insert into $1 ($c) select $c from stage on conflict ($2) do nothing;
SQL
}
load readings sensor_id,ts "$work/raw.csv" > "$work/load-raw.sql"
load metrics '"window",window_start,zone' "$work/metrics.csv" > "$work/load-metrics.sql"

# server_cpu: CPU seconds of the server so far: its processes and the backends it reaped.
server_cpu() {
  local pm; pm=$(head -1 "$PG_TMP_DIR/data/postmaster.pid")
  { awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pm/stat"
    for c in $(pgrep -P "$pm"); do awk '{ print $14 + $15 }' "/proc/$c/stat" 2>/dev/null || true; done; } |
    awk -v hz="$(getconf CLK_TCK)" '{ s += $1 } END { printf "%.2f", s / hz }'
}
# stage NAME CMD...: runs CMD, its "wall user sys" in $work/t.NAME
stage() { local name=$1; shift; /usr/bin/time -f '%e %U %S' -o "$work/t.$name" "$@"; }
# cpu NAME...: user+sys seconds of those stages, summed
cpu() { local s; for s in "$@"; do cat "$work/t.$s"; done | awk '{ c += $2 + $3 } END { printf "%.2f", c }'; }
fresh() { sql "truncate readings, metrics"; sql "checkpoint"; }
now() { date +%s.%N; }
check() {
  local r m; r=$(sql "select count(*) from readings"); m=$(sql "select count(*) from metrics")
  [ "$r" = "$n" ] && [ "$m" = "$windows" ] && return 0
  echo "75-pipeline: $1: readings $r rows (want $n), metrics $m rows (want $windows)" >&2
  return 1
}

ours() {
  rm -f "$work/fifo"; mkfifo "$work/fifo"
  { stage win "${win[@]}" < "$work/fifo" | stage msink pg-sink -t metrics --key window,window_start,zone; } &
  local side=$!
  stage gen sensor-gen --fast --count "$n" --seed 1 \
    | stage score iforest-score -m "$work/model.json" --rules city \
    | stage tee tee "$work/fifo" \
    | stage rsink pg-sink -t readings --key sensor_id,ts
  wait "$side"
}
anchor() {
  stage a_gen $py "$here/city_gen.py" "$n" 1 > "$work/a-in.ndjson"
  stage a_score $py "$here/iforest_sklearn.py" score "$work/model.pkl" < "$work/a-in.ndjson" > "$work/a-scored.ndjson"
  stage a_duck node "$npm_dir/pipeline-windows.mjs" "$work/a-scored.ndjson" "$work/raw.csv" "$work/metrics.csv"
  stage a_rload psql -X -q -1 -v ON_ERROR_STOP=1 -f "$work/load-raw.sql"
  stage a_mload psql -X -q -1 -v ON_ERROR_STOP=1 -f "$work/load-metrics.sql"
}
# round WHO: one timed round from empty tables; appends "wall client_cpu server_cpu" to $work/WHO
round() {
  local t0 t1 s0 s1
  fresh
  s0=$(server_cpu); t0=$(now)
  "$1"
  t1=$(now); sleep 0.2; s1=$(server_cpu)
  check "$1" || return 1
  local stages=(gen score tee win rsink msink)
  [ "$1" = anchor ] && stages=(a_gen a_score a_duck a_rload a_mload)
  printf '%s %s %s\n' "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')" "$(cpu "${stages[@]}")" \
    "$(awk -v a="$s0" -v b="$s1" 'BEGIN { printf "%.2f", b - a }')" >> "$work/$1"
  local s; for s in "${stages[@]}"; do echo "$(cat "$work/t.$s")" >> "$work/stage.$s"; done
}

echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$rounds"); do
  round anchor
  round ours
  echo "# round $r: anchor $(tail -1 "$work/anchor") | ours $(tail -1 "$work/ours")  (wall s, our CPU s, server CPU s; load $(cut -d' ' -f1 /proc/loadavg))"
done
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

# col FILE K: the K-th numbers of FILE's lines
col() { awk -v k="$2" '{ print $k }' "$1"; }
# rate FILE: "median min max" records/s from the wall seconds in FILE
rate() { col "$1" 1 | awk -v n="$n" '{ print n / $1 }' | sort -g | awk '{ r[NR] = $1 } END {
  med = (NR % 2) ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2; printf "%.0f %.0f %.0f", med, r[1], r[NR] }'; }
read -r o_med o_min o_max <<< "$(rate "$work/ours")"
read -r a_med a_min a_max <<< "$(rate "$work/anchor")"
o_cpu=$(median $(col "$work/ours" 2)); o_srv=$(median $(col "$work/ours" 3))
a_cpu=$(median $(col "$work/anchor" 2)); a_srv=$(median $(col "$work/anchor" 3))
o_wall=$(median $(col "$work/ours" 1)); a_wall=$(median $(col "$work/anchor" 1))
ratio=$(awk -v a="$o_med" -v b="$a_med" 'BEGIN { printf "%.1f", a / b }')
# the ratio of each round's pair (the anchor then ours): median, min, max
read -r p_med p_min p_max <<< "$(paste -d' ' "$work/anchor" "$work/ours" | awk '{ print $1 / $4 }' | sort -g |
  awk '{ r[NR] = $1 } END { printf "%.1f %.1f %.1f", (NR % 2) ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2, r[1], r[NR] }')"
cpu_ratio=$(awk -v a="$o_cpu" -v b="$o_srv" -v c="$a_cpu" -v d="$a_srv" 'BEGIN { printf "%.1f", (c + d) / (a + b) }')
echo "citypipe: $o_med records/s (min $o_min, max $o_max), $o_wall s; CPU $o_cpu s ours + $o_srv s server"
echo "anchor:   $a_med records/s (min $a_min, max $a_max), $a_wall s; CPU $a_cpu s anchor tools + $a_srv s server"
echo "ratio of medians: ${ratio}x wall, ${cpu_ratio}x CPU (ours + server); round by round ${p_med}x (min ${p_min}x, max ${p_max}x); target >= 10x and >= 400000 records/s"
# With every core ours and the stages perfectly overlapped, wall >= CPU / cores.
echo "ceiling from CPU alone on $(nproc) idle cores: $(awk -v n="$n" -v a="$o_cpu" -v b="$o_srv" -v c="$(nproc)" 'BEGIN { printf "%.0f", n / ((a + b) / c) }') records/s"
echo "our stages, median over the rounds: CPU s, and CPU as a share of the end-to-end wall"
for s in gen score tee win rsink msink; do
  c=$(median $(awk '{ print $2 + $3 }' "$work/stage.$s"))
  printf '  %-6s %6.2f s  %4.0f%%\n' "$s" "$c" "$(awk -v c="$c" -v w="$o_wall" 'BEGIN { print 100 * c / w }')"
done
printf '  %-6s %6.2f s  %4.0f%%\n' server "$o_srv" "$(awk -v c="$o_srv" -v w="$o_wall" 'BEGIN { print 100 * c / w }')"
echo "anchor steps, median wall s (CPU s)"
for s in a_gen a_score a_duck a_rload a_mload; do
  printf '  %-8s %7.2f s (%6.2f s)\n' "$s" "$(median $(col "$work/stage.$s" 1))" "$(median $(awk '{ print $2 + $3 }' "$work/stage.$s"))"
done
shares=$(for s in gen score win rsink; do
  printf '%s %s, ' "$s" "$(median $(awk '{ print $2 + $3 }' "$work/stage.$s"))"; done)
table_row "whole demo pipeline, 1M records, records/s end to end (fsync on)" "$o_med ($o_min-$o_max)" \
  "city_gen.py, scikit-learn $sk_version, DuckDB $duck_version, 2 psql loads: $a_med ($a_min-$a_max)" \
  "${ratio}x (rounds ${p_min}-${p_max}x; CPU ${cpu_ratio}x)" ">= 10x and >= 400000/s; CPU s: ${shares}server $o_srv"

# Each stage alone on the same data, from a file into a file or the table, as in the
# pipeline (pg-sink reads a pipe, as there): which one's rate caps the whole?
echo "our stages alone on the same $n records (wall s, CPU s; records/s)"
exec 3>&1  # alone's lines, whatever the stage's output is redirected to
alone() {
  local name=$1; shift
  stage alone "$@"
  read -r w u s < "$work/t.alone"
  printf '  %-34s %6.2f s  %6.2f s  %9.0f/s\n' >&3 "$name" "$w" "$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')" \
    "$(awk -v n="$n" -v w="$w" 'BEGIN { print n / w }')"
}
alone "sensor-gen --fast" sensor-gen --fast --count "$n" --seed 1 > "$work/in.ndjson"
alone "iforest-score -m --rules city" iforest-score -m "$work/model.json" --rules city "$work/in.ndjson" > "$work/scored.ndjson"
alone "tee (to /dev/null twice)" tee /dev/null < "$work/scored.ndjson" > /dev/null
alone "window-agg (demo windows)" "${win[@]}" "$work/scored.ndjson" > /dev/null
fresh
s0=$(server_cpu)
cat "$work/scored.ndjson" | alone "pg-sink --key sensor_id,ts" pg-sink -t readings --key sensor_id,ts
sleep 0.2; echo "    (server CPU $(awk -v a="$s0" -v b="$(server_cpu)" 'BEGIN { printf "%.2f", b - a }') s)"
sql "\\copy readings to '$work/ours.copy'"
fresh
s0=$(server_cpu)
alone "psql \\copy, same rows, same table" psql -X -q -c "\\copy readings from '$work/ours.copy'"
sleep 0.2; echo "    (server CPU $(awk -v a="$s0" -v b="$(server_cpu)" 'BEGIN { printf "%.2f", b - a }') s)"
