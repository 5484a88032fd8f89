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
# consumer_NAME and sink_NAME to the two pids.
worker() {
  local fifo="$T/$1.fifo.$RANDOM"
  mkfifo "$fifo"
  kafka-cat-in -C -G sinks -t city "${GROUP_OPTS[@]}" > "$fifo" 2>> "$T/$1.kafka.err" &
  printf -v "consumer_$1" %s $!
  pg-sink -t city --key sensor_id,ts --batch-ms 100ms --stats < "$fifo" 2>> "$T/$1.sink.err" &
  printf -v "sink_$1" %s $!
  on_exit "kill $! 2>/dev/null"
}
stop_worker() {  # SIGTERM to the consumer; its pg-sink ends at end of input
  local c=consumer_$1 s=sink_$1
  kill -TERM "${!c}" 2>/dev/null || true
  wait "${!c}" 2>/dev/null || true
  wait "${!s}" || fail "worker $1's pg-sink failed: $(cat "$T/$1.sink.err")"
}
sql 'create table city (ts timestamptz, sensor_id text, zone text, temperature double precision,
  humidity double precision, aqi bigint, noise_db double precision, traffic bigint,
  injected_anomaly boolean, primary key (sensor_id, ts))'
worker a
worker b
on_exit "kill $consumer_a $consumer_b 2>/dev/null"

# The producer runs live through the outage (40 sensors at 1 s, sped up).
kafka-cat-in -t city -k sensor_id --stats < <(sensor-gen --speed "$speed" --count "$n" --seed 93 --start 2026-01-01T00:00:00Z | tee "$T/sent") 2> "$T/produce.err" &
producer=$!
on_exit "kill $producer 2>/dev/null"

rows() { sql 'select count(*) from city' 2>/dev/null || echo 0; }
for _ in $(seq 1 600); do [ "$(rows)" -ge $((n / 5)) ] && break; sleep 0.05; done
at=$(rows)
[ "$at" -ge $((n / 5)) ] || fail "the workers stored only $at rows: $(cat "$T"/*.err)"
[ "$at" -lt "$n" ] || fail "the stream was over before the SIGKILL; nothing was tested"
kill -KILL "$consumer_a"
wait "$consumer_a" 2>/dev/null || true
wait "$sink_a" || fail "worker a's pg-sink failed after its consumer died: $(cat "$T/a.sink.err")"
echo "# SIGKILLed worker a's consumer with $at of $n rows stored; restarting it"
worker a

rc=0; wait $producer || rc=$?
assert_eq "$rc" 0 "the producer delivered through the broker outage"
assert_contains "$KAFKA_MOCK_ERR" "broker -1 down" "every broker went down"
assert_contains "$KAFKA_MOCK_ERR" "broker -1 up" "the brokers came back"
assert_contains "$T/produce.err" "brokers are down" "the live producer saw the outage"
assert_eq "$(stat_of "$T/produce.err" out)" "$n" "the producer's delivery reports: $n"
for _ in $(seq 1 600); do [ "$(rows)" -ge "$n" ] && break; sleep 0.1; done
stop_worker a
stop_worker b
assert_eq "$(count_lines "$T/sent")" "$n" "sensor-gen sent $n records"
assert_eq "$(sql 'select count(*), count(distinct (sensor_id, ts)) from city')" "$n|$n" \
  "after a broker outage and a SIGKILLed worker, every record is in the table exactly once"
committed=$(cat "$T"/[ab].sink.err | grep -o ' out=[0-9]*' | cut -d= -f2 | awk '{ s += $1 } END { print s + 0 }')
[ "$committed" -ge "$n" ] || fail "the workers committed $committed rows for $n records"
pass "the workers wrote $committed rows for $n records (re-deliveries after SIGKILL absorbed by --key)"
