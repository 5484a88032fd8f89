#!/usr/bin/env bash
# window-agg against DuckDB (@duckdb/node-api from npm) and Miller on the same
# 1-million-record city file: tumble:1m by zone over five fields, count avg
# min max. Then peak RSS for 10M records against 1M on the same keys.
# Prints wall seconds and CPU seconds (user+sys) of each, medians of
# alternating rounds (WINDOW_BENCH_ROUNDS, default 5), and the ratios round by
# round. Wall time is what users feel; CPU time shows the work when other jobs
# share the machine. Fifteenth session, make bench, 5 rounds: 6.07x wall,
# 5.82x CPU (0.070 s / 0.118 s against 0.415 s / 0.684 s); alone, 7 rounds:
# 5.89x / 5.82x and 6.30x / 5.90x. Fourteenth, alone: 5.99x, 5.61x;
# thirteenth: 5.60x, 5.11x; twelfth, with GNU time's 10 ms steps: 6.14x, 5.29x.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
: "${CITYPIPE_SOURCE:?run through bench/run.sh}"
need=()
command -v mlr > /dev/null || need+=(miller)
command -v node > /dev/null || need+=(nodejs)
command -v npm > /dev/null || need+=(npm)
[ -x /usr/bin/time ] || need+=(time)
[ ${#need[@]} -eq 0 ] || bash "$CITYPIPE_SOURCE/scripts/deps.sh" "${need[@]}"
cache=${CITYPIPE_BENCH_CACHE:-$CITYPIPE_SOURCE/build/bench-cache}
mkdir -p "$cache"
data=$cache/city-1m.ndjson
[ -s "$data" ] || sensor-gen --fast --count 1000000 --seed 1 > "$data"
fields=temperature,humidity,aqi,noise_db,traffic
echo "window-agg: $(wc -l < "$data") records, $(( $(stat -c %s "$data") / 1048576 )) MiB, tumble:1m by zone, count avg min max of 5 fields"

rounds=${WINDOW_BENCH_ROUNDS:-5}
# median/lo/hi N... : the middle, smallest and largest of the numbers
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
lo() { printf '%s\n' "$@" | sort -g | head -1; }
hi() { printf '%s\n' "$@" | sort -g | tail -1; }
# timed OUT CMD... : appends "wall cpu" of one run to OUT
timed() {
  local out=$1; shift
  wall_cpu_of "$@" >> "$out"
}
summary() {  # summary FILE : sets wall and cpu to the medians
  wall=$(median $(cut -d' ' -f1 "$1"))
  cpu=$(median $(cut -d' ' -f2 "$1"))
}
ours_cmd=(window-agg --window tumble:1m --key zone --fields $fields "$data")

# DuckDB, installed from npm into the cache folder.
npm_dir=$cache/npm
if [ ! -d "$npm_dir/node_modules/@duckdb/node-api" ]; then
  mkdir -p "$npm_dir"
  (cd "$npm_dir" && npm install --silent --no-audit --no-fund --prefix . @duckdb/node-api > /dev/null 2>&1) || true
fi
rm -f "$cache/ours" "$cache/duck" "$cache/ratios"
if [ -d "$npm_dir/node_modules/@duckdb/node-api" ]; then
  cat > "$npm_dir/window.mjs" <<'JS'
import { DuckDBInstance } from '@duckdb/node-api';
const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
const r = await con.runAndReadAll(`
  SELECT zone, time_bucket(INTERVAL 1 minute, ts) AS window_start, count(*) AS count,
    avg(temperature), min(temperature), max(temperature), avg(humidity), min(humidity), max(humidity),
    avg(aqi), min(aqi), max(aqi), avg(noise_db), min(noise_db), max(noise_db),
    avg(traffic), min(traffic), max(traffic)
  FROM read_ndjson('${process.argv[2]}', columns = {ts: 'TIMESTAMP', sensor_id: 'VARCHAR', zone: 'VARCHAR',
    temperature: 'DOUBLE', humidity: 'DOUBLE', aqi: 'DOUBLE', noise_db: 'DOUBLE', traffic: 'DOUBLE',
    injected_anomaly: 'BOOLEAN'})
  GROUP BY zone, window_start ORDER BY window_start, zone`);
console.log(r.getRows().length);
JS
  version=$(node -e "console.log(require('$npm_dir/node_modules/@duckdb/node-api/package.json').version)")
  # Alternating rounds, DuckDB then ours: a load that comes and goes hits both.
  for ((r = 0; r < rounds; r++)); do
    timed "$cache/duck" node "$npm_dir/window.mjs" "$data"
    timed "$cache/ours" "${ours_cmd[@]}"
    paste -d' ' <(tail -1 "$cache/duck") <(tail -1 "$cache/ours") |
      awk '{ printf "%.2f %.2f\n", $1 / $3, $2 / $4 }' >> "$cache/ratios"
  done
  summary "$cache/ours"; ours_wall=$wall; ours_cpu=$cpu
  summary "$cache/duck"; duck_wall=$wall; duck_cpu=$cpu
  rows=$("${ours_cmd[@]}" | wc -l)
  duck_rows=$(node "$npm_dir/window.mjs" "$data")
  printf '  %-34s wall %6.3f s  cpu %6.3f s  (%s windows; medians of %d alternating rounds)\n' "window-agg" "$ours_wall" "$ours_cpu" "$rows" "$rounds"
  printf '  %-34s wall %6.3f s  cpu %6.3f s  (%s groups)\n' "DuckDB $version (node, $(nproc) threads)" "$duck_wall" "$duck_cpu" "$duck_rows"
  rw=$(cut -d' ' -f1 "$cache/ratios"); rc=$(cut -d' ' -f2 "$cache/ratios")
  printf '  %-34s wall %sx (%s-%s)  cpu %sx (%s-%s)  round by round (need 6x both)\n' "window-agg vs DuckDB" \
    "$(median $rw)" "$(lo $rw)" "$(hi $rw)" "$(median $rc)" "$(lo $rc)" "$(hi $rc)"
  table_row "window-agg tumble:1m by zone, 5 fields, 1M records: wall s / CPU s, $rounds alternating rounds" \
    "$ours_wall / $ours_cpu" "DuckDB $version: $duck_wall / $duck_cpu" \
    "$(median $rw)x ($(lo $rw)-$(hi $rw)) / $(median $rc)x ($(lo $rc)-$(hi $rc))" ">= 6x wall and CPU"
else
  echo "  DuckDB: npm install @duckdb/node-api failed; no comparison"
  for ((r = 0; r < rounds; r++)); do timed "$cache/ours" "${ours_cmd[@]}"; done
  summary "$cache/ours"; ours_wall=$wall; ours_cpu=$cpu
  printf '  %-34s wall %6.2f s  cpu %6.2f s\n' "window-agg" "$ours_wall" "$ours_cpu"
fi

# Miller: one run, it is slow.
rm -f "$cache/mlr"
timed "$cache/mlr" mlr --ijsonl --ojsonl put '$window_start = substr0($ts, 0, 15)' \
  then stats1 -a count,mean,min,max -f $fields -g zone,window_start "$data"
read -r mlr_wall mlr_cpu < "$cache/mlr"
printf '  %-34s wall %6.2f s  cpu %6.2f s\n' "Miller $(mlr --version | cut -d' ' -f2)" "$mlr_wall" "$mlr_cpu"
awk -v a="$mlr_wall" -v b="$ours_wall" -v c="$mlr_cpu" -v d="$ours_cpu" \
  'BEGIN { printf "  %-34s wall %6.1fx     cpu %6.1fx  (need 50x)\n", "window-agg vs Miller", a / b, c / d }'
table_row "window-agg, same job: wall s / CPU s" "$ours_wall / $ours_cpu" "Miller: $mlr_wall / $mlr_cpu" \
  "$(awk -v a="$mlr_wall" -v b="$ours_wall" -v c="$mlr_cpu" -v d="$ours_cpu" 'BEGIN { printf "%.0fx / %.0fx", a / b, c / d }')" ">= 50x"

# Memory: 10M records against 1M on the same keys, straight from the generator.
peak() {
  sensor-gen --fast --count "$1" --seed 2 \
    | /usr/bin/time -f %M -o "$cache/rss" window-agg --key zone -w tumble:1m -w slide:5m,1m \
        --agg count,avg,min,max,p95 > /dev/null
  cat "$cache/rss"
}
rss1=$(peak 1000000)
rss10=$(peak 10000000)
awk -v a="$rss1" -v b="$rss10" 'BEGIN { printf "  %-34s 1M %d KiB, 10M %d KiB: %+.1f%% (need within 20%%)\n", "window-agg peak RSS", a, b, (b / a - 1) * 100 }'
table_row "window-agg peak RSS, 10M vs 1M records (KiB)" "$rss10 vs $rss1" "" \
  "$(awk -v a="$rss1" -v b="$rss10" 'BEGIN { printf "%+.1f%%", (b / a - 1) * 100 }')" "within 20%"
