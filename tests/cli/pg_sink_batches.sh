# pg-sink: batches by size and by time (a live pipe), a clean stop on SIGTERM,
# idempotent replay with --key and --on-conflict.
source "$(dirname "$0")/lib/testlib.sh"
source "$(dirname "$0")/lib/pg.sh"
pg_start

gen() {  # gen FIRST LAST [VALUE]: records with ids FIRST..LAST
  awk -v a="$1" -v b="$2" -v v="${3:-1}" 'BEGIN { for (i = a; i <= b; i++)
    printf "{\"id\":%d,\"ts\":\"2026-11-22T14:%02d:%02d.000Z\",\"v\":%s}\n", i, (i / 60) % 60, i % 60, v }'
}

gen 1 10 > "$T/ten"
assert_status 0 "batches by size" -- pg-sink -t b --create --batch-rows 3 --stats "$T/ten" 2>"$T/err"
assert_contains "$T/err" "out=10 rejected=0 batches=4" "10 rows in 4 batches of 3"
assert_eq "$(sql "select count(*) from b")" 10 "10 rows"

# live_sink TABLE [FILE...]: pg-sink into TABLE in the background (pid in
# $sink), reading FILE... or standard input: a FIFO that fd 3 holds open.
live_sink() {
  local table=$1
  shift
  rm -f "$T/fifo"
  mkfifo "$T/fifo"
  pg-sink -t "$table" --create --batch-ms 200ms --stats "$@" < "$T/fifo" 2>"$T/$table.err" &
  sink=$!
  on_exit "kill $sink 2>/dev/null"
  exec 3>"$T/fifo"
}

# By time: a record on a pipe that stays open reaches the table.
live_sink live
gen 1 1 >&3
seen=$(wait_rows live 1)
assert_eq "$seen" 1 "record on a live pipe committed while the pipe is open"
# SIGTERM: every record read is committed, then exit 130.
gen 2 3 >&3
sleep 0.3
kill -TERM $sink 2>/dev/null || true
rc=0; wait $sink || rc=$?
exec 3>&-
assert_eq "$rc" 130 "SIGTERM exits 130"
read_in=$(sed -n 's/.*stats in=\([0-9]*\) out=\([0-9]*\).*/\1 \2/p' "$T/live.err")
assert_eq "$read_in" "$(sql "select count(*) from live") $(sql "select count(*) from live")" "on SIGTERM every record read is committed"

# Idempotent replay: twice the same input is the table after one.
gen 1 25000 > "$T/a"
assert_status 0 "first load with --key" -- pg-sink -t k --create --key id "$T/a"
assert_status 0 "replay with --key" -- pg-sink -t k --create --key id --on-conflict nothing "$T/a"
assert_eq "$(sql "select count(*), count(distinct id), sum(v) from k")" "25000|25000|25000" "replay leaves one copy"
assert_eq "$(sql "select count(*) from pg_indexes where tablename = 'k' and indexdef like 'CREATE UNIQUE INDEX%(id)'")" 1 "unique index on the key"
gen 1 10 2 > "$T/b"
assert_status 0 "replay with new values, nothing" -- pg-sink -t k --key id --on-conflict nothing "$T/b"
assert_eq "$(sql "select sum(v) from k")" 25000 "on-conflict nothing keeps the rows"
{ gen 1 10 3; gen 5 5 7; } > "$T/c"
assert_status 0 "replay with new values, update" -- pg-sink -t k --key id --on-conflict update "$T/c"
assert_eq "$(sql "select count(*), sum(v), (select v from k where id = 5) from k")" "25000|25024|7" "on-conflict update: values replaced, last one wins"
echo '{"ts":"2026-11-22T14:00:00Z","v":1}' > "$T/nokey"
assert_status 65 "record without its key (the only line: all input rejected)" -- pg-sink -t k --key id "$T/nokey" 2>"$T/err"
assert_contains "$T/err" "key field 'id' is missing or null" "missing key is a bad line"
assert_status 64 "--on-conflict without --key" -- pg-sink -t k --on-conflict update "$T/nokey" 2>/dev/null

# --key: a row the target table refuses (the INSERT after the COPY, in the same
# transaction) is rejected alone; the rest of its batch commits.
sql "create table kc (id bigint, v bigint check (v < 100)); create unique index on kc (id)"
{ gen 1 4; gen 5 5 500; gen 6 9; } > "$T/kc"
assert_status 0 "refused row with --key" -- pg-sink -t kc --key id --batch-rows 4 --stats --reject "$T/kc.rej" "$T/kc" 2>"$T/err"
assert_eq "$(sql "select count(*), sum(id) from kc")" "8|40" "the other rows committed"
assert_eq "$(count_lines "$T/kc.rej")" 1 "one row rejected"
assert_contains "$T/err" "kc:5: PostgreSQL refused the row" "the refusal names the line"

# --workers: several connections. With --key all rows of a key go through one
# of them, in input order.
gen 1 30000 > "$T/w"
assert_status 0 "--workers 2 --key: first load" -- pg-sink -t w2 --create --key id --workers 2 --stats "$T/w" 2>"$T/err"
assert_contains "$T/err" "in=30000 out=30000 rejected=0" "--workers 2 --key: every row committed once"
assert_status 0 "--workers 2 --key: replay" -- pg-sink -t w2 --key id --workers 2 "$T/w"
assert_eq "$(sql "select count(*), count(distinct id), sum(id) from w2")" "30000|30000|$((30000 * 30001 / 2))" \
  "--workers 2 --key: two replays leave the input once"
# 40 versions of each of 500 keys, in batches of 97 rows on 3 connections; the
# key holds a time written in two ways (Z and +01:00) for the same instant.
awk 'BEGIN { for (v = 1; v <= 40; v++) for (k = 1; k <= 500; k++)
  printf "{\"id\":%d,\"ts\":\"%s\",\"v\":%d}\n", k, v % 2 ? "2026-11-22T14:00:00Z" : "2026-11-22T15:00:00+01:00", v }' > "$T/versions"
assert_status 0 "--workers 3 --on-conflict update" -- \
  pg-sink -t ord_u --create --key id,ts --on-conflict update --workers 3 --batch-rows 97 "$T/versions"
assert_eq "$(sql "select count(*), min(v), max(v) from ord_u")" "500|40|40" \
  "--workers 3 --on-conflict update: the last value of every key wins"
assert_status 0 "--workers 3 --on-conflict nothing" -- \
  pg-sink -t ord_n --create --key id,ts --on-conflict nothing --workers 3 --batch-rows 97 "$T/versions"
assert_eq "$(sql "select count(*), min(v), max(v) from ord_n")" "500|1|1" \
  "--workers 3 --on-conflict nothing: the first value of every key stays"

# A refused row under --workers 2, with and without a key, is rejected alone.
sql "create table kw (id bigint, v bigint check (v < 100)); create unique index on kw (id)"
sql "create table pw (id bigint, v bigint check (v < 100))"
for t in kw pw; do
  if [ $t = kw ]; then key=(--key id); else key=(); fi
  assert_status 0 "$t: refused row, --workers 2" -- \
    pg-sink -t $t "${key[@]}" --workers 2 --batch-rows 4 --stats --reject "$T/$t.rej" "$T/kc" 2>"$T/err"
  assert_eq "$(sql "select count(*), sum(id) from $t")" "8|40" "$t: the other rows committed"
  assert_eq "$(count_lines "$T/$t.rej")" 1 "$t: one row rejected"
  assert_contains "$T/err" "kc:5: PostgreSQL refused the row" "$t: the refusal names the line"
  assert_contains "$T/err" "in=8 out=8 rejected=1" "$t: counted as rejected"
done

# One rule for live standard input (citypipe(7)): with "FILE -", once the file
# is read, a record on a pipe that stays open is committed while it is open.
gen 1 2 > "$T/two"
live_sink live2 "$T/two" -
gen 3 3 >&3
seen=$(wait_rows live2 3)
assert_eq "$seen" 3 "FILE -: a record on the live pipe after the file is committed while the pipe is open"
exec 3>&-
rc=0; wait $sink || rc=$?
assert_eq "$rc" 0 "FILE -: exit 0 at end of input"

# --key, a batch that meets an existing key at its 15th row: the 14 rows
# before it are new and go by COPY, the rest through the stage; the next
# batch, all new, by COPY again. A trigger notes which way each row came.
sql "create table via (id bigint, ts timestamptz, v bigint); create unique index on via (id);
     create table via_log (id bigint, staged boolean);
     create function via_note() returns trigger language plpgsql as
       \$\$ begin insert into via_log values (new.id, current_query() like '%pg_sink_stage%'); return new; end \$\$;
     create trigger via_note before insert on via for each row execute function via_note();
     insert into via values (15, now(), 0)"
sql "truncate via_log"
gen 1 60 > "$T/via"
assert_status 0 "--key: a batch meeting an existing key" -- pg-sink -t via --key id --workers 1 --batch-rows 30 "$T/via"
assert_eq "$(sql "select count(*), sum(id) from via")" "60|1830" "--key: every key once"
assert_eq "$(sql "select string_agg(format('%s-%s %s', min, max, staged), ', ' order by min) from
  (select min(id), max(id), staged from (select id, staged, id - row_number() over (partition by staged order by id) g
   from via_log) s group by staged, g) r")" \
  "1-14 f, 15-30 t, 31-60 f" "--key: new rows before the existing key by COPY, the rest of the batch staged, the next batch by COPY"
