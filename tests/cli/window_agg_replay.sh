# window-agg: the output of a replay does not depend on how the input arrives
# (one chunk, one record at a time with pauses, two files); live input closes
# windows by the wall clock with --idle-timeout and --processing-time.
source "$(dirname "$0")/lib/testlib.sh"

sensor-gen --fast --count 400 --sensors 12 --interval 2s --seed 3 --late-rate 0.1 --max-late 20s > "$T/in.ndjson"
args=(--lateness 2s -w tumble:1m -w slide:2m,30s -w session:3s --agg count,avg,min,max,p95,first,last --stats)

window-agg "${args[@]}" --late "$T/late1" "$T/in.ndjson" > "$T/one" 2> "$T/err1"
[ "$(count_lines "$T/one")" -gt 50 ] || fail "expected many windows, got $(count_lines "$T/one")"
late=$(grep -o 'late=[0-9]*' "$T/err1")
[ "$late" != "late=0" ] || fail "the input should have late records with 2 s of lateness"
pass "one chunk: $(count_lines "$T/one") windows, $late"

# One record per write, with a pause after each.
while IFS= read -r line; do
  printf '%s\n' "$line"
  read -rt 0.003 <> <(:) || true
done < "$T/in.ndjson" | window-agg "${args[@]}" --late "$T/late2" > "$T/trickle" 2> "$T/err2"
cmp "$T/one" "$T/trickle" || fail "a record-by-record trickle gave other windows"
cmp "$T/late1" "$T/late2" || fail "a record-by-record trickle gave other late records"
pass "record at a time with pauses: identical output"

head -n 157 "$T/in.ndjson" > "$T/part1"
tail -n +158 "$T/in.ndjson" > "$T/part2"
window-agg "${args[@]}" --late "$T/late3" "$T/part1" "$T/part2" > "$T/split" 2> /dev/null
cmp "$T/one" "$T/split" || fail "two files gave other windows"
cmp "$T/late1" "$T/late3" || fail "two files gave other late records"
pass "split across two files: identical output"

# Tumbling windows only: a file replay emits once per chunk of lines, standard
# input once per record. Several chunks, late records among them.
sensor-gen --fast --count 30000 --sensors 40 --seed 4 --late-rate 0.05 --max-late 30s > "$T/big.ndjson"
targs=(--lateness 5s -w tumble:10s -w tumble:1m --key zone,sensor_id --agg count,avg,first,last)
window-agg "${targs[@]}" --late "$T/tlate1" "$T/big.ndjson" > "$T/tfile"
window-agg "${targs[@]}" --late "$T/tlate2" < "$T/big.ndjson" > "$T/tpipe"
[ "$(count_lines "$T/tlate1")" -gt 0 ] || fail "expected late records with 5 s of lateness"
cmp "$T/tfile" "$T/tpipe" || fail "tumbling windows: a file replay and standard input gave other windows"
cmp "$T/tlate1" "$T/tlate2" || fail "tumbling windows: a file replay and standard input gave other late records"
pass "tumbling windows, file against standard input: $(count_lines "$T/tfile") identical windows"

# Live: the last window closes through --idle-timeout while the input stays open.
live() {  # live OUT ARGS... : starts window-agg on a FIFO held open by fd 3
  mkfifo "$T/fifo"
  window-agg "${@:2}" < "$T/fifo" > "$1" &
  pid=$!
  exec 3> "$T/fifo"
  rm "$T/fifo"
  on_exit "kill $pid 2>/dev/null"
}
wait_lines() {  # wait_lines FILE N : up to 20 s for FILE to reach N lines
  for _ in $(seq 200); do
    [ "$(count_lines "$1")" -ge "$2" ] && return 0
    read -rt 0.1 <> <(:) || true
  done
  return 1
}
live "$T/idle" --idle-timeout 300ms --agg count
printf '%s\n' '{"ts":"2026-11-22T14:00:59.000Z","zone":"A"}' '{"ts":"2026-11-22T14:00:59.500Z","zone":"A"}' >&3
wait_lines "$T/idle" 1 || fail "--idle-timeout did not close the window while the input was open"
assert_eq "$(cat "$T/idle")" '{"window":"tumble:1m","window_start":"2026-11-22T14:00:00.000Z","window_end":"2026-11-22T14:01:00.000Z","zone":"A","count":2}' "idle timeout closes the last window"
exec 3>&-
wait "$pid" || fail "window-agg exited with $?"
assert_eq "$(count_lines "$T/idle")" 1 "nothing more at end of input"

live "$T/ptime" --processing-time --window tumble:1s --agg count
printf '%s\n' '{"zone":"A"}' '{"zone":"A"}' >&3
wait_lines "$T/ptime" 1 || fail "--processing-time window did not close by the clock"
exec 3>&-
wait "$pid" || fail "window-agg exited with $?"
assert_eq "$(grep -o '"count":[0-9]*' "$T/ptime" | cut -d: -f2 | awk '{ s += $1 } END { print s + 0 }')" 2 "processing-time windows count both records"
