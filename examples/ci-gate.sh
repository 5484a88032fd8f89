#!/usr/bin/env bash
# ci-gate.sh: a CI step that scores a recorded stream with a committed model
# and fails the job when the anomaly rate, or one zone's average of a field,
# passes its bound.
#
#   examples/ci-gate.sh [FILE ...]        (plain or gzip NDJSON)
#
#   # .gitlab-ci.yml / GitHub Actions step:
#   #   run: MAX_ANOMALY_RATE=0.10 examples/ci-gate.sh recordings/today.ndjson.gz
#
# Environment (defaults in brackets):
#   MODEL             the iforest-score model [examples/fixtures/city-model.json]
#   RULES             iforest-score rule set, or "none" [city]
#   MAX_ANOMALY_RATE  largest share of anomalous records allowed [0.10]
#   MAX_ZONE_AVG      field=bound,... : largest average of a field per zone
#                     [aqi=200,noise_db=90,temperature=35]
#   KEY               the grouping field [zone]
#   HTML              also write tui-top's dashboard of the scored recording to
#                     this file: one self-contained page, for the job's artifacts [none]
#   CITYPIPE_BIN      folder of the citypipe tools, put first on PATH
# Without FILE it gates examples/fixtures/city-pass.ndjson.
#
# Exit status: 0 within bounds, 1 a bound passed (each one named on standard
# error), 64 bad usage, 65 no records to judge, 66 a file is missing, or the
# status of a tool that failed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ -n "${CITYPIPE_BIN:-}" ] && export PATH="$CITYPIPE_BIN:$PATH"

MODEL=${MODEL:-$here/fixtures/city-model.json}
RULES=${RULES:-city}
MAX_ANOMALY_RATE=${MAX_ANOMALY_RATE:-0.10}
MAX_ZONE_AVG=${MAX_ZONE_AVG:-aqi=200,noise_db=90,temperature=35}
KEY=${KEY:-zone}
HTML=${HTML:-}
[ $# -gt 0 ] || set -- "$here/fixtures/city-pass.ndjson"

case "${1:-}" in -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;; esac
for f in "$@" "$MODEL"; do
  [ -f "$f" ] || { echo "ci-gate: $f: no such file" >&2; exit 66; }
done
fields=()
IFS=, read -r -a bounds <<< "$MAX_ZONE_AVG"
for b in "${bounds[@]}"; do
  [[ "$b" =~ ^[A-Za-z_][A-Za-z0-9_]*=-?[0-9.]+$ ]] || { echo "ci-gate: MAX_ZONE_AVG: '$b' is not field=number" >&2; exit 64; }
  fields+=("${b%%=*}")
done
[[ "$MAX_ANOMALY_RATE" =~ ^[0-9.]+$ ]] || { echo "ci-gate: MAX_ANOMALY_RATE must be a number" >&2; exit 64; }

work=$(mktemp -d "${TMPDIR:-/tmp}/ci-gate.XXXXXX")
trap 'rm -rf "$work"' EXIT

rules=()
[ "$RULES" = none ] || rules=(--rules "$RULES")
# One session window with a ten-year gap is "the whole recording" per key.
# shellcheck disable=SC2054 # commas inside option values
whole=(window-agg --window session:3650d --agg count,avg --count-true anomaly)
fieldlist=$(IFS=,; echo "${fields[*]}")

zcat -f -- "$@" | iforest-score -m "$MODEL" "${rules[@]}" > "$work/scored.ndjson"
[ -z "$HTML" ] || tui-top --once --key "$KEY" --sort anomalies --html "$HTML" "$work/scored.ndjson" > /dev/null
"${whole[@]}" --key '' --fields "${fields[0]}" "$work/scored.ndjson" > "$work/total.ndjson"
"${whole[@]}" --key "$KEY" --fields "$fieldlist" "$work/scored.ndjson" > "$work/zones.ndjson"

# field VALUE from one flat JSON line (window-agg's output is flat).
get() { sed -nE "s/.*\"$1\":(\"([^\"]*)\"|([^,}]*)).*/\2\3/p" <<< "$2"; }

total_line=$(head -n 1 "$work/total.ndjson")
records=$(get count "$total_line")
anomalies=$(get anomaly_count "$total_line")
if [ -z "$records" ] || [ "$records" -eq 0 ]; then
  echo "ci-gate: FAIL: no records to judge in $*" >&2
  exit 65
fi

failed=0
rate=$(awk -v a="$anomalies" -v n="$records" 'BEGIN { printf "%.4f", a / n }')
if awk -v r="$rate" -v m="$MAX_ANOMALY_RATE" 'BEGIN { exit !(r > m) }'; then
  echo "ci-gate: FAIL: anomaly rate $rate ($anomalies of $records records) > $MAX_ANOMALY_RATE" >&2
  failed=1
else
  echo "ci-gate: ok: anomaly rate $rate ($anomalies of $records records) <= $MAX_ANOMALY_RATE"
fi

while IFS= read -r line; do
  zone=$(get "$KEY" "$line")
  for b in "${bounds[@]}"; do
    field=${b%%=*} bound=${b#*=}
    avg=$(get "${field}_avg" "$line")
    if [ -z "$avg" ] || [ "$avg" = null ]; then continue; fi
    if awk -v v="$avg" -v m="$bound" 'BEGIN { exit !(v > m) }'; then
      printf 'ci-gate: FAIL: %s %s: %s average %.2f > %s\n' "$KEY" "$zone" "$field" "$avg" "$bound" >&2
      failed=1
    fi
  done
done < "$work/zones.ndjson"
[ "$failed" -eq 0 ] && echo "ci-gate: ok: all $(wc -l < "$work/zones.ndjson" | tr -d ' ') values of $KEY within $MAX_ZONE_AVG"

if [ "$failed" -ne 0 ]; then
  echo "ci-gate: the recording fails the gate" >&2
  exit 1
fi
echo "ci-gate: PASS"
