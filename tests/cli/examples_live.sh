#!/usr/bin/env bash
# examples/live.sh at a small size: a paced stream of 2400 readings (one
# minute of 40 sensors at 60x), scored, stored raw and aggregated into
# PostgreSQL; tui-top's one snapshot at the end. Every reading is one raw row,
# and the metrics table holds exactly the 1-minute and 5-minute windows the
# raw rows fall into, with their counts.
source "$(dirname "$0")/lib/testlib.sh"
need_tools sensor-gen iforest-score window-agg pg-sink tui-top
source "$(dirname "$0")/lib/pg.sh"
pg_start

COUNT=2400 SPEED=60 SEED=5 START=2026-01-05T07:59:30Z WARMUP=500 TUI=once COLUMNS=100 \
  bash "$CITYPIPE_SOURCE/examples/live.sh" > "$T/out" 2> "$T/err" || fail "live.sh failed: $(cat "$T/err")"

assert_eq "$(sql 'select count(*) from readings')" 2400 "every reading is one raw row"
assert_eq "$(sql 'select count(distinct (sensor_id, ts)) from readings')" 2400 "keyed by sensor_id,ts"
anomalies=$(sql 'select count(*) from readings where anomaly')
[ "$anomalies" -gt 0 ] || fail "no reading was scored as an anomaly"
pass "$anomalies readings scored as anomalies"

# The windows the raw rows fall into, computed in SQL.
assert_eq "$(sql "select count(*) from metrics where \"window\" = 'tumble:1m'")" \
  "$(sql "select count(distinct (zone, date_trunc('minute', ts))) from readings")" "one tumble:1m row per zone and minute"
assert_eq "$(sql "select count(*) from metrics where \"window\" = 'slide:5m,1m'")" \
  "$(sql "select count(distinct (zone, date_trunc('minute', ts) - k * interval '1 minute')) from readings, generate_series(0, 4) k")" \
  "one slide:5m,1m row per zone and window start"
assert_eq "$(sql "select sum(count) from metrics where \"window\" = 'tumble:1m'")" 2400 "the tumbling windows count every reading"
assert_eq "$(sql "select sum(count) from metrics where \"window\" = 'slide:5m,1m'")" 12000 "each reading counts in 5 sliding windows"
assert_eq "$(sql "select sum(anomaly_count) from metrics where \"window\" = 'tumble:1m'")" "$anomalies" "window anomaly counts == raw anomalies"
assert_eq "$(sql "select count(*) from metrics m where \"window\" = 'tumble:1m' and m.aqi_max <> (select max(aqi) from readings r where r.zone = m.zone and date_trunc('minute', r.ts) = m.window_start)")" 0 "aqi_max of every minute matches the raw rows"

assert_contains "$T/out" "ALERTS" "tui-top printed its snapshot"
assert_contains "$T/out" "stored in PostgreSQL" "the SQL summary is printed"

# A re-run of the same stream changes nothing (idempotent keys).
COUNT=2400 SPEED=fast SEED=5 START=2026-01-05T07:59:30Z WARMUP=500 TUI=off \
  bash "$CITYPIPE_SOURCE/examples/live.sh" > /dev/null 2> "$T/err2" || fail "second live.sh failed: $(cat "$T/err2")"
assert_eq "$(sql 'select count(*) from readings')" 2400 "a replay adds no raw row"
assert_eq "$(sql "select sum(count) from metrics where \"window\" = 'tumble:1m'")" 2400 "a replay leaves the windows as they were"
assert_eq "$(sql "select sum(anomaly_count) from metrics where \"window\" = 'tumble:1m'")" "$anomalies" "a replay with the same seed scores the same anomalies"

# Endless and stopped with SIGTERM to the script alone: the generator stops,
# the end of input flows down, every reading read is a raw row and counted in
# exactly one closed minute window; the script says 130.
RAW_TABLE=live_raw METRICS_TABLE=live_metrics SPEED=30 SEED=6 WARMUP=200 TUI=off \
  bash "$CITYPIPE_SOURCE/examples/live.sh" > /dev/null 2> "$T/err3" &
live_pid=$!
on_exit "kill $live_pid 2> /dev/null || true"
for ((i = 0; i < 300; i++)); do
  n=$(sql "select count(*) from pg_tables where tablename = 'live_raw'")
  [ "$n" = 1 ] && [ "$(sql 'select count(*) from live_raw')" -ge 400 ] && break
  sleep 0.1
done
kill -TERM "$live_pid"
rc=0; wait "$live_pid" || rc=$?
assert_eq "$rc" 130 "SIGTERM ends live.sh with 130"
rows=$(sql 'select count(*) from live_raw')
[ "$rows" -ge 400 ] || fail "only $rows raw rows before SIGTERM: $(cat "$T/err3")"
assert_eq "$(sql "select sum(count) from live_metrics where \"window\" = 'tumble:1m'")" "$rows" "after SIGTERM the minute windows count every raw row ($rows)"
