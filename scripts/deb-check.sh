#!/usr/bin/env bash
# Checks the Debian package that `make deb` builds: lintian reports no error,
# and on a fresh minimal Debian 12 without any build package
# (scripts/fresh-machine.sh), `apt-get install ./citypipe_*.deb` pulls in the
# runtime libraries and the README tour's offline steps run. As root:
#
#   sudo scripts/deb-check.sh            (about 5 minutes; builds the package first)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
[ "$(id -u)" -eq 0 ] || { echo "deb-check: must run as root (scripts/fresh-machine.sh needs it)" >&2; exit 1; }
make deb </dev/null
deb=$(ls -t build-deb/citypipe_*.deb | head -n 1)

bash scripts/deps.sh lintian </dev/null
# Status 1 means tags of error level were emitted; more means lintian failed.
rc=0
lintian "$deb" > build-deb/lintian.txt 2>&1 || rc=$?
cat build-deb/lintian.txt
[ $rc -le 1 ] || { echo "deb-check: lintian failed (status $rc)" >&2; exit 1; }
if [ $rc -eq 1 ] || grep -q '^E:' build-deb/lintian.txt; then
  echo "deb-check: lintian reports errors" >&2
  exit 1
fi
echo "deb-check: lintian: no errors ($(grep -c '^W:' build-deb/lintian.txt || true) warnings)"

# Inside the fresh machine: install, then the tour (README, "A five-minute tour").
check='set -eux
export DEBIAN_FRONTEND=noninteractive
apt-get update -q > /dev/null
apt-get install -y -q --no-install-recommends /root/'"$(basename "$deb")"' > /dev/null
for pkg in g++ cmake libfmt-dev libsimdjson-dev librdkafka-dev libpq-dev; do
  if dpkg-query -W -f="\${Status}" "$pkg" 2> /dev/null | grep -q "ok installed"; then echo "build package $pkg is installed" >&2; exit 1; fi
done
cd "$(mktemp -d)"
window-agg --version
sensor-gen --fast --count 3 --seed 1
sensor-gen --fast --duration 1h --seed 1 > hour.ndjson
test "$(wc -l < hour.ndjson)" -gt 100000
iforest-score --warmup 5000 --rules city hour.ndjson > scored.ndjson
test "$(wc -l < scored.ndjson)" -eq "$(wc -l < hour.ndjson)"
grep -c "\"anomaly\":true" scored.ndjson
window-agg --window tumble:5m --fields temperature,aqi,traffic --agg count,avg,p95 scored.ndjson > windows.ndjson
head -3 windows.ndjson
test -s windows.ndjson
tui-top --once scored.ndjson > screen.txt
head -5 screen.txt
test -s screen.txt
for f in /usr/share/man/man1/window-agg.1.gz /usr/share/bash-completion/completions/window-agg \
         /usr/share/zsh/vendor-completions/_window-agg /usr/share/fish/vendor_completions.d/window-agg.fish \
         /usr/share/doc/citypipe/examples/demo.sh /usr/share/doc/citypipe/copyright; do test -f "$f"; done
echo "deb-check: the package installs and the tour runs"'
CITYPIPE_FRESH_COPY="$top/$deb" scripts/fresh-machine.sh "$check"
