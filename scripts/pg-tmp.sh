#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests, the demo and benchmarks.
#
#   eval "$(scripts/pg-tmp.sh start [--tcp] [--durable] [--owner PID])"
#       initdb into a new folder under ${TMPDIR:-/tmp}, start the server on a
#       unix socket in that folder (and with --tcp on a free 127.0.0.1 port),
#       no password. Tests run it with fsync off; --durable configures it as
#       a real server is (fsync, full_page_writes and synchronous_commit on),
#       for benchmarks. Prints shell assignments: PG_TMP_DIR, PGHOST, PGPORT,
#       PGUSER, PGDATABASE and PG_TMP_URI (a libpq connection string).
#       With --owner PID the server is also stopped and removed as soon as
#       process PID is gone, so a killed test leaves no stray server.
#   scripts/pg-tmp.sh stop DIR              stop the server and remove DIR
#   scripts/pg-tmp.sh restart DIR [fast|immediate]   (also starts a halted one)
#   scripts/pg-tmp.sh halt DIR              stop the server, keep DIR
#
# initdb and postgres refuse to run as root: as root they run as the
# 'postgres' user, with the folder owned by it.
set -euo pipefail

pg_bin() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/pg_ctl" ] && { echo "$d"; return; }
  done
  command -v pg_ctl >/dev/null && { dirname "$(command -v pg_ctl)"; return; }
  echo "pg-tmp: PostgreSQL server binaries not found (apt-get install postgresql)" >&2
  exit 69
}

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
  done
  echo "pg-tmp: no free loopback port found" >&2
  exit 69
}

cmd_start() {
  local tcp=0 owner="" durability="-c fsync=off -c full_page_writes=off"
  while [ $# -gt 0 ]; do
    case "$1" in
      --tcp) tcp=1 ;;
      --durable) durability="-c fsync=on -c full_page_writes=on -c synchronous_commit=on" ;;
      --owner) owner=$2; shift ;;
      *) echo "pg-tmp: unknown option $1" >&2; exit 64 ;;
    esac
    shift
  done
  local bin dir port=5432 listen="''"
  bin=$(pg_bin)
  # Short path: a unix socket path must fit in 107 bytes.
  dir=$(mktemp -d "${TMPDIR:-/tmp}/pgtmp.XXXXXX")
  chmod 755 "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
  if [ $tcp -eq 1 ]; then port=$(free_port); listen=127.0.0.1; fi
  if ! as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale -N \
      >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2; rm -rf "$dir"; exit 69
  fi
  # fsync off unless --durable: a throwaway server never survives the machine,
  # only itself. synchronous_commit stays on, so a committed row survives a
  # server crash.
  if ! as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
      -o "-c listen_addresses=$listen -c port=$port -c unix_socket_directories=$dir $durability -c max_wal_size=2GB" \
      >/dev/null; then
    cat "$dir/server.log" >&2; rm -rf "$dir"; exit 69
  fi
  if [ -n "$owner" ]; then
    # Detached watcher, with no descriptor of ours, so $(...) does not wait for it.
    setsid bash -c 'while kill -0 "$1" 2>/dev/null && [ -d "$2/data" ]; do sleep 1; done; [ -d "$2" ] && exec bash "$3" stop "$2"' \
      _ "$owner" "$dir" "$0" </dev/null >/dev/null 2>&1 &
  fi
  local host=$dir
  [ $tcp -eq 1 ] && host=127.0.0.1
  echo "PG_TMP_DIR=$dir"
  echo "PGHOST=$host"
  echo "PGPORT=$port"
  echo "PGUSER=postgres"
  echo "PGDATABASE=postgres"
  echo "PG_TMP_URI='host=$host port=$port user=postgres dbname=postgres'"
  echo "export PG_TMP_DIR PGHOST PGPORT PGUSER PGDATABASE PG_TMP_URI"
}

check_dir() {
  [ -n "${1:-}" ] && [ -d "$1" ] || { echo "pg-tmp: no such server folder: ${1:-}" >&2; exit 64; }
}

cmd_stop() {
  local dir=${1:-}
  check_dir "$dir"
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$(pg_bin)/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

cmd_restart() {
  local dir=${1:-} mode=${2:-fast}
  check_dir "$dir"
  as_owner "$(pg_bin)/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m "$mode" -w -t 60 restart >/dev/null
}

cmd_halt() {
  local dir=${1:-}
  check_dir "$dir"
  as_owner "$(pg_bin)/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
}

case "${1:-}" in
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  restart) shift; cmd_restart "$@" ;;
  halt) shift; cmd_halt "$@" ;;
  *) echo "usage: pg-tmp.sh start [--tcp] [--durable] [--owner PID] | stop DIR | halt DIR | restart DIR [fast|immediate]" >&2; exit 64 ;;
esac
