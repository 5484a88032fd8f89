#!/usr/bin/env bash
# iforest-score on a stream with 10% hostile lines, scoring with a saved model
# and training on the stream itself with a fixed seed: exit 0, every hostile
# line counted and kept with --reject, output identical to the clean run's.
source "$(dirname "$0")/../cli/lib/testlib.sh"
source "$(dirname "$0")/lib/hostile.sh"

n=$RELIABILITY_RECORDS
fields=temperature,humidity,aqi,noise_db,traffic
sensor-gen --fast --count "$n" --seed 82 > "$T/clean"
hostile_common "$T/h"
# iforest-score's own bad lines: a model field missing or not a number.
ts='"ts":"2026-01-01T00:00:01.000Z","sensor_id":"city-0001","zone":"Downtown"'
hostile_add "$T/h" temperature-text "{$ts,\"temperature\":\"hot\",\"humidity\":50,\"aqi\":40,\"noise_db\":60,\"traffic\":80}"
hostile_add "$T/h" aqi-null "{$ts,\"temperature\":20,\"humidity\":50,\"aqi\":null,\"noise_db\":60,\"traffic\":80}"
hostile_add "$T/h" traffic-array "{$ts,\"temperature\":20,\"humidity\":50,\"aqi\":40,\"noise_db\":60,\"traffic\":[80]}"
hostile_add "$T/h" humidity-bool "{$ts,\"temperature\":20,\"humidity\":true,\"aqi\":40,\"noise_db\":60,\"traffic\":80}"
hostile_add "$T/h" no-noise "{$ts,\"temperature\":20,\"humidity\":50,\"aqi\":40,\"traffic\":80}"
{ printf '{"deep":'; head -c 5000 /dev/zero | tr '\0' '['; head -c 5000 /dev/zero | tr '\0' ']'; echo '}'; } > "$T/h/deep-no-fields"
hostile_mix "$T/clean" "$T/h" "$T/mixed" "$T/want"
echo "# $n clean records, $HOSTILE_COUNT hostile lines of $(ls "$T/h" | wc -l) kinds"

# run NAME ARGS...: the clean and the hostile stream through the same command.
run() {
  local name=$1; shift
  iforest-score "$@" --stats "$T/clean" > "$T/$name.clean" 2> "$T/$name.clean.err"
  assert_eq "$(stat_of "$T/$name.clean.err" rejected)" 0 "$name: clean stream, nothing rejected"
  assert_eq "$(count_lines "$T/$name.clean")" "$n" "$name: clean stream, every record scored"
  local rc=0
  iforest-score "$@" --stats --reject "$T/$name.rejected" "$T/mixed" > "$T/$name.mixed" 2> "$T/$name.mixed.err" || rc=$?
  assert_eq "$rc" 0 "$name: exit status on the hostile stream"
  check_rejects "$name" "$T/$name.mixed.err" "$T/$name.rejected" "$T/want"
  cmp -s "$T/$name.clean" "$T/$name.mixed" || fail "$name: output differs from the clean run: $(diff "$T/$name.clean" "$T/$name.mixed" | head -4)"
  pass "$name: the same $n scored records as the clean run"
}

iforest-score train --fields "$fields" --seed 7 --trees 50 -o "$T/model.json" "$T/clean" 2> /dev/null
run saved-model score -m "$T/model.json" --rules city
run self-trained --fields "$fields" --seed 7 --trees 50 --rules city
run warm-up --fields "$fields" --by zone --seed 7 --trees 30 --warmup 300 --retrain-every 200
