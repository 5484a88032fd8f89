#!/usr/bin/env bash
# live.sh: the whole city pipeline live on one machine, no Kafka, no Flink.
#
#   sensor-gen (paced in real time)
#     | iforest-score --warmup N --rules city      score every reading
#     | tee >(pg-sink -t readings --key sensor_id,ts)          raw rows
#           >(window-agg tumble:1m + slide:5m,1m | pg-sink -t metrics)
#     | tui-top                                     watch the scored stream
#
# Run it:   examples/live.sh            (Ctrl-C or q in tui-top stops it all)
#
# PostgreSQL: libpq's environment decides (PGHOST, PGDATABASE, PGUSER, ...,
# or PG_CONNINFO). With none of PGHOST, PGDATABASE, PGSERVICE or PG_CONNINFO
# set, a throwaway server is started with scripts/pg-tmp.sh and stopped at the
# end, after a short SQL summary. PG=off skips storage altogether.
#
# Environment (defaults in brackets):
#   COUNT      stop after this many readings [endless]
#   SPEED      event time runs this many times faster than the clock, or
#              "fast" for no pacing [1]
#   SENSORS    number of sensors [40]
#   SEED       seed of the generator and of the forest [random]
#   START      event time of the first reading, RFC 3339 [now]
#   WARMUP     readings iforest-score trains on before scoring; the dashboard
#              stays empty until then (30 s for 40 sensors at SPEED=1) [1200]
#   RAW_TABLE [readings]   METRICS_TABLE [metrics]
#   TUI        auto (dashboard on a terminal, else one snapshot at the end),
#              on, once or off [auto]
#   CITYPIPE_BIN  folder of the citypipe tools, put first on PATH
#
# The tools stop together: at the end of --count, the end of input flows down
# the pipe and every stage flushes (window-agg emits its open windows, pg-sink
# commits). On Ctrl-C every stage gets SIGINT, writes what it has complete and
# commits, and the script exits 130.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ -n "${CITYPIPE_BIN:-}" ] && export PATH="$CITYPIPE_BIN:$PATH"

COUNT=${COUNT:-}
SPEED=${SPEED:-1}
SENSORS=${SENSORS:-40}
SEED=${SEED:-}
START=${START:-}
WARMUP=${WARMUP:-1200}
RAW_TABLE=${RAW_TABLE:-readings}
METRICS_TABLE=${METRICS_TABLE:-metrics}
TUI=${TUI:-auto}
PG=${PG:-on}

gen=(sensor-gen --sensors "$SENSORS")
[ -n "$COUNT" ] && gen+=(--count "$COUNT")
[ -n "$SEED" ] && gen+=(--seed "$SEED")
[ -n "$START" ] && gen+=(--start "$START")
score_seed=()
[ -n "$SEED" ] && score_seed=(--seed "$SEED")
if [ "$SPEED" = fast ]; then gen+=(--fast); else gen+=(--speed "$SPEED"); fi

if [ "$TUI" = auto ]; then
  if [ -t 1 ]; then TUI=on; else TUI=once; fi
fi
case "$TUI" in
  on) watch=(tui-top --span 5m) ;;
  once) watch=(tui-top --once --no-color --width "${COLUMNS:-100}") ;;
  off) watch=(cat) ;;
  *) echo "live.sh: TUI must be auto, on, once or off" >&2; exit 64 ;;
esac
[ "$TUI" = off ] && exec 3>/dev/null || exec 3>&1

pg_tmp_dir='' fifos=''
cleanup() {
  [ -z "$fifos" ] || rm -rf "$fifos"
  if [ -n "$pg_tmp_dir" ]; then bash "$here/../scripts/pg-tmp.sh" stop "$pg_tmp_dir" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

conn=()
if [ "$PG" = on ]; then
  if [ -n "${PG_CONNINFO:-}" ]; then
    conn=(-d "$PG_CONNINFO")
  elif [ -z "${PGHOST:-}${PGDATABASE:-}${PGSERVICE:-}" ]; then
    echo "live.sh: no PostgreSQL configured (PGHOST/PGDATABASE), starting a throwaway one" >&2
    eval "$(bash "$here/../scripts/pg-tmp.sh" start --owner $$)"
    pg_tmp_dir=$PG_TMP_DIR
  fi
  # shellcheck disable=SC2054 # commas inside option values
  raw_sink=(pg-sink "${conn[@]}" -t "$RAW_TABLE" --create --key sensor_id,ts --on-conflict nothing)
  # shellcheck disable=SC2054
  metrics_sink=(pg-sink "${conn[@]}" -t "$METRICS_TABLE" --create
    --key window,window_start,zone --on-conflict update)
else
  raw_sink=(cat)
  metrics_sink=(cat)
fi

# Windows close as event time passes; --idle-timeout also closes the last ones
# while the stream is quiet, so the metrics table keeps up with a slow trickle.
# shellcheck disable=SC2054
windows=(window-agg --window tumble:1m --window slide:5m,1m --key zone
  --fields temperature,humidity,aqi,noise_db,traffic --agg count,avg,max
  --count-true anomaly --idle-timeout 10s --line-buffered)

# The two sinks read from FIFOs as background jobs, so the script can wait
# for them to commit before it reads the tables.
fifos=$(mktemp -d "${TMPDIR:-/tmp}/citypipe-live.XXXXXX")
mkfifo "$fifos/raw" "$fifos/windows"
"${raw_sink[@]}" < "$fifos/raw" > /dev/null &
raw_pid=$!
"${windows[@]}" < "$fifos/windows" | "${metrics_sink[@]}" > /dev/null &
metrics_pid=$!

# The generator runs on its own, so that a SIGINT or SIGTERM to this script
# alone (kill, systemd) stops it and the end of input flushes every stage.
mkfifo "$fifos/gen"
"${gen[@]}" > "$fifos/gen" &
gen_pid=$!
iforest-score "${score_seed[@]}" --warmup "$WARMUP" --rules city --line-buffered < "$fifos/gen" \
  | tee "$fifos/raw" "$fifos/windows" \
  | "${watch[@]}" >&3 &
pipe_pid=$!
stopped=0
trap 'stopped=1; kill -INT "$gen_pid" 2>/dev/null || true' INT TERM
status=0
wait "$gen_pid" || status=$?
# A trapped signal ends wait early: wait again for the generator to finish.
if [ "$stopped" -eq 1 ]; then wait "$gen_pid" 2>/dev/null || true; status=130; fi
wait "$pipe_pid" || { s=$?; [ "$status" -ne 0 ] || status=$s; }
trap 'exit 130' INT TERM
sink_status=0
wait "$raw_pid" || sink_status=$?
wait "$metrics_pid" || sink_status=$?
rm -rf "$fifos"
# 141: tui-top was quit with q and the stages before it saw a closed pipe.
case "$status" in 0 | 130 | 141) ;; *) echo "live.sh: the pipeline failed with status $status" >&2; exit "$status" ;; esac
[ "$sink_status" -eq 0 ] || [ "$sink_status" -eq 130 ] || { echo "live.sh: a PostgreSQL sink failed with status $sink_status" >&2; exit "$sink_status"; }

if [ "$PG" = on ]; then
  psql_conn=()
  [ -n "${PG_CONNINFO:-}" ] && psql_conn=("$PG_CONNINFO")
  echo "== stored in PostgreSQL: $RAW_TABLE per zone"
  psql -X -q -P footer=off "${psql_conn[@]}" -c "
    select zone, count(*) as readings, count(*) filter (where anomaly) as anomalies,
           max(aqi) as worst_aqi, max(ts) as last_reading
    from \"$RAW_TABLE\" group by zone order by zone;"
  psql -X -q -P footer=off "${psql_conn[@]}" -c "
    select \"window\", count(*) as windows, sum(count) as readings, sum(anomaly_count) as anomalies
    from \"$METRICS_TABLE\" group by \"window\" order by \"window\";"
fi
[ "$status" -eq 130 ] && exit 130
exit 0
