# window-agg: the man page is clean mdoc and documents every option of --help.
source "$(dirname "$0")/lib/testlib.sh"
page="$CITYPIPE_SOURCE/man/window-agg.1"
command -v groff > /dev/null || { echo "skip: groff missing"; exit 77; }
groff -mandoc -ww -z "$page" > "$T/groff" 2>&1
assert_eq "$(cat "$T/groff")" "" "groff -mandoc -ww is silent"
window-agg --help | grep -o -- '--[a-z][a-z-]*' | sort -u > "$T/options"
n=0
while read -r opt; do
  grep -q -- "Fl -${opt#--}\b" "$page" || fail "option $opt of --help is not in the man page"
  n=$((n + 1))
done < "$T/options"
[ "$n" -ge 15 ] || fail "expected at least 15 options in --help, found $n"
pass "all $n options of --help are documented"
