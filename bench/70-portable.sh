#!/usr/bin/env bash
# The portable default build (x86-64-v2, AVX2 kernels chosen at run time)
# against a build for this CPU only (-DCITYPIPE_NATIVE=ON, -march=native),
# on window-agg and iforest-score over the same sensor-gen records: CPU
# seconds, median of alternating rounds, ratio portable / native (target
# within 5%). A third row feeds window-agg records holding a nested object,
# which the flat fast path leaves to simdjson's On-Demand parser (compiled for
# the build target: its fallback kernel in the portable build).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
native="$CITYPIPE_SOURCE/build-native"
echo "portable vs native: building window-agg and iforest-score with -DCITYPIPE_NATIVE=ON in $native"
cmake -S "$CITYPIPE_SOURCE" -B "$native" -DCMAKE_BUILD_TYPE=Release -DCITYPIPE_NATIVE=ON -DCITYPIPE_TESTS=OFF > /dev/null
cmake --build "$native" -j "$(nproc)" --target window-agg iforest-score > /dev/null
port=$(dirname "$(command -v window-agg)")
work=$(mktemp -d "${TMPDIR:-/tmp}/citypipe-bench-portable.XXXXXX")
trap 'rm -rf "$work"' EXIT
n=${BENCH_PORTABLE_RECORDS:-1000000}
sensor-gen --seed 11 --count "$n" --fast > "$work/in.ndjson"
sed 's/}$/,"o":{"k":1}}/' "$work/in.ndjson" > "$work/nested.ndjson"
iforest-score train --seed 5 "$work/in.ndjson" -o "$work/model.json" 2> /dev/null
rounds=${BENCH_ROUNDS:-5}

compare() {  # WHAT, then the command's arguments after the tool name
  local what=$1 tool=$2
  shift 2
  local p=() q=() r
  for ((r = 0; r < rounds; r++)); do
    p+=("$(cpu_seconds_of "$port/$tool" "$@")")
    q+=("$(cpu_seconds_of "$native/bin/$tool" "$@")")
  done
  local mp mq
  mp=$(median "${p[@]}")
  mq=$(median "${q[@]}")
  row "$what" "${mp}s" "native (-march=native)" "${mq}s" \
    "$(awk -v a="$mp" -v b="$mq" 'BEGIN{printf "%.3f", a/b}')" "<= 1.05 (portable / native CPU s)"
}
compare "window-agg portable, $n records" window-agg "$work/in.ndjson"
compare "iforest-score -m portable, $n records" iforest-score -m "$work/model.json" "$work/in.ndjson"
compare "window-agg portable, $n records, nested (simdjson)" window-agg "$work/nested.ndjson"
