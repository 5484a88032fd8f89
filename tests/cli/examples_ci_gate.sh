#!/usr/bin/env bash
# examples/ci-gate.sh: passes the committed passing fixture, fails (status 1,
# a message naming the bound) on the failing fixture, on a zone bound, and on
# a gzip recording; the counts it prints are iforest-score's own.
source "$(dirname "$0")/lib/testlib.sh"
need_tools iforest-score window-agg
ex="$CITYPIPE_SOURCE/examples"
fx="$ex/fixtures"

# The figures the gate reports, computed independently.
want_pass=$(iforest-score -m "$fx/city-model.json" --rules city "$fx/city-pass.ndjson" | grep -c '"anomaly":true' || true)
want_fail=$(iforest-score -m "$fx/city-model.json" --rules city "$fx/city-fail.ndjson" | grep -c '"anomaly":true' || true)
records=$(count_lines "$fx/city-pass.ndjson")
[ "$want_pass" -gt 0 ] || fail "the passing fixture has no anomaly at all: it would not test the rate"

assert_status 0 "the passing fixture passes" -- bash "$ex/ci-gate.sh" "$fx/city-pass.ndjson" > "$T/pass.out" 2> "$T/pass.err"
assert_contains "$T/pass.out" "($want_pass of $records records)" "the gate counts the anomalies iforest-score finds"
assert_contains "$T/pass.out" "ci-gate: PASS" "it says PASS"
assert_eq "$(grep -c FAIL "$T/pass.err" || true)" 0 "no FAIL line when within bounds"

assert_status 1 "the failing fixture fails the job" -- bash "$ex/ci-gate.sh" "$fx/city-fail.ndjson" > "$T/fail.out" 2> "$T/fail.err"
assert_contains "$T/fail.err" "FAIL: anomaly rate" "the failure names the anomaly rate"
assert_contains "$T/fail.err" "($want_fail of $(count_lines "$fx/city-fail.ndjson") records) > 0.10" "with the counts and the bound"

# A zone's average above its bound fails on its own, naming the zone.
worst=$(window-agg --window session:3650d --key zone --fields aqi --agg avg "$fx/city-pass.ndjson" \
  | sed -E 's/.*"zone":"([^"]*)".*"aqi_avg":([0-9.]+).*/\2 \1/' | sort -n | tail -n 1)
bound=$(awk -v v="${worst%% *}" 'BEGIN { printf "%d", v - 1 }')
assert_status 1 "a zone average bound fails the job" -- env MAX_ZONE_AVG="aqi=$bound" bash "$ex/ci-gate.sh" "$fx/city-pass.ndjson" > "$T/zone.out" 2> "$T/zone.err"
assert_contains "$T/zone.err" "zone ${worst#* }: aqi average" "the failure names the zone and the field"
assert_eq "$(grep -c 'FAIL: zone' "$T/zone.err")" 1 "exactly one zone passes aqi=$bound"

# gzip recordings and several files: two copies double the counts.
gzip -c "$fx/city-pass.ndjson" > "$T/rec.ndjson.gz"
assert_status 0 "a gzip recording plus a plain one pass" -- bash "$ex/ci-gate.sh" "$T/rec.ndjson.gz" "$fx/city-pass.ndjson" > "$T/gz.out"
assert_contains "$T/gz.out" "($((2 * want_pass)) of $((2 * records)) records)" "both files counted"

assert_status 66 "a missing recording is status 66" -- bash "$ex/ci-gate.sh" "$T/none.ndjson"
assert_status 64 "a malformed bound is status 64" -- env MAX_ZONE_AVG=aqi bash "$ex/ci-gate.sh"
: > "$T/empty.ndjson"
assert_status 65 "an empty recording cannot pass" -- bash "$ex/ci-gate.sh" "$T/empty.ndjson"
