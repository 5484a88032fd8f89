#!/usr/bin/env bash
# tui-top --once on a stream with 10% hostile lines: exit 0, every hostile
# line counted and kept with --reject, the same snapshot as the clean run's
# (but for the rates in its first line, which depend on the clock).
source "$(dirname "$0")/../cli/lib/testlib.sh"
source "$(dirname "$0")/lib/hostile.sh"

n=$RELIABILITY_RECORDS
sensor-gen --fast --count "$n" --seed 83 > "$T/clean"
# tui-top shows any JSON object (a missing key counts under "(none)"), so its
# bad lines are the ones that are not one JSON object within the line limit.
hostile_common "$T/h"
hostile_mix "$T/clean" "$T/h" "$T/mixed" "$T/want"
echo "# $n clean records, $HOSTILE_COUNT hostile lines of $(ls "$T/h" | wc -l) kinds"

no_rates() { sed -E '1s/ [0-9.]+[kMGTP]?\/s//g' "$1"; }
opts=(--once --width 120 --no-color --alerts 20 --sort anomalies)
tui-top "${opts[@]}" --stats "$T/clean" > "$T/clean.out" 2> "$T/clean.err"
assert_eq "$(stat_of "$T/clean.err" rejected)" 0 "clean stream: nothing rejected"
assert_contains "$T/clean.out" " $n records" "clean stream: every record counted"
rc=0
tui-top "${opts[@]}" --stats --reject "$T/rejected" < "$T/mixed" > "$T/mixed.out" 2> "$T/mixed.err" || rc=$?
assert_eq "$rc" 0 "tui-top: exit status on the hostile stream"
check_rejects tui-top "$T/mixed.err" "$T/rejected" "$T/want"
[ "$(no_rates "$T/clean.out")" == "$(no_rates "$T/mixed.out")" ] ||
  fail "tui-top: snapshot differs from the clean run: $(diff <(no_rates "$T/clean.out") <(no_rates "$T/mixed.out") | head -6)"
pass "tui-top: the same snapshot ($(count_lines "$T/clean.out") lines) as the clean run"
