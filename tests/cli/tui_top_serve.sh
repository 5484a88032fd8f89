#!/usr/bin/env bash
# tui-top --serve without a browser: /api/state, Server-Sent Events, /metrics,
# the read-only and size limits, the cap on live pages, serving after the end
# of input until SIGTERM (130), --html, and bad addresses.
source "$(dirname "$0")/lib/testlib.sh"
command -v curl > /dev/null || { echo "skip: curl not installed"; exit 77; }

# wait_until SECONDS COMMAND...: polls COMMAND every 0.1 s.
wait_until() {
  local limit=$(($1 * 10)); shift
  for ((i = 0; i < limit; i++)); do "$@" && return 0; sleep 0.1; done
  return 1
}

sensor-gen --fast --count 600 --seed 21 > "$T/a.ndjson"
sensor-gen --fast --count 600 --seed 22 --start 2026-01-01T00:10:00Z > "$T/b.ndjson"
zones=$(grep -o '"zone":"[^"]*"' "$T/a.ndjson" | sort -u | wc -l | tr -d ' ')

# Input from a FIFO this test holds open: live until it is closed.
mkfifo "$T/in"
tui-top --serve 127.0.0.1:0 --refresh 0.5s --html "$T/report.html" < "$T/in" > "$T/out" 2> "$T/err" &
pid=$!
on_exit "kill $pid 2>/dev/null"
exec 3> "$T/in"
wait_until 30 grep -q 'serving the dashboard on http://127.0.0.1:' "$T/err" || fail "no address on stderr: $(cat "$T/err")"
url=$(grep -o 'http://127.0.0.1:[0-9]*' "$T/err" | head -1)
grep -q "no authentication" "$T/err" && fail "loopback should not warn"
pass "serves on loopback and says where ($url)"

state() { curl -sf "$url/api/state" > "$T/state.json"; }
records_are() { state && grep -q "\"records\":$1," "$T/state.json"; }
cat "$T/a.ndjson" >&3
wait_until 60 records_are 600 || fail "/api/state never showed 600 records: $(head -c 300 "$T/state.json")"
pass "/api/state counts the records read so far"
assert_contains "$T/state.json" '"live":true' "/api/state: input is live"
assert_eq "$(grep -o '{"key":' "$T/state.json" | wc -l | tr -d ' ')" "$zones" "/api/state: a row per zone"
curl -sf "$url/api/state?sort=records&filter=down" > "$T/filtered.json"
assert_eq "$(grep -o '{"key":' "$T/filtered.json" | wc -l | tr -d ' ')" 1 "/api/state follows the view's filter"

# Headers: the strict policy and no sniffing on every response.
curl -sf -D "$T/headers" -o "$T/page.html" "$url/"
assert_contains "$T/headers" "Content-Security-Policy: default-src 'none'; script-src 'self'" "strict CSP"
assert_contains "$T/headers" "X-Content-Type-Options: nosniff" "nosniff"
assert_contains "$T/page.html" '<tr data-key="Downtown">' "the page has the rows"

# Read-only: no other method, no long requests, no bodies.
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' -X POST --data x "$url/")" 405 "POST is refused"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$url/api/state")" 405 "DELETE is refused"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$url/?filter=$(head -c 3000 /dev/zero | tr '\0' a)")" 414 "a long request target is refused"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$url/nosuch")" 404 "unknown paths are 404"

# Server-Sent Events: a stream per client with a fragment per refresh.
for i in $(seq 16); do curl -sN "$url/events?sort=records" > "$T/sse.$i" 2>/dev/null & echo $! >> "$T/sse.pids"; done
on_exit 'kill $(cat "$T/sse.pids") 2>/dev/null'
sse_ready() { [ "$(grep -l '^data: <section class="summary"' "$T"/sse.* 2>/dev/null | wc -l)" -ge 16 ]; }
wait_until 60 sse_ready || fail "not every stream got an event"
pass "16 live pages get events"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$url/events")" 503 "a 17th live page is refused"
cat "$T/b.ndjson" >&3
wait_until 60 grep -q '<span class="value">1200</span>' "$T/sse.1" || fail "the stream never showed 1200 records"
pass "events follow the input"
kill $(cat "$T/sse.pids") 2>/dev/null || true
curl_one_more() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$url/events")" != 503 ]; }
wait_until 30 curl_one_more || fail "streams of gone clients were not released"
pass "a vanished browser frees its slot"

# End of input: the report is written, the final state stays served.
exec 3>&-
wait_until 30 test -s "$T/report.html" || fail "--html was not written at end of input"
pass "--html written at end of input"
ended() { state && grep -q '"live":false' "$T/state.json"; }
wait_until 30 ended || fail "the state never said the input ended"
sleep 0.2
kill -0 "$pid" 2> /dev/null || fail "tui-top stopped serving at end of input"
state
assert_contains "$T/state.json" '"records":1200,' "the final state is still served"
curl -sf "$url/metrics" > "$T/metrics"
assert_contains "$T/metrics" 'citypipe_records_in_total{tool="tui-top"} 1200' "/metrics counts records in"
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
assert_eq "$rc" 130 "SIGTERM ends serving with 130"
assert_eq "$(grep -o '<tr data-key=' "$T/report.html" | wc -l | tr -d ' ')" "$zones" "the report has a row per zone"
grep -q '<script' "$T/report.html" && fail "the report has a script"
pass "the report has no script"

# Any other address warns that there is no authentication.
printf '%s\n' '{"zone":"A","t":1}' | tui-top --serve 0.0.0.0:0 > /dev/null 2> "$T/any.err" &
any=$!
wait_until 30 grep -q "no authentication" "$T/any.err" || fail "no warning for 0.0.0.0: $(cat "$T/any.err")"
pass "a non-loopback address warns: no authentication"
kill -INT "$any"; rc=0; wait "$any" || rc=$?
assert_eq "$rc" 130 "SIGINT ends serving with 130"

# Addresses.
assert_status 64 "a bad address is a usage error" -- tui-top --serve 127.0.0.1:http --once "$T/a.ndjson"
assert_status 64 "IPv6 needs brackets" -- tui-top --serve ::1:8080 --once "$T/a.ndjson"
tui-top --serve "127.0.0.1:0" < /dev/null > /dev/null 2> "$T/busy.err" &
busy=$!
wait_until 30 grep -q 'http://127.0.0.1:' "$T/busy.err" || fail "second server did not start"
busy_port=$(grep -o 'http://127.0.0.1:[0-9]*' "$T/busy.err" | grep -o '[0-9]*$')
assert_status 69 "an address in use is unavailable" -- tui-top --serve "127.0.0.1:$busy_port" --once "$T/a.ndjson"
kill -TERM "$busy"; wait "$busy" || true
