#!/usr/bin/env bash
# examples/replay.sh: a recording with malformed lines (gzip) re-scored with
# the committed model and with a candidate trained on it; the totals, the
# record-by-record overlap and the per-zone counts equal those computed from
# the two scorings directly; MAX_CHANGE fails the run only past its bound.
source "$(dirname "$0")/lib/testlib.sh"
need_tools sensor-gen iforest-score
ex="$CITYPIPE_SOURCE/examples"
old_model="$ex/fixtures/city-model.json"

sensor-gen --fast --seed 21 --start 2026-01-05T12:00:00Z --interval 10s --duration 3m --corrupt-rate 0.02 > "$T/rec.ndjson"
gzip -c "$T/rec.ndjson" > "$T/rec.ndjson.gz"
good=$(iforest-score -m "$old_model" "$T/rec.ndjson" 2> /dev/null | wc -l | tr -d ' ')
[ "$good" -eq 720 ] || fail "expected 720 good records in the recording, got $good"

SAVE_MODEL="$T/new.json" bash "$ex/replay.sh" "$T/rec.ndjson.gz" > "$T/out" 2> "$T/err" || fail "replay.sh failed: $(cat "$T/err")"
[ -s "$T/new.json" ] || fail "SAVE_MODEL was not written"
pass "the candidate model is kept in SAVE_MODEL"

iforest-score -m "$old_model" "$T/rec.ndjson" 2> /dev/null > "$T/old.scored"
iforest-score -m "$T/new.json" "$T/rec.ndjson" 2> /dev/null > "$T/new.scored"
old=$(grep -c '"anomaly":true' "$T/old.scored" || true)
new=$(grep -c '"anomaly":true' "$T/new.scored" || true)
both=$(comm -12 <(grep -n '"anomaly":true' "$T/old.scored" | cut -d: -f1 | sort) \
                <(grep -n '"anomaly":true' "$T/new.scored" | cut -d: -f1 | sort) | wc -l | tr -d ' ')
[ "$old" -gt 0 ] && [ "$new" -gt 0 ] || fail "a model flags nothing (old $old, new $new)"
assert_eq "$(awk '/^records/ { print $2 }' "$T/out")" 720 "malformed lines are left out of the comparison"
assert_eq "$(awk '/^old model/ { print $3 }' "$T/out")" "$old" "old model's anomalies"
assert_eq "$(awk '/^new model/ { print $3 }' "$T/out")" "$new" "new model's anomalies"
assert_eq "$(awk '/^both/ { print $2 }' "$T/out")" "$both" "flagged by both, record by record"
assert_eq "$(awk '/^only old/ { print $3 }' "$T/out")" $((old - both)) "only by the old"
assert_eq "$(awk '/^only new/ { print $3 }' "$T/out")" $((new - both)) "only by the new"
dt=$(grep '"zone":"Downtown"' "$T/old.scored" | grep -c '"anomaly":true' || true)
assert_eq "$(awk '/^Downtown / { print $2 " " $3 }' "$T/out")" "90 $dt" "per zone: Downtown's records and old anomalies"
assert_eq "$(awk 'z { r += $(NF-2); o += $(NF-1); n += $NF } /^zone / { z = 1 } END { print r, o, n }' "$T/out")" \
  "720 $old $new" "the per-zone rows add up"

# The same candidate given as NEW_MODEL gives the same comparison.
NEW_MODEL="$T/new.json" bash "$ex/replay.sh" "$T/rec.ndjson" > "$T/out2" 2> /dev/null
cmp -s "$T/out" "$T/out2" || fail "NEW_MODEL=the saved candidate compares differently"
pass "NEW_MODEL reproduces the comparison"

# MAX_CHANGE: a bound below the change fails, one above passes.
change=$(( new > old ? new - old : old - new ))
[ "$change" -gt 0 ] || fail "the two models flag the same number of records: MAX_CHANGE cannot be tested"
low=$(awk -v c="$change" -v o="$old" 'BEGIN { printf "%.4f", (c - 0.5) / o }')
high=$(awk -v c="$change" -v o="$old" 'BEGIN { printf "%.4f", (c + 0.5) / o }')
assert_status 1 "MAX_CHANGE below the change fails" -- env NEW_MODEL="$T/new.json" MAX_CHANGE="$low" bash "$ex/replay.sh" "$T/rec.ndjson"
assert_status 0 "MAX_CHANGE above the change passes" -- env NEW_MODEL="$T/new.json" MAX_CHANGE="$high" bash "$ex/replay.sh" "$T/rec.ndjson"
assert_status 66 "a missing model is status 66" -- env OLD_MODEL="$T/none.json" bash "$ex/replay.sh" "$T/rec.ndjson"
