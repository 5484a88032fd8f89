#!/usr/bin/env bash
# Installs the Debian packages named as arguments that are not installed yet:
# with apt-get as root, with sudo when it is available, otherwise it prints
# the exact command to run and fails. With --check first, it only prints that
# command (and fails) when something is missing, and installs nothing.
set -euo pipefail
check=0
if [ "${1:-}" = --check ]; then check=1; shift; fi
missing=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ $check -eq 1 ]; then
  echo "citypipe: missing packages; run this, then try again:" >&2
  echo "  sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "citypipe: installing missing packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
if [ "$(id -u)" -eq 0 ]; then
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  sudo apt-get update -q >/dev/null
  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "citypipe: missing packages; run this, then try again:" >&2
  echo "  sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
