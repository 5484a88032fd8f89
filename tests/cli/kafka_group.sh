#!/usr/bin/env bash
# Scale-out: 3 workers in one consumer group share a topic keyed by zone.
# Together they read exactly the topic, each zone by exactly one worker, and
# their window-agg outputs together equal one window-agg over the whole input.
source "$(dirname "$0")/lib/testlib.sh"
source "$(dirname "$0")/lib/kafka.sh"

start_kafka_mock --brokers 3 --partitions 4 --topic readings
sensor-gen --fast --count 4000 --seed 66 > "$T/in.ndjson"

# Streaming workers: they join first, the data arrives, SIGTERM ends them
# (each flushes and commits). With -e instead, workers finishing at the same
# moment would race the mock's rebalance, which refuses their commits.
pids=()
for i in 1 2 3; do
  kafka-cat-in -C -G agg -t readings "${GROUP_OPTS[@]}" -v > "$T/w$i.raw" 2> "$T/w$i.err" &
  pids+=($!)
done
on_exit 'kill ${pids[*]} 2> /dev/null || true'
for i in 1 2 3; do
  for ((n = 0; n < 150; n++)); do grep -q assigned "$T/w$i.err" && break; sleep 0.1; done
done
kafka-cat-in -t readings -k zone "$T/in.ndjson"
for ((n = 0; n < 300; n++)); do
  [ "$(cat "$T"/w?.raw | wc -l)" -ge 4000 ] && break
  sleep 0.1
done
kill -TERM "${pids[@]}"
for i in 0 1 2; do
  rc=0; wait "${pids[$i]}" || rc=$?
  [ "$rc" -eq 130 ] || fail "worker $((i + 1)) ended with $rc, not 130: $(cat "$T/w$((i + 1)).err")"
done
pass "SIGTERM ends the workers with 130 after a clean flush"

cat "$T"/w?.raw | sort > "$T/union.raw"
assert_eq "$(count_lines "$T/union.raw")" 4000 "the workers read 4000 records in all"
sort "$T/in.ndjson" | cmp -s - "$T/union.raw" || fail "the union of the workers differs from the topic"
pass "union of the workers' records == topic content"

# Each zone was read by exactly one worker.
for i in 1 2 3; do
  sed -E 's/.*"zone":"([^"]*)".*/\1/' "$T/w$i.raw" | sort -u | sed "s/\$/|$i/"
done > "$T/zone-worker"
assert_eq "$(cut -d'|' -f1 "$T/zone-worker" | sort | uniq -d | wc -l)" 0 "no zone read by two workers"
assert_eq "$(cut -d'|' -f1 "$T/zone-worker" | sort -u | wc -l)" \
  "$(sed -E 's/.*"zone":"([^"]*)".*/\1/' "$T/in.ndjson" | sort -u | wc -l)" "every zone read"
busy=0
for i in 1 2 3; do [ -s "$T/w$i.raw" ] && busy=$((busy + 1)); done
[ "$busy" -ge 2 ] || fail "only $busy worker got records: the group did not share the partitions"
pass "$busy workers shared the topic"

# Per-partition order is kept, so N workers' aggregates == one pass's.
if [ -x "$CITYPIPE_BIN/window-agg" ]; then
  # Generous lateness: one pass over all partitions sees zones interleaved.
  agg() { window-agg --window tumble:1m --lateness 1h "$@"; }
else
  agg() { sort "$@"; }
fi
agg "$T/in.ndjson" | sort > "$T/one.agg"
for i in 1 2 3; do agg "$T/w$i.raw"; done | sort > "$T/union.agg"
[ "$(count_lines "$T/one.agg")" -gt 0 ] || fail "no aggregate output"
cmp -s "$T/one.agg" "$T/union.agg" || fail "3 workers' aggregates differ from one pass: $(diff "$T/one.agg" "$T/union.agg" | head -5)"
pass "3 workers' aggregates == one aggregate over the whole topic ($(count_lines "$T/one.agg") lines)"
