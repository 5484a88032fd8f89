#!/usr/bin/env bash
# kafka-cat-in producing a stream with 10% hostile lines: exit 0, every
# hostile line counted and kept with --reject, and the topic consumed back
# holds exactly what the clean stream's topic holds, partition by partition.
source "$(dirname "$0")/../cli/lib/testlib.sh"
source "$(dirname "$0")/../cli/lib/kafka.sh"
source "$(dirname "$0")/lib/hostile.sh"

n=$RELIABILITY_RECORDS
sensor-gen --fast --count "$n" --seed 85 > "$T/clean"
hostile_common "$T/h"
# kafka-cat-in -k zone's own bad lines: no key field.
hostile_add "$T/h" no-key '{"ts":"2026-01-01T00:00:01.000Z","sensor_id":"city-0001","temperature":20}'
{ printf '{"deep":'; head -c 5000 /dev/zero | tr '\0' '['; head -c 5000 /dev/zero | tr '\0' ']'; echo '}'; } > "$T/h/deep-no-key"
hostile_mix "$T/clean" "$T/h" "$T/mixed" "$T/want"
echo "# $n clean records, $HOSTILE_COUNT hostile lines of $(ls "$T/h" | wc -l) kinds"

start_kafka_mock --brokers 3 --partitions 4 --topic clean --topic mixed
kafka-cat-in -t clean -k zone --stats "$T/clean" 2> "$T/clean.err" || fail "clean produce: $(cat "$T/clean.err")"
assert_eq "$(stat_of "$T/clean.err" rejected)" 0 "clean stream: nothing rejected"
rc=0
kafka-cat-in -t mixed -k zone --stats --reject "$T/rejected" < "$T/mixed" 2> "$T/mixed.err" || rc=$?
assert_eq "$rc" 0 "kafka-cat-in: exit status on the hostile stream"
check_rejects kafka-cat-in "$T/mixed.err" "$T/rejected" "$T/want"
assert_eq "$(stat_of "$T/mixed.err" out)" "$n" "kafka-cat-in: $n records delivered"

# Per partition, in order: a key keeps its records on one partition.
for p in 0 1 2 3; do
  kafka-cat-in -C -t clean -p $p -e > "$T/clean.$p" 2> /dev/null
  kafka-cat-in -C -t mixed -p $p -e > "$T/mixed.$p" 2> /dev/null
  cmp -s "$T/clean.$p" "$T/mixed.$p" || fail "partition $p differs: $(count_lines "$T/clean.$p") vs $(count_lines "$T/mixed.$p") records"
done
total=$(cat "$T"/mixed.[0-3] | wc -l)
assert_eq "$total" "$n" "kafka-cat-in: the mixed topic holds the $n clean records, partition by partition as the clean topic"
