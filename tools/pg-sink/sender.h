// One of pg-sink's connections and the thread that commits batches on it, in
// the order they were handed over: one transaction per batch, a resend after
// a lost connection until the retry budget runs out, and a row the server
// refuses found by halving the batch.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "citypipe/pg/copy_encoder.h"
#include "citypipe/core/tool.h"
#include "pg_conn.h"

namespace pgsink {

// Where a row came from: files_ index, line, end of its raw line in raws.
struct Source {
  std::uint32_t file;
  std::uint64_t line;
  std::size_t raw_end;
};

// One batch: encoded rows and where each came from; then what became of it.
struct Batch {
  std::string data;
  std::vector<std::size_t> rows;  // start offset of each row in data
  std::vector<Source> sources;
  std::string raws;
  std::chrono::steady_clock::time_point started;  // when its first row came
  // Filled in by the sender.
  std::vector<std::pair<std::size_t, std::string>> refused;  // row, server's reason
  std::uint64_t committed = 0, done = 0;                     // done: committed or refused
  failure error = failure::none;                            // connection: past the budget
  std::string message;
  void clear();
};

// What every connection sends: fixed before the first batch is handed over.
struct CopyPlan {
  std::unique_ptr<citypipe::pg::CopyEncoder> encoder;
  std::string copy_sql;   // with --key, the whole transaction
  std::string stage_sql;  // with --key, the session's temporary table
  // With --key and DO NOTHING: a COPY straight into the table, tried first;
  // only a unique violation sends the batch the staged way (copy_sql).
  std::string fast_sql;
  // Bumped when the plan changes (the table gained or widened a column), so
  // that each sender sets its session up again before its next batch.
  std::uint64_t generation = 0;
};

class Sender {
 public:
  // tag: prefixes this connection's messages ("" with a single connection).
  Sender(citypipe::Tool& tool, const std::string& conninfo, citypipe::time_ms retry_for_ms,
         const CopyPlan& plan, std::string tag);
  ~Sender();
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

  // Before start(), the calling thread may use the connection.
  Connection& connection() { return conn_; }
  // Reconnects with exponential backoff until the retry budget, counted from
  // the first failure, is spent (or halt() is called). A login the server
  // refuses for good (Connection::connect) is not retried.
  citypipe::Status reconnect(const Result& why);
  // Called about every 100 ms while the calling (not the sender's) thread
  // waits on this sender: a chance to look at signals and halt().
  void on_wait(std::function<void()> hook) { on_wait_ = std::move(hook); }
  // True while reconnecting; then the retry budget left.
  bool failing() const { return failing_.load(); }
  // True once the server refused a login for good.
  bool refused_login() const { return refused_.load(); }
  std::chrono::milliseconds retry_left() const;
  // The session's temporary table, if the plan has one.
  Result prepare_session();

  // From here on the connection is the sender thread's.
  void start();
  bool started() const { return thread_.joinable(); }
  // Queues a batch, waiting while max_handed are queued. After a failure the
  // batch stays queued, counted as not committed.
  void push(std::unique_ptr<Batch> b);
  // Moves the batches done with into out; with all, first waits until every
  // queued batch is done, or the sender stopped and sends nothing more.
  void take_finished(std::vector<std::unique_ptr<Batch>>& out, bool all);
  // Stops sending: the batch under way ends (a reconnect gives up at once),
  // the queued ones stay unsent.
  void halt();
  bool idle() const;                 // nothing queued
  std::uint64_t queued_rows() const;  // rows queued, the one being sent too
  std::uint64_t reconnects() const { return reconnects_.load(); }

 private:
  citypipe::Status refused(const Result& r);
  void send_loop();
  void send_batch(Batch& b);
  Result send_range(const Batch& b, std::size_t lo, std::size_t hi, bool staged, std::size_t& fresh);
  Result copy_range(const std::string& sql, const Batch& b, std::size_t lo, std::size_t hi);
  bool stopped() const { return broken_ || halted_; }  // under mutex_
  // Waits on wake_ until done(), calling on_wait_ between slices.
  template <typename Done>
  void wait_calling_hook(std::unique_lock<std::mutex>& lock, Done done);

  citypipe::Tool& tool_;
  Connection conn_;
  citypipe::time_ms retry_for_ms_;
  const CopyPlan& plan_;
  std::string tag_;

  // Shared with the thread, under mutex_: batches to commit, in order (the
  // front one is being sent while sending_), and batches it is done with.
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::unique_ptr<Batch>> queue_, finished_;
  bool quit_ = false, broken_ = false, halted_ = false, sending_ = false;
  std::thread thread_;

  // The thread's own once it runs (the calling thread's before).
  std::optional<std::chrono::steady_clock::time_point> failing_since_;
  std::chrono::milliseconds backoff_{100};
  // Whether to try plan_.fast_sql: off after a unique violation late in a
  // range (one at the first row costs a send) or at a row not named, on
  // again after a staged range that was all new.
  bool optimistic_ = true;
  std::uint64_t prepared_ = static_cast<std::uint64_t>(-1);  // plan generation of the session
  std::atomic<std::uint64_t> reconnects_{0};
  std::atomic<bool> failing_{false}, refused_{false};
  std::atomic<std::int64_t> deadline_ms_{0};  // steady clock, while failing_
  std::function<void()> on_wait_;
};

}  // namespace pgsink
