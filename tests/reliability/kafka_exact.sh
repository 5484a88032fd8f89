#!/usr/bin/env bash
# The exactly-once Kafka worker (citypipe(7), CHECKPOINTS) under chaos:
#
#   kafka-cat-in -C -G agg --acks A | iforest-score -m | window-agg | pg-sink --key ... --acks A
#
# A live producer (8 partitions, keyed by zone) runs while worker 1 starts,
# worker 2 joins, worker 1 is SIGKILLed whole, worker 3 joins, PostgreSQL
# restarts, worker 2's window-agg alone is SIGKILLed (the rest of worker 2
# must end non-zero, saying why) and worker 2 is restarted; after the
# producer ends the workers get SIGTERM, and a drain worker runs with -e.
# The metrics table must then equal, row for row, one uninterrupted
# window-agg over the producer's own stream (counts exact, the rest to 1e-9
# relative), and a raw table loaded beside it by another group holds every
# record once. Three rounds with seeded timings.
source "$(dirname "$0")/../cli/lib/testlib.sh"
source "$(dirname "$0")/../cli/lib/kafka.sh"
source "$(dirname "$0")/../cli/lib/pg.sh"
pg_start
export PGOPTIONS="-c client_min_messages=warning"

model="$CITYPIPE_SOURCE/examples/fixtures/city-model.json"
fields=temperature,humidity,aqi,noise_db,traffic
agg=(--window tumble:1m --window slide:5m,1m --key zone --fields "$fields" --agg count,avg,min,max,sum,p95 --count-true anomaly)
cols="\"window\" text, window_start timestamptz, window_end timestamptz, zone text, count bigint"
for f in ${fields//,/ }; do
  for a in avg min max sum p95; do cols+=", ${f}_$a double precision"; done
done
cols+=", anomaly_count bigint"
if [ "${CITYPIPE_SANITIZED:-0}" = 1 ]; then rounds=1 speed=20; else rounds=3 speed=40; fi

# worker NAME [-e]: one worker, each stage its own process; stage pids in
# kc_NAME, if_NAME, wa_NAME, pg_NAME.
worker() {
  local n=$1 d="$T/$1"; shift
  mkdir -p "$d"; mkfifo "$d/acks" "$d/1" "$d/2" "$d/3"
  kafka-cat-in -C -G agg -t city --acks "$d/acks" "${GROUP_OPTS[@]}" "$@" > "$d/1" 2> "$d/kc.err" &
  printf -v "kc_$n" %s $!
  iforest-score -m "$model" --rules city < "$d/1" > "$d/2" 2> "$d/if.err" &
  printf -v "if_$n" %s $!
  window-agg "${agg[@]}" < "$d/2" > "$d/3" 2> "$d/wa.err" &
  printf -v "wa_$n" %s $!
  pg-sink -t metrics --key window,window_start,zone --on-conflict update --batch-ms 100ms --acks "$d/acks" \
    < "$d/3" 2> "$d/pg.err" &
  printf -v "pg_$n" %s $!
  local kc=kc_$n ifs=if_$n wa=wa_$n pg=pg_$n
  on_exit "kill -9 ${!kc} ${!ifs} ${!wa} ${!pg} 2>/dev/null"
}
# wait_worker NAME: waits (up to 90 s) for all four stages; sets rc_NAME to
# their statuses.
wait_worker() {
  local n=$1 s r="" i
  for s in kc if wa pg; do
    local v=${s}_$n rc=0
    for ((i = 0; i < 900; i++)); do kill -0 "${!v}" 2> /dev/null || break; sleep 0.1; done
    kill -0 "${!v}" 2> /dev/null && fail "worker $n's $s did not end within 90 s: $(logs)"
    wait "${!v}" 2> /dev/null || rc=$?
    r+="$s=$rc "
  done
  printf -v "rc_$n" %s "$r"
}
logs() { tail -n 3 "$T"/*/*.err 2>/dev/null | head -c 3000; }
nap() { sleep "$(awk -v s="$seed" -v k="$1" 'BEGIN { srand(s * 7 + k); printf "%.2f", 1.5 + rand() * 2.5 }')"; }

for round in $(seq "$rounds"); do
  seed=$((round * 101))
  rm -rf "$T"/[a-z]*/ 2>/dev/null || true
  start_kafka_mock --brokers 2 --partitions 8 --topic city
  sql "drop table if exists metrics, raw, ref; create table metrics ($cols, primary key (\"window\", window_start, zone));
       create table ref (like metrics including all)" > /dev/null
  # The producer's own stream, live: 40 sensors, 20 minutes at $speed x.
  sensor-gen --speed "$speed" --duration 20m --seed "$seed" --start 2026-01-01T00:00:00Z \
    | tee "$T/sent" | kafka-cat-in -t city -k zone 2> "$T/produce.err" &
  producer=$!
  on_exit "kill $producer 2>/dev/null"
  # Raw rows, by another group: at least once, made exactly once by --key.
  rm -f "$T/raw.in"; mkfifo "$T/raw.in"
  pg-sink -t raw --create --key sensor_id,ts < "$T/raw.in" 2> "$T/raw.pg.err" &
  raw=$!
  kafka-cat-in -C -G raw -t city "${GROUP_OPTS[@]}" > "$T/raw.in" 2> "$T/raw.kc.err" &
  raw_kc=$!
  on_exit "kill $raw $raw_kc 2>/dev/null"

  worker w1; nap 1
  worker w2; nap 2
  kill -KILL "$kc_w1" "$if_w1" "$wa_w1" "$pg_w1"; wait_worker w1
  echo "# round $round: worker 1 SIGKILLed with $(count_lines "$T/sent") records produced"
  worker w3; nap 3
  pg_restart fast
  echo "# round $round: PostgreSQL restarted"
  nap 4
  kill -KILL "$wa_w2"; wait_worker w2
  case "$rc_w2" in *"kc=0 "*) fail "worker 2's kafka-cat-in ended 0 after its window-agg died: $rc_w2";; esac
  assert_contains "$T/w2/kc.err" "stopped?" "round $round: worker 2's consumer says a stage stopped ($rc_w2)"
  rm -rf "$T/w2"; worker w2
  for _ in $(seq 1200); do kill -0 "$producer" 2> /dev/null || break; sleep 0.1; done
  wait "$producer" || fail "the producer failed: $(cat "$T/produce.err")"
  n=$(count_lines "$T/sent")
  nap 5
  kill -TERM "$kc_w2" "$kc_w3" 2>/dev/null || true
  wait_worker w2; wait_worker w3
  echo "# round $round: $n records; after SIGTERM: w2 $rc_w2, w3 $rc_w3"
  for w in "$rc_w2" "$rc_w3"; do
    case "$w" in "kc=130 if=0 wa=0 pg=0 ") ;; *) fail "a worker did not stop cleanly on SIGTERM: $w; $(logs)";; esac
  done
  # What is left is drained by one worker with -e; it must end on its own.
  worker drain -e
  for _ in $(seq 600); do kill -0 "$kc_drain" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$kc_drain" 2>/dev/null && fail "the -e drain worker did not end within 60 s: $(logs)"
  wait_worker drain
  assert_eq "$rc_drain" "kc=0 if=0 wa=0 pg=0 " "round $round: the drain worker ended by itself, all stages 0"

  # The reference: one uninterrupted run over the producer's stream.
  iforest-score -m "$model" --rules city "$T/sent" | window-agg "${agg[@]}" | pg-sink -t ref --key window,window_start,zone 2>/dev/null
  diffs=$(sql "select count(*) from metrics m full join ref r using (\"window\", window_start, zone)
               where m.count is distinct from r.count or r.count is null or m.count is null
                  or m.anomaly_count is distinct from r.anomaly_count
                  $(for f in ${fields//,/ }; do for a in avg min max sum p95; do
                      printf "or abs(m.%s_%s - r.%s_%s) > 1e-9 * greatest(abs(r.%s_%s), 1e-300) " $f $a $f $a $f $a; done; done)")
  rows=$(sql "select count(*) from ref")
  [ "$rows" -gt 300 ] || fail "the reference has only $rows windows"
  assert_eq "$diffs" 0 "round $round: the metrics table equals the uninterrupted run's $rows windows"
  assert_eq "$(sql 'select sum(count) from metrics where "window" = '"'tumble:1m'")" "$n" \
    "round $round: the tumbling windows count every one of the $n records once"
  for _ in $(seq 300); do [ "$(sql 'select count(*) from raw' 2>/dev/null || echo 0)" -ge "$n" ] && break; sleep 0.1; done
  kill -TERM "$raw_kc" 2>/dev/null || true
  wait "$raw_kc" || true
  wait "$raw" || true
  assert_eq "$(sql 'select count(*), count(distinct (sensor_id, ts)) from raw')" "$n|$n" \
    "round $round: the raw table holds every record once"
  stop_kafka_mock
done
