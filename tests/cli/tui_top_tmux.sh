#!/usr/bin/env bash
# tui-top in a real terminal: a detached tmux session (80x24, then 120x40)
# reads a sensor-gen stream from a FIFO that this test keeps open; keys are
# sent as a person would type them and the screen is read with capture-pane.
source "$(dirname "$0")/lib/testlib.sh"
command -v tmux >/dev/null || { echo "skip: tmux not installed"; exit 77; }

sock=citypipe-test-$$
tm() { tmux -L "$sock" "$@" 3>&-; }
on_exit "tmux -L $sock kill-server 2>/dev/null"
on_exit 'exec 3>&- 2>/dev/null'

# Eight zones, no anomaly but one (Downtown, high), and a zone name that tries
# to retitle the terminal.
sensor-gen --fast --count 400 --seed 7 --anomaly-rate 0 > "$T/data.ndjson"
cat >> "$T/data.ndjson" <<'JSON'
{"ts":"2026-01-01T00:00:10.000Z","sensor_id":"city-0099","zone":"Downtown","temperature":58.5,"aqi":420,"anomaly":true,"severity":"high","reasons":["temperature","aqi"]}
{"ts":"2026-01-01T00:00:10.500Z","sensor_id":"evil-1","zone":"\u001b]2;HACKED\u0007Evil","temperature":1}
JSON
mkfifo "$T/in"
exec 3<>"$T/in"

screen() { tm capture-pane -p -t t > "$T/screen"; }
# wait_for TEXT: until the screen shows TEXT (fails after ~30 s on a busy machine).
wait_for() {
  for _ in $(seq 150); do
    screen
    grep -qF -- "$1" "$T/screen" && return 0
    sleep 0.2
  done
  fail "screen never showed '$1': $(cat "$T/screen")"
}
# wait_gone TEXT: until TEXT has left the screen.
wait_gone() {
  for _ in $(seq 150); do
    screen
    grep -qF -- "$1" "$T/screen" || return 0
    sleep 0.2
  done
  fail "screen still shows '$1': $(cat "$T/screen")"
}
rows_of() { grep -cE "^$1 " "$T/screen" || true; }
# widest COLUMNS: the widest line of the screen, looked at again (~10 s at
# most) while a redraw may be half done, until it is COLUMNS.
widest() {
  local w
  for _ in $(seq 50); do
    w=$(LC_ALL=C.UTF-8 wc -L < "$T/screen" | tr -d ' ')
    [ "$w" = "$1" ] && break
    sleep 0.2
    screen
  done
  echo "$w"
}

tm -f /dev/null new-session -d -s t -x 80 -y 24 \
  "env -i PATH='$PATH' HOME='$T' TERM=screen LANG=C.UTF-8 PS1='$ ' bash --norc --noprofile"
tm set-option -g -t t status off >/dev/null
tm send-keys -t t "tui-top --refresh 0.5s < '$T/in'; echo EXIT=\$?" Enter
cat "$T/data.ndjson" >&3

wait_for "402 records"
assert_contains "$T/screen" "tui-top live" "header says the input is live"
assert_contains "$T/screen" "anomalies 1 " "header counts the one anomaly"
assert_contains "$T/screen" "newest 2026-01-01T00:00:10.500Z" "header shows the newest event time"
assert_contains "$T/screen" "q:quit" "help bar at the bottom"
assert_eq "$(wc -l < "$T/screen" | tr -d ' ')" 24 "the screen is 24 lines"
assert_eq "$(widest 80)" 80 "the widest line is 80 columns"
assert_eq "$(rows_of 'Tech Hub')" 1 "Tech Hub has a row"
assert_eq "$(rows_of 'Downtown')" 1 "Downtown has a row"
assert_contains "$T/screen" 'city-0099 high' "alert feed shows sensor and severity"
assert_contains "$T/screen" 'temperature, aqi' "alert feed shows the reasons"
assert_contains "$T/screen" '\x1b]2;HACKED\x07Evil' "hostile zone name is shown escaped"
title=$(tm display-message -p -t t '#{pane_title}')
[[ "$title" != *HACKED* ]] || fail "the data retitled the terminal: $title"
pass "the data did not retitle the terminal"
grep -q traffic "$T/screen" && fail "traffic should not fit at 80 columns"

# a: anomalies only (table and feed).
tm send-keys -t t a
wait_for "[anomalies only]"
wait_gone "Tech Hub"
assert_eq "$(rows_of 'Downtown')" 1 "anomalies only keeps Downtown"
assert_eq "$(grep -cE '^(Harbor|Airport|Tech Hub|Medical Center|Industrial Park|University District|Residential (North|South)|Shopping District) ' "$T/screen" || true)" 0 "anomalies only hides zones without anomalies"
tm send-keys -t t a
wait_for "Tech Hub"

# /Downtown: filter rows by key text.
tm send-keys -t t / D o w n
wait_for "Filter: Down_"
tm send-keys -t t t o w n Enter
wait_for "filter: Downtown "
wait_gone "Tech Hub"
assert_eq "$(rows_of 'Downtown')" 1 "filter keeps Downtown"
assert_contains "$T/screen" "city-0099" "Downtown's alert stays in the feed"
tm send-keys -t t Escape
wait_for "Tech Hub"
pass "Esc clears the filter"

# Resize to 120x40: more columns fit and the screen fills the new size.
tm resize-window -t t -x 120 -y 40
wait_for "traffic"
assert_eq "$(wc -l < "$T/screen" | tr -d ' ')" 40 "the screen is 40 lines after resize"
assert_eq "$(widest 120)" 120 "the widest line is 120 columns"

# p pauses drawing.
tm send-keys -t t p
wait_for "tui-top live PAUSED"
tm send-keys -t t p
wait_gone "PAUSED"

# Sorting: > to records... then to anomalies puts Downtown first.
tm send-keys -t t '>' '>'
wait_for "sort anomalies"
# The heading and the rows may be caught mid-redraw: look again until settled.
for _ in $(seq 50); do
  first=$(grep -A1 '^KEY' "$T/screen" | tail -1 | awk '{print $1}')
  [ "$first" == Downtown ] && break
  sleep 0.2
  screen
done
assert_eq "$first" "Downtown" "sorted by anomalies, Downtown is first"

# End of input shows on the header; q quits with status 0.
exec 3>&-
wait_for "tui-top input ended"
tm send-keys -t t q
wait_for "EXIT=0"
assert_eq "$(grep -c "records  " "$T/screen" || true)" 0 "the dashboard is gone from the screen"

# The terminal is left usable: echo and canonical mode are back.
tm send-keys -t t "stty -a | tr ' ;' '\n\n' | grep -xE -- '-?(echo|icanon)' | sort | tr '\n' ' '; echo" Enter
wait_for "echo icanon"
pass "terminal restored (echo icanon)"

# Ctrl-C quits with 130 and also leaves the terminal usable.
exec 3<>"$T/in"
tm send-keys -t t "clear; tui-top < '$T/in'; echo EXIT=\$?" Enter
echo '{"zone":"Again","temperature":1}' >&3
wait_for "Again"
tm send-keys -t t C-c
wait_for "EXIT=130"
tm send-keys -t t "stty -a | tr ' ;' '\n\n' | grep -xE -- '-?(echo|icanon)' | sort | tr '\n' ' '; echo" Enter
wait_for "echo icanon"
pass "Ctrl-C: status 130, terminal restored"

# Standard input that is the terminal is refused instead of fighting for keys.
tm send-keys -t t "clear; tui-top; echo EXIT=\$?" Enter
wait_for "EXIT=64"
assert_contains "$T/screen" "standard input is the terminal" "tui-top on a terminal stdin explains itself"
