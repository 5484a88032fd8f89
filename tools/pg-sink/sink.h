// pg-sink's writer: records into COPY batches, one transaction each, resent
// after a lost connection until the retry budget runs out; a row the server
// refuses is found by halving the batch and rejected alone.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
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

// Records are parsed and encoded on the calling thread; a sender thread owns
// the connection once the first batch is handed to it, and commits batches in
// order while the next one is encoded, so the server never waits on parsing.
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
  // One batch: encoded rows and where each came from; then what became of it.
  struct Batch {
    std::string data;
    std::vector<std::size_t> rows;  // start offset of each row in data
    std::vector<Source> sources;
    std::string raws;
    // Filled in by the sender.
    std::vector<std::pair<std::size_t, std::string>> refused;  // row, server's reason
    std::uint64_t committed = 0, done = 0;                     // done: committed or refused
    failure error = failure::none;                            // connection: past the budget
    std::string message;
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
  citypipe::Status collect(bool all);
  citypipe::Status report(Batch& b);
  // The sender thread's side.
  void send_loop();
  void send_batch(Batch& b);
  Result begin_copy();
  Result after_copy(Result copied);
  Result send_range(const Batch& b, std::size_t lo, std::size_t hi);
  citypipe::Status reconnect(const Result& why);
  citypipe::Status run_with_retry(const std::string& sql);
  citypipe::Status unavailable(const std::string& why, std::uint64_t uncommitted);
  bool reject(std::uint32_t file, std::uint64_t line, std::string_view reason, std::string_view raw);
  void on_idle();
  void progress(bool final);
  bool batch_due(clock::time_point now) const;
  std::size_t held() const { return open_->rows.size() + pending_.size(); }
  std::uint64_t unfinished() const;  // rows handed over and not yet committed or refused

  citypipe::Tool& tool_;
  SinkOptions opt_;
  Connection conn_;
  std::string target_;  // quoted table name
  std::vector<citypipe::pg::Column> table_columns_;  // all insertable columns
  std::vector<std::string> defaulted_;               // columns the server may fill
  std::vector<citypipe::pg::Column> columns_;        // what COPY sends
  bool columns_chosen_ = false;
  std::unique_ptr<citypipe::pg::CopyEncoder> encoder_;
  std::string copy_sql_, stage_sql_;  // copy_sql_: with --key, the whole transaction
  std::vector<std::size_t> key_index_;      // key columns in columns_
  std::vector<std::size_t> guess_;          // field position -> column index
  std::vector<const citypipe::JsonField*> values_;
  std::vector<std::string> ignored_;        // unknown fields reported once

  // Before the table exists (--create): the first batch, kept raw.
  bool table_ready_ = false;
  std::vector<Source> pending_;
  std::string pending_raw_;
  std::optional<citypipe::pg::SchemaInference> inference_;

  std::unique_ptr<Batch> open_;  // being filled
  clock::time_point batch_started_;
  std::vector<std::unique_ptr<Batch>> spare_;
  std::vector<std::string> files_;

  // Shared with the sender thread, under mutex_: batches to commit, in order
  // (the front one is being sent), and batches it is done with.
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::unique_ptr<Batch>> queue_, finished_;
  bool quit_ = false, broken_ = false;  // broken: a batch failed, the sender stopped
  std::thread sender_;

  // The sender's own once it runs (the calling thread's before).
  std::optional<clock::time_point> failing_since_;
  std::chrono::milliseconds backoff_{100};
  std::atomic<std::uint64_t> reconnects_{0};

  std::uint64_t committed_ = 0, batches_ = 0;
  citypipe::Status deferred_;  // a failure inside the idle hook
  clock::time_point progress_at_;
  std::uint64_t progress_in_ = 0;
  bool progress_tty_ = false;
};

}  // namespace pgsink
