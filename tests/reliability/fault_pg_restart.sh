#!/usr/bin/env bash
# PostgreSQL restarted in the middle of a live pipeline (sensor-gen paced 20x
# real time | pg-sink --key): pg-sink reconnects and the table ends with every
# generated record exactly once.
source "$(dirname "$0")/../cli/lib/testlib.sh"
source "$(dirname "$0")/../cli/lib/pg.sh"
pg_start

if [ "${CITYPIPE_SANITIZED:-0}" = 1 ]; then n=1500; else n=4000; fi
# 40 sensors every second at 20x: 800 records/s, so the stream lasts seconds.
sensor-gen --speed 20 --count "$n" --seed 91 --start 2026-01-01T00:00:00Z --stats 2> "$T/gen.err" |
  tee "$T/sent" |
  pg-sink -t live --create --key sensor_id,ts --batch-ms 100ms --retry-for 60s --stats 2> "$T/sink.err" &
pipeline=$!
on_exit "kill $pipeline 2>/dev/null"

at=$(wait_rows live $((n / 4)))
[ "$at" -ge $((n / 4)) ] || fail "the first rows never arrived: $(cat "$T/sink.err")"
pg_restart fast
echo "# restarted PostgreSQL with $at of $n rows in the table"
[ "$at" -lt "$n" ] || fail "the stream ended before the restart; nothing was tested"

rc=0; wait $pipeline || rc=$?
cat "$T/sink.err" >&2
assert_eq "$rc" 0 "the pipeline ends with status 0"
assert_contains "$T/sink.err" "reconnected" "pg-sink reconnected after the restart"
assert_eq "$(count_lines "$T/sent")" "$n" "sensor-gen sent $n records"
assert_eq "$(sql 'select count(*), count(distinct (sensor_id, ts)) from live')" "$n|$n" \
  "every one of the $n records is in the table exactly once"
assert_eq "$(sql "select count(*) from live where injected_anomaly")" "$(grep -c '"injected_anomaly":true' "$T/sent")" \
  "the anomalies sent are the anomalies stored"
