#!/usr/bin/env bash
# tui-top's web views in a real browser (headless Chromium): the live page of a
# running pipeline shows the zones and counts and follows the input; hostile
# zone names stay text; the --html report shows every zone with no script and
# loads in Chromium. Screenshots of both are kept for review in
# build/test-artifacts/ (tui-top-serve.png, tui-top-report.png).
source "$(dirname "$0")/lib/testlib.sh"
command -v chromium > /dev/null || { echo "skip: chromium not installed"; exit 77; }
command -v curl > /dev/null || { echo "skip: curl not installed"; exit 77; }
artifacts="$CITYPIPE_BIN/../test-artifacts"
mkdir -p "$artifacts"

wait_until() {
  local limit=$(($1 * 10)); shift
  for ((i = 0; i < limit; i++)); do "$@" && return 0; sleep 0.1; done
  return 1
}
# browse MODE URL [OUT]: headless Chromium; MODE dump (DOM on stdout) or shot (PNG to OUT).
browse() {
  local mode=$1 url=$2 args=()
  [ "$mode" = dump ] && args=(--dump-dom) || args=(--screenshot="$3" --window-size=1280,900 --hide-scrollbars)
  timeout -k 5 120 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --user-data-dir="$(mktemp -d "$T/chrome.XXXXXX")" \
    "${args[@]}" "$url" 2> "$T/chromium.err"
}
# check_png FILE WHAT: more than a few KiB and more than one colour, counted in
# Chromium itself (a canvas over the PNG as a data: URL).
check_png() {
  local size; size=$(stat -c %s "$1")
  [ "$size" -gt 20000 ] || fail "$2: screenshot is only $size bytes"
  {
    printf '<!DOCTYPE html><html><body><p id="n">?</p><img id="i" src="data:image/png;base64,'
    base64 -w0 "$1"
    printf '"><script>var i=document.getElementById("i");function count(){var c=document.createElement("canvas");'
    printf 'c.width=i.naturalWidth;c.height=i.naturalHeight;var x=c.getContext("2d");x.drawImage(i,0,0);'
    printf 'var d=x.getImageData(0,0,c.width,c.height).data,s=new Set();for(var k=0;k<d.length;k+=4*97)s.add(d[k]<<16|d[k+1]<<8|d[k+2]);'
    printf 'document.getElementById("n").textContent="colours "+s.size+" size "+c.width+"x"+c.height;}'
    printf 'if(i.complete)count();else i.onload=count;</script></body></html>'
  } > "$T/png-check.html"
  browse dump "file://$T/png-check.html" > "$T/png-check.dom"
  local colours; colours=$(grep -o 'colours [0-9]*' "$T/png-check.dom" | grep -o '[0-9]*$')
  [ "${colours:-0}" -ge 16 ] || fail "$2: screenshot has ${colours:-no} colours: $(grep -o 'colours.*x[0-9]*' "$T/png-check.dom")"
  grep -q 'size 1280x900' "$T/png-check.dom" || fail "$2: not 1280x900: $(grep -o 'size [0-9x]*' "$T/png-check.dom")"
  pass "$2: screenshot of $size bytes, $colours colours in a sample"
}

# Hostile zone names first, then a live generated and scored stream.
cat > "$T/hostile.ndjson" <<'JSON'
{"ts":"2026-01-01T00:00:00.000Z","sensor_id":"evil-1","zone":"<img src=x onerror=\"document.body.setAttribute('data-pwned','img')\">","temperature":20,"anomaly":true,"severity":"high","reasons":["<b>bold</b>"]}
{"ts":"2026-01-01T00:00:00.100Z","sensor_id":"evil-2","zone":"</script><script>document.title='pwned'</script>","temperature":21}
{"ts":"2026-01-01T00:00:00.200Z","sensor_id":"evil-3","zone":"\"><svg onload=\"document.body.setAttribute('data-pwned','svg')\">","temperature":22}
JSON
mkfifo "$T/in"
tui-top --serve 127.0.0.1:0 --refresh 0.5s --spark aqi < "$T/in" > /dev/null 2> "$T/err" &
pid=$!
on_exit "kill $pid 2>/dev/null"
{ cat "$T/hostile.ndjson"; sensor-gen --seed 9 --speed 4 --start now | iforest-score --warmup 300 --rules city; } > "$T/in" 2> /dev/null &
gen=$!
on_exit "kill $gen 2>/dev/null; pkill -P $gen 2>/dev/null"
wait_until 30 grep -q 'http://127.0.0.1:' "$T/err" || fail "no address: $(cat "$T/err")"
url=$(grep -o 'http://127.0.0.1:[0-9]*' "$T/err" | head -1)
records() { curl -sf "$url/api/state" | grep -o '"records":[0-9]*' | head -1 | grep -o '[0-9]*$'; }
enough() { [ "$(records || echo 0)" -ge "$1" ]; }
wait_until 120 enough 400 || fail "the pipeline never got 400 records through"

# Two loads of the live page, a while apart.
browse dump "$url/" > "$T/dom1.html"
first=$(grep -o '<div class="stat" id="records"><span class="label">Records</span><span class="value">[0-9]*' "$T/dom1.html" | grep -o '[0-9]*$')
[ -n "$first" ] || fail "no record count in the DOM: $(head -c 800 "$T/dom1.html")"
for z in Downtown "Tech Hub" "University District"; do
  assert_contains "$T/dom1.html" "<tr data-key=\"$z\">" "the live page has a row for $z"
done
assert_contains "$T/dom1.html" '<svg class="spark"' "the live page has charts"
assert_contains "$T/dom1.html" '<th class="chart" scope="col">aqi' "--spark chooses the charted field"
wait_until 120 enough $((first + 200)) || fail "no new records after $first"
browse dump "$url/" > "$T/dom2.html"
second=$(grep -o '<div class="stat" id="records"><span class="label">Records</span><span class="value">[0-9]*' "$T/dom2.html" | grep -o '[0-9]*$')
[ "${second:-0}" -gt "$first" ] || fail "the count did not change between loads: $first then ${second:-none}"
pass "the record count changed between two loads ($first, then $second)"

# Hostile names are text: no element made from data, no script ran.
for dom in "$T/dom1.html" "$T/dom2.html"; do
  grep -q '<img' "$dom" && fail "an <img> element was injected"
  grep -q 'data-pwned="' "$dom" && fail "injected code ran"
  grep -q '<title>pwned' "$dom" && fail "injected script retitled the page"
  grep -q '<b>bold' "$dom" && fail "an alert reason became markup"
  grep -q '<svg onload' "$dom" && fail "an <svg> was injected"
done
assert_contains "$T/dom2.html" '&lt;img src=x onerror="document.body.setAttribute' "the <img> zone name shows as text"
assert_contains "$T/dom2.html" '&lt;/script&gt;&lt;script&gt;document.title=' "the </script> zone name shows as text"
browse dump "$url/?filter=img" > "$T/dom-img.html"
assert_contains "$T/dom-img.html" '&lt;b&gt;bold&lt;/b&gt;' "the alert reason shows as text"
grep -q '<b>bold' "$T/dom-img.html" && fail "an alert reason became markup"

# The view controls: anomalies only and a filter, through the query.
browse dump "$url/?filter=tech&sort=records" > "$T/dom3.html"
assert_eq "$(grep -o '<tr data-key=' "$T/dom3.html" | wc -l | tr -d ' ')" 1 "the filter keeps one zone"
assert_contains "$T/dom3.html" '<tr data-key="Tech Hub">' "the filter keeps Tech Hub"

browse shot "$url/?sort=anomalies" "$artifacts/tui-top-serve.png"
check_png "$artifacts/tui-top-serve.png" "live page"

# The --html report of the same kind of stream, from a file.
sensor-gen --fast --count 4000 --seed 9 | iforest-score --warmup 1000 --rules city > "$T/day.ndjson"
cat "$T/hostile.ndjson" >> "$T/day.ndjson"
tui-top --once --html "$T/report.html" "$T/day.ndjson" > /dev/null
zones=$(grep -o '"zone":"[^"]*"' "$T/day.ndjson" | sort -u | wc -l | tr -d ' ')
# Every zone without scripts: the HTML itself with any <script> element cut out.
sed -e ':a' -e 'N' -e '$!ba' -e 's/<script[^>]*>.*<\/script>//g' "$T/report.html" > "$T/noscript.html"
assert_eq "$(grep -o '<tr data-key=' "$T/noscript.html" | wc -l | tr -d ' ')" "$zones" "the report shows every zone without scripts"
assert_eq "$(grep -c '<script' "$T/report.html" || true)" 0 "the report has no script at all"
grep -qE '(src|href)="(https?:)?//' "$T/report.html" && fail "the report fetches something"
pass "the report fetches nothing"
browse dump "file://$T/report.html" > "$T/report.dom"
assert_eq "$(grep -o '<tr data-key=' "$T/report.dom" | wc -l | tr -d ' ')" "$zones" "the report loads in Chromium with every zone"
grep -q '<img' "$T/report.dom" && fail "an <img> element was injected into the report"
browse shot "file://$T/report.html" "$artifacts/tui-top-report.png"
check_png "$artifacts/tui-top-report.png" "report"
