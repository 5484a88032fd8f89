#!/usr/bin/env bash
# pg-sink --acks: a checkpoint control line comes out on the acks FIFO only
# once every row before it is committed, on every connection, in order; acks
# pause while PostgreSQL is down and resume after; a gone reader is status 74;
# without --acks control lines change nothing.
source "$(dirname "$0")/lib/testlib.sh"
source "$(dirname "$0")/lib/pg.sh"
pg_start

seg=1000  # rows between checkpoints
# rows K: segment K, ids (K-1)*seg+1 .. K*seg.
rows() { awk -v k="$1" -v n=$seg 'BEGIN { for (i = (k - 1) * n + 1; i <= k * n; i++)
  printf "{\"id\":%d,\"sensor_id\":\"s-%d\",\"v\":%d.5}\n", i, i % 7, i }'; }
ctl() { printf '{"_ctl":"checkpoint","id":%d,"parts":[{"topic":"readings","partition":0,"offset":%d}]}\n' "$1" "$(($1 * seg))"; }

# closed_loop NAME ARGS...: like kafka-cat-in, sends a segment and its
# checkpoint, then waits for the ack before sending more. With --batch-ms 1h
# nothing commits on its own, so at ack K the table holds exactly K segments.
# Segment 3 is sent while the server is down: its ack must wait for the restart.
closed_loop() {
  local table=$1; shift
  rm -f "$T/in" "$T/acks"
  mkfifo "$T/in" "$T/acks"
  pg-sink -t "$table" --create --batch-ms 1h --retry-for 60s --stats --acks "$T/acks" "$@" < "$T/in" 2> "$T/$table.err" &
  local sink=$!
  on_exit "kill $sink 2>/dev/null"
  exec 3> "$T/in"
  rows 1 >&3
  sleep 0.5  # time enough for a wrong pg-sink to commit early
  assert_eq "$(sql "select count(*) from pg_tables where tablename = '$table'")" 0 \
    "$table: nothing is written before the first checkpoint (--batch-ms 1h)"
  ctl 1 >&3
  exec 4< "$T/acks"  # opens once pg-sink opens it for the first ack
  local k line
  for k in 1 2 3 4; do
    if [ "$k" -gt 1 ]; then rows "$k" >&3; ctl "$k" >&3; fi
    if [ "$k" -eq 3 ]; then
      if read -r -t 1 -u 4 line; then fail "$table: ack $k came while the server was down: $line"; fi
      pass "$table: no ack while PostgreSQL is down"
      pg_restart fast 3>&- 4<&-  # the server must not hold our FIFO ends
    fi
    read -r -t 90 -u 4 line || fail "$table: no ack $k: $(cat "$T/$table.err")"
    assert_eq "$line" "$(ctl "$k")" "$table: ack $k is checkpoint $k, byte for byte"
    assert_eq "$(sql "select count(*), count(distinct id) from $table")" "$((k * seg))|$((k * seg))" \
      "$table: at ack $k the table holds every row before checkpoint $k"
    [ "$k" -eq 2 ] && pg_halt 3>&- 4<&-
  done
  rows 5 >&3
  exec 3>&-
  local rc=0; wait $sink || rc=$?
  if read -r -t 1 -u 4 line; then fail "$table: an ack without a checkpoint: $line"; fi
  exec 4<&-
  cat "$T/$table.err" >&2
  assert_eq "$rc" 0 "$table: pg-sink ends with status 0"
  assert_contains "$T/$table.err" "reconnected" "$table: reconnected after the restart"
  assert_eq "$(sql "select count(*), count(distinct id), sum(id) from $table")" \
    "$((5 * seg))|$((5 * seg))|$((5 * seg * (5 * seg + 1) / 2))" "$table: every row once, none lost"
}

closed_loop acks_w1
closed_loop acks_w2 --workers 2
closed_loop acks_key_w2 --key id --workers 2

# Without --acks: control lines are not rows, not output, and change nothing.
{ rows 1; ctl 1; echo '{"_ctl":"assign","parts":[]}'; rows 2; ctl 2; } > "$T/with_ctl"
grep -v '^{"_ctl":' "$T/with_ctl" > "$T/without_ctl"
pg-sink -t plain_ctl --create --stats "$T/with_ctl" > "$T/out" 2> "$T/err"
pg-sink -t plain_none --create "$T/without_ctl"
assert_eq "$(count_lines "$T/out")" 0 "without --acks nothing goes to stdout"
assert_contains "$T/err" "in=$((2 * seg))" "control lines are not counted as records"
assert_eq "$(sql "select count(*) from (select * from plain_ctl except all select * from plain_none) d")|$(sql "select count(*) from plain_ctl")" \
  "0|$((2 * seg))" "without --acks the table is as without control lines"

# Acks to a regular file: appended in order. Other control kinds: no ack.
pg-sink -t file_acks --create --acks "$T/acks.txt" "$T/with_ctl"
assert_eq "$(cat "$T/acks.txt")" "$(ctl 1; ctl 2)" "acks to a file: both checkpoints, in order, and no other kind"

# The reader goes away: the next ack fails with EPIPE, status 74.
rm -f "$T/in" "$T/acks"
mkfifo "$T/in" "$T/acks"
pg-sink -t gone --create --acks "$T/acks" < "$T/in" 2> "$T/gone.err" &
sink=$!
on_exit "kill $sink 2>/dev/null"
exec 3> "$T/in"
{ rows 1; ctl 1; } >&3
exec 4< "$T/acks"
read -r -t 60 -u 4 line || fail "no first ack"
exec 4<&-
{ rows 2; ctl 2; } >&3
rc=0; wait $sink || rc=$?
exec 3>&-
assert_eq "$rc" 74 "a gone acks reader: status 74"
assert_contains "$T/gone.err" "the reader has gone (EPIPE)" "a gone acks reader: the message says so"
assert_eq "$(sql "select count(*) from gone")" "$((2 * seg))" "a gone acks reader: the rows before the failed ack are committed"
