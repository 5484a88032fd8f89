# window-agg: tumbling, sliding and session windows against hand-computed
# results; keys, default fields, null aggregates, percentiles.
source "$(dirname "$0")/lib/testlib.sh"

cat > "$T/city.ndjson" <<'J'
{"ts":"2026-11-22T14:00:05Z","sensor_id":"s1","zone":"Downtown","temperature":20,"aqi":40,"injected_anomaly":false}
{"ts":"2026-11-22T14:00:10Z","sensor_id":"s2","zone":"Airport","temperature":10,"aqi":10,"injected_anomaly":true}
{"ts":"2026-11-22T14:00:50Z","sensor_id":"s1","zone":"Downtown","temperature":22,"aqi":44,"injected_anomaly":true}
{"ts":"2026-11-22T14:01:10Z","sensor_id":"s1","zone":"Downtown","temperature":30,"injected_anomaly":false}
{"ts":"2026-11-22T14:01:20Z","sensor_id":"s2","zone":"Airport","temperature":12.5,"aqi":12,"injected_anomaly":false}
{"ts":"2026-11-22T14:03:00Z","sensor_id":"s2","zone":"Airport","temperature":14,"aqi":null,"injected_anomaly":false}
J

# Default: tumble:1m by zone, count,avg,min,max of every numeric field of the
# first record (not sensor_id, not the boolean), ordered by window end then key.
window-agg "$T/city.ndjson" > "$T/tumble.out"
cat > "$T/tumble.want" <<'J'
{"window":"tumble:1m","window_start":"2026-11-22T14:00:00.000Z","window_end":"2026-11-22T14:01:00.000Z","zone":"Airport","count":1,"temperature_avg":10,"temperature_min":10,"temperature_max":10,"aqi_avg":10,"aqi_min":10,"aqi_max":10}
{"window":"tumble:1m","window_start":"2026-11-22T14:00:00.000Z","window_end":"2026-11-22T14:01:00.000Z","zone":"Downtown","count":2,"temperature_avg":21,"temperature_min":20,"temperature_max":22,"aqi_avg":42,"aqi_min":40,"aqi_max":44}
{"window":"tumble:1m","window_start":"2026-11-22T14:01:00.000Z","window_end":"2026-11-22T14:02:00.000Z","zone":"Airport","count":1,"temperature_avg":12.5,"temperature_min":12.5,"temperature_max":12.5,"aqi_avg":12,"aqi_min":12,"aqi_max":12}
{"window":"tumble:1m","window_start":"2026-11-22T14:01:00.000Z","window_end":"2026-11-22T14:02:00.000Z","zone":"Downtown","count":1,"temperature_avg":30,"temperature_min":30,"temperature_max":30,"aqi_avg":null,"aqi_min":null,"aqi_max":null}
{"window":"tumble:1m","window_start":"2026-11-22T14:03:00.000Z","window_end":"2026-11-22T14:04:00.000Z","zone":"Airport","count":1,"temperature_avg":14,"temperature_min":14,"temperature_max":14,"aqi_avg":null,"aqi_min":null,"aqi_max":null}
J
diff "$T/tumble.want" "$T/tumble.out" || fail "tumbling windows differ from the hand-computed ones"
pass "tumbling windows, default fields, null aggregates"

# Sliding 2m every 1m, one global group, sum and count of true flags.
window-agg --window slide:2m,1m --key '' --fields temperature --agg count,sum \
  --count-true injected_anomaly "$T/city.ndjson" > "$T/slide.out"
cat > "$T/slide.want" <<'J'
{"window":"slide:2m,1m","window_start":"2026-11-22T13:59:00.000Z","window_end":"2026-11-22T14:01:00.000Z","count":3,"temperature_sum":52,"injected_anomaly_count":2}
{"window":"slide:2m,1m","window_start":"2026-11-22T14:00:00.000Z","window_end":"2026-11-22T14:02:00.000Z","count":5,"temperature_sum":94.5,"injected_anomaly_count":2}
{"window":"slide:2m,1m","window_start":"2026-11-22T14:01:00.000Z","window_end":"2026-11-22T14:03:00.000Z","count":2,"temperature_sum":42.5,"injected_anomaly_count":0}
{"window":"slide:2m,1m","window_start":"2026-11-22T14:02:00.000Z","window_end":"2026-11-22T14:04:00.000Z","count":1,"temperature_sum":14,"injected_anomaly_count":0}
{"window":"slide:2m,1m","window_start":"2026-11-22T14:03:00.000Z","window_end":"2026-11-22T14:05:00.000Z","count":1,"temperature_sum":14,"injected_anomaly_count":0}
J
diff "$T/slide.want" "$T/slide.out" || fail "sliding windows differ"
pass "sliding windows, global group, --count-true"

# Sessions with a 30 s gap per sensor, and a second definition in the same run.
window-agg -w session:30s -w tumble:5m --key sensor_id --fields temperature --agg count,max,first,last \
  "$T/city.ndjson" > "$T/session.out"
cat > "$T/session.want" <<'J'
{"window":"session:30s","window_start":"2026-11-22T14:00:05.000Z","window_end":"2026-11-22T14:00:35.000Z","sensor_id":"s1","count":1,"temperature_max":20,"temperature_first":20,"temperature_last":20}
{"window":"session:30s","window_start":"2026-11-22T14:00:10.000Z","window_end":"2026-11-22T14:00:40.000Z","sensor_id":"s2","count":1,"temperature_max":10,"temperature_first":10,"temperature_last":10}
{"window":"session:30s","window_start":"2026-11-22T14:00:50.000Z","window_end":"2026-11-22T14:01:40.000Z","sensor_id":"s1","count":2,"temperature_max":30,"temperature_first":22,"temperature_last":30}
{"window":"session:30s","window_start":"2026-11-22T14:01:20.000Z","window_end":"2026-11-22T14:01:50.000Z","sensor_id":"s2","count":1,"temperature_max":12.5,"temperature_first":12.5,"temperature_last":12.5}
{"window":"session:30s","window_start":"2026-11-22T14:03:00.000Z","window_end":"2026-11-22T14:03:30.000Z","sensor_id":"s2","count":1,"temperature_max":14,"temperature_first":14,"temperature_last":14}
{"window":"tumble:5m","window_start":"2026-11-22T14:00:00.000Z","window_end":"2026-11-22T14:05:00.000Z","sensor_id":"s1","count":3,"temperature_max":30,"temperature_first":20,"temperature_last":30}
{"window":"tumble:5m","window_start":"2026-11-22T14:00:00.000Z","window_end":"2026-11-22T14:05:00.000Z","sensor_id":"s2","count":3,"temperature_max":14,"temperature_first":10,"temperature_last":14}
J
diff "$T/session.want" "$T/session.out" || fail "session windows differ"
pass "session windows and two definitions in one run"

# Several key fields; offset of 30 s.
window-agg --key zone,sensor_id --fields aqi --agg count --offset 30s "$T/city.ndjson" > "$T/keys.out"
assert_eq "$(count_lines "$T/keys.out")" 5 "zone,sensor_id windows with offset"
assert_eq "$(head -1 "$T/keys.out")" '{"window":"tumble:1m","window_start":"2026-11-22T13:59:30.000Z","window_end":"2026-11-22T14:00:30.000Z","zone":"Airport","sensor_id":"s2","count":1}' "first window with two keys, shifted by the offset"
assert_eq "$(sed -n 3p "$T/keys.out")" '{"window":"tumble:1m","window_start":"2026-11-22T14:00:30.000Z","window_end":"2026-11-22T14:01:30.000Z","zone":"Airport","sensor_id":"s2","count":1}' "offset window holds 14:01:20"

# Percentiles: 1000 values 1..1000 in one window; exact p50 = 500, p95 = 950,
# p99 = 990 (value at rank floor(q*(n-1))); the sketch is within 1%.
awk 'BEGIN { for (i = 1; i <= 1000; i++) printf "{\"ts\":%d,\"zone\":\"z\",\"v\":%d}\n", 60 + (i % 50), (i * 7919) % 1000 + 1 }' > "$T/pct.ndjson"
window-agg --agg count,p50,p95,p99,min,max "$T/pct.ndjson" > "$T/pct.out"
mlr --ijson --ojson cat "$T/pct.out" > /dev/null || fail "percentile output is not JSON"
read -r n p50 p95 p99 mn mx < <(mlr --ijson --onidx --fs ' ' cut -o -f count,v_p50,v_p95,v_p99,v_min,v_max "$T/pct.out")
assert_eq "$n $mn $mx" "1000 1 1000" "count, exact min and max"
awk -v a="$p50" -v b="$p95" -v c="$p99" 'BEGIN {
  e = 0.01; ok = (a >= 500*(1-e) && a <= 500*(1+e)) && (b >= 950*(1-e) && b <= 950*(1+e)) && (c >= 990*(1-e) && c <= 990*(1+e));
  exit !ok }' || fail "percentiles p50=$p50 p95=$p95 p99=$p99 not within 1% of 500 950 990"
pass "percentiles within 1% (p50=$p50 p95=$p95 p99=$p99)"
