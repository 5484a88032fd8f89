# Sourced by tests/reliability/bad_input_*.sh after testlib.sh: builds a
# stream with one hostile line after every 9 clean ones (10%), and checks a
# tool's run on it against its run on the clean stream.
#
#   hostile_common DIR             # the lines every tool must reject
#   hostile_add DIR NAME TEXT      # a tool's own (wrong types, missing fields)
#   hostile_mix CLEAN DIR OUT WANT # OUT: the mix; WANT: the hostile lines in order
#   stat_of ERRFILE rejected       # a counter from the --stats line

# Sizes shrink under ASan so that the suite stays quick there too.
if [ "${CITYPIPE_SANITIZED:-0}" = 1 ]; then RELIABILITY_RECORDS=450; else RELIABILITY_RECORDS=1800; fi

# hostile_add DIR NAME TEXT: one line (TEXT plus a newline, bytes as given).
hostile_add() { printf '%s\n' "$3" > "$1/$2"; }

hostile_common() {
  local d=$1 ts='"ts":"2026-01-01T00:00:01.000Z"' rec
  mkdir -p "$d"
  rec="{$ts,\"sensor_id\":\"city-0001\",\"zone\":\"Downtown\",\"temperature\":21.4,\"humidity\":55.2,\"aqi\":42,\"noise_db\":61.3,\"traffic\":87,\"injected_anomaly\":false"
  hostile_add "$d" not-json 'this is not JSON at all'
  hostile_add "$d" empty ''
  hostile_add "$d" blank $'   \t '
  hostile_add "$d" truncated "${rec:0:70}"
  hostile_add "$d" truncated-end "$rec"
  hostile_add "$d" nan "${rec/21.4/NaN}}"
  hostile_add "$d" infinity "${rec/21.4/-Infinity}}"
  hostile_add "$d" huge-exponent "${rec/21.4/1e999}}"
  hostile_add "$d" huge-integer "${rec/42/123456789012345678901234567890}}"
  hostile_add "$d" array '[1,2,3]'
  hostile_add "$d" scalar '42'
  hostile_add "$d" string '"a string"'
  hostile_add "$d" null 'null'
  hostile_add "$d" two-objects "$rec}$rec}"
  hostile_add "$d" trailing-garbage "$rec} x"
  printf '%s}\n' "${rec/Downtown/$'Down\xff\xfetown'}" > "$d/invalid-utf8"
  printf '%s}\n' "${rec/Downtown/$'Down\xc0\xaftown'}" > "$d/overlong-utf8"
  printf '%s}\0garbage\n' "$rec" > "$d/nul-byte"
  # Deep nesting that is not a record: a top-level array, and an object cut short.
  { head -c 20000 /dev/zero | tr '\0' '['; head -c 20000 /dev/zero | tr '\0' ']'; echo; } > "$d/deep-array"
  { printf '%s,"deep":' "$rec"; head -c 200000 /dev/zero | tr '\0' '['; echo; } > "$d/deep-unclosed"
  # A well-formed record over the 1 MiB line limit.
  { printf '%s,"pad":"' "$rec"; head -c 2097152 /dev/zero | tr '\0' x; printf '"}\n'; } > "$d/2mib"
}

hostile_mix() {
  local clean=$1 dir=$2 out=$3 want=$4
  local -a lines=("$dir"/*)
  local chunks="$T/mix.chunks" i=0 chunk
  rm -rf "$chunks" && mkdir "$chunks"
  split -l 9 -a 5 "$clean" "$chunks/c."
  : > "$out"; : > "$want"
  for chunk in "$chunks"/c.*; do
    cat "$chunk" >> "$out"
    cat "${lines[i % ${#lines[@]}]}" | tee -a "$want" >> "$out"
    i=$((i + 1))
  done
  rm -rf "$chunks"
  HOSTILE_COUNT=$i
}

# stat_of FILE NAME: NAME=value from the last --stats line in FILE.
stat_of() { grep -o " $2=[0-9]*" "$1" | tail -n 1 | cut -d= -f2; }

# check_rejects WHAT ERRFILE REJECTFILE WANT: the count and the kept lines.
check_rejects() {
  assert_eq "$(stat_of "$2" rejected)" "$HOSTILE_COUNT" "$1: --stats counts every hostile line"
  cmp -s "$3" "$4" || fail "$1: the --reject file differs from the inserted hostile lines ($(wc -c < "$3") vs $(wc -c < "$4") bytes)"
  pass "$1: --reject keeps the $HOSTILE_COUNT hostile lines byte for byte"
}
