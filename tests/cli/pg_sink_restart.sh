# pg-sink: a server restart in the middle of a 1-million-row stream loses
# nothing (exactly once with --key, at least once without), and a server gone
# past --retry-for gives status 69 with the counts.
source "$(dirname "$0")/lib/testlib.sh"
source "$(dirname "$0")/lib/pg.sh"
pg_start

rows=1000000
first=250500  # 25 full batches of 10000 committed, 500 rows in an open batch
awk -v n=$rows 'BEGIN { for (i = 1; i <= n; i++)
  printf "{\"id\":%d,\"sensor_id\":\"city-%04d\",\"v\":%d.5}\n", i, i % 5000, i }' > "$T/in"

# restart_during NAME MODE LEAST ARGS...: feeds the first rows, waits until
# LEAST are committed while a batch is still open (--batch-ms 1h), restarts
# the server, then feeds the rest.
restart_during() {
  local table=$1 mode=$2 least=$3; shift 3
  rm -f "$T/go"
  { head -n $first "$T/in"; while [ ! -e "$T/go" ]; do sleep 0.05; done; tail -n +$((first + 1)) "$T/in"; } |
    pg-sink -t "$table" --create --batch-ms 1h --retry-for 60s --stats "$@" 2>"$T/$table.err" &
  local sink=$!
  on_exit "kill $sink 2>/dev/null"
  local n
  n=$(wait_rows "$table" "$least" 600)
  [ "$n" -ge "$least" ] || fail "$table: first batches not committed ($n rows): $(cat "$T/$table.err")"
  pg_restart "$mode"
  touch "$T/go"
  local rc=0; wait $sink || rc=$?
  cat "$T/$table.err" >&2
  assert_eq "$rc" 0 "$table: pg-sink survives a server restart ($mode)"
  assert_contains "$T/$table.err" "reconnected" "$table: reconnected"
}

restart_during with_key fast 250000 --key id
assert_eq "$(sql "select count(*), count(distinct id), sum(id) from with_key")" \
  "$rows|$rows|$((rows * (rows + 1) / 2))" "--key: exactly one copy of every row after a restart"

# Two connections: each has its own batches of 10000 (about 12 full ones each
# by now) and its own open one when the server restarts; both reconnect.
restart_during with_key_w2 fast 200000 --key id --workers 2
assert_eq "$(sql "select count(*), count(distinct id), sum(id) from with_key_w2")" \
  "$rows|$rows|$((rows * (rows + 1) / 2))" "--key --workers 2: exactly one copy of every row after a restart"
[ "$(grep -c "reconnected" "$T/with_key_w2.err")" -ge 2 ] || fail "--workers 2: both connections reconnect"
pass "--workers 2: both connections reconnected"

restart_during no_key immediate 250000
assert_eq "$(sql "select count(distinct id), sum(distinct id), min(id), max(id) from no_key")" \
  "$rows|$((rows * (rows + 1) / 2))|1|$rows" "no key: every row at least once after a crash restart"
n=$(sql "select count(*) from no_key")
[ "$n" -ge $rows ] || fail "no key: $n rows"
pass "no key: $n rows for $rows records"

# The server goes away for good: 69, with what was and was not committed.
# gone NAME ARGS...: 5 rows committed, the server halted, 3 more rows.
gone() {
  local table=$1; shift
  rm -f "$T/go"
  { head -n 5 "$T/in"; while [ ! -e "$T/go" ]; do sleep 0.05; done; sed -n 6,8p "$T/in"; } |
    pg-sink -t "$table" --create --retry-for 1s "$@" 2>"$T/$table.err" &
  local sink=$!
  on_exit "kill $sink 2>/dev/null"
  wait_rows "$table" 5 100 >/dev/null
  pg_halt
  touch "$T/go"
  local rc=0; wait $sink || rc=$?
  cat "$T/$table.err" >&2
  assert_eq "$rc" 69 "$table: server gone past --retry-for: 69"
  assert_contains "$T/$table.err" "5 records committed, 3 not committed" "$table: counts on stderr"
  pg_restart
}
gone gone
# With two connections the 5 rows go through one and the 3 through the other;
# the counts are totals over both.
gone gone_w2 --workers 2
