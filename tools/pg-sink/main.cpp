// pg-sink: NDJSON records into a PostgreSQL table with binary COPY, in
// batches of one transaction each, surviving a server restart.
#include <fmt/format.h>

#include "citypipe/core/event_time.h"
#include "citypipe/pg/schema.h"
#include "citypipe/core/tool.h"
#include "pg_conn.h"
#include "sink.h"

namespace {

// "250ms", "30s" ... into milliseconds, for CLI11.
CLI::Validator duration_check() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        return citypipe::parse_duration(s) ? std::string() : "not a duration: " + s;
      },
      "");
}

}  // namespace

int main(int argc, char** argv) {
  citypipe::Tool tool("pg-sink", "Write NDJSON records into a PostgreSQL table with COPY, in batches");
  tool.add_version_line(fmt::format("libpq {}.{}", PQlibVersion() / 10000, PQlibVersion() % 10000));
  auto& app = tool.app();
  std::string table, key, conflict, batch_ms = "200ms", retry_for = "60s", time_columns;
  pgsink::SinkOptions opt;
  app.add_option("-d,--dbname", opt.conninfo,
                 "libpq connection string or URI (default: libpq's PG* environment, as psql)")
      ->type_name("CONNINFO");
  app.add_option("-t,--table", table, "Target table, TABLE or SCHEMA.TABLE")->type_name("TABLE")->required();
  app.add_flag("--create", opt.create, "Create the table from the first batch if it is missing, with indexes");
  app.add_option("--key", key, "Columns of the unique key, for idempotent writes")->type_name("COL,...");
  app.add_option("--on-conflict", conflict, "With --key: keep the existing row, or update it (default nothing)")
      ->type_name("MODE")
      ->check(CLI::IsMember({"nothing", "update"}));
  app.add_option("--time-columns", time_columns,
                 "More columns that --create makes timestamptz (always: ts, window_start, window_end)")
      ->type_name("COL,...");
  app.add_flag("--strict-columns", opt.strict_columns, "A field with no column makes the record a bad line");
  app.add_option("--batch-rows", opt.batch_rows, "Commit after this many rows, or 4 MiB (default 10000)")
      ->type_name("N")
      ->check(CLI::Range(std::size_t{1}, std::size_t{10000000}));
  app.add_option("--batch-ms", batch_ms, "Commit a batch at most this long after its first row (default 200ms)")
      ->type_name("DURATION")
      ->check(duration_check());
  app.add_option("--retry-for", retry_for, "Reconnect and resend for up to this long (default 60s)")
      ->type_name("DURATION")
      ->check(duration_check());
  auto* workers = app.add_option("--workers", opt.workers,
                 "Connections writing in parallel; with --key each key stays on one (default 1; reading files, 2)")
      ->type_name("N")
      ->check(CLI::Range(std::size_t{1}, std::size_t{64}));
  app.add_option("--acks", opt.acks,
                 "Write each checkpoint control line to PATH (a FIFO) once every row before it is committed")
      ->type_name("PATH");
  bool print_ddl = false;
  app.add_flag("--print-ddl", print_ddl,
               "Print the CREATE TABLE and CREATE INDEX that --create would run for the input, and exit; "
               "connects to nothing");
  app.add_flag("--progress", opt.progress, "Print rows committed and records/s on stderr every second");
  if (auto rc = tool.parse(argc, argv)) return *rc;

  std::string error = pgsink::conninfo_error(opt.conninfo);
  if (!error.empty()) {
    return tool.usage_error(fmt::format("bad connection string '{}': {}", opt.conninfo, error));
  }
  auto name = citypipe::pg::parse_table_name(table, error);
  if (!name) {
    return tool.usage_error(fmt::format("bad table name '{}': {}", table, error));
  }
  opt.table = *name;
  if (!key.empty()) {
    opt.key = CLI::detail::split(key, ',');
    opt.conflict = conflict == "update" ? citypipe::pg::on_conflict::update : citypipe::pg::on_conflict::nothing;
  } else if (!conflict.empty()) {
    return tool.usage_error("--on-conflict needs --key");
  }
  opt.time_columns = {"ts", "window_start", "window_end"};
  if (!time_columns.empty())
    for (auto& c : CLI::detail::split(time_columns, ',')) opt.time_columns.push_back(c);
  opt.batch_ms = *citypipe::parse_duration(batch_ms);
  // Replaying files, nobody waits for a row: two connections, so that the
  // server works while the next batch is parsed. Batches stay small even so:
  // bigger ones fall out of the cache and cost more than their commits save.
  if (!citypipe::reads_live_stdin(tool.options().inputs) && workers->count() == 0) opt.workers = 2;
  opt.retry_for_ms = *citypipe::parse_duration(retry_for);

  citypipe::RecordInput in(tool);
  if (!in.status().is_ok()) return tool.finish(in.status());
  if (print_ddl) return tool.finish(pgsink::print_ddl(tool, opt, in));
  pgsink::Sink sink(tool, std::move(opt));
  return tool.finish(sink.run(in));
}
