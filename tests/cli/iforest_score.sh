#!/usr/bin/env bash
# iforest-score: train/score round trip, determinism, rules, streaming modes,
# per-key forests, the bad-input policy and model file errors.
source "$(dirname "$0")/lib/testlib.sh"

# 2000 ordinary readings in two zones, then 10 far-out ones in Downtown.
awk 'BEGIN { srand(7)
  for (i = 0; i < 2000; i++) {
    z = (i % 2) ? "Downtown" : "Harbor"
    printf "{\"ts\":%d,\"sensor_id\":\"s%d\",\"zone\":\"%s\",\"temperature\":%.2f,\"aqi\":%d,\"noise_db\":%.1f,\"flag\":false}\n",
      i, i % 40, z, 20 + 4 * rand(), 40 + int(30 * rand()), 55 + 10 * rand()
  }
  for (i = 0; i < 10; i++)
    printf "{\"ts\":%d,\"sensor_id\":\"s1\",\"zone\":\"Downtown\",\"temperature\":%.2f,\"aqi\":%d,\"noise_db\":%.1f,\"flag\":true}\n",
      2000 + i, 45 + i, 350 + i, 110 + i
}' > "$T/city.ndjson"

# train, then score: every record comes out, extended with the four fields.
iforest-score train --seed 5 -o "$T/model.json" "$T/city.ndjson"
assert_contains "$T/model.json" '"format":"citypipe-iforest","version":1' "model file is versioned"
assert_contains "$T/model.json" '"fields":["temperature","aqi","noise_db"]' "default fields leave out ts, ids, strings and booleans"
# The one measurement rule of citypipe(7): times, ids (any spelling), seq,
# label and the score this tool writes are not scored.
awk 'BEGIN { for (i = 0; i < 50; i++)
  printf "{\"ts\":%d,\"id\":%d,\"sensorId\":%d,\"station_ID\":1,\"device_ts\":%d,\"seen_time\":1,\"seq\":%d,\"label\":0,\"score\":0.5,\"temp\":%d,\"hum\":%d}\n", i, i, i % 7, i, i, i % 9, i % 5 }' > "$T/ids.ndjson"
iforest-score train --seed 1 -o "$T/ids.json" "$T/ids.ndjson"
assert_contains "$T/ids.json" '"fields":["temp","hum"]' "default fields: the measurement rule of citypipe(7)"
iforest-score score -m "$T/model.json" "$T/city.ndjson" > "$T/scored.ndjson"
assert_eq "$(count_lines "$T/scored.ndjson")" 2010 "every record scored"
assert_eq "$(grep -c '"score":0\.[0-9]*,"anomaly":\(true\|false\),"severity":"\(none\|low\|medium\|high\)","reasons":\[' "$T/scored.ndjson")" 2010 "score, anomaly, severity, reasons appended"
assert_eq "$(grep '"flag":true' "$T/scored.ndjson" | grep -c '"reasons":\["iforest"')" 10 "the forest flags all 10 outliers"
fp=$(grep -c '"flag":false.*"anomaly":true' "$T/scored.ndjson" || true)
[ "$fp" -le 20 ] || fail "$fp of 2000 ordinary records over the default threshold"
pass "few ordinary records over the default threshold ($fp)"

# -m alone means score; the same seed gives the same output, another seed another.
iforest-score -m "$T/model.json" < "$T/city.ndjson" > "$T/scored2.ndjson"
cmp -s "$T/scored.ndjson" "$T/scored2.ndjson" || fail "score via stdin differs"
pass "-m reads stdin and scores"
iforest-score --seed 5 "$T/city.ndjson" > "$T/fit1.ndjson"
iforest-score --seed 5 "$T/city.ndjson" > "$T/fit2.ndjson"
iforest-score --seed 6 "$T/city.ndjson" > "$T/fit3.ndjson"
cmp -s "$T/fit1.ndjson" "$T/fit2.ndjson" || fail "same seed, different output"
pass "deterministic under --seed"
! cmp -s "$T/fit1.ndjson" "$T/fit3.ndjson" || fail "another seed gave the same scores"
pass "another seed, other trees"
cmp -s "$T/fit1.ndjson" "$T/scored.ndjson" || fail "train+score differs from scoring while training on the same input"
pass "fit on the input equals train then score"

# contamination: the threshold flags that share of the training records.
n=$(iforest-score --seed 1 --contamination 0.05 "$T/city.ndjson" | grep -c '"reasons":\["iforest"')
[ "$n" -ge 95 ] && [ "$n" -le 106 ] || fail "--contamination 0.05 flagged $n of 2010"
pass "--contamination 0.05 flags about 5% ($n)"

# rules: the city set and a custom rule, their text in reasons, highest severity wins.
printf '%s\n' '{"temperature":21,"aqi":400,"noise_db":60}' '{"temperature":-9,"aqi":50,"noise_db":60}' \
  '{"temperature":21,"aqi":50,"noise_db":60}' > "$T/rules.ndjson"
iforest-score -m "$T/model.json" --threshold 1 --rules city --rule 'noise_db>=60:low' "$T/rules.ndjson" > "$T/rules.out"
assert_contains "$T/rules.out" '"aqi":400,"noise_db":60,"score":' "rules keep the record"
assert_eq "$(sed -n 1p "$T/rules.out" | grep -o '"severity":"[a-z]*","reasons":\[.*\]')" '"severity":"high","reasons":["aqi>300","noise_db>=60"]' "aqi rule: high, with both rules in reasons"
assert_eq "$(sed -n 2p "$T/rules.out" | grep -o '"reasons":\[.*\]')" '"reasons":["temperature<-5","noise_db>=60"]' "temperature rule fires"
assert_eq "$(sed -n 3p "$T/rules.out" | grep -o '"anomaly":[a-z]*,"severity":"[a-z]*"')" '"anomaly":true,"severity":"low"' "custom rule severity"
assert_status 64 "bad rule is a usage error" -- iforest-score -m "$T/model.json" --rule 'aqi>>3' "$T/rules.ndjson"

# streaming: warm-up records are scored too, retraining is counted.
iforest-score --seed 2 --warmup 500 --retrain-every 400 --window 600 --stats "$T/city.ndjson" > "$T/stream.out" 2> "$T/stream.err"
assert_eq "$(count_lines "$T/stream.out")" 2010 "warm-up: nothing dropped"
assert_contains "$T/stream.err" "trainings=4" "trained after warm-up, then every 400 records"
assert_eq "$(grep '"flag":true' "$T/stream.out" | grep -c '"reasons":\["iforest"')" 10 "streaming model flags the outliers"

# per-key forests: an unseen zone falls back to the global forest and says so.
iforest-score train --seed 3 --by zone -o "$T/zones.json" "$T/city.ndjson"
assert_eq "$(grep -o '"key":"[A-Za-z]*"' "$T/zones.json" | tr '\n' ' ')" '"key":"Downtown" "key":"Harbor" ' "one forest per zone"
printf '%s\n' '{"zone":"Harbor","temperature":21,"aqi":50,"noise_db":60}' '{"zone":"Airport","temperature":21,"aqi":50,"noise_db":60}' \
  | iforest-score -m "$T/zones.json" > "$T/zones.out"
assert_eq "$(grep -c 'fallback:global' "$T/zones.out")" 1 "unseen zone uses the global forest"
assert_contains "$T/zones.out" '"zone":"Airport"' "fallback record kept"

# missing fields: a bad line by default (65 under --strict), or scored on the other fields.
printf '%s\n' '{"temperature":21,"aqi":50}' '{"temperature":21,"aqi":50,"noise_db":60}' > "$T/missing.ndjson"
iforest-score -m "$T/model.json" --stats "$T/missing.ndjson" > "$T/missing.out" 2> "$T/missing.err"
assert_eq "$(count_lines "$T/missing.out")" 1 "record lacking a field is skipped"
assert_contains "$T/missing.err" 'missing.ndjson:1: no number in field "noise_db"' "bad line message names file, line and field"
assert_contains "$T/missing.err" "rejected=1" "counted as rejected"
assert_status 65 "--strict stops at the missing field" -- iforest-score -m "$T/model.json" --strict "$T/missing.ndjson"
iforest-score -m "$T/model.json" --missing skip-field "$T/missing.ndjson" > "$T/skip.out"
assert_eq "$(grep -c '"score":0\.' "$T/skip.out")" 2 "--missing skip-field scores both"

# model file errors.
printf '{"format":"citypipe-iforest","version":1,"fields":' > "$T/cut.json"
assert_status 65 "truncated model" -- iforest-score -m "$T/cut.json" "$T/rules.ndjson"
sed 's/"version":1/"version":9/' "$T/model.json" > "$T/v9.json"
iforest-score -m "$T/v9.json" "$T/rules.ndjson" 2> "$T/v9.err" >/dev/null && fail "version 9 accepted"
assert_contains "$T/v9.err" "version 9 is not supported" "incompatible version named"
assert_status 66 "missing model" -- iforest-score -m "$T/absent.json" "$T/rules.ndjson"

# usage errors.
assert_status 64 "train needs -o" -- iforest-score train "$T/city.ndjson"
assert_status 64 "--contamination excludes --threshold" -- iforest-score --contamination 0.1 --threshold 0.7 "$T/city.ndjson"
assert_status 64 "--retrain-every needs --warmup" -- iforest-score --retrain-every 10 "$T/city.ndjson"
assert_status 64 "training options do not apply to a model" -- iforest-score -m "$T/model.json" --trees 5 "$T/rules.ndjson"
