#!/usr/bin/env bash
# sensor-gen --replay, next to the home-made Python loop users write today
# (json.loads per line; sleep until each record is due):
# - pacing: 24,000 city records (10 min) at --speed 60 take 10 s (target +- 0.2 s);
# - timeliness: each line's arrival, stamped by a reader, against its due time
#   (the first line's arrival plus its event-time offset / 60): p99 (target 5 ms);
# - --fast: records per CPU second (target 3 million).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

sensor-gen --fast --count 24000 --seed 1 > "$dir/ten-min.ndjson"

# The reader: stamps each line as it arrives and then prints the p99 and max
# lateness in ms. A line's due time is origin + event-time offset / speed; no
# line can arrive before it is due, so the origin is at most the smallest
# arrival - offset, which is taken (lateness is not overstated).
cat > "$dir/reader.py" <<'PY'
import datetime, sys, time
speed = float(sys.argv[1]); got = []
for line in sys.stdin.buffer:
    got.append((time.monotonic_ns() / 1e6, line))
def ev(line):  # the "ts" of a sensor-gen record, in ms
    i = line.index(b'"ts":"') + 6
    return datetime.datetime.fromisoformat(line[i:i + 24].decode().replace("Z", "+00:00")).timestamp() * 1000
e0 = ev(got[0][1])
offsets = [a - (ev(l) - e0) / speed for a, l in got]
origin = min(offsets)
lags = sorted(o - origin for o in offsets)
print("%.2f %.2f" % (lags[int(0.99 * len(lags)) - 1], lags[-1]))
PY
# paced WHAT CMD...: CMD's output into the reader, started once the reader is
# surely reading; prints CMD's wall seconds, p99 and max lateness.
paced() {
  local p m
  read -r p m < <( (sleep 1; t0=$(date +%s%N); "$@"; echo $(( $(date +%s%N) - t0 )) > "$dir/ns") | python3 "$dir/reader.py" 60)
  echo "$(awk -v n="$(cat "$dir/ns")" 'BEGIN{printf "%.3f", n/1e9}') $p $m"
}
cat > "$dir/python-replay.py" <<'PY'
import datetime, json, sys, time
speed = float(sys.argv[1]); out = sys.stdout; start = None
for line in open(sys.argv[2]):
    t = datetime.datetime.fromisoformat(json.loads(line)["ts"].replace("Z", "+00:00")).timestamp()
    if start is None: start, origin = time.monotonic(), t
    wait = start + (t - origin) / speed - time.monotonic()
    if wait > 0: out.flush(); time.sleep(wait)
    out.write(line)
out.flush()
PY

secs=(); p99s=(); maxes=()
for run in 1 2 3; do
  read -r s p m < <(paced sensor-gen --replay --speed 60 "$dir/ten-min.ndjson")
  secs+=("$s"); p99s+=("$p"); maxes+=("$m")
done
read -r py_s py_p py_m < <(paced python3 "$dir/python-replay.py" 60 "$dir/ten-min.ndjson")
s=$(median "${secs[@]}"); p=$(median "${p99s[@]}")
row "replay --speed 60, 24k records (10 min), s (3 runs: ${secs[*]})" "$s" "python sleep-until loop" "$py_s" \
  "$(awk -v a="$s" -v b="$py_s" 'BEGIN{printf "%.3fx", a/b}')" \
  "target 10 +- 0.2 s: $(awk -v s="$s" 'BEGIN{print (s >= 9.8 && s <= 10.2) ? "met" : "NOT met"}')"
row "replay --speed 60, arrival lag p99, ms (runs: ${p99s[*]}; max ${maxes[*]})" "$p" "python sleep-until loop" "$py_p" \
  "$(awk -v a="$p" -v b="$py_p" 'BEGIN{printf "%.2fx", (b > 0 ? a/b : 0)}')" \
  "target <= 5 ms: $(awk -v p="$p" 'BEGIN{print (p <= 5) ? "met" : "NOT met"}')"

n=2000000
sensor-gen --fast --count $n --seed 2 > "$dir/big.ndjson"
rates=()
for run in 1 2 3; do
  c=$(cpu_seconds_of sensor-gen --replay --fast "$dir/big.ndjson")
  rates+=("$(awk -v n=$n -v s="$c" 'BEGIN{printf "%.0f", n/s}')")
done
ours=$(median "${rates[@]}")
py_n=200000
head -$py_n "$dir/big.ndjson" > "$dir/py.ndjson"
c=$(cpu_seconds_of python3 -c '
import json, sys
out = sys.stdout
for line in open(sys.argv[1]):
    json.loads(line); out.write(line)' "$dir/py.ndjson")
py=$(awk -v n=$py_n -v s="$c" 'BEGIN{printf "%.0f", n/s}')
row "replay --fast (records/s per CPU s, median of 3)" "$ours" "python json.loads loop" "$py" \
  "$(awk -v a="$ours" -v b="$py" 'BEGIN{printf "%.1fx", a/b}')" \
  "target >= 3000000: $( [ "$ours" -ge 3000000 ] && echo met || echo NOT met)"
