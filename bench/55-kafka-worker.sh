#!/usr/bin/env bash
# The exactly-once Kafka worker against the same worker without checkpoints:
# kafka-cat-in -C -G | iforest-score -m | window-agg | pg-sink --key over a
# backlog of 500,000 records in 8 partitions, in alternating rounds (a new
# group each time, so each reads the whole topic). The cost of --acks is the
# checkpoint lines, the acknowledgements and the commits.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
W=$(mktemp -d "${TMPDIR:-/tmp}/citypipe-bench-worker.XXXXXX")
mock_pid='' pg_dir=''
cleanup() {
  [ -z "$mock_pid" ] || kill "$mock_pid" 2> /dev/null || true
  [ -z "$pg_dir" ] || bash "$CITYPIPE_SOURCE/scripts/pg-tmp.sh" stop "$pg_dir" > /dev/null 2>&1 || true
  rm -rf "$W"
}
trap cleanup EXIT
N=${WORKER_BENCH_RECORDS:-500000}
ROUNDS=${WORKER_BENCH_ROUNDS:-5}

kafka-mock --no-stdin --brokers 1 --partitions 8 --topic city > "$W/mock.out" 2> /dev/null &
mock_pid=$!
for _ in $(seq 300); do [ -s "$W/mock.out" ] && break; sleep 0.1; done
export KAFKA_BROKERS=$(head -n 1 "$W/mock.out")
[ -n "$KAFKA_BROKERS" ] || { echo "kafka-mock printed no bootstrap list" >&2; exit 1; }
eval "$(bash "$CITYPIPE_SOURCE/scripts/pg-tmp.sh" start)"
pg_dir=$PG_TMP_DIR

sensor-gen --fast --count "$N" --seed 55 --start 2026-01-01T00:00:00Z > "$W/in.ndjson"
kafka-cat-in -t city -k zone "$W/in.ndjson"
model="$CITYPIPE_SOURCE/examples/fixtures/city-model.json"

# worker GROUP TABLE [--acks]: one worker over the whole topic; its wall seconds.
worker() {
  local group=$1 table=$2 acks=()
  if [ "${3:-}" = --acks ]; then
    rm -f "$W/acks"; mkfifo "$W/acks"
    acks=(--acks "$W/acks")
  fi
  local t0 t1
  t0=$(date +%s.%N)
  kafka-cat-in -C -G "$group" -t city -e --meta "${acks[@]}" \
    | iforest-score -m "$model" --rules city \
    | window-agg --window tumble:1m --window slide:5m,1m --key zone \
    | pg-sink -t "$table" --create --key window,window_start,zone --on-conflict update "${acks[@]}"
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}'
}
plain=() exact=()
for r in $(seq "$ROUNDS"); do
  plain+=("$(worker "plain$r" "plain$r")")
  exact+=("$(worker "exact$r" "exact$r" --acks)")
done
same=$(psql -X -A -t -c "select count(*) from (select * from plain1 except select * from exact1) d")
rows=$(psql -X -A -t -c "select count(*) from exact1")
mp=$(median "${plain[@]}") me=$(median "${exact[@]}")
spread() { printf '%s\n' "$@" | sort -g | awk 'NR==1{a=$1} {b=$1} END{printf "%s-%s", a, b}'; }
ratio=$(awk -v a="$me" -v b="$mp" 'BEGIN{printf "%.2f", a/b}')
printf 'kafka worker, %d records, 8 partitions: --acks --checkpoint-every 1s %.2f s (%s), without %.2f s (%s), ratio %s; %d metric rows, %d differ\n' \
  "$N" "$me" "$(spread "${exact[@]}")" "$mp" "$(spread "${plain[@]}")" "$ratio" "$rows" "$same"
table_row "exactly-once Kafka worker (--acks), ${N} records, s" "$me ($(spread "${exact[@]}"))" \
  "no --acks: $mp ($(spread "${plain[@]}"))" "$ratio" "<= 1.10"
