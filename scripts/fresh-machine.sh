#!/usr/bin/env bash
# Runs a command on a fresh clone of the current commit inside a fresh,
# minimal Debian 12 machine (a chroot), as a new user's server would be:
#
#   sudo scripts/fresh-machine.sh 'make demo && make test'
#
# The machine is `debootstrap --variant=minbase bookworm` from this machine's
# configured apt sources, plus git, make and ca-certificates only. It is made
# once and cached (pristine) under $CITYPIPE_FRESH_CACHE
# (default /var/cache/citypipe-fresh); every run works on a new copy of it,
# removed afterwards (kept with CITYPIPE_FRESH_KEEP=1). Downloaded .deb files
# are kept between runs, so a run downloads each package once.
# proc, sys, dev, dev/pts and a tmpfs at /dev/shm are mounted for the run and
# unmounted on any exit. Uncommitted changes are not part of the clone.
# Files named in CITYPIPE_FRESH_COPY (space-separated) are copied to /root of
# the machine first (scripts/deb-check.sh brings its package so).
# Needs root (debootstrap, mount, chroot); reads no standard input.
# Exit status: that of CMD, or 1 when the machine cannot be made.
set -euo pipefail

say() { printf 'fresh-machine: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

[ $# -eq 1 ] || die "usage: scripts/fresh-machine.sh 'COMMAND' (run as root)"
cmd=$1
if [ "$(id -u)" -ne 0 ]; then
  die "must run as root: debootstrap, mount and chroot need it. Try: sudo $0 '$cmd'"
fi

top=$(cd "$(dirname "$0")/.." && git rev-parse --show-toplevel)
commit=$(git -C "$top" rev-parse HEAD)
if [ -n "$(git -C "$top" status --porcelain --untracked-files=no)" ]; then
  say "note: uncommitted changes in $top are not part of the run (commit $commit only)"
fi

cache=${CITYPIPE_FRESH_CACHE:-/var/cache/citypipe-fresh}
suite=bookworm
extra=git,make,ca-certificates
mkdir -p "$cache/archives"

bash "$top/scripts/deps.sh" debootstrap </dev/null

# This machine's enabled apt source files (one-line and deb822 formats).
source_files() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && echo "$f"
  done
}

# The first configured Debian mirror that serves $suite main.
mirror() {
  local f
  for f in $(source_files); do
    case "$f" in
      *.list)
        sed -E 's/\[[^]]*\]//' "$f" | awk -v s="$suite" '$1 == "deb" && $3 == s { print $2; exit }' ;;
      *.sources)
        # deb822: paragraphs separated by blank lines.
        awk -v s="$suite" 'BEGIN { RS = ""; FS = "\n" }
          { uri = ""; ok = 0; en = 1
            for (i = 1; i <= NF; i++) {
              if ($i ~ /^URIs:/) { sub(/^URIs:[ \t]*/, "", $i); split($i, u, /[ \t]+/); uri = u[1] }
              if ($i ~ /^Suites:/) { n = split($i, w, /[ \t]+/); for (j = 2; j <= n; j++) if (w[j] == s) ok = 1 }
              if ($i ~ /^Enabled:[ \t]*no/) en = 0
            }
            if (ok && en && uri != "") { print uri; exit } }' "$f" ;;
    esac
  done | head -n 1
}

pristine=$cache/$suite-minbase
stamp="$suite variant=minbase include=$extra mirror=$(mirror)"
[ -n "$(mirror)" ] || die "no apt source for Debian $suite found in /etc/apt/sources.list*"

# One run at a time: the pristine root is made once per (suite, packages,
# mirror), and the runs share the downloaded packages, which apt locks.
exec 9>"$cache/.lock"
flock -n 9 || { say "waiting for another run to end"; flock 9; }
if [ ! -f "$pristine/.citypipe-fresh" ] || [ "$(cat "$pristine/.citypipe-fresh")" != "$stamp" ]; then
  say "making a minimal Debian $suite root from $(mirror) (once; cached in $pristine)"
  rm -rf "$pristine.new"
  debootstrap --variant=minbase --include="$extra" --cache-dir="$cache/archives" \
    "$suite" "$pristine.new" "$(mirror)" </dev/null >"$cache/debootstrap.log" 2>&1 \
    || { tail -n 20 "$cache/debootstrap.log" >&2; rm -rf "$pristine.new"; die "debootstrap failed (log: $cache/debootstrap.log)"; }
  # The machine's own apt sources, with the keyrings they name.
  rm -f "$pristine.new/etc/apt/sources.list"
  for f in $(source_files); do
    cp "$f" "$pristine.new$f"
    for key in $(grep -ohE '(Signed-By:|signed-by=)[ ]*/[^] ]+' "$f" | sed -E 's/^(Signed-By:|signed-by=)[ ]*//'); do
      if [ -f "$key" ] && [ ! -f "$pristine.new$key" ]; then install -D -m 644 "$key" "$pristine.new$key"; fi
    done
  done
  echo "$stamp" >"$pristine.new/.citypipe-fresh"
  rm -rf "$pristine"
  mv "$pristine.new" "$pristine"
fi

run=$(mktemp -d "$cache/run.XXXXXX")
cleanup() {
  local rc=$? pid m
  set +e
  # Processes left in the machine (a server a test started) keep mounts busy.
  for pid in $(ls /proc | grep -E '^[0-9]+$'); do
    if [ "$(readlink "/proc/$pid/root" 2>/dev/null)" = "$run/root" ]; then kill -9 "$pid" 2>/dev/null || true; fi
  done
  for m in dev/shm dev/pts dev sys proc var/cache/apt/archives; do
    if mountpoint -q "$run/root/$m"; then umount "$run/root/$m" 2>/dev/null || umount -l "$run/root/$m"; fi
  done
  if [ "${CITYPIPE_FRESH_KEEP:-0}" = 1 ]; then
    say "kept the machine in $run/root"
  elif ! grep -qF " $run/" /proc/mounts; then
    rm -rf "$run"
  else
    say "left $run: something is still mounted there"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

cp -a "$pristine" "$run/root"
root=$run/root
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
mount -t tmpfs -o mode=1777,nosuid,nodev shm "$root/dev/shm"
mount --bind "$cache/archives" "$root/var/cache/apt/archives"

for f in ${CITYPIPE_FRESH_COPY:-}; do cp "$f" "$root/root/"; done
git clone -q --no-hardlinks "$top" "$root/src/citypipe"
git -C "$root/src/citypipe" checkout -q --detach "$commit"

say "running '$cmd' on commit ${commit:0:12} in a fresh Debian $suite (root: $root)"
start=$(date +%s)
set +e
chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb CI="${CI:-}" \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  bash -c 'cd /src/citypipe && eval "$1"' _ "$cmd" </dev/null
rc=$?
set -e
say "'$cmd' exited $rc after $(( $(date +%s) - start )) s"
exit $rc
