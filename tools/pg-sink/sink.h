// pg-sink's writer: records into COPY batches for one or more connections
// (sender.h), one transaction each, resent after a lost connection until the
// retry budget runs out; a row the server refuses is rejected alone.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "citypipe/pg/copy_encoder.h"
#include "citypipe/pg/schema.h"
#include "citypipe/core/tool.h"
#include "pg_conn.h"
#include "sender.h"

namespace pgsink {

struct SinkOptions {
  std::string conninfo;
  citypipe::pg::TableName table;
  bool create = false;
  std::vector<std::string> key;
  citypipe::pg::on_conflict conflict = citypipe::pg::on_conflict::none;
  bool strict_columns = false;
  std::size_t batch_rows = 10000;
  std::size_t batch_bytes = 4u << 20;  // encoded and raw bytes held per batch
  citypipe::time_ms batch_ms = 200;
  citypipe::time_ms retry_for_ms = 60000;
  std::vector<std::string> time_columns;
  bool progress = false;
  std::size_t workers = 1;  // connections, each with its own sender thread
  std::string acks;         // --acks: where checkpoint control lines go once durable
};

// --print-ddl: the statements --create would run for the first batch of in
// (batch_rows records, or all of a shorter input), on standard output.
citypipe::Status print_ddl(citypipe::Tool& tool, const SinkOptions& options, citypipe::RecordInput& in);

// Records are parsed and encoded on the calling thread; each of --workers
// senders owns a connection once the first batch is handed over, and commits
// its batches in order while the next ones are encoded, so the server never
// waits on parsing. With --key a record goes to the sender its key hashes to,
// so that all rows of one key are written in input order on one connection;
// without, whole batches go round-robin.
class Sink {
 public:
  Sink(citypipe::Tool& tool, SinkOptions options);
  ~Sink();

  // Reads every record of in into the table. Commits what it holds at the end
  // of input and on a stop signal.
  citypipe::Status run(citypipe::RecordInput& in);

 private:
  using clock = std::chrono::steady_clock;

  citypipe::Status start();
  citypipe::Status load_columns(bool& exists);
  citypipe::Status create_table();
  citypipe::Status choose_columns(const citypipe::JsonRecord& first);
  citypipe::Status add(const citypipe::JsonRecord& record, std::uint32_t file, std::uint64_t line);
  bool encode(const citypipe::JsonRecord& record, std::string& out, std::string& error);
  std::size_t route(std::string_view row) const;
  citypipe::Status flush_pending();
  citypipe::Status commit_batch(std::size_t w);
  citypipe::Status commit_all();
  citypipe::Status collect(bool all);
  void report(Batch& b);
  citypipe::Status with_retry(Sender& sender, const std::function<Result()>& step, const std::string& what);
  citypipe::Status run_sql(const std::string& sql);  // on the first connection, before the senders start
  citypipe::Status unavailable(const std::string& why, std::uint64_t uncommitted);
  citypipe::Status gave_up(const Sender& sender, const citypipe::Status& why, std::uint64_t uncommitted);
  citypipe::Status abandoned(std::uint64_t uncommitted) const;
  citypipe::Status check_key_index();
  citypipe::Status check_fields_match(const citypipe::JsonRecord& first) const;
  citypipe::Status all_refused() const;
  // Checkpoints (--acks): everything before line committed, then line acked.
  bool on_control(std::string_view line);
  citypipe::Status write_ack(std::string_view line);
  // While waiting on the senders: the first signal says what is pending, a
  // second one (or SIGTERM while PostgreSQL is down) abandons it.
  void check_signals();
  bool reject(std::uint32_t file, std::uint64_t line, std::string_view reason, std::string_view raw);
  void on_idle(bool reading_stdin);
  bool input_quiet() const;
  int ms_until_due(std::optional<clock::time_point> first) const;
  citypipe::Status commit_held(bool wait);
  void progress(bool final);
  std::optional<clock::time_point> oldest() const;  // when the oldest row held came
  bool batch_due(clock::time_point now) const;
  bool all_idle() const;
  std::size_t held() const;
  std::uint64_t unfinished() const;  // rows read and not yet committed or refused
  // The connection for catalog queries and DDL: the first sender's before
  // the senders start, then one of its own.
  Sender& admin();
  // With --create: the ALTER TABLE a record needs (a new field, a fraction
  // in a bigint column), or "" when it fits.
  std::string schema_change(const citypipe::JsonRecord& record) const;
  citypipe::Status change_schema(const std::string& sql);

  citypipe::Tool& tool_;
  SinkOptions opt_;
  CopyPlan plan_;
  std::vector<std::unique_ptr<Sender>> senders_;
  std::unique_ptr<Sender> admin_;  // once the senders have started
  std::string target_;  // quoted table name
  std::vector<citypipe::pg::Column> table_columns_;  // all insertable columns
  std::vector<std::string> defaulted_;               // columns the server may fill
  std::vector<citypipe::pg::Column> columns_;        // what COPY sends
  bool columns_chosen_ = false;
  std::vector<std::size_t> key_index_;      // key columns in columns_
  std::vector<char> is_key_;                // per column of columns_
  std::vector<std::size_t> guess_;          // field position -> column index
  std::vector<const citypipe::JsonField*> values_;
  std::vector<std::string> ignored_;        // unknown fields reported once
  bool unknown_field_ = false;              // with --create: the last record had one
  bool by_key_ = false;                     // --key and workers: rows routed by key
  std::string row_;                         // then: one encoded row
  std::vector<citypipe::pg::FieldSpan> spans_;  // and where its values are

  // Before the table exists (--create): the first batch, kept raw.
  bool table_ready_ = false;
  std::vector<Source> pending_;
  std::string pending_raw_;
  clock::time_point pending_started_;
  std::optional<citypipe::pg::SchemaInference> inference_;

  std::vector<std::unique_ptr<Batch>> open_;  // being filled, one per sender
  std::size_t next_ = 0;                      // without --key: the sender of the open batch
  std::vector<std::unique_ptr<Batch>> spare_;
  std::vector<std::string> files_;

  std::uint64_t committed_ = 0, batches_ = 0;
  std::uint64_t refused_ = 0;   // records the sink or the server refused
  std::string first_refusal_;   // why the first of them was
  int acks_fd_ = -1;
  bool told_pending_ = false, abandoned_ = false;
  citypipe::Status deferred_;  // a failure inside the idle hook
  clock::time_point progress_at_;
  std::uint64_t progress_in_ = 0;
  bool progress_tty_ = false;
};

}  // namespace pgsink
