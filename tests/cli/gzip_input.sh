#!/usr/bin/env bash
# Every tool reads gzip input, known by its magic bytes whatever its name (a
# file or standard input), with the same result as the plain file; zstd too; a
# truncated one is an error naming the file. (Needs PostgreSQL and kafka-mock, as the
# tools' own tests do.)
source "$(dirname "$0")/lib/testlib.sh"
source "$(dirname "$0")/lib/kafka.sh"
source "$(dirname "$0")/lib/pg.sh"
command -v gzip > /dev/null || { echo "gzip missing: skipped"; exit 77; }
command -v zstd > /dev/null || { echo "zstd missing: skipped"; exit 77; }

sensor-gen --fast --count 3000 --seed 4 > "$T/in.ndjson"
gzip -c "$T/in.ndjson" > "$T/in.ndjson.gz"
zstd -q -c "$T/in.ndjson" > "$T/in.ndjson.zst"
cp "$T/in.ndjson.gz" "$T/named-plainly.ndjson"  # the magic bytes decide, not the name

# same_output WHAT CMD...: CMD on the plain file and on the gzip one (FILE in the
# arguments stands for the input), outputs byte-identical.
same_output() {
  local what=$1; shift
  "${@//FILE/$T/in.ndjson}" > "$T/plain.out"
  "${@//FILE/$T/in.ndjson.gz}" > "$T/gz.out"
  cmp -s "$T/plain.out" "$T/gz.out" || fail "$what: gzip input gave other output"
  [ -s "$T/plain.out" ] || fail "$what: no output at all"
  pass "$what reads .ndjson.gz"
}

same_output window-agg window-agg --window tumble:1m --key zone FILE
window-agg --window tumble:1m --key zone < "$T/in.ndjson.gz" | cmp -s - "$T/plain.out" || fail "window-agg stdin gzip"
window-agg --window tumble:1m --key zone "$T/named-plainly.ndjson" | cmp -s - "$T/plain.out" || fail "window-agg misnamed gzip"
pass "window-agg reads gzip on standard input and under a plain name"
window-agg --window tumble:1m --key zone "$T/in.ndjson.zst" | cmp -s - "$T/plain.out" || fail "window-agg zstd file"
zstd -q -c "$T/in.ndjson" | window-agg --window tumble:1m --key zone | cmp -s - "$T/plain.out" || fail "window-agg zstd stdin"
sensor-gen --replay --fast "$T/in.ndjson.zst" | cmp -s - "$T/in.ndjson" || fail "sensor-gen --replay zstd"
pass "zstd input, from a file and standard input"
iforest-score train --seed 5 -o "$T/model.json" "$T/in.ndjson.gz"
same_output iforest-score iforest-score score -m "$T/model.json" FILE
# tui-top's header shows the rate, which varies: the rest must match.
tui_top_rest() { tui-top --once --width 120 "$1" | sed 1d; }
same_output tui-top tui_top_rest FILE
same_output "sensor-gen --replay" sensor-gen --replay FILE --fast

start_kafka_mock --topic plain --topic gz
kafka-cat-in -t plain "$T/in.ndjson"
kafka-cat-in -t gz "$T/in.ndjson.gz"
kafka-cat-in -C -t plain -e | sort > "$T/k.plain"
kafka-cat-in -C -t gz -e | sort > "$T/k.gz"
assert_eq "$(count_lines "$T/k.gz")" 3000 "kafka-cat-in produced 3000 records from gzip"
cmp -s "$T/k.plain" "$T/k.gz" || fail "kafka-cat-in: gzip input produced other records"
pass "kafka-cat-in reads .ndjson.gz"

pg_start
pg-sink -t plain --create "$T/in.ndjson"
pg-sink -t gz --create "$T/in.ndjson.gz"
assert_eq "$(sql "select count(*) from gz")" 3000 "pg-sink loaded 3000 rows from gzip"
assert_eq "$(sql "select count(*) from (select * from plain except select * from gz) d")" 0 "pg-sink: same rows as from the plain file"

# Truncated: the lines before the cut are processed, then an error naming the file.
head -c 20000 "$T/in.ndjson.gz" > "$T/cut.ndjson.gz"
rc=0; window-agg --window tumble:1m --key zone --stats "$T/cut.ndjson.gz" > /dev/null 2> "$T/err" || rc=$?
assert_eq "$rc" 65 "truncated gzip: status 65"
assert_contains "$T/err" "$T/cut.ndjson.gz: truncated gzip data" "truncated gzip: the message names the file"
n=$(sed -n 's/.*stats in=\([0-9]*\).*/\1/p' "$T/err")
[ "$n" -gt 100 ] || fail "truncated gzip: only $n records before the cut were read"
pass "truncated gzip: the $n records before the cut were read"
head -c 20000 "$T/in.ndjson.zst" > "$T/cut.ndjson.zst"
rc=0; sensor-gen --replay --fast "$T/cut.ndjson.zst" > "$T/cut.out" 2> "$T/err" || rc=$?
assert_eq "$rc" 65 "truncated zstd: status 65"
assert_contains "$T/err" "$T/cut.ndjson.zst: truncated zstd data" "truncated zstd: the message names the file"
[ "$(count_lines "$T/cut.out")" -gt 100 ] || fail "truncated zstd: the records before the cut were not written"
