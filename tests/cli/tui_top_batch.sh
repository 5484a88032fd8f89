#!/usr/bin/env bash
# tui-top without a terminal: --once and batch snapshots, escaping, exit codes.
source "$(dirname "$0")/lib/testlib.sh"

sensor-gen --fast --count 800 --seed 11 --anomaly-rate 0 > "$T/data.ndjson"
cat >> "$T/data.ndjson" <<'JSON'
{"ts":"2026-01-01T00:00:20.000Z","sensor_id":"city-0042","zone":"Harbor","temperature":61,"anomaly":true,"severity":"medium","reasons":["temperature \u001b[2J"]}
{"ts":"2026-01-01T00:00:20.100Z","sensor_id":"x","zone":"\u001b]0;owned\u0007Bad\u202eZone","temperature":3}
JSON
zones=$(grep -o '"zone":"[^"]*"' "$T/data.ndjson" | sort -u | wc -l | tr -d ' ')

# --once: one snapshot at end of input, every key a row, the alert in the feed.
tui-top --once --width 120 "$T/data.ndjson" > "$T/once.txt"
assert_contains "$T/once.txt" "tui-top input ended  802 records" "header totals"
assert_contains "$T/once.txt" "anomalies 1 (0.12% of records)" "anomaly count and share of a replay"
grep -q '/s' <(head -1 "$T/once.txt") && fail "a replay shows no rates per second"
assert_contains "$T/once.txt" "newest 2026-01-01T00:00:20.100Z" "newest event time"
assert_eq "$(grep -c '^tui-top' "$T/once.txt")" 1 "--once prints one snapshot"
rows=$(sed -n '/^KEY/,/^ALERTS/p' "$T/once.txt" | grep -vcE '^(KEY|ALERTS)')
assert_eq "$rows" "$zones" "one row per zone"
assert_contains "$T/once.txt" "city-0042 medium temperature \\x1b[2J" "alert line with escaped reason"
assert_contains "$T/once.txt" '\x1b]0;owned\x07Bad\u{20' "hostile zone escaped"
assert_eq "$(LC_ALL=C grep -c $'\x1b' "$T/once.txt" || true)" 0 "no escape byte reaches the output"
assert_eq "$(LC_ALL=C.UTF-8 wc -L < "$T/once.txt" | tr -d ' ')" 120 "lines fit --width 120"

# Sort by a field, largest first; --reverse flips it.
first=$(tui-top --once --sort temperature --width 100 "$T/data.ndjson" | sed -n '/^KEY/{n;p;q}' | awk '{print $1}')
assert_eq "$first" "Harbor" "--sort temperature puts the hottest zone first"
last=$(tui-top --once --sort temperature --reverse --width 100 "$T/data.ndjson" | sed -n '/^KEY/,/^ALERTS/p' | grep -vE '^(KEY|ALERTS)' | head -1 | awk '{print $1}')
assert_eq "$last" '\x1b]0;owned\x07Bad\u{20' "--reverse puts the coldest first"

# Window aggregates: *_avg fields are shown as the measurement.
printf '%s\n' '{"window_start":"2026-01-01T00:01:00Z","window_end":"2026-01-01T00:02:00Z","zone":"Harbor","count":60,"temperature_avg":12.5,"temperature_max":14,"aqi_avg":33}' |
  tui-top --once --width 100 > "$T/agg.txt"
assert_contains "$T/agg.txt" "newest 2026-01-01T00:01:00.000Z" "window_start is the event time"
sed -n '/^KEY/,/^ALERTS/p' "$T/agg.txt" > "$T/agg_table.txt"
assert_contains "$T/agg_table.txt" "12.5/12.5" "temperature_avg shown as temperature"
grep -q temperature_max "$T/agg_table.txt" && fail "aggregate max should not be a column"

# Batch mode (stdout not a terminal): snapshots every refresh while live, and a
# final one when input ends. The input is a FIFO this test holds open, so it is
# live until the test closes it.
mkfifo "$T/live"
tui-top --refresh 0.5s < "$T/live" > "$T/batch.txt" &
batch_pid=$!
exec 3> "$T/live"
cat "$T/data.ndjson" >&3
# wait_until SECONDS COMMAND...: polls COMMAND every 0.1 s.
wait_until() {
  local limit=$(($1 * 10)); shift
  for ((i = 0; i < limit; i++)); do "$@" && return 0; sleep 0.1; done
  return 1
}
live_snapshots() { [ "$(grep -c '^tui-top live  802 records' "$T/batch.txt")" -ge 2 ]; }
wait_until 60 live_snapshots || fail "no two live snapshots of 802 records in 60 s: $(head -c 300 "$T/batch.txt")"
pass "batch prints snapshots while input is live"
exec 3>&-
rc=0
wait "$batch_pid" || rc=$?
assert_eq "$rc" 0 "batch mode ends with status 0 at end of input"
assert_eq "$(grep -c '^tui-top input ended' "$T/batch.txt")" 1 "one final snapshot after end of input"
assert_eq "$(tail -n +2 "$T/batch.txt" | grep -c '^tui-top' )" "$(($(grep -c '^tui-top' "$T/batch.txt") - 1))" "snapshots follow one another"

# ASCII fallback without a UTF-8 locale: no byte above 127.
LC_ALL=C tui-top --once --width 100 "$T/data.ndjson" > "$T/ascii.txt"
assert_eq "$(LC_ALL=C grep -c $'[\x80-\xff]' "$T/ascii.txt" || true)" 0 "ASCII only in the C locale"
assert_contains "$T/ascii.txt" 'Bad\u{20' "non-ASCII escaped in the C locale"

# Bad lines follow the shared policy; exit codes.
printf '%s\n' '{"zone":"A","temperature":1}' 'not json' '{"zone":"B","temperature":2}' > "$T/bad.ndjson"
tui-top --once "$T/bad.ndjson" > "$T/bad.txt" 2> "$T/bad.err"
assert_contains "$T/bad.err" "tui-top: $T/bad.ndjson:2:" "bad line reported with file:line"
assert_contains "$T/bad.txt" "2 records" "good lines still counted"
assert_status 65 "--strict stops at the bad line" -- tui-top --once --strict "$T/bad.ndjson"
assert_status 66 "missing input file" -- tui-top --once "$T/nope.ndjson"
assert_status 64 "refresh out of range" -- tui-top --refresh 100ms --once "$T/bad.ndjson"
assert_status 64 "bad span" -- tui-top --span soon --once "$T/bad.ndjson"
tui-top --help > "$T/help.txt"
assert_contains "$T/help.txt" "--batch" "--help lists --batch"

# A closed pipe downstream ends batch mode quietly, while input is still live.
mkfifo "$T/live2"
exec 4<> "$T/live2"
( tui-top --refresh 0.5s < "$T/live2" | head -1 > /dev/null; echo "${PIPESTATUS[0]}" > "$T/head.rc" ) &
cat "$T/data.ndjson" >&4
wait_until 60 test -s "$T/head.rc" || fail "tui-top did not notice the closed pipe in 60 s"
exec 4>&-
assert_eq "$(cat "$T/head.rc")" 0 "| head -1 ends tui-top with status 0 while input is live"

# View options naming a field the data lacks: status 64 and a suggestion,
# found at the end of input (--once) or after the first records (batch).
tui-top --once --sort tempreature "$T/data.ndjson" > "$T/typo.out" 2> "$T/typo.err" && fail "--sort tempreature accepted"
assert_status 64 "--sort tempreature exits 64" -- tui-top --once --sort tempreature "$T/data.ndjson"
assert_contains "$T/typo.err" "did you mean 'temperature'?" "--sort suggests the field"
assert_eq "$(count_lines "$T/typo.out")" 0 "no snapshot with a mistyped sort field"
tui-top --once --spark nosuch "$T/data.ndjson" 2> "$T/spark.err" > /dev/null || true
assert_contains "$T/spark.err" "--spark: no field 'nosuch' in the input (valid: temperature," "--spark lists the fields"
assert_status 64 "--spark nosuch exits 64" -- tui-top --once --spark nosuch "$T/data.ndjson"
assert_status 64 "batch mode checks --sort after the first records" -- tui-top --batch --sort recrods "$T/data.ndjson"
tui-top --batch --sort recrods "$T/data.ndjson" 2> "$T/recrods.err" > /dev/null || true
assert_contains "$T/recrods.err" "did you mean 'records'?" "--sort suggests a column name"
assert_status 0 "a field that exists is fine" -- tui-top --once --sort humidity --spark aqi "$T/data.ndjson"

# Control lines of the checkpoint protocol are neither records nor bad lines,
# and are not passed on.
{ echo '{"_ctl":"checkpoint","id":1}'; head -5 "$T/data.ndjson"; echo '{"_ctl":"checkpoint","id":2}'; } > "$T/ctl.ndjson"
tui-top --once --stats "$T/ctl.ndjson" > "$T/ctl.out" 2> "$T/ctl.err"
assert_contains "$T/ctl.out" "input ended  5 records" "control lines are not counted as records"
assert_contains "$T/ctl.err" "in=5 out=0 rejected=0" "control lines are not bad lines"
grep -q _ctl "$T/ctl.out" && fail "a control line reached the output"
pass "control lines are not printed"
