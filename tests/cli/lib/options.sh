# Sourced by tests/cli/manpages.sh and completions.sh after testlib.sh.
#
#   tools                 the tools built in $CITYPIPE_BIN that have a man page
#   help_options TOOL     every option --help shows, one a line (-h, --help, ...)
tools() {
  local t
  for t in "$CITYPIPE_SOURCE"/tools/*/; do
    t=$(basename "$t")
    [ -x "$CITYPIPE_BIN/$t" ] && echo "$t"
  done
}
# CLI11 writes an option's names first on its line, comma-separated.
help_options() {
  "$1" --help | sed -n 's/^  \(-[^ ]*\).*/\1/p' | tr ',' '\n' | grep -E '^--?[A-Za-z0-9]'
}
