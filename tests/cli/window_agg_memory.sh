# window-agg: memory is bounded by keys x open windows, not by input length:
# peak RSS for 10x the records on the same keys stays within 20%. (The 1M vs
# 10M comparison is in bench/20-window-agg.sh.)
source "$(dirname "$0")/lib/testlib.sh"
[ -x /usr/bin/time ] || { echo "skip: /usr/bin/time missing (apt-get install time)"; exit 77; }
# AddressSanitizer's quarantine holds freed memory, so RSS grows by design.
# (Not `ldd | grep -q`: under pipefail, ldd's SIGPIPE after grep's early exit
# made the test run, and fail, on a sanitizer build.)
case "$(ldd "$CITYPIPE_BIN/window-agg")" in *libasan*) echo "skip: sanitizer build"; exit 77 ;; esac

rss() {  # rss COUNT : peak RSS in KiB of window-agg over COUNT generated records
  sensor-gen --fast --count "$1" --seed 5 --sensors 200 --interval 10s \
    | /usr/bin/time -f %M -o "$T/rss" window-agg --key sensor_id -w tumble:1m -w slide:5m,1m -w session:30s \
        --agg count,avg,max,p95 --stats > "$T/out.$1" 2> "$T/err.$1"
  cat "$T/rss"
}
small=$(rss 40000)
large=$(rss 400000)
assert_eq "$(grep -o 'in=[0-9]*' "$T/err.400000")" "in=400000" "all records read"
[ "$(count_lines "$T/out.400000")" -gt "$(( 5 * $(count_lines "$T/out.40000") ))" ] || fail "expected far more windows from 10x the input"
awk -v s="$small" -v l="$large" 'BEGIN { exit !(l <= 1.2 * s) }' \
  || fail "peak RSS grew from ${small} KiB to ${large} KiB for 10x the records"
pass "peak RSS ${small} KiB for 40k records, ${large} KiB for 400k"
