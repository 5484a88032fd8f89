#!/usr/bin/env bash
# pg-sink's mistakes and dead ends (issue 15): what cannot succeed fails at
# once with a status and a message that names the cause; nothing is reported
# as success when no row could be written; Ctrl-C while the server is down
# says what is pending, and a second one (or SIGTERM) abandons it.
source "$(dirname "$0")/lib/testlib.sh"
source "$(dirname "$0")/lib/pg.sh"
pg_start

printf '{"a":1,"b":"x"}\n{"a":2,"b":"y"}\n' > "$T/in"

# fails_fast STATUS MESSAGE WHAT -- ARGS...: pg-sink ARGS ends within 5 s
# (polled) with STATUS and MESSAGE on stderr, despite --retry-for 60s.
fails_fast() {
  local want=$1 msg=$2 what=$3; shift 4
  pg-sink --retry-for 60s "$@" > /dev/null 2> "$T/err" &
  local pid=$! i
  for i in $(seq 1 50); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
  if kill -0 $pid 2>/dev/null; then kill $pid; fail "$what: still running after 5 s: $(cat "$T/err")"; fi
  local rc=0; wait $pid || rc=$?
  assert_eq "$rc" "$want" "$what: status $want"
  assert_contains "$T/err" "$msg" "$what: the message names the cause"
}

fails_fast 69 'database "nosuch" does not exist (not retried)' "unknown database" -- \
  -d "host=$PGHOST port=$PGPORT user=postgres dbname=nosuch" -t t --create "$T/in"
fails_fast 69 'role "nobody" does not exist (not retried)' "refused login (SQLSTATE 28000)" -- \
  -d "host=$PGHOST port=$PGPORT user=nobody dbname=postgres" -t t --create "$T/in"
fails_fast 64 "bad connection string" "unparsable conninfo" -- -d "host=x port" -t t "$T/in"
fails_fast 64 "bad connection string" "unparsable URI" -- -d "postgresql://[::1" -t t "$T/in"

sql "create table nomatch (x int, y text)"
fails_fast 65 'no field of the input is a column of "nomatch": the first record has a, b; the table has x, y' \
  "no input field matches a column" -- -t nomatch "$T/in"
assert_eq "$(sql 'select count(*) from nomatch')" 0 "no rows of NULLs written"

sql "create table typed (a bigint not null, b text)"
printf '{"a":"one","b":"x"}\n{"b":"y"}\n' > "$T/bad"
fails_fast 65 "all 2 records were refused and none committed; the first: $T/bad:1: field 'a'" \
  "every row refused" -- -t typed "$T/bad"
printf '{"a":"one","b":"x"}\n{"a":3,"b":"y"}\n' > "$T/some"
assert_status 0 "some rows refused, others committed: success" -- pg-sink -t typed "$T/some"

fails_fast 64 'create it (CREATE UNIQUE INDEX ON "typed" ("a")), or let --create make it' \
  "--key without a unique index" -- -t typed --key a "$T/in"
sql 'create unique index on typed (a)'
assert_status 0 "--key with the unique index" -- pg-sink -t typed --key a "$T/in"
assert_eq "$(sql 'select count(*) from typed')" 3 "--key with the unique index: rows written"

# Ctrl-C while the server is down.
# down_then SIGNALS...: rows are committed, the server halts, more rows come;
# the signals go to pg-sink while it retries.
down_then() {
  rm -f "$T/fifo"; mkfifo "$T/fifo"
  pg-sink -t down --create --batch-ms 50ms --retry-for 60s < "$T/fifo" 2> "$T/down.err" &
  local pid=$! i n=0
  exec 3> "$T/fifo"
  printf '{"id":%d}\n' 1 2 3 >&3
  for i in $(seq 1 100); do n=$(sql "select count(*) from down" 2>/dev/null || echo 0); [ "$n" -ge 3 ] && break; sleep 0.1; done
  pg_halt 3>&-
  printf '{"id":%d}\n' 4 5 >&3
  for i in $(seq 1 100); do grep -q "reconnecting" "$T/down.err" && break; sleep 0.1; done
  local first=1
  for sig in "$@"; do
    kill -"$sig" $pid
    if [ "$sig" = INT ] && [ "$#" -gt 1 ] && [ $first = 1 ]; then
      first=0
      for i in $(seq 1 50); do grep -q "Ctrl-C again to abandon" "$T/down.err" && break; sleep 0.1; done
      assert_contains "$T/down.err" "for PostgreSQL to commit 2 records; Ctrl-C again to abandon" \
        "first Ctrl-C while the server is down: says what is pending"
      kill -0 $pid 2>/dev/null || fail "first Ctrl-C: pg-sink went on waiting"
      pass "first Ctrl-C: pg-sink goes on waiting"
    fi
  done
  for i in $(seq 1 50); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
  if kill -0 $pid 2>/dev/null; then kill -KILL $pid; fail "$*: still running after 5 s: $(cat "$T/down.err")"; fi
  local rc=0; wait $pid || rc=$?
  exec 3>&-
  cat "$T/down.err" >&2
  assert_eq "$rc" 130 "$*: abandoned with status 130"
  assert_contains "$T/down.err" "abandoned while PostgreSQL was unavailable: 3 records committed, 2 not committed" \
    "$*: the message gives the counts"
  bash "$pg_tmp" restart "$PG_TMP_DIR" >/dev/null 2>&1
  sql "drop table down"
}
down_then INT INT
down_then TERM
