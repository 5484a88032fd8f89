// pg-sink's writer: records into COPY batches, one transaction each, resent
// after a lost connection until the retry budget runs out; a row the server
// refuses is found by halving the batch and rejected alone.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "citypipe/copy_encoder.h"
#include "citypipe/pg_schema.h"
#include "citypipe/tool.h"
#include "pg_conn.h"

namespace pgsink {

struct SinkOptions {
  std::string conninfo;
  citypipe::pg::TableName table;
  bool create = false;
  std::vector<std::string> key;
  citypipe::pg::on_conflict conflict = citypipe::pg::on_conflict::none;
  bool strict_columns = false;
  std::size_t batch_rows = 10000;
  citypipe::time_ms batch_ms = 200;
  citypipe::time_ms retry_for_ms = 60000;
  std::vector<std::string> time_columns;
  bool progress = false;
};

class Sink {
 public:
  Sink(citypipe::Tool& tool, SinkOptions options);
  ~Sink();

  // Reads every record of in into the table. Commits what it holds at the end
  // of input and on a stop signal.
  citypipe::Status run(citypipe::RecordInput& in);

 private:
  using clock = std::chrono::steady_clock;
  struct Source {
    std::uint32_t file;  // index into files_
    std::uint64_t line;
    std::size_t raw_end;
  };

  citypipe::Status start();
  citypipe::Status load_columns(bool& exists);
  citypipe::Status create_table();
  citypipe::Status choose_columns(const citypipe::JsonRecord& first);
  citypipe::Status add(const citypipe::JsonRecord& record, std::uint32_t file, std::uint64_t line);
  bool encode(const citypipe::JsonRecord& record, std::string& error);
  Result prepare_session();
  citypipe::Status flush_pending();
  citypipe::Status commit_batch();
  void maybe_stream();
  Result begin_copy();
  Result after_copy(Result copied);
  Result send_range(std::size_t lo, std::size_t hi);
  citypipe::Status reconnect(const Result& why);
  citypipe::Status run_with_retry(const std::string& sql);
  citypipe::Status unavailable(const std::string& why, std::uint64_t uncommitted);
  bool reject(std::uint32_t file, std::uint64_t line, std::string_view reason, std::string_view raw);
  void on_idle();
  void progress(bool final);
  bool batch_due(clock::time_point now) const;
  std::size_t held() const { return rows_.size() + pending_.size(); }

  citypipe::Tool& tool_;
  SinkOptions opt_;
  Connection conn_;
  std::string target_;  // quoted table name
  std::vector<citypipe::pg::Column> table_columns_;  // all insertable columns
  std::vector<std::string> defaulted_;               // columns the server may fill
  std::vector<citypipe::pg::Column> columns_;        // what COPY sends
  bool columns_chosen_ = false;
  std::unique_ptr<citypipe::pg::CopyEncoder> encoder_;
  std::string copy_sql_, upsert_sql_, stage_sql_;
  std::vector<std::size_t> key_index_;      // key columns in columns_
  std::vector<std::size_t> guess_;          // field position -> column index
  std::vector<const citypipe::JsonField*> values_;
  std::vector<std::string> ignored_;        // unknown fields reported once

  // Before the table exists (--create): the first batch, kept raw.
  bool table_ready_ = false;
  std::vector<Source> pending_;
  std::string pending_raw_;
  std::optional<citypipe::pg::SchemaInference> inference_;

  // The open batch: encoded rows and where each came from.
  std::string data_;
  std::vector<std::size_t> rows_;  // start offset of each row in data_
  std::vector<Source> sources_;
  std::string raws_;
  std::vector<std::string> files_;
  clock::time_point batch_started_;
  bool streaming_ = false;  // the batch's COPY is open and fed as rows come
  std::size_t sent_ = 0;

  std::optional<clock::time_point> failing_since_;
  std::chrono::milliseconds backoff_{100};
  std::uint64_t committed_ = 0, batches_ = 0, reconnects_ = 0;
  citypipe::Status deferred_;  // a failure inside the idle hook
  clock::time_point progress_at_;
  std::uint64_t progress_in_ = 0;
  bool progress_tty_ = false;
};

}  // namespace pgsink
