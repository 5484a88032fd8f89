#!/usr/bin/env bash
# A new user's mistakes and a dead service (issue 15): each one fails loudly
# and fast. For every mistake three things are checked: the exit status, a
# message naming the cause, and the time to fail (under 5 s for anything not
# worth retrying; bounds are generous for a loaded machine).
#
source "$(dirname "$0")/../cli/lib/testlib.sh"
source "$(dirname "$0")/../cli/lib/kafka.sh"
source "$(dirname "$0")/../cli/lib/pg.sh"

fast=5000  # ms: a mistake that no retry can fix

# mistake NAME STATUS MAX_MS TEXT -- COMMAND...: runs COMMAND (stdout to
# $T/NAME.out, stderr to $T/NAME.err) and checks its status, that stderr
# holds TEXT, and that it took at most MAX_MS.
mistake() {
  local name=$1 want=$2 max_ms=$3 text=$4
  shift 5
  local start rc=0 took
  start=$(date +%s%N)
  # A hang is a failure with its stderr, not the suite's timeout: a guard of 2 min.
  timeout -k 5 120 "$@" > "$T/$name.out" 2> "$T/$name.err" || rc=$?
  took=$((($(date +%s%N) - start) / 1000000))
  [ "$rc" -eq "$want" ] || fail "$name: expected status $want, got $rc; stderr: $(head -c 600 "$T/$name.err")"
  [ -z "$text" ] || grep -qF -- "$text" "$T/$name.err" || fail "$name: '$text' not in stderr: $(head -c 600 "$T/$name.err")"
  [ "$took" -le "$max_ms" ] || fail "$name: took $took ms, more than $max_ms"
  pass "$name: status $rc, says '$text', $took ms"
}
# lacks FILE TEXT WHAT: TEXT must not be in FILE.
lacks() { ! grep -qF -- "$2" "$1" || fail "$3: '$2' found in $1"; pass "$3"; }

sensor-gen --fast --count 1200 --seed 15 > "$T/readings.ndjson"

## Typos on the command line: a suggestion, never CLI11's raw words (item 8, 11).
mistake unknown-option 64 $fast "unknown option --coutn; did you mean '--count'?" -- sensor-gen --coutn 5
mistake unknown-option-window-agg 64 $fast "did you mean '--count-true'?" -- window-agg --count-tru anomaly
mistake kafka-unknown-before-required 64 $fast "unknown option --bogus" -- kafka-cat-in --bogus
lacks "$T/kafka-unknown-before-required.err" "is required" "kafka-cat-in --bogus does not say -t is required"
mistake speed-zero 64 $fast "--speed: not a positive number: 0" -- sensor-gen --speed 0
[ "$(wc -c < "$T/speed-zero.err")" -lt 200 ] || fail "--speed 0: the message is $(wc -c < "$T/speed-zero.err") bytes"
mistake seed-abc 64 $fast "--seed: not a whole number from 0 to 18446744073709551615: abc" -- sensor-gen --seed abc
lacks "$T/seed-abc.err" "Could not convert" "--seed abc: no raw CLI11 message"
mistake trees-zero 64 $fast "--trees: must be a whole number from 1 to 100000, got '0'" -- iforest-score --trees 0
mistake mock-bad-duration 64 $fast "--errors-after: '5x' is not a duration" -- kafka-mock --errors-after 5x --no-stdin
mistake count-negative 64 $fast "--count: not a whole number from 0 up: -5" -- sensor-gen -c -5
mistake seed-negative 64 $fast "--seed: not a whole number from 0" -- sensor-gen --seed -1

## Missing files are found first, before any service is contacted (item 11).
mistake missing-file-kafka 66 $fast "$T/nope.ndjson: No such file" -- \
  kafka-cat-in -b 127.0.0.1:1 -t readings "$T/nope.ndjson"
mistake missing-file-window-agg 66 $fast "$T/nope.ndjson: No such file" -- window-agg "$T/nope.ndjson"
mistake missing-model 66 $fast "$T/nope.json" -- iforest-score -m "$T/nope.json" "$T/readings.ndjson"

## Brokers: empty lists are errors; an unreachable broker is named with the reason (item 1).
mistake empty-kafka-brokers 64 $fast "KAFKA_BROKERS is set but empty" -- \
  env KAFKA_BROKERS= kafka-cat-in -t readings "$T/readings.ndjson"
mistake empty-b 64 $fast "-b: empty broker list" -- kafka-cat-in -b '' -t readings "$T/readings.ndjson"
head -1 "$T/readings.ndjson" > "$T/one.ndjson"
# Worth retrying, so slower: fails after message.timeout.ms (3 s here).
mistake dead-broker 69 30000 "127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection refused" -- \
  kafka-cat-in -b 127.0.0.1:1 -t readings -X message.timeout.ms=3000 "$T/one.ndjson"
assert_contains "$T/dead-broker.err" "1 of 1 records not delivered" "dead broker: the undelivered count"
mistake no-brokers-said 69 30000 "no -b and no KAFKA_BROKERS: using localhost:9092" -- \
  env -u KAFKA_BROKERS kafka-cat-in -t readings -X bootstrap.servers=127.0.0.1:1 -X message.timeout.ms=2000 "$T/one.ndjson"

## Ctrl-C with the broker down: the first says what is pending, a second or SIGTERM abandons at once (item 2).
# signal_twice NAME SIGNALS...: a producer whose one record cannot be delivered
# for 60 s; each signal is sent once the previous one was heard.
abandon() {
  local name=$1
  shift
  kafka-cat-in -b 127.0.0.1:1 -t readings "$T/one.ndjson" > /dev/null 2> "$T/$name.err" &
  local pid=$! sig i start rc=0 took
  for ((i = 0; i < 100; i++)); do grep -q "brokers are down" "$T/$name.err" && break; sleep 0.1; done
  grep -q "brokers are down" "$T/$name.err" || fail "$name: no 'brokers are down' within 10 s: $(cat "$T/$name.err")"
  assert_contains "$T/$name.err" "127.0.0.1:1/bootstrap" "$name: the down broker is named without -v"
  for sig in "$@"; do
    if [ "$sig" = INT2 ]; then
      for ((i = 0; i < 50; i++)); do grep -q "Ctrl-C again" "$T/$name.err" && break; sleep 0.1; done
      assert_contains "$T/$name.err" "waiting up to 60 s for 1 deliveries; Ctrl-C again to abandon" \
        "$name: the first Ctrl-C says what is pending"
      sig=INT
    fi
    start=$(date +%s%N)
    kill -s "$sig" "$pid"
  done
  wait "$pid" || rc=$?
  took=$((($(date +%s%N) - start) / 1000000))
  assert_eq "$rc" 130 "$name: status"
  assert_contains "$T/$name.err" "abandoned: 1 of 1 records not delivered to readings" "$name: the undelivered count"
  [ "$took" -le "$fast" ] || fail "$name: $took ms from the last signal to exit"
  pass "$name: exited $took ms after the last signal"
}
abandon ctrl-c-twice INT INT2
abandon sigterm TERM
# A consumer with the broker down names it, and one Ctrl-C ends it (nothing is pending).
kafka-cat-in -C -b 127.0.0.1:1 -t readings -e > /dev/null 2> "$T/consume-dead.err" &
pid=$!
for ((i = 0; i < 100; i++)); do grep -q "Connection refused" "$T/consume-dead.err" && break; sleep 0.1; done
assert_contains "$T/consume-dead.err" "kafka: broker 127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection refused" \
  "consumer, broker down: named with the reason without -v"
start=$(date +%s%N)
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
took=$((($(date +%s%N) - start) / 1000000))
assert_eq "$rc" 130 "consumer, broker down: Ctrl-C status"
[ "$took" -le "$fast" ] || fail "consumer, broker down: $took ms from Ctrl-C to exit"
pass "consumer, broker down: exited $took ms after Ctrl-C"

## Every line rejected: 65 with a diagnosis (item 5).
sed 's/"ts"/"time"/' "$T/readings.ndjson" > "$T/no-ts.ndjson"
mistake window-agg-no-ts 65 $fast "all 1200 input lines were rejected: missing or invalid time field 'ts'; is the time field named differently? (--time-field)" -- \
  window-agg "$T/no-ts.ndjson"
head -c 3000 "$CITYPIPE_BIN/sensor-gen" > "$T/binary.ndjson"
mistake binary-input 65 $fast "$T/binary.ndjson is binary data, not NDJSON text" -- window-agg "$T/binary.ndjson"
gzip -c "$T/readings.ndjson" > "$T/readings.ndjson.gz"
mistake gzip-input 0 $fast "" -- window-agg --stats "$T/readings.ndjson.gz"
assert_contains "$T/gzip-input.err" "in=1200 " "window-agg reads a .ndjson.gz as the records it holds"
head -c 2000 "$T/readings.ndjson.gz" > "$T/truncated.ndjson.gz"
mistake gzip-truncated 65 $fast "truncated.ndjson.gz" -- window-agg "$T/truncated.ndjson.gz"
iforest-score train --seed 1 -o "$T/model.json" "$T/readings.ndjson" 2> /dev/null
sed 's/"traffic"/"vehicle_count"/' "$T/readings.ndjson" > "$T/other.ndjson"
mistake model-fields-lacking 65 $fast "the model expects traffic, which the input lacks" -- \
  iforest-score -m "$T/model.json" "$T/other.ndjson"
assert_contains "$T/model-fields-lacking.err" "all 1200 input lines were rejected" "model fields: the count"

## Field typos warned of with a suggestion, after the first records (item 8).
mistake field-typos 0 $fast "--fields 'temprature' is in none of the first 1000 records; did you mean 'temperature'?" -- \
  bash -c "cat '$T/readings.ndjson' | window-agg --fields temprature --key zon --window tumble:5m"
assert_contains "$T/field-typos.err" "--key 'zon' is in none of the first 1000 records; did you mean 'zone'?" "window-agg --key typo"
mistake rule-typo 0 $fast "the rule field 'aqii' is in none of the first 1000 records; did you mean 'aqi'?" -- \
  iforest-score -m "$T/model.json" --rule 'aqii>300' "$T/readings.ndjson"
mistake sort-typo 64 $fast "did you mean 'temperature'?" -- tui-top --once --sort tempreature "$T/readings.ndjson"
mistake spark-typo 64 $fast "--spark: no field 'nosuch' in the input" -- tui-top --once --spark nosuch "$T/readings.ndjson"

## --reject FILE that cannot be written: 74, never a silent loss (item 6).
hostile() { cat "$T/readings.ndjson"; echo 'not json'; }
hostile > "$T/hostile.ndjson"
mistake reject-full-window-agg 74 $fast "--reject /dev/full: No space left on device" -- \
  window-agg --reject /dev/full "$T/hostile.ndjson"
mistake reject-full-iforest-score 74 $fast "--reject /dev/full: No space left on device" -- \
  iforest-score -m "$T/model.json" --reject /dev/full "$T/hostile.ndjson"
mistake reject-full-tui-top 74 $fast "--reject /dev/full: No space left on device" -- \
  tui-top --once --reject /dev/full "$T/hostile.ndjson"
# pg-sink's --reject /dev/full: at the end, with a server.

## Files a tool writes: one atomic write for all (item 7).
echo old > "$T/target.json"
ln -s target.json "$T/link.json"
mistake train-through-symlink 0 $fast "" -- iforest-score train --seed 1 -o "$T/link.json" "$T/readings.ndjson"
[ -L "$T/link.json" ] || fail "train -o LINK replaced the symbolic link"
assert_eq "$(cmp -s "$T/target.json" "$T/model.json" && echo same)" same "train -o LINK: the link's target holds the model"
mistake train-stdout 0 $fast "" -- iforest-score train --seed 1 -o - "$T/readings.ndjson"
[ ! -e ./- ] || fail "train -o - created a file named -"
assert_eq "$(cmp -s "$T/train-stdout.out" "$T/model.json" && echo same)" same "train -o -: the model on standard output"
mkfifo "$T/model.fifo"
cat "$T/model.fifo" > "$T/from-fifo.json" &
mistake train-fifo 0 $fast "" -- iforest-score train --seed 1 -o "$T/model.fifo" "$T/readings.ndjson"
wait $!
[ -p "$T/model.fifo" ] || fail "train -o FIFO replaced the FIFO"
assert_eq "$(cmp -s "$T/from-fifo.json" "$T/model.json" && echo same)" same "train -o FIFO: the model through the FIFO"
mistake train-dev-full 74 $fast "cannot write /dev/full: No space left on device" -- \
  iforest-score train --seed 1 -o /dev/full "$T/readings.ndjson"
[ -c /dev/full ] || fail "/dev/full is no longer a device"
mistake train-no-dir 74 $fast "cannot write $T/no/such/model.json" -- \
  iforest-score train --seed 1 -o "$T/no/such/model.json" "$T/readings.ndjson"
ls -A "$T" | grep -q '^\.target\.json\.\|^\.model\.json\.' && fail "a temporary file was left behind"
pass "no temporary file left behind"
mistake metrics-dev-full 74 $fast "--metrics-file /dev/full could not be written" -- \
  window-agg --metrics-file /dev/full "$T/readings.ndjson"

## Live stages say what they wait for (item 9).
mistake warmup-note 0 15000 "warming up: " -- \
  bash -c "timeout -k 2 4 sensor-gen --seed 1 | iforest-score --warmup 2000"
mistake no-model-note 0 15000 "training on the whole input: nothing is written before it ends" -- \
  bash -c "timeout -k 2 4 sensor-gen --seed 1 | iforest-score"

## Checkpoints cannot carry an online model (the checkpoint protocol).
{ head -5 "$T/readings.ndjson"; echo '{"_ctl":"checkpoint","id":1,"parts":[]}'; tail -5 "$T/readings.ndjson"; } > "$T/ckpt.ndjson"
mistake checkpoint-warmup 64 $fast "--warmup/--retrain-every keep model state that Kafka checkpoints do not carry" -- \
  iforest-score --warmup 3 "$T/ckpt.ndjson"
assert_eq "$(count_lines "$T/checkpoint-warmup.out")" 0 "checkpoint with --warmup: nothing written after it"

## The README tour's Kafka lines, as pasted (item 1), and kafka-cat-in -k with a typo (item 5, 8).
start_kafka_mock --topic readings
cd "$T"
tour=$(grep -A1 '^kafka-mock --no-stdin' "$CITYPIPE_SOURCE/README.md" | head -2)
[ -n "$tour" ] || fail "the README tour has no kafka-mock line"
mock_brokers=$KAFKA_BROKERS
KAFKA_BROKERS=
eval "$tour" > "$T/tour-mock.out"
tour_mock=$!
on_exit "kill $tour_mock 2> /dev/null"
[ -n "$KAFKA_BROKERS" ] || fail "README tour: KAFKA_BROKERS is empty"
sensor-gen --fast -c 300 | kafka-cat-in -t readings -k zone 2> "$T/tour.err" || fail "tour produce: $(cat "$T/tour.err")"
assert_eq "$(kafka-cat-in -C -t readings -e 2> /dev/null | wc -l)" 300 "README tour: the records are in the topic"
kill "$tour_mock"
wait "$tour_mock" || true
export KAFKA_BROKERS=$mock_brokers
[ ! -e "$T/mock.txt" ] || fail "kafka-mock left its --ready-file behind"
pass "kafka-mock removed its --ready-file at exit"
cd - > /dev/null
mistake kafka-key-typo 65 $fast "all 1200 input lines were rejected: no key field \"zon\"" -- \
  kafka-cat-in -t readings -k zon "$T/readings.ndjson"
assert_contains "$T/kafka-key-typo.err" "-k 'zon' is in none of the first 1000 records; did you mean 'zone'?" "kafka-cat-in -k typo: suggestion"
mistake reject-full-kafka-cat-in 74 $fast "--reject /dev/full: No space left on device" -- \
  kafka-cat-in -t readings --reject /dev/full "$T/hostile.ndjson"
stop_kafka_mock

## pg-sink's --reject on a full disk (item 6), against a throwaway server.
pg_start
mistake reject-full-pg-sink 74 $fast "--reject /dev/full: No space left on device" -- \
  pg-sink -t readings --create --reject /dev/full "$T/hostile.ndjson"

## pg-sink (items 3-4): what no retry can fix fails at once; no silent success.
## (Ctrl-C while the server is down is tests/cli/pg_sink_errors.sh's.)
sql 'create table nomatch (a int, b text); create table strict_t (x int not null, sensor_id text)'
mistake pg-unknown-db 69 $fast 'database "nosuchdb" does not exist (not retried)' -- \
  pg-sink -d dbname=nosuchdb -t nomatch "$T/readings.ndjson"
mistake pg-bad-conninfo 64 $fast "" -- pg-sink -d 'host=x nonsense=1' -t nomatch "$T/readings.ndjson"
mistake pg-no-matching-column 65 $fast 'no field of the input is a column of "nomatch"' -- \
  pg-sink -t nomatch "$T/readings.ndjson"
mistake pg-all-refused 65 $fast "records were refused and none committed" -- pg-sink -t strict_t "$T/readings.ndjson"
mistake pg-key-without-index 64 $fast "CREATE UNIQUE INDEX" -- pg-sink -t strict_t --key sensor_id "$T/readings.ndjson"
echo "# all user errors fail loudly and fast"
