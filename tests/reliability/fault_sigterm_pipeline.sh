#!/usr/bin/env bash
# SIGTERM to a whole live pipeline (sensor-gen with malformed lines |
# iforest-score | pg-sink --key), every process at once: each stage ends after
# a clean flush, and every line the first reading stage (iforest-score) read
# is either a row in PostgreSQL or a line in a reject file.
source "$(dirname "$0")/../cli/lib/testlib.sh"
source "$(dirname "$0")/../cli/lib/pg.sh"
source "$(dirname "$0")/lib/hostile.sh"  # stat_of
pg_start

# 40 sensors at 50x real time: 2000 records/s, plus 2% malformed lines; far
# more than is sent before the signal.
setsid bash -c '
  sensor-gen --speed 50 --duration 1h --seed 92 --corrupt-rate 0.02 --start 2026-01-01T00:00:00Z 2> "$1/gen.err" |
    iforest-score --fields temperature,humidity,aqi,noise_db,traffic --warmup 200 --seed 7 --trees 30 --rules city \
      --stats --reject "$1/score.rejected" 2> "$1/score.err" |
    pg-sink -t live --create --key sensor_id,ts --batch-ms 100ms --stats --reject "$1/sink.rejected" 2> "$1/sink.err"
  echo "${PIPESTATUS[*]}" > "$1/status"' _ "$T" &
leader=$!
on_exit "kill -KILL -- -$leader 2>/dev/null"

at=0
for _ in $(seq 1 300); do
  at=$(sql 'select count(*) from live' 2>/dev/null || echo 0)
  [ "$at" -ge 1000 ] && break
  sleep 0.1
done
[ "$at" -ge 1000 ] || fail "the pipeline did not start: $(cat "$T"/*.err)"
# Every process of the pipeline, at once (not the bash that waits for them).
pids=$(pgrep -g "$leader" -x 'sensor-gen|iforest-score|pg-sink' | tr '\n' ' ')
echo "# SIGTERM to $pids with $at rows in the table"
kill -TERM $pids
for _ in $(seq 1 300); do [ -s "$T/status" ] && break; sleep 0.1; done
[ -s "$T/status" ] || fail "the pipeline did not end within 30 s of SIGTERM"
cat "$T/score.err" "$T/sink.err" | grep -v '^[a-z-]*: [^ ]*:[0-9]*: ' >&2 || true

for status in $(cat "$T/status"); do
  case $status in 0 | 130 | 141) ;; *) fail "a stage ended with status $status (all: $(cat "$T/status"))" ;; esac
done
pass "every stage ended with 0, 130 or a broken pipe ($(cat "$T/status"))"
grep -q ' stats ' "$T/score.err" || fail "iforest-score printed no --stats line after SIGTERM"
grep -q ' stats ' "$T/sink.err" || fail "pg-sink printed no --stats line after SIGTERM"

read_in=$(stat_of "$T/score.err" in); read_bad=$(stat_of "$T/score.err" rejected)
touch "$T/score.rejected" "$T/sink.rejected"
rows=$(sql 'select count(*) from live')
kept=$(( $(count_lines "$T/score.rejected") + $(count_lines "$T/sink.rejected") ))
echo "# iforest-score read $read_in records and $read_bad bad lines; table $rows rows; reject files $kept lines"
[ "$read_bad" -gt 0 ] || fail "no malformed line was read; the reject path was not tested"
assert_eq "$(count_lines "$T/score.rejected")" "$read_bad" "iforest-score kept each bad line it counted"
assert_eq "$((rows + kept))" "$((read_in + read_bad))" "every line read by the first stage is in PostgreSQL or a reject file"
assert_eq "$(sql 'select count(distinct (sensor_id, ts)) from live')" "$rows" "no row twice"

# The same, made certain: a writer that, on SIGTERM, writes the rest of its
# records as it stops; the reader gets the signal first. It still reads all of them
# (it drains its pipe after a stop), and ends with 130.
cp "$CITYPIPE_SOURCE/examples/fixtures/city-pass.ndjson" "$T/some"
head -n 100 "$T/some" > "$T/first"; tail -n +101 "$T/some" > "$T/rest"
setsid bash -c '
  perl -e '\''$| = 1; open(my $r, "<", $ARGV[1]) or die; my @rest = <$r>;
    $SIG{TERM} = sub { print @rest; exit 0 };
    open(my $f, "<", $ARGV[0]) or die; print <$f>; sleep 60'\'' "$1/first" "$1/rest" |
    window-agg --window tumble:1m --key zone --stats > /dev/null 2> "$1/drain.err"
  echo "${PIPESTATUS[*]}" > "$1/drain.status"' _ "$T" &
dleader=$!
on_exit "kill -KILL -- -$dleader 2>/dev/null"
sleep 1
reader=$(pgrep -g "$dleader" -x window-agg); writer=$(pgrep -g "$dleader" -x perl)
kill -TERM "$reader"; kill -TERM "$writer"
for _ in $(seq 1 100); do [ -s "$T/drain.status" ] && break; sleep 0.1; done
assert_eq "$(cat "$T/drain.status")" "0 130" "writer 0, reader 130 after SIGTERM"
assert_eq "$(stat_of "$T/drain.err" in)" "$(count_lines "$T/some")" "the reader read what its writer wrote as it stopped"
