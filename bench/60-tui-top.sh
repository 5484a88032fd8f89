#!/usr/bin/env bash
# tui-top on 1M sensor-gen records:
#  once:  tui-top --once (read, parse, fold into the model, one snapshot), records
#         per CPU second, median of 3, next to miller computing the same per-zone
#         count and means (mlr stats1) on the same file;
#  drawn: the full curses dashboard in a detached tmux (80x24, refresh 0.5 s)
#         reading the same file: wall seconds until the header says the input
#         ended, so the input rate while drawing;
#  peak RSS of --once (memory is bounded by keys x span, not by input);
#  serve: CPU of --serve with 10 live pages against none (below).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
n=${TUI_TOP_BENCH_ROWS:-1000000}
work=$(mktemp -d "${TMPDIR:-/tmp}/tuitop-bench.XXXXXX")
sock=citypipe-bench-$$
trap 'tmux -L "$sock" kill-server 2>/dev/null || true; rm -rf "$work"' EXIT
sensor-gen --fast --count "$n" --seed 1 > "$work/in.ndjson"

rates=()
for run in 1 2 3; do
  s=$(cpu_seconds_of tui-top --once "$work/in.ndjson")
  rates+=("$(awk -v n="$n" -v s="$s" 'BEGIN{printf "%.0f", n/s}')")
done
ours=$(median "${rates[@]}")

mlr_rate=""
if command -v mlr >/dev/null; then
  s=$(cpu_seconds_of mlr --ijsonl --ojson stats1 -a count,mean -f temperature,humidity,aqi,noise_db,traffic -g zone "$work/in.ndjson")
  mlr_rate=$(awk -v n="$n" -v s="$s" 'BEGIN{printf "%.0f", n/s}')
fi
row "tui-top --once (1M city records, rec/CPU-s, med 3)" "$ours" "mlr stats1 per zone (1 run)" "${mlr_rate:-n/a}" \
  "$( [ -n "$mlr_rate" ] && awk -v a="$ours" -v b="$mlr_rate" 'BEGIN{printf "%.1fx", a/b}' || echo -)" \
  "target >= 1000000: $( [ "$ours" -ge 1000000 ] && echo met || echo NOT met)"

if command -v tmux >/dev/null; then
  tmux -L "$sock" -f /dev/null new-session -d -s b -x 80 -y 24 \
    "env LANG=C.UTF-8 TERM=screen tui-top --refresh 0.5s < '$work/in.ndjson'; sleep 60"
  t0=$(date +%s.%N)
  for _ in $(seq 600); do
    tmux -L "$sock" capture-pane -p -t b | grep -q "input ended" && break
    sleep 0.1
  done
  t1=$(date +%s.%N)
  tmux -L "$sock" send-keys -t b q
  drawn=$(awk -v a="$t0" -v b="$t1" -v n="$n" 'BEGIN{printf "%.0f", n/(b-a)}')
  row "tui-top drawing (curses 80x24, wall rec/s, 1 run)" "$drawn" "" "" "" "includes up to 0.6 s of refresh and polling delay"
fi

rss=$(peak_rss_kb tui-top --once "$work/in.ndjson")
row "tui-top --once peak RSS (KiB)" "$rss" "" "" "" "1M records, 8 keys, span 1m"

# --serve with 10 live pages: CPU seconds of tui-top reading the same paced
# live stream (sensor-gen --speed, the same records each run) with no browser
# and with 10 SSE clients (curl -N), alternating rounds; the ratio of medians.
if command -v curl > /dev/null; then
  serve_n=${TUI_TOP_SERVE_ROWS:-1000000}
  serve_speed=${TUI_TOP_SERVE_SPEED:-5000}  # 40 sensors x 5000 = 200000 records/s
  # serve_cpu CLIENTS: tui-top's user+system CPU seconds for one paced run.
  serve_cpu() {
    local clients=$1 err="$work/serve.err" url pids=() i
    sensor-gen --seed 3 --speed "$serve_speed" --count "$serve_n" 2> /dev/null |
      python3 "$CITYPIPE_SOURCE/bench/rusage.py" --to "$work/serve.time" \
        tui-top --serve 127.0.0.1:0 --refresh 1s > /dev/null 2> "$err" &
    local pid=$!
    for _ in $(seq 300); do grep -q 'http://127.0.0.1:' "$err" && break; sleep 0.1; done
    url=$(grep -o 'http://127.0.0.1:[0-9]*' "$err" | head -1)
    for ((i = 0; i < clients; i++)); do curl -sN "$url/events?sort=anomalies" > /dev/null 2>&1 & pids+=($!); done
    for _ in $(seq 1200); do curl -sf "$url/api/state" 2> /dev/null | grep -q '"live":false' && break; sleep 0.5; done
    [ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2> /dev/null
    kill -TERM "$(pgrep -P "$pid" -x tui-top)" 2> /dev/null || true  # $pid is rusage.py's
    wait "$pid" 2> /dev/null || true
    awk '{printf "%.3f", $2}' "$work/serve.time"
  }
  none=() ten=()
  for round in 1 2 3 4 5; do
    none+=("$(serve_cpu 0)")
    ten+=("$(serve_cpu 10)")
  done
  cpu0=$(median "${none[@]}") cpu10=$(median "${ten[@]}")
  ratio=$(awk -v a="$cpu10" -v b="$cpu0" 'BEGIN{printf "%.3f", a/b}')
  row "tui-top --serve, 10 SSE clients (CPU s, med 5)" "$cpu10" "no client (same stream)" "$cpu0" "${ratio}x" \
    "target < 1.05x: $(awk -v r="$ratio" 'BEGIN{print (r < 1.05 ? "met" : "NOT met")}'); rounds ${none[*]} / ${ten[*]}; ${serve_n} records at $((serve_speed * 40))/s"
fi
