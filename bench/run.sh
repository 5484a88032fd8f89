#!/usr/bin/env bash
# make bench: runs every bench/*.sh (each prints its rows of the table) with the
# built tools first on PATH. Benchmarks compare with their anchor in the same
# run and report ratios; they are never pass/fail tests.
set -euo pipefail
bin=$(cd "${1:?usage: run.sh BUILD/bin}" && pwd)
export PATH="$bin:$PATH"
here=$(cd "$(dirname "$0")" && pwd)
export CITYPIPE_SOURCE=$(cd "$here/.." && pwd)
echo "citypipe benchmarks on $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
export BENCH_ROWS
BENCH_ROWS=$(mktemp)
trap 'rm -f "$BENCH_ROWS"' EXIT
for b in "$here"/[0-9]*.sh; do
  [ "$(basename "$b")" = run.sh ] && continue
  echo
  bash "$b" || echo "$(basename "$b"): failed with status $?"
done

echo
echo "## Summary (medians where repeated; anchors measured in the same run)"
echo
echo "| what | citypipe | anchor | ratio | target |"
echo "|---|---|---|---|---|"
awk -F'\t' '{ printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5 }' "$BENCH_ROWS"
