# Sourced by tests/cli/pg_sink_*.sh after testlib.sh: starts a throwaway
# PostgreSQL for this test (stopped and removed on exit, also on failure or
# when the test is killed) and gives small psql helpers.
pg_tmp="$CITYPIPE_SOURCE/scripts/pg-tmp.sh"
pg_start() {
  local env
  env=$(bash "$pg_tmp" start --owner $$ "$@") || fail "could not start a throwaway PostgreSQL"
  eval "$env"
  on_exit "bash '$pg_tmp' stop '$PG_TMP_DIR'"
}
pg_restart() { bash "$pg_tmp" restart "$PG_TMP_DIR" "${1:-fast}"; }
# sql QUERY: unaligned, tuples only, quiet; fails the test on an SQL error.
sql() { psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"; }
# wait_rows TABLE N [TRIES]: polls every 0.1 s, TRIES times (default 300),
# until TABLE has at least N rows (a missing table has 0); prints the last count.
wait_rows() {
  local n=0 i
  for ((i = 0; i < ${3:-300}; i++)); do
    n=$(sql "select count(*) from $1" 2>/dev/null || echo 0)
    [ "$n" -ge "$2" ] && break
    sleep 0.1
  done
  echo "$n"
}
pg_halt() { bash "$pg_tmp" halt "$PG_TMP_DIR"; }
# cols TABLE: "name:type" per column, in order.
cols() { sql "select string_agg(column_name || ':' || data_type, ' ' order by ordinal_position) from information_schema.columns where table_name = '$1'"; }
