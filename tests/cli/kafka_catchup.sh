#!/usr/bin/env bash
# A worker that starts behind: a backlog over 4 and over 16 partitions,
# consumed in one go (kafka-cat-in -C -e --meta), puts every record in the
# same window as an ordered replay of the producer's file: 0 late, the same
# windows byte for byte, tumbling and sliding.
source "$(dirname "$0")/lib/testlib.sh"
source "$(dirname "$0")/lib/kafka.sh"

sensor-gen --fast --duration 20m --seed 11 --start 2026-01-01T00:00:00Z > "$T/sent"
n=$(count_lines "$T/sent")
windows=(--window tumble:1m --window slide:5m,1m --key zone)
window-agg "${windows[@]}" --stats "$T/sent" 2> "$T/ref.err" | sort > "$T/ref"
assert_contains "$T/ref.err" "late=0" "the producer's file has no late record"

for parts in 4 16; do
  start_kafka_mock --brokers 2 --partitions "$parts" --topic city
  kafka-cat-in -t city -k zone "$T/sent"
  kafka-cat-in -C -e --meta -t city | window-agg "${windows[@]}" --stats 2> "$T/got.err" | sort > "$T/got"
  assert_contains "$T/got.err" " in=$n " "$parts partitions: all $n records reached window-agg"
  assert_contains "$T/got.err" "late=0" "$parts partitions: no record is late"
  assert_eq "$(count_lines "$T/got")" "$(count_lines "$T/ref")" "$parts partitions: as many windows as the file gives"
  cmp -s "$T/ref" "$T/got" || fail "$parts partitions: windows differ from the file's: $(diff "$T/ref" "$T/got" | head -4)"
  pass "$parts partitions: every window equals the file replay's, byte for byte"
  stop_kafka_mock
done

# A key seen in two partitions is named once: its windows are per partition.
start_kafka_mock --brokers 1 --partitions 4 --topic mixed
kafka-cat-in -t mixed -k sensor_id < <(head -4000 "$T/sent")
kafka-cat-in -C -e --meta -t mixed | window-agg --window tumble:1m --key zone > /dev/null 2> "$T/mixed.err"
assert_eq "$(grep -c 'comes from partitions' "$T/mixed.err")" 1 "a key produced to several partitions is reported once"
