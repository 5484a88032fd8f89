#!/usr/bin/env bash
# sensor-gen as a user runs it: determinism, counts, quiet exit into `| head`,
# exit codes, --stats.
source "$(dirname "$0")/lib/testlib.sh"

sensor-gen --fast --count 2000 --seed 42 > "$T/a"
sensor-gen --fast --count 2000 --seed 42 > "$T/b"
cmp -s "$T/a" "$T/b" || fail "same arguments gave different output"
pass "same arguments, byte-identical output"
sensor-gen --fast --count 2000 --seed 43 > "$T/c"
cmp -s "$T/a" "$T/c" && fail "another seed gave the same output"
pass "another seed, other output"

assert_eq "$(count_lines "$T/a")" 2000 "--count 2000 gives 2000 lines"
assert_eq "$(sensor-gen --fast --duration 10s --sensors 7 --seed 1 | wc -l)" 70 "--duration 10s with 7 sensors at 1s"
assert_eq "$(sensor-gen --fast --duration 1m --interval 250ms --sensors 2 --seed 1 | wc -l)" 480 "--interval 250ms"
for p in city grid home vehicle; do
  assert_eq "$(sensor-gen --fast --profile $p --count 777 --seed 1 | wc -l)" 777 "--profile $p --count 777"
done
first=$(sensor-gen --fast --count 1 --start 2026-05-01T12:00:00+02:00 --seed 1)
case "$first" in *'"ts":"2026-05-01T10:00:00.000Z"'*) pass "--start with an offset, printed in UTC" ;;
  *) fail "--start: $first" ;; esac

# A closed pipe ends the generator quietly with status 0, even an endless one.
set +o pipefail
sensor-gen --fast 2> "$T/err" | head -1 > /dev/null
rc=${PIPESTATUS[0]}
set -o pipefail
assert_eq "$rc" 0 "endless sensor-gen | head -1 exits 0"
assert_eq "$(wc -c < "$T/err" | tr -d ' ')" 0 "and says nothing"
# A live one too, and at once: it notices the reader went away while it waits
# (the next record is due in 10 s; a timeout of 8 s is a generous bound).
set +o pipefail
timeout -k 2 8 sensor-gen --sensors 1 --interval 10s 2> "$T/err" | head -1 > /dev/null
rc=${PIPESTATUS[0]}
set -o pipefail
assert_eq "$rc" 0 "live sensor-gen | head -1 exits 0 before its next record is due"

# Live mode follows the clock (--speed makes it faster); SIGTERM stops it with 130.
sensor-gen --sensors 2 --speed 1000 --count 20 --seed 1 > "$T/live"
assert_eq "$(count_lines "$T/live")" 20 "live mode at --speed 1000"
# Each record leaves when its event time is due: a reader stamps each line's
# arrival; polling with generous bounds, no timed assertion.
stamp() { while IFS= read -r line; do echo "${EPOCHREALTIME/./} $line"; done; }
sensor-gen --sensors 4 --interval 2s > >(stamp > "$T/slow") 2> "$T/slow.err" &
pid=$!
for ((i = 0; i < 300; i++)); do
  [ "$(count_lines "$T/slow")" -ge 6 ] && break
  sleep 0.1
done
kill -TERM $pid
rc=0; wait $pid || rc=$?
assert_eq "$rc" 130 "SIGTERM exits 130"
for ((i = 0; i < 50; i++)); do [ -s "$T/slow" ] && break; sleep 0.1; done
n=$(count_lines "$T/slow")
[ "$n" -ge 6 ] || fail "live stream wrote only $n lines in 30 s"
# No line arrived before its event time (1 ms for rounding); writing each tick
# in one burst sent the fourth sensor's record up to 1.5 s early.
early=$(while read -r arrived line; do
  ts=$(sed 's/.*"ts":"\([^"]*\)".*/\1/' <<< "$line")
  echo $(( $(date -d "$ts" +%s%3N) - arrived / 1000 ))
done < "$T/slow" | sort -n | tail -1)
[ "$early" -le 1 ] || fail "a record arrived $early ms before its event time"
pass "live stream: each of $n records arrived at its event time, not before; flushed on SIGTERM"
tail -c1 "$T/slow" | od -c | grep -q '\\n' || fail "last line cut short"
# Started with SIGTERM blocked (a supervisor's mask is inherited through exec),
# it still stops on SIGTERM: a tool nobody can stop hangs a CI job for good.
perl -MPOSIX -e 'sigprocmask(SIG_BLOCK, POSIX::SigSet->new(SIGTERM)) or die; exec @ARGV or die' \
  sensor-gen --sensors 1 --interval 10s > /dev/null 2>&1 &
pid=$!
sleep 0.5
kill -TERM $pid
for ((i = 0; i < 100; i++)); do kill -0 $pid 2> /dev/null || break; sleep 0.1; done
if kill -0 $pid 2> /dev/null; then kill -KILL $pid; fail "SIGTERM with SIGTERM blocked by the parent: still running after 10 s"; fi
rc=0; wait $pid || rc=$?
assert_eq "$rc" 130 "SIGTERM exits 130 although the parent blocked it"

assert_status 64 "unknown option is a usage error" -- sensor-gen --bogus
assert_status 64 "bad duration is a usage error" -- sensor-gen --interval 5x
assert_status 64 "bad profile is a usage error" -- sensor-gen --profile mars
assert_status 64 "--count and --duration together" -- sensor-gen --count 1 --duration 1s
assert_status 64 "a negative --count" -- sensor-gen --count -5
sensor-gen --count -5 2> "$T/err" || true
assert_contains "$T/err" "--count: not a whole number" "--count -5: a clear message"
assert_status 64 "a negative --seed" -- sensor-gen --seed -1 --count 1
sensor-gen --seed -1 2> "$T/err" || true
assert_contains "$T/err" "--seed: not a whole number" "--seed -1: a clear message"
assert_status 64 "--speed 0" -- sensor-gen --speed 0
assert_status 64 "a file without --replay" -- sensor-gen "$T/a"
assert_status 64 "--retime without --replay" -- sensor-gen --retime
assert_status 0 "--help" -- sensor-gen --help
grep -q -- '--anomaly-rate' <<< "$(sensor-gen --help)" || fail "--help lists --anomaly-rate"

sensor-gen --fast --count 5000 --seed 9 --late-rate 0.1 --corrupt-rate 0.01 --stats > "$T/d" 2> "$T/stats"
assert_contains "$T/stats" "sensor-gen: stats in=0 out=5000 rejected=0" "--stats line"
corrupt=$(sed -n 's/.*corrupt=\([0-9]*\).*/\1/p' "$T/stats")
[ "$corrupt" -gt 0 ] || fail "no corrupt lines"
assert_eq "$(grep -c '"injected_anomaly"' "$T/d")" 5000 "5000 good lines among corrupt ones"
assert_eq "$(count_lines "$T/d")" $((5000 + corrupt)) "corrupt lines are extra lines, counted in --stats"
