# Sourced by tests/cli/kafka_*.sh after testlib.sh: start and stop kafka-mock
# for a test, with cleanup even when the test fails.
#
#   start_kafka_mock --brokers 3 --topic t --partitions 4   # sets KAFKA_BROKERS
#   stop_kafka_mock
#
# kafka-mock serves until its standard input ends: the test holds a FIFO open
# on a file descriptor, so the mock also ends if the test shell dies.

# Short group timeouts so that rebalances and takeovers are quick on the mock.
GROUP_OPTS=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=300 -X auto.commit.interval.ms=300)

KAFKA_MOCK_PID=
KAFKA_MOCK_FD=
kafka_mock_count=0

start_kafka_mock() {
  [ -z "$KAFKA_MOCK_PID" ] || stop_kafka_mock
  kafka_mock_count=$((kafka_mock_count + 1))
  local fifo="$T/kafka-mock.$kafka_mock_count.in"
  KAFKA_MOCK_OUT="$T/kafka-mock.$kafka_mock_count.out"
  KAFKA_MOCK_ERR="$T/kafka-mock.$kafka_mock_count.err"
  mkfifo "$fifo"
  kafka-mock -v "$@" < "$fifo" > "$KAFKA_MOCK_OUT" 2> "$KAFKA_MOCK_ERR" &
  KAFKA_MOCK_PID=$!
  exec {KAFKA_MOCK_FD}> "$fifo"
  if [ "$kafka_mock_count" -eq 1 ]; then on_exit stop_kafka_mock; fi
  local i
  for ((i = 0; i < 100; i++)); do
    [ -s "$KAFKA_MOCK_OUT" ] && break
    kill -0 "$KAFKA_MOCK_PID" 2> /dev/null || fail "kafka-mock did not start: $(cat "$KAFKA_MOCK_ERR")"
    sleep 0.1
  done
  KAFKA_BROKERS=$(head -n 1 "$KAFKA_MOCK_OUT")
  [ -n "$KAFKA_BROKERS" ] || fail "kafka-mock printed no bootstrap list"
  export KAFKA_BROKERS
}

stop_kafka_mock() {
  [ -n "$KAFKA_MOCK_PID" ] || return 0
  exec {KAFKA_MOCK_FD}>&-
  local i
  for ((i = 0; i < 50; i++)); do
    kill -0 "$KAFKA_MOCK_PID" 2> /dev/null || break
    sleep 0.1
  done
  kill "$KAFKA_MOCK_PID" 2> /dev/null || true
  wait "$KAFKA_MOCK_PID" 2> /dev/null || true
  KAFKA_MOCK_PID=
}

# wait_for_lines FILE N SECONDS: until FILE has at least N lines.
wait_for_lines() {
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    [ -f "$1" ] && [ "$(wc -l < "$1")" -ge "$2" ] && return 0
    sleep 0.1
  done
  return 1
}
