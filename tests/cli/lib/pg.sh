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
pg_halt() { bash "$pg_tmp" halt "$PG_TMP_DIR"; }
# cols TABLE: "name:type" per column, in order.
cols() { sql "select string_agg(column_name || ':' || data_type, ' ' order by ordinal_position) from information_schema.columns where table_name = '$1'"; }
