#!/usr/bin/env bash
# replay.sh: before rolling out a new model, re-score a recording with it and
# with the model in production, and compare what each flags: in total, record
# by record (flagged by both, only by the old, only by the new) and per zone.
#
#   examples/replay.sh [FILE ...]          (plain or gzip NDJSON)
#   OLD_MODEL=prod.json NEW_MODEL=candidate.json examples/replay.sh day.ndjson.gz
#
# Environment (defaults in brackets):
#   OLD_MODEL  the model in use [examples/fixtures/city-model.json]
#   NEW_MODEL  the candidate; unset: one is trained on the recording itself
#              with TRAIN_OPTS and kept in SAVE_MODEL when given [unset]
#   TRAIN_OPTS options of 'iforest-score train' for that
#              [--fields temperature,humidity,aqi,noise_db,traffic --seed 1 --contamination 0.05]
#   SAVE_MODEL write the trained candidate here [none]
#   RULES      a rule set both models are combined with, or none [none]
#   KEY        the field of the per-key table [zone]
#   MAX_CHANGE fail (status 1) when the anomaly count changes by more than
#              this share of the old count, e.g. 0.5 [never]
#   CITYPIPE_BIN  folder of the citypipe tools, put first on PATH
# Without FILE it replays examples/fixtures/city-fail.ndjson.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ -n "${CITYPIPE_BIN:-}" ] && export PATH="$CITYPIPE_BIN:$PATH"

OLD_MODEL=${OLD_MODEL:-$here/fixtures/city-model.json}
NEW_MODEL=${NEW_MODEL:-}
TRAIN_OPTS=${TRAIN_OPTS:---fields temperature,humidity,aqi,noise_db,traffic --seed 1 --contamination 0.05}
SAVE_MODEL=${SAVE_MODEL:-}
RULES=${RULES:-none}
KEY=${KEY:-zone}
MAX_CHANGE=${MAX_CHANGE:-}
[ $# -gt 0 ] || set -- "$here/fixtures/city-fail.ndjson"
for f in "$@" "$OLD_MODEL" ${NEW_MODEL:+"$NEW_MODEL"}; do
  [ -f "$f" ] || { echo "replay: $f: no such file" >&2; exit 66; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/citypipe-replay.XXXXXX")
trap 'rm -rf "$work"' EXIT
zcat -f -- "$@" > "$work/in.ndjson"

if [ -z "$NEW_MODEL" ]; then
  NEW_MODEL=${SAVE_MODEL:-$work/new-model.json}
  # shellcheck disable=SC2086 # TRAIN_OPTS is a list of options
  iforest-score train $TRAIN_OPTS -o "$NEW_MODEL" "$work/in.ndjson"
  echo "replay: trained the new model on the recording ($TRAIN_OPTS)${SAVE_MODEL:+, saved in $SAVE_MODEL}" >&2
fi
rules=()
[ "$RULES" = none ] || rules=(--rules "$RULES")
iforest-score -m "$OLD_MODEL" "${rules[@]}" "$work/in.ndjson" > "$work/old.ndjson"
iforest-score -m "$NEW_MODEL" "${rules[@]}" "$work/in.ndjson" > "$work/new.ndjson"

# Both runs write every good record in input order, so line i of one is line
# i of the other. The last "anomaly": is the one iforest-score appended.
flags() { sed -E "s/^.*\"$KEY\":(\"[^\"]*\"|[^,}]*).*\"anomaly\":(true|false).*\$/\\1	\\2/" "$1"; }
paste <(flags "$work/old.ndjson") <(flags "$work/new.ndjson") | awk -F'\t' -v key="$KEY" '
  $1 != $3 { print "replay: the two scorings are out of step at record " NR > "/dev/stderr"; exit 74 }
  {
    k = $1; gsub(/^"|"$/, "", k)
    n++; if (!(k in rows)) keys[++nk] = k
    rows[k]++
    if ($2 == "true") { old++; ok[k]++ }
    if ($4 == "true") { new++; nk_[k]++ }
    if ($2 == "true" && $4 == "true") both++
  }
  END {
    printf "records     %8d\n", n
    printf "old model   %8d anomalies (%.2f%%)\n", old, n ? 100 * old / n : 0
    printf "new model   %8d anomalies (%.2f%%)\n", new, n ? 100 * new / n : 0
    printf "both        %8d\n", both
    printf "only old    %8d\n", old - both
    printf "only new    %8d\n", new - both
    printf "\n%-22s %8s %8s %8s\n", key, "records", "old", "new"
    for (i = 1; i <= nk; i++) { k = keys[i]; printf "%-22s %8d %8d %8d\n", k, rows[k], ok[k], nk_[k] }
  }' > "$work/report.txt"
cat "$work/report.txt"

if [ -n "$MAX_CHANGE" ]; then
  old=$(awk '/^old model/ { print $3 }' "$work/report.txt")
  new=$(awk '/^new model/ { print $3 }' "$work/report.txt")
  if awk -v o="$old" -v n="$new" -v m="$MAX_CHANGE" 'BEGIN { d = n - o; if (d < 0) d = -d; exit !(d > m * o) }'; then
    echo "replay: FAIL: anomalies change from $old to $new, more than $MAX_CHANGE of $old" >&2
    exit 1
  fi
fi
