#!/usr/bin/env bash
# sensor-gen --replay: byte identity, retime arithmetic (across a UTC day, input
# offsets mixed), gzip and standard input, a late record, bad lines, --loop
# continuity, pacing (generous bounds), signals and a closed pipe.
source "$(dirname "$0")/lib/testlib.sh"

sensor-gen --fast --count 2000 --seed 3 > "$T/rec.ndjson"
gzip -c "$T/rec.ndjson" > "$T/rec.ndjson.gz"

# Byte for byte, from a file, gzip, standard input, two files, and paced.
sensor-gen --replay --fast "$T/rec.ndjson" | cmp -s - "$T/rec.ndjson" || fail "--fast replay changed bytes"
sensor-gen --replay --fast "$T/rec.ndjson.gz" | cmp -s - "$T/rec.ndjson" || fail "gzip replay changed bytes"
sensor-gen --replay --fast < "$T/rec.ndjson.gz" | cmp -s - "$T/rec.ndjson" || fail "gzip on stdin changed bytes"
sensor-gen --replay --fast - < "$T/rec.ndjson" | cmp -s - "$T/rec.ndjson" || fail "'-' changed bytes"
cat "$T/rec.ndjson" "$T/rec.ndjson" > "$T/twice"
sensor-gen --replay --fast "$T/rec.ndjson" "$T/rec.ndjson.gz" | cmp -s - "$T/twice" || fail "two files changed bytes"
# 2000 records are 50 s of recording: 0.1 s at --speed 500.
sensor-gen --replay --speed 500 "$T/rec.ndjson" | cmp -s - "$T/rec.ndjson" || fail "paced replay changed bytes"
sed 's/$/\r/' "$T/rec.ndjson" > "$T/crlf.ndjson"
sensor-gen --replay --fast "$T/crlf.ndjson" | cmp -s - "$T/crlf.ndjson" || fail "CRLF lines changed"
pass "replay is byte-identical: file, gzip, stdin, two files, paced, CRLF"

# Retime: the first record at --start, spacing kept to the millisecond, across
# midnight UTC, from offsets, epoch seconds and epoch milliseconds; other fields
# and spacing untouched, a nested "ts" left alone.
cat > "$T/mixed.ndjson" <<'IN'
{"ts":"2026-03-01T23:59:59.500+01:00","v":1}
{"v":2,"ts":1772405999.75}
{ "ts" : 1772406000000 , "v":3}
{"ts":"2026-03-02T00:00:00.9+01:00","v":4,"o":{"ts":1}}
{"ts":"2026-03-01T18:30:01.123-05:00","v":5}
IN
cat > "$T/mixed.want" <<'OUT'
{"ts":"2026-06-30T23:59:59.000Z","v":1}
{"v":2,"ts":"2026-06-30T23:59:59.250Z"}
{ "ts" : "2026-06-30T23:59:59.500Z" , "v":3}
{"ts":"2026-07-01T00:00:00.400Z","v":4,"o":{"ts":1}}
{"ts":"2026-07-01T00:30:00.623Z","v":5}
OUT
sensor-gen --replay --fast --retime --start 2026-07-01T01:59:59+02:00 "$T/mixed.ndjson" > "$T/mixed.out"
diff "$T/mixed.want" "$T/mixed.out" > "$T/diff" || fail "retime arithmetic: $(cat "$T/diff")"
pass "--retime: first record at --start, spacing exact, across midnight, mixed offsets and epoch forms"
# Without --start: the first record is now.
before=$(date +%s%3N)
first=$(sensor-gen --replay --fast --retime "$T/rec.ndjson" | head -1 | sed 's/.*"ts":"\([^"]*\)".*/\1/')
after=$(date +%s%3N)
first_ms=$(date -d "$first" +%s%3N)
[ "$first_ms" -ge "$before" ] && [ "$first_ms" -le "$after" ] || fail "--retime: first record at $first, not now"
pass "--retime without --start: the first record is now"

# A late record: written in file order, nothing reordered or dropped; with
# --retime it keeps its place in time too.
printf '%s\n' '{"ts":"2026-01-01T00:00:00Z","n":1}' '{"ts":"2026-01-01T00:00:02Z","n":2}' \
  '{"ts":"2026-01-01T00:00:00.5Z","n":3}' '{"ts":"2026-01-01T00:00:03Z","n":4}' > "$T/late.ndjson"
sensor-gen --replay --speed 10 "$T/late.ndjson" | cmp -s - "$T/late.ndjson" || fail "late record: order or bytes changed"
assert_eq "$(sensor-gen --replay --fast --retime --start 2026-05-01T00:00:00Z "$T/late.ndjson" | sed -n 3p)" \
  '{"ts":"2026-05-01T00:00:00.500Z","n":3}' "late record retimed by the same shift"
pass "a late record is written in file order"

# Bad lines: file:line on stderr, kept in --reject, the good ones written; --strict stops with 65.
printf '%s\n' '{"ts":"2026-01-01T00:00:00Z","n":1}' 'not json' '{"n":2}' '{"ts":"2026-01-01T00:00:01Z","n":3}' > "$T/bad.ndjson"
sensor-gen --replay --fast --stats --reject "$T/rejected" "$T/bad.ndjson" > "$T/bad.out" 2> "$T/bad.err"
assert_eq "$(count_lines "$T/bad.out")" 2 "bad lines: the 2 good records written"
assert_contains "$T/bad.err" "$T/bad.ndjson:2: not a JSON object" "bad line named by file:line"
assert_contains "$T/bad.err" "$T/bad.ndjson:3: missing or invalid time field 'ts'" "record without ts named by file:line"
assert_contains "$T/bad.err" "stats in=2 out=2 rejected=2" "--stats counts"
assert_eq "$(cat "$T/rejected")" "$(sed -n 2,3p "$T/bad.ndjson")" "--reject keeps the bad lines whole"
assert_status 65 "--strict stops at the first bad line" -- sensor-gen --replay --fast --strict "$T/bad.ndjson"
assert_status 0 "--time-field names another field" -- sensor-gen --replay --fast --strict --time-field n "$T/late.ndjson"

# --loop: the clock runs on; with --retime times keep rising, each pass one
# average spacing (here 25 ms) after the last record of the one before.
sensor-gen --replay --fast --loop --retime --start 2026-01-01T00:00:00Z -c 6000 "$T/rec.ndjson" > "$T/loop.out"
assert_eq "$(count_lines "$T/loop.out")" 6000 "--loop -c 6000 writes 6000 records"
sed 's/.*"ts":"\([^"]*\)".*/\1/' "$T/loop.out" | awk 'prev != "" && $0 <= prev { print NR": "$0" after "prev; exit 1 } { prev = $0 }' \
  || fail "--loop --retime: times do not keep rising"
assert_eq "$(sed -n '2000p;2001p' "$T/loop.out" | sed 's/.*"ts":"\([^"]*\)".*/\1/' | tr '\n' ' ')" \
  "2026-01-01T00:00:49.975Z 2026-01-01T00:00:50.000Z " "--loop: the second pass starts one spacing after the first ended"
assert_eq "$(sed -n 4001p "$T/loop.out" | sed 's/.*"ts":"\([^"]*\)".*/\1/')" "2026-01-01T00:01:40.000Z" "--loop: the third pass too"
assert_eq "$(sed -n 2001p "$T/loop.out" | sed 's/"ts":"[^"]*"//')" "$(sed -n 1p "$T/rec.ndjson" | sed 's/"ts":"[^"]*"//')" \
  "--loop: the second pass replays the recording again"
sensor-gen --replay --fast --loop -c 5000 "$T/rec.ndjson" | head -4000 | tail -2000 | cmp -s - "$T/rec.ndjson" \
  || fail "--loop without --retime: passes are not byte-identical"
pass "--loop without --retime repeats the bytes"

# Pacing, generous bounds: 400 records are 10 s of recording, 1 s at --speed 10.
# A replay is never early, so it cannot take less than the recording's span / speed.
head -400 "$T/rec.ndjson" > "$T/ten.ndjson"
t0=$(date +%s%3N)
sensor-gen --replay --speed 10 --stats "$T/ten.ndjson" > "$T/ten.out" 2> "$T/ten.err"
t1=$(date +%s%3N)
cmp -s "$T/ten.out" "$T/ten.ndjson" || fail "paced replay changed bytes"
took=$((t1 - t0))
[ "$took" -ge 990 ] || fail "10 s of recording at --speed 10 took only $took ms"
[ "$took" -le 30000 ] || fail "10 s of recording at --speed 10 took $took ms"
grep -q 'lag_p99_us=[0-9]* lag_max_us=[0-9]*' "$T/ten.err" || fail "--stats lacks the lag: $(cat "$T/ten.err")"
pass "paced: 10 s of recording at --speed 10 took $took ms; --stats reports the lag"
sensor-gen --replay --speed 10 --metrics-file "$T/metrics.prom" "$T/ten.ndjson" > /dev/null
grep -q '^citypipe_lag_p99_us_total{tool="sensor-gen"}' "$T/metrics.prom" || fail "--metrics-file lacks the lag: $(cat "$T/metrics.prom")"
grep -q '^citypipe_records_out_total{tool="sensor-gen"} 400' "$T/metrics.prom" || fail "--metrics-file lacks records out"
pass "--metrics-file has records written and the lag"

# SIGTERM stops it with 130; a closed pipe ends it quietly with 0.
sensor-gen --replay --loop "$T/rec.ndjson" > "$T/term.out" &
pid=$!
for ((i = 0; i < 100; i++)); do [ -s "$T/term.out" ] && break; sleep 0.1; done
kill -TERM $pid
rc=0; wait $pid || rc=$?
assert_eq "$rc" 130 "SIGTERM exits 130"
set +o pipefail
timeout -k 2 20 sensor-gen --replay --loop "$T/rec.ndjson" 2> "$T/err" | head -1 > /dev/null
rc=${PIPESTATUS[0]}
set -o pipefail
assert_eq "$rc" 0 "--replay | head -1 exits 0 at once"
assert_eq "$(wc -c < "$T/err" | tr -d ' ')" 0 "and says nothing"

assert_status 64 "--loop on standard input" -- sensor-gen --replay --loop < "$T/rec.ndjson"
assert_status 64 "--start without --retime" -- sensor-gen --replay --start now "$T/rec.ndjson"
assert_status 64 "--profile does not apply to --replay" -- sensor-gen --replay --profile grid "$T/rec.ndjson"
assert_status 66 "a missing file" -- sensor-gen --replay "$T/nope.ndjson"
