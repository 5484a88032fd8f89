#!/usr/bin/env bash
# pg-sink --key on a stream with 10% hostile lines: exit 0, every hostile
# line counted and kept with --reject, table contents identical to the table
# loaded from the clean stream.
source "$(dirname "$0")/../cli/lib/testlib.sh"
source "$(dirname "$0")/../cli/lib/pg.sh"
source "$(dirname "$0")/lib/hostile.sh"
pg_start

n=$RELIABILITY_RECORDS
sensor-gen --fast --count "$n" --seed 84 > "$T/clean"
hostile_common "$T/h"
# pg-sink's own bad lines: a key field missing or null, a value that does not
# convert to its column's type.
r='"zone":"Downtown","temperature":20,"humidity":50,"aqi":40,"noise_db":60,"traffic":80,"injected_anomaly":false'
hostile_add "$T/h" no-key "{\"ts\":\"2026-01-01T00:00:01.000Z\",$r}"
hostile_add "$T/h" null-key "{\"ts\":null,\"sensor_id\":\"city-0001\",$r}"
hostile_add "$T/h" ts-text "{\"ts\":\"yesterday\",\"sensor_id\":\"city-0001\",$r}"
hostile_add "$T/h" aqi-text "{\"ts\":\"2026-01-01T00:00:09.000Z\",\"sensor_id\":\"city-9999\",${r/\"aqi\":40/\"aqi\":\"forty\"}}"
hostile_add "$T/h" flag-number "{\"ts\":\"2026-01-01T00:00:09.000Z\",\"sensor_id\":\"city-9998\",${r/false/17}}"
{ printf '{"deep":'; head -c 5000 /dev/zero | tr '\0' '['; head -c 5000 /dev/zero | tr '\0' ']'; echo '}'; } > "$T/h/deep-no-key"
hostile_mix "$T/clean" "$T/h" "$T/mixed" "$T/want"
echo "# $n clean records, $HOSTILE_COUNT hostile lines of $(ls "$T/h" | wc -l) kinds"

pg-sink -t clean --create --key sensor_id,ts --stats "$T/clean" 2> "$T/clean.err" || fail "clean load: $(cat "$T/clean.err")"
assert_eq "$(sql 'select count(*) from clean')" "$n" "clean stream: $n rows"
# The same table shape for the hostile run, so that no hostile line can shape it.
sql 'create table mixed (like clean including all)'
rc=0
pg-sink -t mixed --key sensor_id,ts --stats --reject "$T/rejected" < "$T/mixed" 2> "$T/mixed.err" || rc=$?
assert_eq "$rc" 0 "pg-sink: exit status on the hostile stream"
check_rejects pg-sink "$T/mixed.err" "$T/rejected" "$T/want"
assert_eq "$(stat_of "$T/mixed.err" out)" "$n" "pg-sink: $n rows committed"
assert_eq "$(sql 'select count(*) from (select * from clean except all select * from mixed) d')|$(sql 'select count(*) from (select * from mixed except all select * from clean) d')" \
  "0|0" "pg-sink: table contents identical to the clean load ($(sql 'select count(*) from mixed') rows)"
