#!/usr/bin/env bash
# Every man page is clean mdoc (groff -ww silent), and every option a tool's
# --help shows is listed in the tool's man page, as `.It Fl -name` or `Fl x`.
source "$(dirname "$0")/lib/testlib.sh"
source "$(dirname "$0")/lib/options.sh"
command -v groff > /dev/null || { echo "skip: groff missing (apt-get install groff)"; exit 77; }

pages=0
for page in "$CITYPIPE_SOURCE"/man/*.[1-8]; do
  groff -mandoc -Tutf8 -ww -z "$page" > "$T/groff" 2>&1
  [ -s "$T/groff" ] && fail "groff warns on $(basename "$page"): $(head -n 3 "$T/groff")"
  pages=$((pages + 1))
done
[ "$pages" -ge 8 ] || fail "expected at least 8 man pages, found $pages"
pass "groff -mandoc -ww is silent on $pages pages"

checked=0
for tool in $(tools); do
  page="$CITYPIPE_SOURCE/man/$tool.1"
  [ -f "$page" ] || fail "$tool has no man page"
  # The option list: the .It lines, where the options are named.
  grep '^\.It' "$page" > "$T/items"
  n=0
  while read -r opt; do
    case "$opt" in
      --*) grep -qE -- "Fl -${opt#--}( |$)" "$T/items" ;;
      *) grep -qE -- "Fl ${opt#-}( |$)" "$T/items" ;;
    esac || fail "$tool: option $opt of --help is not listed in man/$tool.1"
    n=$((n + 1))
  done < <(help_options "$tool")
  [ "$n" -ge 5 ] || fail "$tool: expected at least 5 options in --help, found $n"
  checked=$((checked + n))
done
[ "$checked" -gt 0 ] || fail "no tool found in $CITYPIPE_BIN"
pass "every option of --help ($checked in all) is in its tool's man page"

# The JSON in kafka-cat-in(1) renders with its quotes.
groff -mandoc -Tutf8 "$CITYPIPE_SOURCE/man/kafka-cat-in.1" 2> /dev/null | sed 's/.\x08//g' > "$T/kafka-cat-in.txt"
assert_contains "$T/kafka-cat-in.txt" '"_kafka":{"topic":' "kafka-cat-in(1) shows the _kafka object whole"
