#!/usr/bin/env bash
# replay-live.sh: drive the live path from a recording. An hour of city
# readings is recorded as fast as the machine goes, then played back at 60x
# (an hour in a minute), paced by event time and retimed to start now, into
# tui-top or into Kafka, where live workers and windows see it as a live feed.
#
#   sensor-gen --fast --duration 1h | gzip > recording.ndjson.gz
#   sensor-gen --replay recording.ndjson.gz --speed 60 --retime
#     | tui-top                                 SINK=tui   (the default)
#     | kafka-cat-in -t readings -k zone        SINK=kafka
#
# Run it:   examples/replay-live.sh               (q or Ctrl-C in tui-top stops it)
#           SINK=kafka examples/replay-live.sh    (to $KAFKA_BROKERS, or a kafka-mock started here)
#
# Environment (defaults in brackets):
#   DURATION   event time recorded [1h]
#   SPEED      replay speed, or "fast" for no pacing [60]
#   SENSORS    number of sensors [40]
#   SEED       seed of the recording [1]
#   RECORDING  the recording's path; kept when given, else a temporary file
#              [temporary]; an existing file is replayed as it is
#   SINK       tui or kafka [tui]
#   TUI        on (dashboard), once (one snapshot at the end) or auto (on a
#              terminal, else once) [auto]
#   TOPIC      Kafka topic [readings]
#   KAFKA_BROKERS  bootstrap brokers; unset: kafka-mock is started here and
#              stopped at the end
#   CITYPIPE_BIN  folder of the citypipe tools, put first on PATH
#
# With SINK=kafka the script ends with a line "replay-live.sh: N records to
# TOPIC at BROKERS". Ctrl-C stops the replay; the script then exits 130.
set -euo pipefail
[ -n "${CITYPIPE_BIN:-}" ] && export PATH="$CITYPIPE_BIN:$PATH"

DURATION=${DURATION:-1h}
SPEED=${SPEED:-60}
SENSORS=${SENSORS:-40}
SEED=${SEED:-1}
SINK=${SINK:-tui}
TUI=${TUI:-auto}
TOPIC=${TOPIC:-readings}
case "$SINK" in tui | kafka) ;; *) echo "replay-live.sh: SINK must be tui or kafka, not '$SINK'" >&2; exit 64 ;; esac
if [ "$TUI" = auto ]; then
  if [ -t 1 ]; then TUI=on; else TUI=once; fi
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/replay-live.XXXXXX")
mock_pid='' mock_fd=''
cleanup() {
  if [ -n "$mock_pid" ]; then exec {mock_fd}>&-; wait "$mock_pid" 2> /dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

recording=${RECORDING:-$work/recording.ndjson.gz}
if [ ! -s "$recording" ]; then
  sensor-gen --fast --duration "$DURATION" --sensors "$SENSORS" --seed "$SEED" | gzip -1 > "$recording"
  echo "replay-live.sh: recorded $DURATION of $SENSORS sensors in $recording" >&2
fi

replay=(sensor-gen --replay "$recording" --retime)
if [ "$SPEED" = fast ]; then replay+=(--fast); else replay+=(--speed "$SPEED"); fi

if [ "$SINK" = tui ]; then
  view=(tui-top --span 5m)
  [ "$TUI" = once ] && view+=(--once)
  rc=0
  "${replay[@]}" | "${view[@]}" || rc=$?
  exit $rc
fi

if [ -z "${KAFKA_BROKERS:-}" ]; then
  # kafka-mock serves until its standard input ends: we hold a FIFO open, so
  # it stops with this script.
  mkfifo "$work/mock.in"
  kafka-mock --topic "$TOPIC" --partitions 4 < "$work/mock.in" > "$work/mock.out" 2> "$work/mock.err" &
  mock_pid=$!
  exec {mock_fd}> "$work/mock.in"
  for _ in $(seq 100); do [ -s "$work/mock.out" ] && break; sleep 0.1; done
  KAFKA_BROKERS=$(head -n 1 "$work/mock.out")
  [ -n "$KAFKA_BROKERS" ] || { echo "replay-live.sh: kafka-mock did not start: $(cat "$work/mock.err")" >&2; exit 69; }
  export KAFKA_BROKERS
  echo "replay-live.sh: started kafka-mock at $KAFKA_BROKERS" >&2
fi
"${replay[@]}" --stats 2> "$work/replay.err" | kafka-cat-in -t "$TOPIC" -k zone
cat "$work/replay.err" >&2
n=$(sed -n 's/.*stats in=[0-9]* out=\([0-9]*\).*/\1/p' "$work/replay.err")
echo "replay-live.sh: ${n:-0} records to $TOPIC at $KAFKA_BROKERS"
