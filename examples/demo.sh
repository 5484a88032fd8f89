#!/usr/bin/env bash
# make demo: an hour of city data generated, scored, aggregated and loaded into
# a throwaway PostgreSQL started in .demo/ of the checkout (stopped at the
# end), then a short report from SQL. Without PostgreSQL the same report comes
# from the pipe alone.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "${1:-$root/build/bin}" && pwd)
export PATH="$bin:$PATH"
work="$root/.demo"
rm -rf "$work"
mkdir -p "$work"
chmod 755 "$work"
step() { printf '\n== %s\n' "$*"; }
t0=$(date +%s.%N)

step "generate: the morning rush hour (07:30-08:30) of 40 city sensors, 5% injected anomalies"
sensor-gen --fast --start 2026-01-05T07:30:00Z --duration 1h --seed 7 --stats > "$work/hour.ndjson"

step "score: Isolation Forest warmed up on the first 5000 readings, plus the city rules"
iforest-score --warmup 5000 --rules city --seed 7 --stats "$work/hour.ndjson" > "$work/scored.ndjson"

step "aggregate: 1-minute tumbling and 5-minute sliding windows per zone"
window-agg --window tumble:1m --window slide:5m,1m --key zone \
  --fields temperature,humidity,aqi,noise_db,traffic --agg count,avg,max \
  --count-true anomaly --count-true injected_anomaly --stats \
  "$work/scored.ndjson" > "$work/metrics.ndjson"

if pg_env=$(TMPDIR="$work" bash "$root/scripts/pg-tmp.sh" start --owner $$ 2> "$work/pg.log"); then
  eval "$pg_env"
  trap 'bash "$root/scripts/pg-tmp.sh" stop "$PG_TMP_DIR" >/dev/null 2>&1 || true' EXIT
  step "store: raw and aggregated rows into PostgreSQL ($PG_TMP_DIR), idempotent keys"
  pg-sink -t readings --create --key sensor_id,ts --on-conflict nothing --stats "$work/scored.ndjson"
  pg-sink -t metrics --create --key window,window_start,zone --on-conflict update --stats "$work/metrics.ndjson"

  step "report (SQL)"
  psql -X -q -P footer=off -c "
    select zone, count(*) as readings, count(*) filter (where anomaly) as anomalies,
           count(*) filter (where injected_anomaly) as injected, max(aqi) as worst_aqi,
           round(avg(temperature)::numeric, 1) as avg_temp_c
    from readings group by zone order by anomalies desc;"
  psql -X -q -P footer=off -c "
    select distinct on (zone) zone, to_char(window_start, 'HH24:MI') as busiest_minute,
           round(traffic_avg::numeric) as avg_traffic, count as readings
    from metrics where \"window\" = 'tumble:1m' order by zone, traffic_avg desc;"
  psql -X -q -P footer=off -c "
    select count(*) filter (where anomaly and injected_anomaly) as caught,
           count(*) filter (where anomaly and not injected_anomaly) as false_alarms,
           count(*) filter (where not anomaly and injected_anomaly) as missed,
           round(100.0 * count(*) filter (where anomaly and injected_anomaly)
                 / nullif(count(*) filter (where anomaly), 0), 1) as precision_pct,
           round(100.0 * count(*) filter (where anomaly and injected_anomaly)
                 / nullif(count(*) filter (where injected_anomaly), 0), 1) as recall_pct
    from readings;"
else
  step "report (PostgreSQL could not start here, see $work/pg.log; the same stream, summarised by tui-top)"
  tui-top --once --no-color --width 100 "$work/scored.ndjson"
fi

printf '\ndemo finished in %.1f s\n' "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{print b-a}')"
cat <<MSG

Watch a live stream in the terminal dashboard:
  PATH=$bin:\$PATH; sensor-gen | iforest-score --warmup 2000 --rules city | tui-top
MSG
