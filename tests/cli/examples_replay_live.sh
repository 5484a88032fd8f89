#!/usr/bin/env bash
# examples/replay-live.sh at a small size: two minutes recorded, replayed at
# 60x (about 2 s) retimed to now, into tui-top's snapshot, then into Kafka
# (kafka-mock) where every record arrives, its time shifted to now and its bytes
# otherwise as recorded.
source "$(dirname "$0")/lib/testlib.sh"
for tool in sensor-gen tui-top kafka-cat-in kafka-mock; do
  [ -x "$CITYPIPE_BIN/$tool" ] || { echo "skip: $tool is not built"; exit 77; }
done
source "$(dirname "$0")/lib/kafka.sh"

DURATION=2m SPEED=60 SEED=3 TUI=once COLUMNS=100 RECORDING="$T/rec.ndjson.gz" \
  bash "$CITYPIPE_SOURCE/examples/replay-live.sh" > "$T/tui.out" 2> "$T/tui.err" || fail "replay-live.sh failed: $(cat "$T/tui.err")"
assert_contains "$T/tui.out" "input ended  4800 records" "tui-top saw the 4800 records of 2 minutes of 40 sensors"
assert_contains "$T/tui.out" "ALERTS" "tui-top printed its snapshot"
assert_eq "$(gzip -dc "$T/rec.ndjson.gz" | wc -l)" 4800 "RECORDING keeps the gzip recording"

start_kafka_mock --topic readings --partitions 4
before=$(date +%s)
SINK=kafka SPEED=60 RECORDING="$T/rec.ndjson.gz" \
  bash "$CITYPIPE_SOURCE/examples/replay-live.sh" > "$T/kafka.out" 2> "$T/kafka.err" || fail "replay-live.sh SINK=kafka failed: $(cat "$T/kafka.err")"
assert_contains "$T/kafka.out" "replay-live.sh: 4800 records to readings at $KAFKA_BROKERS" "the script reports what it sent"
kafka-cat-in -C -t readings -e > "$T/consumed"
assert_eq "$(count_lines "$T/consumed")" 4800 "every replayed record is in Kafka"
# Retimed: all times lie within the last few minutes; the rest of each record as recorded.
sed 's/"ts":"[^"]*"//' "$T/consumed" | sort > "$T/a"
gzip -dc "$T/rec.ndjson.gz" | sed 's/"ts":"[^"]*"//' | sort > "$T/b"
cmp -s "$T/a" "$T/b" || fail "records other than their ts changed on the way"
first=$(sed 's/.*"ts":"\([^"]*\)".*/\1/' "$T/consumed" | sort | sed -n 1p)
[ "$(date -d "$first" +%s)" -ge "$before" ] || fail "--retime: first record at $first, before the replay began"
pass "records retimed to the replay's start ($first), otherwise byte-identical"
