# Sourced by bench/*.sh: timing and the one row format of the benchmark table.

# seconds_of CMD...: wall seconds of one run, output to /dev/null.
seconds_of() {
  local t0 t1
  t0=$(date +%s.%N)
  "$@" > /dev/null
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.4f", b-a}'
}

# median N...: the median of numbers.
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END{print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }

# row WHAT OURS ANCHOR_NAME ANCHOR RATIO NOTE: one line of the table.
row() {
  printf '| %-48s | %14s | %-30s | %14s | %8s | %s\n' "$1" "$2" "$3" "$4" "$5" "${6:-}"
  table_row "$1" "$2" "$3 $4" "$5" "${6:-}"
}

# table_row WHAT OURS ANCHOR RATIO TARGET: a row of the one summary table that
# bench/run.sh prints after all benchmarks.
table_row() {
  [ -n "${BENCH_ROWS:-}" ] && printf '%s\t%s\t%s\t%s\t%s\n' "$@" >> "$BENCH_ROWS"
  return 0
}

# peak_rss_kb CMD...: peak resident set size in KiB of one run (GNU time).
peak_rss_kb() { /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -1; }

# wall_cpu_of CMD...: "WALL CPU" seconds of one run (CPU: user + system of
# the command and its children), to the microsecond (bench/rusage.py), output
# to /dev/null, exit status passed on.
wall_cpu_of() { python3 "$(dirname "${BASH_SOURCE[0]}")/rusage.py" "$@"; }

# cpu_seconds_of CMD...: user+system CPU seconds of one run, output to /dev/null.
# For single-process figures on a shared machine, CPU time is steadier than wall time.
cpu_seconds_of() { wall_cpu_of "$@" | cut -d' ' -f2; }

# durable_pg SRC WORK: starts a throwaway PostgreSQL configured like a real
# server (fsync, synchronous_commit and full_page_writes on; scripts/pg-tmp.sh
# --durable), stops it and removes WORK on exit, and says the settings.
durable_pg() {
  local src=$1 work=$2
  eval "$(bash "$src/scripts/pg-tmp.sh" start --durable --owner $$)"
  trap "bash '$src/scripts/pg-tmp.sh' stop '$PG_TMP_DIR'; rm -rf '$work'" EXIT
  echo "# server: $(sql "select string_agg(name || '=' || setting, ' ' order by name) from pg_settings where name in ('fsync', 'synchronous_commit', 'full_page_writes')")"
}
# sql STATEMENT: one statement on the server of durable_pg, unaligned, tuples only.
sql() { psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"; }
