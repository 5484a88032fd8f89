#!/usr/bin/env bash
# kafka-cat-in vs kcat on the same kafka-mock and the same 1 million NDJSON
# records: produce time and consume time (medians of 3 runs), then
# produce-to-consume latency at 10,000 records/s from the --meta timestamp.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bash "$CITYPIPE_SOURCE/scripts/deps.sh" kcat > /dev/null
W=$(mktemp -d "${TMPDIR:-/tmp}/citypipe-bench-kafka.XXXXXX")
mock_pid=
cleanup() { [ -z "$mock_pid" ] || kill "$mock_pid" 2> /dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
N=${KAFKA_BENCH_RECORDS:-1000000}

start_mock() {
  [ -z "$mock_pid" ] || { kill "$mock_pid"; wait "$mock_pid" 2> /dev/null || true; }
  # 256 partitions keep every partition well under the mock's ~5 MiB log.
  kafka-mock --no-stdin --brokers 3 --partitions 256 --topic ours --topic theirs > "$W/mock.out" 2> /dev/null &
  mock_pid=$!
  # Up to 30 s on a busy machine; without its first line BR would be empty and
  # every producer would wait out message.timeout.ms with no broker at all.
  for _ in $(seq 300); do [ -s "$W/mock.out" ] && break; sleep 0.1; done
  BR=$(head -n 1 "$W/mock.out")
  [ -n "$BR" ] || { echo "kafka-mock printed no bootstrap list" >&2; exit 1; }
}
secs() { local s=$(date +%s.%N); "$@" > /dev/null; awk -v a="$s" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
median() { printf '%s\n' "$@" | sort -g | sed -n 2p; }

sensor-gen --fast --count "$N" --seed 50 > "$W/in.ndjson"
p_ours=() p_kcat=() c_ours=() c_kcat=()
for run in 1 2 3; do
  start_mock
  p_ours+=("$(secs kafka-cat-in -b "$BR" -t ours "$W/in.ndjson")")
  p_kcat+=("$(secs kcat -P -b "$BR" -t theirs -l "$W/in.ndjson")")
  c_ours+=("$(secs kafka-cat-in -C -b "$BR" -t ours -e)")
  c_kcat+=("$(secs kcat -C -b "$BR" -t theirs -e -q)")
done
got=$(kafka-cat-in -C -b "$BR" -t ours -e | wc -l)
po=$(median "${p_ours[@]}") pk=$(median "${p_kcat[@]}") co=$(median "${c_ours[@]}") ck=$(median "${c_kcat[@]}")
printf 'kafka produce %d records (%d MB): kafka-cat-in %.2f s  kcat %.2f s  ratio %s\n' \
  "$N" $(($(stat -c %s "$W/in.ndjson") / 1000000)) "$po" "$pk" "$(ratio "$po" "$pk")"
printf 'kafka consume %d records (read back %d): kafka-cat-in %.2f s  kcat %.2f s  ratio %s\n' \
  "$N" "$got" "$co" "$ck" "$(ratio "$co" "$ck")"
table_row "kafka-cat-in produce, 1M records on kafka-mock, s" "$po" "kcat: $pk" "$(ratio "$po" "$pk")" "<= 1.0"
table_row "kafka-cat-in consume, same records, s" "$co" "kcat: $ck" "$(ratio "$co" "$ck")" "<= 1.0"

# Latency: a live 10,000 records/s stream (100 sensors every 10 ms) through the
# mock; the consumer's arrival time minus the message timestamp the producer
# set. librdkafka's mock broker answers an empty fetch only after
# fetch.wait.max.ms (a real broker answers as soon as data arrives), so the
# consumer asks with 1 ms here; with the default 100 ms the mock alone adds
# up to 100 ms.
start_mock
mkfifo "$W/meta"
kafka-cat-in -C -b "$BR" -t ours -o end --meta -X fetch.wait.max.ms=1 -X fetch.error.backoff.ms=1 > "$W/meta" &
consumer=$!
perl -MTime::HiRes=time -MTime::Local=timegm -ne '
  if (/"timestamp":"(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)\.(\d+)Z"/) {
    my $t = timegm($6, $5, $4, $3, $2 - 1, $1) * 1000 + $7;
    printf "%.3f\n", time() * 1000 - $t;
  }' < "$W/meta" > "$W/lat.txt" &
stamper=$!
sleep 1
sensor-gen --sensors 100 --interval 10ms --duration 5s --seed 51 | kafka-cat-in -b "$BR" -t ours
sleep 1
kill -TERM "$consumer"
wait "$consumer" 2> /dev/null || true
wait "$stamper" || true
# pct P FILE: the P-th percentile of the numbers in FILE.
pct() { sort -g "$2" | awk -v p="$1" '{ v[NR] = $1 } END { i = int((NR * p + 99) / 100); print v[i < 1 ? 1 : i] }'; }
n=$(wc -l < "$W/lat.txt")
p50=$(pct 50 "$W/lat.txt") p99=$(pct 99 "$W/lat.txt")
# The first second's records meet the mock's and the clients' start (fetch
# sessions, connections to every broker): kcat shows the same, either as the
# producer or as the consumer. The steady state is the records after it.
tail -n +10001 "$W/lat.txt" > "$W/lat.steady"
s99=$(pct 99 "$W/lat.steady")
printf 'kafka latency at 10000 records/s (%d records): p50 %.1f ms  p99 %.1f ms; after the first second p99 %.1f ms (kafka-cat-in produce -> mock -> kafka-cat-in -C --meta)\n' "$n" "$p50" "$p99" "$s99"
table_row "produce-to-consume latency at 10k records/s, ms" "p50 $p50, p99 $p99 (after the first second: $s99)" "" "" "p99 < 10 ms"
