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

# restart_during NAME MODE ARGS...: feeds the first rows, waits until 250000
# are committed while a batch is still open (--batch-ms 1h), restarts the
# server, then feeds the rest.
restart_during() {
  local table=$1 mode=$2; shift 2
  rm -f "$T/go"
  { head -n $first "$T/in"; while [ ! -e "$T/go" ]; do sleep 0.05; done; tail -n +$((first + 1)) "$T/in"; } |
    pg-sink -t "$table" --create --batch-ms 1h --retry-for 60s --stats "$@" 2>"$T/$table.err" &
  local sink=$!
  on_exit "kill $sink 2>/dev/null"
  local n=0
  for _ in $(seq 1 600); do
    n=$(sql "select count(*) from $table" 2>/dev/null || echo 0)
    [ "$n" -ge 250000 ] && break
    sleep 0.1
  done
  [ "$n" -ge 250000 ] || fail "$table: first batches not committed ($n rows)"
  pg_restart "$mode"
  touch "$T/go"
  local rc=0; wait $sink || rc=$?
  cat "$T/$table.err" >&2
  assert_eq "$rc" 0 "$table: pg-sink survives a server restart ($mode)"
  assert_contains "$T/$table.err" "reconnected" "$table: reconnected"
}

restart_during with_key fast --key id
assert_eq "$(sql "select count(*), count(distinct id), sum(id) from with_key")" \
  "$rows|$rows|$((rows * (rows + 1) / 2))" "--key: exactly one copy of every row after a restart"

restart_during no_key immediate
assert_eq "$(sql "select count(distinct id), sum(distinct id), min(id), max(id) from no_key")" \
  "$rows|$((rows * (rows + 1) / 2))|1|$rows" "no key: every row at least once after a crash restart"
n=$(sql "select count(*) from no_key")
[ "$n" -ge $rows ] || fail "no key: $n rows"
pass "no key: $n rows for $rows records"

# The server goes away for good: 69, with what was and was not committed.
rm -f "$T/go"
{ head -n 5 "$T/in"; while [ ! -e "$T/go" ]; do sleep 0.05; done; sed -n 6,8p "$T/in"; } |
  pg-sink -t gone --create --retry-for 1s 2>"$T/gone.err" &
sink=$!
on_exit "kill $sink 2>/dev/null"
for _ in $(seq 1 100); do
  [ "$(sql "select count(*) from gone" 2>/dev/null || echo 0)" = 5 ] && break
  sleep 0.05
done
pg_halt
touch "$T/go"
rc=0; wait $sink || rc=$?
assert_eq "$rc" 69 "server gone past --retry-for: 69"
assert_contains "$T/gone.err" "5 records committed, 3 not committed" "counts on stderr"
pg_restart
