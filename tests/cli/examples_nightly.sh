#!/usr/bin/env bash
# examples/nightly.sh: one recorded day (gzip, 40 sensors every 5 minutes =
# 11520 readings) replayed into PostgreSQL twice: the second run changes no
# row. The report's anomaly counts are the forest's own; a plain-text
# recording of another day adds its day; a missing day is status 66.
source "$(dirname "$0")/lib/testlib.sh"
need_tools sensor-gen iforest-score window-agg pg-sink
source "$(dirname "$0")/lib/pg.sh"
pg_start
rec="$T/recordings"
mkdir -p "$rec"
sensor-gen --fast --seed 3 --start 2026-01-05T00:00:00Z --duration 1d --interval 5m > "$T/day5.ndjson"
gzip -c "$T/day5.ndjson" > "$rec/readings-2026-01-05.ndjson.gz"
want=$(iforest-score --seed 1 --rules city "$T/day5.ndjson" | grep -c '"anomaly":true' || true)
[ "$want" -gt 0 ] || fail "the forest flags nothing in the recorded day"

DAY=2026-01-05 RECORDINGS="$rec" REPORT="$T/report1.txt" bash "$CITYPIPE_SOURCE/examples/nightly.sh" \
  > /dev/null 2> "$T/err" || fail "nightly.sh failed: $(cat "$T/err")"
assert_eq "$(sql 'select count(*) from readings')" 11520 "every recorded reading is one raw row"
assert_eq "$(sql 'select count(*) from readings where anomaly')" "$want" "the anomalies are the forest's"
assert_eq "$(sql "select count(*) from daily_metrics where \"window\" = 'tumble:1d'")" 8 "one daily row per zone"
assert_eq "$(sql "select count(*) from daily_metrics where \"window\" = 'tumble:1h'")" $((8 * 24)) "one hourly row per zone and hour"
assert_eq "$(sql "select sum(count) || ' ' || sum(anomaly_count) from daily_metrics where \"window\" = 'tumble:1d'")" "11520 $want" "the daily rows count every reading and anomaly"
assert_eq "$(sql "select sum(injected_anomaly_count) from daily_metrics where \"window\" = 'tumble:1d'")" \
  "$(grep -c '"injected_anomaly":true' "$T/day5.ndjson")" "injected anomalies counted per day"
assert_contains "$T/report1.txt" "nightly report for 2026-01-05" "the report names the day"
report_sum=$(awk -F'|' '/^ [A-Z].*\|/ && NF == 8 { s += $3 } END { print s }' "$T/report1.txt")
assert_eq "$report_sum" "$want" "the report's per-zone anomalies add up"

before=$(sql "select md5(string_agg(r::text, ',' order by sensor_id, ts)) from readings r")
metrics_before=$(sql "select md5(string_agg(m::text, ',' order by \"window\", window_start, zone)) from daily_metrics m")
DAY=2026-01-05 RECORDINGS="$rec" REPORT="$T/report2.txt" bash "$CITYPIPE_SOURCE/examples/nightly.sh" \
  > /dev/null 2> "$T/err" || fail "the re-run failed: $(cat "$T/err")"
assert_eq "$(sql "select md5(string_agg(r::text, ',' order by sensor_id, ts)) from readings r")" "$before" "a re-run leaves the raw rows as they were"
assert_eq "$(sql "select md5(string_agg(m::text, ',' order by \"window\", window_start, zone)) from daily_metrics m")" "$metrics_before" "a re-run leaves the aggregates as they were"
cmp -s "$T/report1.txt" "$T/report2.txt" || fail "the re-run's report differs"
pass "the re-run's report is the same"

# Another day, plain NDJSON, found by its name.
sensor-gen --fast --seed 4 --start 2026-01-06T00:00:00Z --duration 1d --interval 15m > "$rec/readings-2026-01-06.ndjson"
DAY=2026-01-06 RECORDINGS="$rec" bash "$CITYPIPE_SOURCE/examples/nightly.sh" > "$T/report3.txt" 2> "$T/err" \
  || fail "nightly.sh on a plain recording failed: $(cat "$T/err")"
assert_eq "$(sql 'select count(*) from readings')" $((11520 + 3840)) "the next day adds its readings"
assert_eq "$(sql "select count(*) from daily_metrics where \"window\" = 'tumble:1d'")" 16 "and its daily rows"
assert_contains "$T/report3.txt" "nightly report for 2026-01-06" "its report names its day"

assert_status 66 "a day with no recording is status 66" -- env DAY=2026-01-07 RECORDINGS="$rec" bash "$CITYPIPE_SOURCE/examples/nightly.sh"
