#!/usr/bin/env bash
# kafka.sh: the live pipeline of live.sh through Kafka, scaled out.
#
#   producer:  sensor-gen | kafka-cat-in -P -t readings -k zone
#   worker i:  kafka-cat-in -C -G citypipe-workers -t readings --acks ACKS
#                | iforest-score -m MODEL --rules city
#                | window-agg tumble:1m + slide:5m,1m
#                | pg-sink -t metrics --key window,window_start,zone --on-conflict update --acks ACKS
#   raw i:     kafka-cat-in -C -G citypipe-workers-raw -t readings
#                | iforest-score -m MODEL --rules city | pg-sink -t readings --key sensor_id,ts
#
# The producer keys messages by zone, so every zone stays on one partition, in
# order, and the consumer group gives each partition to exactly one worker.
# The metrics workers are exactly once (citypipe(7), CHECKPOINTS): offsets are
# committed only once pg-sink has committed everything before a checkpoint,
# and a partition that moves between workers, mid-window or after a crash, is
# rebuilt by its new owner from the log. The raw rows go by a group of their
# own, at least once, made exactly once by the table's key. Scoring uses one
# saved model, so every worker scores alike (train your own with
# 'iforest-score train -o model.json recording.ndjson').
#
# Run it:   examples/kafka.sh                  (Ctrl-C stops it all)
#           KAFKA_BROKERS=kafka1:9092 WORKERS=4 examples/kafka.sh
#
# Environment (defaults in brackets):
#   KAFKA_BROKERS  bootstrap brokers; unset: a kafka-mock is started here and
#                  stopped at the end [unset]
#   KAFKA_OPTS     more -X prop=value for every client (SASL, TLS...) [none]
#   TOPIC [readings]   GROUP [citypipe-workers]   WORKERS [3]
#   PARTITIONS     partitions of the topic kafka-mock creates [4]
#   MODEL          [examples/fixtures/city-model.json]
#   COUNT          produce this many readings, wait until every one is in
#                  PostgreSQL, then stop the workers [endless]
#   SPEED          event time speed-up, or "fast" [1]
#   SENSORS [40]   SEED [random]   START [now]
#   RAW_TABLE [readings]   METRICS_TABLE [metrics]
#   PostgreSQL as in live.sh: libpq's environment or PG_CONNINFO; with none
#   set a throwaway server is started and stopped at the end.
#   WAIT           with COUNT: give up waiting for the rows after this many
#                  seconds [120]
#   CITYPIPE_BIN   folder of the citypipe tools, put first on PATH
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ -n "${CITYPIPE_BIN:-}" ] && export PATH="$CITYPIPE_BIN:$PATH"

TOPIC=${TOPIC:-readings}
GROUP=${GROUP:-citypipe-workers}
WORKERS=${WORKERS:-3}
MODEL=${MODEL:-$here/fixtures/city-model.json}
COUNT=${COUNT:-}
SPEED=${SPEED:-1}
SENSORS=${SENSORS:-40}
SEED=${SEED:-}
START=${START:-}
RAW_TABLE=${RAW_TABLE:-readings}
METRICS_TABLE=${METRICS_TABLE:-metrics}
WAIT=${WAIT:-120}
[ -f "$MODEL" ] || { echo "kafka.sh: $MODEL: no such model" >&2; exit 66; }

work=$(mktemp -d "${TMPDIR:-/tmp}/citypipe-kafka.XXXXXX")
mock_pid='' mock_fd='' pg_tmp_dir=''
consumers=() pids=()
stop_workers() {
  # Only the consumers are signalled: each commits its last checkpoint, and
  # the end of its output flows down the worker. Open windows stay for the
  # next run (or the drain below) to finish: they are rebuilt from the log.
  [ ${#consumers[@]} -gt 0 ] && kill -TERM "${consumers[@]}" 2>/dev/null
  local p rc=0
  for p in "${pids[@]}"; do wait "$p" || { local s=$?; [ $s -eq 130 ] || [ $s -eq 143 ] || rc=$s; }; done
  consumers=() pids=()
  return $rc
}
cleanup() {
  stop_workers || true
  if [ -n "$mock_pid" ]; then exec {mock_fd}>&-; wait "$mock_pid" 2>/dev/null || true; fi
  if [ -n "$pg_tmp_dir" ]; then bash "$here/../scripts/pg-tmp.sh" stop "$pg_tmp_dir" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

xopts=()
for x in ${KAFKA_OPTS:-}; do xopts+=(-X "$x"); done
if [ -z "${KAFKA_BROKERS:-}" ]; then
  # kafka-mock serves until its standard input ends: we hold a FIFO open, so
  # it also ends if this script is killed.
  mkfifo "$work/mock.in"
  kafka-mock --topic "$TOPIC" --partitions "${PARTITIONS:-4}" < "$work/mock.in" > "$work/mock.out" 2> "$work/mock.err" &
  mock_pid=$!
  exec {mock_fd}> "$work/mock.in"
  for _ in $(seq 100); do [ -s "$work/mock.out" ] && break; sleep 0.1; done
  KAFKA_BROKERS=$(head -n 1 "$work/mock.out")
  [ -n "$KAFKA_BROKERS" ] || { echo "kafka.sh: kafka-mock did not start: $(cat "$work/mock.err")" >&2; exit 69; }
  export KAFKA_BROKERS
  # The mock rebalances quickly with short group timeouts.
  xopts+=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=300)
  echo "kafka.sh: started kafka-mock at $KAFKA_BROKERS" >&2
fi

conn=()
if [ -n "${PG_CONNINFO:-}" ]; then
  conn=(-d "$PG_CONNINFO")
elif [ -z "${PGHOST:-}${PGDATABASE:-}${PGSERVICE:-}" ]; then
  echo "kafka.sh: no PostgreSQL configured (PGHOST/PGDATABASE), starting a throwaway one" >&2
  eval "$(bash "$here/../scripts/pg-tmp.sh" start --owner $$)"
  pg_tmp_dir=$PG_TMP_DIR
fi
psql_conn=()
[ -n "${PG_CONNINFO:-}" ] && psql_conn=("$PG_CONNINFO")
sql() { psql -X -q -A -t -v ON_ERROR_STOP=1 "${psql_conn[@]}" -c "$1"; }

# The tables are made here, once: several workers' pg-sink --create racing
# to create the same table would collide. Keys lead with time, as pg-sink
# --create makes them: inserts land at the index's right edge.
fields=(temperature humidity aqi noise_db traffic)
metric_cols=""
for f in "${fields[@]}"; do metric_cols+="${f}_avg double precision, ${f}_max double precision, "; done
sql "create table if not exists \"$RAW_TABLE\" (
       ts timestamptz not null, sensor_id text not null, zone text,
       temperature double precision, humidity double precision, aqi double precision,
       noise_db double precision, traffic double precision,
       injected_anomaly boolean, anomaly_kind text,
       score double precision, anomaly boolean, severity text, reasons jsonb,
       primary key (ts, sensor_id));
     create table if not exists \"$METRICS_TABLE\" (
       \"window\" text not null, window_start timestamptz not null, window_end timestamptz,
       zone text not null, count bigint, $metric_cols anomaly_count bigint,
       primary key (window_start, \"window\", zone));" > /dev/null

# metrics_worker LOG_PREFIX [-e]: one exactly-once metrics worker.
metrics_worker() {
  local w=$1; shift
  mkfifo "$w.acks" "$w.in"
  iforest-score -m "$MODEL" --rules city < "$w.in" 2> "$w.score.log" \
    | window-agg --window tumble:1m --window slide:5m,1m --key zone \
        --fields temperature,humidity,aqi,noise_db,traffic --agg count,avg,max \
        --count-true anomaly --idle-timeout 10s 2> "$w.agg.log" \
    | pg-sink "${conn[@]}" -t "$METRICS_TABLE" --key window,window_start,zone --on-conflict update \
        --acks "$w.acks" 2> "$w.metrics.log" &
  pids+=($!)
  kafka-cat-in -C -t "$TOPIC" -G "$GROUP" --acks "$w.acks" "${xopts[@]}" -v --stats "$@" > "$w.in" 2> "$w.log" &
  consumers+=($!)
  pids+=($!)
}
for i in $(seq "$WORKERS"); do
  w="$work/w$i"
  metrics_worker "$w"
  mkfifo "$w.raw"
  iforest-score -m "$MODEL" --rules city < "$w.raw" 2> "$w.raw.score.log" \
    | pg-sink "${conn[@]}" -t "$RAW_TABLE" --key sensor_id,ts --on-conflict nothing 2> "$w.raw.log" &
  pids+=($!)
  kafka-cat-in -C -t "$TOPIC" -G "$GROUP-raw" "${xopts[@]}" > "$w.raw" 2> "$w.raw.kafka.log" &
  consumers+=($!)
  pids+=($!)
done
echo "kafka.sh: $WORKERS workers in group $GROUP on topic $TOPIC" >&2

gen=(sensor-gen --sensors "$SENSORS")
[ -n "$COUNT" ] && gen+=(--count "$COUNT")
[ -n "$SEED" ] && gen+=(--seed "$SEED")
[ -n "$START" ] && gen+=(--start "$START")
if [ "$SPEED" = fast ]; then gen+=(--fast); else gen+=(--speed "$SPEED"); fi
# The producer runs on its own, so that a SIGINT or SIGTERM to this script
# alone stops it cleanly (every delivery awaited), then the workers.
"${gen[@]}" | kafka-cat-in -P -t "$TOPIC" -k zone "${xopts[@]}" &
producer_pid=$!
stopped=0
trap 'stopped=1; kill -TERM "$producer_pid" 2>/dev/null || true' INT TERM
status=0
wait "$producer_pid" || status=$?
# A trapped signal ends wait early: wait again for the producer's deliveries.
if [ "$stopped" -eq 1 ]; then wait "$producer_pid" 2>/dev/null || true; status=130; fi
trap 'exit 130' INT TERM

if [ -n "$COUNT" ] && [ "$status" -eq 0 ]; then
  for _ in $(seq $((WAIT * 5))); do
    [ "$(sql "select count(*) from \"$RAW_TABLE\"")" -ge "$COUNT" ] && break
    sleep 0.2
  done
fi
stop_workers || { s=$?; echo "kafka.sh: a worker failed with status $s; logs:" >&2; tail -n 3 "$work"/w*.log >&2; exit $s; }
if [ -n "$COUNT" ] && [ "$status" -eq 0 ]; then
  # Every record is in: one worker with -e writes the windows still open.
  metrics_worker "$work/drain" -e
  for p in "${pids[@]}"; do wait "$p" || { echo "kafka.sh: the drain failed; $(tail -n 3 "$work"/drain*.log)" >&2; exit 1; }; done
  consumers=() pids=()
fi
for i in $(seq "$WORKERS"); do
  echo "worker $i: $(sed -nE 's/.*stats in=[0-9]+ out=([0-9]+).*/\1/p' "$work/w$i.log" | tail -n 1) records consumed"
done
if [ -f "$work/drain.log" ]; then
  echo "drain: $(sed -nE 's/.*stats in=[0-9]+ out=([0-9]+).*/\1/p' "$work/drain.log" | tail -n 1) records consumed"
fi
[ "$status" -eq 0 ] || [ "$status" -eq 130 ] || { echo "kafka.sh: the producer failed with status $status" >&2; exit "$status"; }

echo "== stored in PostgreSQL"
psql -X -q -P footer=off "${psql_conn[@]}" -c "
  select zone, count(*) as readings, count(*) filter (where anomaly) as anomalies, max(aqi) as worst_aqi
  from \"$RAW_TABLE\" group by zone order by zone;"
psql -X -q -P footer=off "${psql_conn[@]}" -c "
  select \"window\", count(*) as windows, sum(count) as readings, sum(anomaly_count) as anomalies
  from \"$METRICS_TABLE\" group by \"window\" order by \"window\";"
[ "$status" -eq 130 ] && exit 130
exit 0
