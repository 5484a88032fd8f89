# Sourced by every tests/cli/*.sh: strict mode, a scratch folder removed on
# exit, the built tools on PATH, and small assertions that name what failed.
set -euo pipefail
: "${CITYPIPE_BIN:?CITYPIPE_BIN must point at the built tools (ctest sets it)}"
: "${CITYPIPE_SOURCE:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}"
export PATH="$CITYPIPE_BIN:$PATH"
T=$(mktemp -d "${TMPDIR:-/tmp}/citypipe-test.XXXXXX")
cleanup_hooks=()
on_exit() { cleanup_hooks+=("$1"); }
run_cleanup() {
  local rc=$?
  set +e  # cleanup must run to the end and must not change the test's verdict
  for ((i = ${#cleanup_hooks[@]} - 1; i >= 0; i--)); do eval "${cleanup_hooks[$i]}"; done
  # A process that is still exiting may write into $T while it is removed.
  rm -rf "$T" 2>/dev/null || { sleep 1; rm -rf "$T"; }
  exit $rc
}
trap run_cleanup EXIT
trap 'exit 130' INT TERM

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok - $*"; }
# assert_eq ACTUAL EXPECTED WHAT
assert_eq() { [ "$1" == "$2" ] || fail "$3: expected '$2', got '$1'"; pass "$3"; }
# assert_status EXPECTED WHAT -- COMMAND...
assert_status() {
  local want=$1 what=$2; shift 3
  local rc=0; "$@" || rc=$?
  [ "$rc" -eq "$want" ] || fail "$what: expected exit status $want, got $rc"
  pass "$what"
}
assert_contains() { grep -qF -- "$2" "$1" || fail "$3: '$2' not found in $1: $(head -c 500 "$1")"; pass "$3"; }
count_lines() { wc -l < "$1" | tr -d ' '; }
# need_tools TOOL...: skip (77) unless every one of these tools is built.
need_tools() {
  local tool
  for tool in "$@"; do
    [ -x "$CITYPIPE_BIN/$tool" ] || { echo "skip: $tool is not built"; exit 77; }
  done
}
