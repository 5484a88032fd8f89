#!/usr/bin/env bash
# Faults injected by kafka-mock lose nothing and duplicate nothing: produce
# request errors, fetch errors, every broker down for a few seconds.
source "$(dirname "$0")/lib/testlib.sh"
source "$(dirname "$0")/lib/kafka.sh"

sensor-gen --fast --count 3000 --seed 61 > "$T/in.ndjson"
sort "$T/in.ndjson" > "$T/in.sorted"

# check_topic TOPIC WHAT: the topic holds exactly the input records, once each.
check_topic() {
  kafka-cat-in -C -t "$1" -e | sort > "$T/$1.out"
  assert_eq "$(count_lines "$T/$1.out")" 3000 "$2: 3000 records, no loss, no duplicate"
  cmp -s "$T/$1.out" "$T/in.sorted" || fail "$2: records differ from the input"
  pass "$2: same records as the input"
}

# 8 failed produce requests: retried by the idempotent producer.
start_kafka_mock --brokers 3 --partitions 4 --topic t --produce-errors 8
assert_status 0 "produce through 8 produce errors" -- kafka-cat-in -t t -k zone "$T/in.ndjson"
assert_contains "$KAFKA_MOCK_ERR" "8 produce errors" "the mock injected the produce errors"
check_topic t "produce errors"

# ... and read back through 6 failed fetch requests.
start_kafka_mock --brokers 3 --partitions 4 --topic t --fetch-errors 6
kafka-cat-in -t t -k zone "$T/in.ndjson"
check_topic t "fetch errors"

# Every broker down for 3 s while a stream is being produced.
start_kafka_mock --brokers 3 --partitions 4 --topic t --broker-down=-1,1500ms,3s
{ head -n 1000 "$T/in.ndjson"; sleep 2; sed -n 1001,2000p "$T/in.ndjson"; sleep 1; sed -n '2001,$p' "$T/in.ndjson"; } |
  kafka-cat-in -t t -k zone --stats 2> "$T/down.err" || fail "produce across a broker outage: $(cat "$T/down.err")"
assert_contains "$KAFKA_MOCK_ERR" "broker -1 down" "the brokers went down"
assert_contains "$KAFKA_MOCK_ERR" "broker -1 up" "the brokers came back"
assert_contains "$T/down.err" "brokers are down" "the producer saw the outage"
assert_contains "$T/down.err" "out=3000" "all 3000 delivery reports positive"
check_topic t "broker down"
