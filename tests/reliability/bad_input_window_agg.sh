#!/usr/bin/env bash
# window-agg on a stream with 10% hostile lines: exit 0, every hostile line
# counted and kept with --reject, windows identical to the clean run's.
source "$(dirname "$0")/../cli/lib/testlib.sh"
source "$(dirname "$0")/lib/hostile.sh"

n=$RELIABILITY_RECORDS
sensor-gen --fast --count "$n" --seed 81 > "$T/clean"
hostile_common "$T/h"
# window-agg's own bad lines: no usable event time, or an aggregated field
# that is not a number.
ts='"ts":"2026-01-01T00:00:01.000Z"'
hostile_add "$T/h" ts-array '{"ts":[1,2],"zone":"Downtown","temperature":1,"aqi":2}'
hostile_add "$T/h" ts-bool '{"ts":true,"zone":"Downtown","temperature":1,"aqi":2}'
hostile_add "$T/h" ts-text '{"ts":"yesterday","zone":"Downtown","temperature":1,"aqi":2}'
hostile_add "$T/h" no-ts '{"zone":"Downtown","temperature":1,"aqi":2}'
hostile_add "$T/h" temperature-text "{$ts,\"zone\":\"Downtown\",\"temperature\":\"21.4\",\"aqi\":2}"
hostile_add "$T/h" aqi-object "{$ts,\"zone\":\"Downtown\",\"temperature\":1,\"aqi\":{\"v\":2}}"
{ printf '{"zone":"Downtown","temperature":1,"deep":'; head -c 5000 /dev/zero | tr '\0' '['; head -c 5000 /dev/zero | tr '\0' ']'; echo '}'; } > "$T/h/deep-no-ts"
hostile_mix "$T/clean" "$T/h" "$T/mixed" "$T/want"
echo "# $n clean records, $HOSTILE_COUNT hostile lines of $(ls "$T/h" | wc -l) kinds"

opts=(--fields temperature,aqi --key zone -w tumble:1m -w slide:5m,1m -a count,avg,min,max,p95 --lateness 10s)
window-agg "${opts[@]}" --stats "$T/clean" > "$T/clean.out" 2> "$T/clean.err"
assert_eq "$(stat_of "$T/clean.err" rejected)" 0 "clean stream: nothing rejected"
[ "$(count_lines "$T/clean.out")" -gt 10 ] || fail "clean stream: too few windows"

rc=0
window-agg "${opts[@]}" --stats --reject "$T/rejected" "$T/mixed" > "$T/mixed.out" 2> "$T/mixed.err" || rc=$?
assert_eq "$rc" 0 "window-agg: exit status on the hostile stream"
check_rejects window-agg "$T/mixed.err" "$T/rejected" "$T/want"
cmp -s "$T/clean.out" "$T/mixed.out" || fail "window-agg: windows differ from the clean run: $(diff "$T/clean.out" "$T/mixed.out" | head -5)"
pass "window-agg: the same $(count_lines "$T/clean.out") windows as the clean run"

# Standard input (one thread) and the replay of a file (a reading thread and
# one parser thread per further core) give the same windows and rejects.
window-agg "${opts[@]}" --reject "$T/rejected2" < "$T/mixed" > "$T/stdin.out" 2> /dev/null
cmp -s "$T/clean.out" "$T/stdin.out" || fail "window-agg: from standard input the windows differ"
cmp -s "$T/rejected2" "$T/want" || fail "window-agg: from standard input the reject file differs"
pass "window-agg: the same from standard input"
