#!/usr/bin/env bash
# kafka-cat-in against kafka-mock: byte-identical round trips with kcat and
# with itself, keys and partitions, -o -e -c --meta, bad lines not sent.
source "$(dirname "$0")/lib/testlib.sh"
source "$(dirname "$0")/lib/kafka.sh"

start_kafka_mock --brokers 3 --partitions 4 --topic a --topic b --topic c --topic keyed --topic bad --topic spread
sensor-gen --fast --count 500 --seed 6 > "$T/in.ndjson"
sort "$T/in.ndjson" > "$T/in.sorted"

# kafka-cat-in produce, kcat consume.
assert_status 0 "produce 500 records" -- kafka-cat-in -t a "$T/in.ndjson"
kcat -C -b "$KAFKA_BROKERS" -t a -e -q -f '%s\n' | sort > "$T/a.kcat"
assert_eq "$(count_lines "$T/a.kcat")" 500 "kcat reads the 500 records"
cmp -s "$T/a.kcat" "$T/in.sorted" || fail "kcat read different bytes than were produced"
pass "kafka-cat-in -> kcat byte-identical"

# kcat produce, kafka-cat-in consume.
kcat -P -b "$KAFKA_BROKERS" -t b < "$T/in.ndjson"
kafka-cat-in -C -t b -e > "$T/b.out"
assert_eq "$(count_lines "$T/b.out")" 500 "kafka-cat-in reads kcat's 500 records"
sort "$T/b.out" | cmp -s - "$T/in.sorted" || fail "kcat -> kafka-cat-in not byte-identical"
pass "kcat -> kafka-cat-in byte-identical"

# Both ways; one partition keeps the order too.
kafka-cat-in -t c -p 2 < "$T/in.ndjson"
kafka-cat-in -C -t c -e > "$T/c.out"
cmp -s "$T/c.out" "$T/in.ndjson" || fail "kafka-cat-in both ways: records differ or are out of order"
pass "kafka-cat-in -> kafka-cat-in byte-identical, in order"

# Without keys, each batch of up to 1024 records goes to one partition, the
# partitions in turn: 5000 records in 5 batches reach all 4 partitions.
sensor-gen --fast --count 5000 --seed 8 > "$T/spread.ndjson"
assert_status 0 "produce 5000 records without keys" -- kafka-cat-in -t spread --stats "$T/spread.ndjson" 2> "$T/spread.err"
assert_contains "$T/spread.err" "in=5000 out=5000" "5000 positive delivery reports"
kcat -C -b "$KAFKA_BROKERS" -t spread -e -q -f '%p %s\n' > "$T/spread.out"
assert_eq "$(count_lines "$T/spread.out")" 5000 "kcat reads the 5000 records"
assert_eq "$(cut -d' ' -f1 "$T/spread.out" | sort -u | wc -l)" 4 "records without keys reach every partition"
cut -d' ' -f2- "$T/spread.out" | sort | cmp -s - <(sort "$T/spread.ndjson") || fail "records without keys differ"
pass "records without keys: byte-identical, spread over the partitions"

# -c N stops after N records; -o N, -o -N, -o end.
assert_eq "$(kafka-cat-in -C -t c -c 7 | wc -l)" 7 "-c 7"
kafka-cat-in -C -t c -p 2 -o 495 -e > "$T/o.out"
assert_eq "$(count_lines "$T/o.out")" 5 "-o 495 reads the last 5"
assert_eq "$(head -n 1 "$T/o.out")" "$(sed -n 496p "$T/in.ndjson")" "-o 495 starts at offset 495"
assert_eq "$(kafka-cat-in -C -t c -o -3 -e | wc -l)" 3 "-o -3 reads 3 before the end"
assert_eq "$(kafka-cat-in -C -t c -o end -e | wc -l)" 0 "-o end reads nothing old"

# -k zone: each zone on one partition, in input order; --meta shows where.
kafka-cat-in -t keyed -k zone "$T/in.ndjson"
kafka-cat-in -C -t keyed -e --meta > "$T/keyed.out"
assert_eq "$(count_lines "$T/keyed.out")" 500 "keyed: all records"
# zone, partition, key, offset, sensor of every record, from --meta.
sed -E 's/.*"sensor_id":"([^"]*)".*"zone":"([^"]*)".*"_kafka":\{"topic":"keyed","partition":([0-9]+),"offset":([0-9]+),"key":"([^"]*)","timestamp":"[0-9T:.-]+Z"\}\}$/\2|\3|\5|\4|\1/' \
  "$T/keyed.out" > "$T/keyed.fields"
assert_eq "$(grep -c '_kafka' "$T/keyed.fields" || true)" 0 "every --meta record has topic, partition, offset, key, timestamp"
assert_eq "$(awk -F'|' '$1 != $3' "$T/keyed.fields" | wc -l)" 0 "the key is the zone"
assert_eq "$(cut -d'|' -f1,2 "$T/keyed.fields" | sort -u | cut -d'|' -f1 | uniq -d | wc -l)" 0 \
  "each zone on exactly one partition"
[ "$(cut -d'|' -f2 "$T/keyed.fields" | sort -u | wc -l)" -gt 1 ] || fail "all zones landed on one partition"
# Within a zone, offsets follow input order.
for zone in $(cut -d'|' -f1 "$T/keyed.fields" | sort -u | tr ' ' '_'); do
  z=${zone//_/ }
  got=$(awk -F'|' -v z="$z" '$1 == z' "$T/keyed.fields" | sort -t'|' -k4,4n | cut -d'|' -f5 | tr '\n' ' ')
  want=$(grep -F "\"zone\":\"$z\"" "$T/in.ndjson" | sed -E 's/.*"sensor_id":"([^"]*)".*/\1/' | tr '\n' ' ')
  [ "$got" == "$want" ] || fail "zone $z is out of order"
done
pass "-k zone: one partition per zone, in order, --meta fields"

# Bad lines are not sent, and follow the shared policy.
{ head -n 10 "$T/in.ndjson"; echo 'not json'; echo '[1,2]'; echo '{"zone":'; echo '{"no_zone":1}'; } > "$T/bad.ndjson"
rc=0; kafka-cat-in -t bad -k zone --reject "$T/rejected" --stats "$T/bad.ndjson" 2> "$T/bad.err" || rc=$?
assert_eq "$rc" 0 "bad lines skipped without --strict"
assert_eq "$(count_lines "$T/rejected")" 4 "4 bad lines rejected"
assert_contains "$T/bad.err" "bad.ndjson:11:" "bad line named by file:line"
assert_contains "$T/bad.err" "in=10 out=10 rejected=4" "stats count delivered records"
assert_eq "$(kafka-cat-in -C -t bad -e | wc -l)" 10 "only the 10 good records were sent"
assert_status 65 "--strict stops at the first bad line" -- kafka-cat-in -t bad --strict "$T/bad.ndjson"

# --meta on a message that is not a JSON object: the bad-input policy. The
# topic holds the 10 good records twice: --strict sent those before line 11.
printf 'plain text\n' | kcat -P -b "$KAFKA_BROKERS" -t bad
kafka-cat-in -C -t bad -e --meta > "$T/meta.out" 2> "$T/meta.err"
assert_eq "$(count_lines "$T/meta.out")" 20 "--meta passes the JSON records"
assert_contains "$T/meta.err" "bad[" "--meta names topic[partition]:offset of a non-object"

# Usage and availability errors.
assert_status 64 "-C with a file is a usage error" -- kafka-cat-in -C -t a "$T/in.ndjson"
assert_status 64 "-o stored needs -G" -- kafka-cat-in -C -t a -o stored
assert_status 64 "bad -X" -- kafka-cat-in -t a -X no.such.property=1 < /dev/null
assert_status 66 "missing input file" -- kafka-cat-in -t a "$T/nope"
rc=0; head -n 3 "$T/in.ndjson" | kafka-cat-in -b 127.0.0.1:9 -t a -X message.timeout.ms=1500 2> "$T/down.err" || rc=$?
assert_eq "$rc" 69 "no broker: exit 69"
assert_contains "$T/down.err" "3 of 3 records not delivered" "undelivered records are counted"
