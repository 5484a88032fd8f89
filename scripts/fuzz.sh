#!/usr/bin/env bash
# Builds the libFuzzer targets with clang into build-fuzz/ and runs each for
# SECONDS (default 60). Corpora grow in build-fuzz/corpus/; seeds come from
# tests/fuzz/corpus/NAME/ when present. Exits non-zero on the first crash.
set -euo pipefail
seconds=${1:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD:-$root/build-fuzz}
command -v clang++ >/dev/null || bash "$root/scripts/deps.sh" clang libclang-rt-14-dev
cmake -S "$root" -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCITYPIPE_FUZZ=ON -DCITYPIPE_TESTS=OFF -DCITYPIPE_ONLY_TOOLS=none >/dev/null
# The fuzz targets and the areas they link only, not every area.
targets=$(cd "$root/tests/fuzz" && ls fuzz_*.cpp | sed 's/\.cpp$//')
cmake --build "$build" -j "$(nproc)" --target $targets > "$build/build.log" 2>&1 || { tail -n 30 "$build/build.log"; exit 1; }
for target in "$build"/bin/fuzz_*; do
  [ -x "$target" ] || continue
  name=$(basename "$target")
  corpus="$build/corpus/$name"
  mkdir -p "$corpus"
  seeds=()
  [ -d "$root/tests/fuzz/corpus/$name" ] && seeds=("$root/tests/fuzz/corpus/$name")
  echo "fuzz: $name for ${seconds}s"
  rc=0
  (cd "$build" && "$target" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
     -print_final_stats=1 "$corpus" "${seeds[@]}") > "$build/$name.log" 2>&1 || rc=$?
  grep -E '^stat::number_of_executed_units' "$build/$name.log" || true
  if [ "$rc" -ne 0 ]; then
    tail -n 40 "$build/$name.log"
    echo "fuzz: $name crashed (status $rc); the input is in $build"
    exit 1
  fi
done
echo "fuzz: no crash"
