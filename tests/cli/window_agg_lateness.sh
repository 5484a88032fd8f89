# window-agg: watermark and lateness, late records counted and written to
# --late, flush at end of input, bad lines under the shared policy, exit codes.
source "$(dirname "$0")/lib/testlib.sh"

cat > "$T/in.ndjson" <<'J'
{"ts":"2026-11-22T14:00:10Z","zone":"A","v":1}
{"ts":"2026-11-22T14:01:05Z","zone":"A","v":2}
{"ts":"2026-11-22T14:00:50Z","zone":"B","v":3}
{"ts":"2026-11-22T14:01:20Z","zone":"A","v":4}
{"ts":"2026-11-22T14:00:59Z","zone":"A","v":5}
{"ts":"2026-11-22T14:02:30Z","zone":"B","v":6}
J
# Lateness 0: the watermark is 14:01:05 after line 2, so [14:00,14:01) closed:
# lines 3 and 5 are late.
window-agg --stats --agg count,sum --late "$T/late.ndjson" "$T/in.ndjson" > "$T/out0" 2> "$T/err0"
assert_eq "$(count_lines "$T/late.ndjson")" 2 "two late records written to --late"
assert_eq "$(cut -c1-46 "$T/late.ndjson" | tr '\n' ' ')" '{"ts":"2026-11-22T14:00:50Z","zone":"B","v":3} {"ts":"2026-11-22T14:00:59Z","zone":"A","v":5} ' "the late records, unchanged"
assert_contains "$T/err0" "late=2" "--stats reports late records"
assert_contains "$T/err0" "in=6" "--stats counts every record in"
cat > "$T/want0" <<'J'
{"window":"tumble:1m","window_start":"2026-11-22T14:00:00.000Z","window_end":"2026-11-22T14:01:00.000Z","zone":"A","count":1,"v_sum":1}
{"window":"tumble:1m","window_start":"2026-11-22T14:01:00.000Z","window_end":"2026-11-22T14:02:00.000Z","zone":"A","count":2,"v_sum":6}
{"window":"tumble:1m","window_start":"2026-11-22T14:02:00.000Z","window_end":"2026-11-22T14:03:00.000Z","zone":"B","count":1,"v_sum":6}
J
diff "$T/want0" "$T/out0" || fail "lateness 0 windows"
pass "lateness 0: late records out, open windows flushed at end of input"

# Lateness 30 s: the watermark trails by 30 s, so 14:00:50 and 14:00:59 arrive
# before [14:00,14:01) closes (at watermark 14:01:00, once 14:01:30 is seen).
window-agg --stats --lateness 30s --agg count,sum --late "$T/late15.ndjson" "$T/in.ndjson" > "$T/out15" 2> "$T/err15"
assert_eq "$(count_lines "$T/late15.ndjson")" 0 "nothing late within 30 s"
assert_contains "$T/err15" "late=0" "--stats late=0"
cat > "$T/want15" <<'J'
{"window":"tumble:1m","window_start":"2026-11-22T14:00:00.000Z","window_end":"2026-11-22T14:01:00.000Z","zone":"A","count":2,"v_sum":6}
{"window":"tumble:1m","window_start":"2026-11-22T14:00:00.000Z","window_end":"2026-11-22T14:01:00.000Z","zone":"B","count":1,"v_sum":3}
{"window":"tumble:1m","window_start":"2026-11-22T14:01:00.000Z","window_end":"2026-11-22T14:02:00.000Z","zone":"A","count":2,"v_sum":6}
{"window":"tumble:1m","window_start":"2026-11-22T14:02:00.000Z","window_end":"2026-11-22T14:03:00.000Z","zone":"B","count":1,"v_sum":6}
J
diff "$T/want15" "$T/out15" || fail "lateness 30 s windows"
pass "out-of-order records within the lateness are aggregated"

# Emit empty windows: B has no records in [14:01,14:02).
window-agg --emit-empty --lateness 30s --agg count "$T/in.ndjson" > "$T/empty"
assert_eq "$(count_lines "$T/empty")" 6 "3 window ends x 2 keys with --emit-empty"
assert_eq "$(sed -n 4p "$T/empty")" '{"window":"tumble:1m","window_start":"2026-11-22T14:01:00.000Z","window_end":"2026-11-22T14:02:00.000Z","zone":"B","count":0}' "empty window for a known key"

# Bad lines: invalid JSON, missing time, a text measurement; the shared policy.
cat > "$T/bad.ndjson" <<'J'
{"ts":"2026-11-22T14:00:10Z","zone":"A","v":1}
{"ts":"2026-11-22T14:00:11Z","zone":"A","v":
{"zone":"A","v":2}
{"ts":"2026-11-22T14:00:12Z","zone":"A","v":"hot"}
{"ts":"2026-11-22T14:00:13Z","zone":"A","v":3}
J
window-agg --agg count,sum --reject "$T/rejects" "$T/bad.ndjson" > "$T/badout" 2> "$T/baderr"
assert_eq "$(cat "$T/badout")" '{"window":"tumble:1m","window_start":"2026-11-22T14:00:00.000Z","window_end":"2026-11-22T14:01:00.000Z","zone":"A","count":2,"v_sum":4}' "good lines aggregated, bad ones skipped"
assert_contains "$T/baderr" "window-agg: $T/bad.ndjson:2: invalid JSON" "invalid JSON reported with file:line"
assert_contains "$T/baderr" "window-agg: $T/bad.ndjson:3: missing or invalid time field 'ts'" "missing time reported"
assert_contains "$T/baderr" "window-agg: $T/bad.ndjson:4: field 'v' is not a number" "mistyped field reported"
assert_eq "$(count_lines "$T/rejects")" 3 "three lines in the reject file"
assert_status 65 "--strict stops at the first bad line" -- window-agg --strict "$T/bad.ndjson"
assert_status 66 "missing input file" -- window-agg "$T/nope.ndjson"
assert_status 64 "unknown window kind" -- window-agg --window hop:1m "$T/in.ndjson"
assert_status 64 "unknown aggregate" -- window-agg --agg mode "$T/in.ndjson"
assert_status 64 "bad lateness" -- window-agg --lateness soon "$T/in.ndjson"

# --time-field with epoch seconds, and processing time ignores the event time.
printf '{"t":60,"zone":"A","v":1}\n{"t":61.5,"zone":"A","v":2}\n' > "$T/epoch.ndjson"
assert_eq "$(window-agg --time-field t --agg count "$T/epoch.ndjson")" '{"window":"tumble:1m","window_start":"1970-01-01T00:01:00.000Z","window_end":"1970-01-01T00:02:00.000Z","zone":"A","count":2}' "--time-field with epoch seconds"
assert_eq "$(window-agg --processing-time --window tumble:1d --agg count "$T/epoch.ndjson" | grep -c '"count":2')" 1 "--processing-time needs no event time"
