#!/usr/bin/env bash
# nightly.sh: a cron batch job. Replays yesterday's recorded readings (plain
# or gzip NDJSON) into PostgreSQL: every reading scored, daily and hourly
# aggregates per zone, and an anomaly report. Safe to re-run: rows are keyed
# (sensor_id,ts for readings; window,window_start,zone for aggregates) and the
# forest is trained with a fixed seed, so a second run leaves the tables as
# the first one did.
#
# Record the day with e.g.
#   sensor-gen | split -d --line-bytes=1G --filter='gzip > $FILE.gz' - ...
# or kafka-cat-in -C ... | gzip > /var/lib/citypipe/readings-$(date -u +%F).ndjson.gz
#
# crontab line (00:30 UTC every day; cron's % must be escaped):
#   30 0 * * * PGDATABASE=city RECORDINGS=/var/lib/citypipe /opt/citypipe/examples/nightly.sh >> /var/log/citypipe-nightly.log 2>&1
#
# Environment (defaults in brackets):
#   DAY          the day to replay, YYYY-MM-DD [yesterday, UTC]
#   RECORDINGS   folder of the recordings [.]
#   INPUT        the recording; several may be given as arguments instead
#                [$RECORDINGS/readings-$DAY.ndjson.gz, else .ndjson]
#   MODEL        score with this saved model; unset: train a forest on the
#                whole day itself (fit_predict), with SEED, which holds the
#                day in memory: for big days, train a model once and set it
#                [unset]
#   SEED         seed of the forest trained on the day [1]
#   RAW_TABLE [readings]   DAILY_TABLE [daily_metrics]
#   REPORT       also write the anomaly report to this file [none]
#   HTML         also write tui-top's dashboard of the day to this file: one
#                self-contained page for the morning mail [none]
#   PostgreSQL as in live.sh: libpq's environment or PG_CONNINFO; with none
#   set a throwaway server is started for the run and stopped after the report.
#   CITYPIPE_BIN folder of the citypipe tools, put first on PATH
#
# Exit status: 0 done, 66 no recording for the day, else the failing tool's.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ -n "${CITYPIPE_BIN:-}" ] && export PATH="$CITYPIPE_BIN:$PATH"

DAY=${DAY:-$(date -u -d yesterday +%F)}
RECORDINGS=${RECORDINGS:-.}
MODEL=${MODEL:-}
SEED=${SEED:-1}
RAW_TABLE=${RAW_TABLE:-readings}
DAILY_TABLE=${DAILY_TABLE:-daily_metrics}
REPORT=${REPORT:-}
HTML=${HTML:-}

if [ $# -eq 0 ]; then
  if [ -n "${INPUT:-}" ]; then
    set -- "$INPUT"
  elif [ -f "$RECORDINGS/readings-$DAY.ndjson.gz" ]; then
    set -- "$RECORDINGS/readings-$DAY.ndjson.gz"
  else
    set -- "$RECORDINGS/readings-$DAY.ndjson"
  fi
fi
for f in "$@"; do
  [ -f "$f" ] || { echo "nightly: $f: no recording for $DAY" >&2; exit 66; }
done

pg_tmp_dir=
work=
cleanup() {
  [ -z "$work" ] || rm -rf "$work"
  [ -z "$pg_tmp_dir" ] || bash "$here/../scripts/pg-tmp.sh" stop "$pg_tmp_dir" >/dev/null 2>&1 || true
}
trap cleanup EXIT
conn=()
psql_conn=()
if [ -n "${PG_CONNINFO:-}" ]; then
  conn=(-d "$PG_CONNINFO")
  psql_conn=("$PG_CONNINFO")
elif [ -z "${PGHOST:-}${PGDATABASE:-}${PGSERVICE:-}" ]; then
  echo "nightly: no PostgreSQL configured (PGHOST/PGDATABASE), using a throwaway one for this run" >&2
  eval "$(bash "$here/../scripts/pg-tmp.sh" start --owner $$)"
  pg_tmp_dir=$PG_TMP_DIR
fi

if [ -n "$MODEL" ]; then score=(iforest-score -m "$MODEL" --rules city)
else score=(iforest-score --seed "$SEED" --rules city); fi

echo "nightly: $DAY from $*" >&2
# The raw rows go through a FIFO to a background pg-sink, which we can wait for.
work=$(mktemp -d "${TMPDIR:-/tmp}/citypipe-nightly.XXXXXX")
mkfifo "$work/raw"
pg-sink "${conn[@]}" -t "$RAW_TABLE" --create --key sensor_id,ts --on-conflict nothing --stats < "$work/raw" &
raw_pid=$!
dash=()
if [ -n "$HTML" ]; then
  mkfifo "$work/dash"
  tui-top --once --sort anomalies --span 1h --html "$HTML" < "$work/dash" > /dev/null &
  dash_pid=$! dash=("$work/dash")
fi
# Records of other days in the file (a recorder that rotated late) are kept
# in the raw table but only the day's windows are reported.
zcat -f -- "$@" \
  | "${score[@]}" --stats \
  | tee "$work/raw" "${dash[@]}" \
  | window-agg --window tumble:1d --window tumble:1h --key zone \
      --fields temperature,humidity,aqi,noise_db,traffic --agg count,avg,min,max,p95 \
      --count-true anomaly --count-true injected_anomaly --stats \
  | pg-sink "${conn[@]}" -t "$DAILY_TABLE" --create --key window,window_start,zone --on-conflict update --stats
wait "$raw_pid"
[ -z "$HTML" ] || wait "$dash_pid"

report() {
  echo "== citypipe nightly report for $DAY"
  psql -X -q -P footer=off "${psql_conn[@]}" -v ON_ERROR_STOP=1 -c "
    select zone, count as readings, anomaly_count as anomalies,
           round(100.0 * anomaly_count / nullif(count, 0), 2) as anomaly_pct,
           round(aqi_avg::numeric, 1) as aqi_avg, aqi_max as worst_aqi,
           round(noise_db_p95::numeric, 1) as noise_p95, traffic_max
    from \"$DAILY_TABLE\"
    where \"window\" = 'tumble:1d' and window_start = '${DAY}T00:00:00Z'
    order by anomalies desc, zone;"
  echo "== worst hours (most anomalies)"
  psql -X -q -P footer=off "${psql_conn[@]}" -v ON_ERROR_STOP=1 -c "
    select to_char(window_start at time zone 'UTC', 'HH24:MI') as hour_utc, zone, anomaly_count as anomalies, count as readings
    from \"$DAILY_TABLE\"
    where \"window\" = 'tumble:1h' and window_start >= '${DAY}T00:00:00Z' and window_start < '${DAY}T00:00:00Z'::timestamptz + interval '1 day'
    order by anomaly_count desc, window_start, zone limit 5;"
  echo "== top anomalies"
  psql -X -q -P footer=off "${psql_conn[@]}" -v ON_ERROR_STOP=1 -c "
    select to_char(ts at time zone 'UTC', 'HH24:MI:SS') as time_utc, sensor_id, zone, severity, score, reasons
    from \"$RAW_TABLE\"
    where anomaly and ts >= '${DAY}T00:00:00Z' and ts < '${DAY}T00:00:00Z'::timestamptz + interval '1 day'
    order by severity = 'high' desc, score desc nulls last, ts limit 10;"
}
if [ -n "$REPORT" ]; then report | tee "$REPORT"; else report; fi
