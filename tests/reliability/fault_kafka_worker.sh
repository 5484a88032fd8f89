#!/usr/bin/env bash
# Kafka faults with nothing lost, end to end into PostgreSQL: two consumer-
# group workers (kafka-cat-in -C -G | pg-sink --key) read a topic while every
# broker is down for 3 s under the live producer, and one worker is killed
# with SIGKILL and restarted. The table ends with every record exactly once.
source "$(dirname "$0")/../cli/lib/testlib.sh"
source "$(dirname "$0")/../cli/lib/kafka.sh"
source "$(dirname "$0")/../cli/lib/pg.sh"
source "$(dirname "$0")/lib/hostile.sh"  # stat_of
pg_start

# The stream must outlast the group's first join, which waits out the broker
# outage: about 20 s of records at 80-120 per second.
if [ "${CITYPIPE_SANITIZED:-0}" = 1 ]; then n=1500 speed=2; else n=2400 speed=3; fi
start_kafka_mock --brokers 3 --partitions 4 --topic city --broker-down=-1,2s,3s

# worker NAME: one consumer-group worker into the shared table; sets
# consumer_NAME and sink_NAME to the two pids (both killed on exit).
worker() {
  local fifo="$T/$1.fifo.$RANDOM"
  mkfifo "$fifo"
  echo "# worker $1 starts" >> "$T/$1.kafka.err"
  kafka-cat-in -C -G sinks -t city -v "${GROUP_OPTS[@]}" > "$fifo" 2>> "$T/$1.kafka.err" &
  printf -v "consumer_$1" %s $!
  pg-sink -t city --key sensor_id,ts --batch-ms 100ms --stats < "$fifo" 2>> "$T/$1.sink.err" &
  printf -v "sink_$1" %s $!
  local c=consumer_$1 s=sink_$1
  on_exit "kill -KILL ${!c} ${!s} 2>/dev/null"
}
# Every wait below has a deadline well under ctest's 900 s; on one, the test
# says what did not happen and shows the logs (and the stacks of a process
# that did not end, where gdb may attach to it).
logs() {
  local f
  for f in "$T"/[ab].kafka.err "$T"/[ab].sink.err "$T/produce.err" "$KAFKA_MOCK_ERR"; do
    [ -f "$f" ] || continue
    echo "--- ${f##*/} (last 40 lines)"
    tail -n 40 "$f"
  done
}
stacks() {
  command -v gdb > /dev/null || return 0
  echo "--- stacks of pid $1"
  timeout 30 gdb -p "$1" -batch -nx -ex 'thread apply all bt' 2>&1 | grep -E '^(Thread|#)' | head -n 200 || true
}
# wait_pid PID SECONDS WHAT: until PID (a child of this shell) ended; sets rc
# to its status and took to the seconds waited; fails naming WHAT if it is
# still running at the deadline.
wait_pid() {
  local start=$SECONDS end=$((SECONDS + $2))
  while kill -0 "$1" 2> /dev/null && [ "$SECONDS" -lt "$end" ]; do sleep 0.1; done
  if kill -0 "$1" 2> /dev/null; then
    echo "FAIL: $3 (pid $1) did not end within $2 s" >&2
    { logs; stacks "$1"; } >&2
    fail "$3 (pid $1) did not end within $2 s"
  fi
  rc=0; wait "$1" 2> /dev/null || rc=$?
  took=$((SECONDS - start))
}
stop_worker() {  # SIGTERM to the consumer; its pg-sink ends at end of input
  local c=consumer_$1 s=sink_$1
  kill -TERM "${!c}" 2>/dev/null || true
  wait_pid "${!c}" 60 "worker $1's kafka-cat-in, given SIGTERM,"
  echo "# worker $1's kafka-cat-in ended with status $rc ${took} s after SIGTERM"
  [ "$rc" -eq 130 ] || fail "worker $1's kafka-cat-in ended with status $rc after SIGTERM, not 130: $(logs)"
  wait_pid "${!s}" 30 "worker $1's pg-sink, once its input ended,"
  [ "$rc" -eq 0 ] || fail "worker $1's pg-sink failed ($rc): $(cat "$T/$1.sink.err")"
}
sql 'create table city (ts timestamptz, sensor_id text, zone text, temperature double precision,
  humidity double precision, aqi bigint, noise_db double precision, traffic bigint,
  injected_anomaly boolean, primary key (sensor_id, ts))'
worker a
worker b

# The producer runs live through the outage (40 sensors at 1 s, sped up).
kafka-cat-in -t city -k sensor_id --stats < <(sensor-gen --speed "$speed" --count "$n" --seed 93 --start 2026-01-01T00:00:00Z | tee "$T/sent") 2> "$T/produce.err" &
producer=$!
on_exit "kill $producer 2>/dev/null"

rows() { sql 'select count(*) from city' 2>/dev/null || echo 0; }
# wait_for_rows N SECONDS: until the table has N rows; sets at to the count.
wait_for_rows() {
  local end=$((SECONDS + $2))
  at=$(rows)
  while [ "$at" -lt "$1" ] && [ "$SECONDS" -lt "$end" ]; do sleep 0.1; at=$(rows); done
  [ "$at" -ge "$1" ] || fail "after $2 s the table has $at rows, expected $1: $(logs)"
}
wait_for_rows $((n / 5)) 60
[ "$at" -lt "$n" ] || fail "the stream was over before the SIGKILL; nothing was tested"
kill -KILL "$consumer_a"
wait_pid "$consumer_a" 10 "worker a's SIGKILLed kafka-cat-in"
wait_pid "$sink_a" 30 "worker a's pg-sink, after its consumer died,"
[ "$rc" -eq 0 ] || fail "worker a's pg-sink failed after its consumer died ($rc): $(cat "$T/a.sink.err")"
echo "# SIGKILLed worker a's consumer with $at of $n rows stored; restarting it"
worker a

wait_pid "$producer" 120 "the producer"
assert_eq "$rc" 0 "the producer delivered through the broker outage"
assert_contains "$KAFKA_MOCK_ERR" "broker -1 down" "every broker went down"
assert_contains "$KAFKA_MOCK_ERR" "broker -1 up" "the brokers came back"
assert_contains "$T/produce.err" "brokers are down" "the live producer saw the outage"
assert_eq "$(stat_of "$T/produce.err" out)" "$n" "the producer's delivery reports: $n"
wait_for_rows "$n" 90
stop_worker a
stop_worker b
assert_eq "$(count_lines "$T/sent")" "$n" "sensor-gen sent $n records"
assert_eq "$(sql 'select count(*), count(distinct (sensor_id, ts)) from city')" "$n|$n" \
  "after a broker outage and a SIGKILLed worker, every record is in the table exactly once"
committed=$(cat "$T"/[ab].sink.err | grep -o ' out=[0-9]*' | cut -d= -f2 | awk '{ s += $1 } END { print s + 0 }')
[ "$committed" -ge "$n" ] || fail "the workers committed $committed rows for $n records"
pass "the workers wrote $committed rows for $n records (re-deliveries after SIGKILL absorbed by --key)"
