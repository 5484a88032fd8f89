#include "sender.h"

#include <algorithm>

#include <fmt/format.h>

#include "citypipe/core/event_time.h"
#include "citypipe/core/signals.h"

namespace pgsink {

using citypipe::Status;
using clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t send_chunk = 256 * 1024;
// Batches handed to a sender and not yet done: one being sent, one ready to
// go the moment it commits. More would only hold memory.
constexpr std::size_t max_handed = 2;

}  // namespace

void Batch::clear() {
  data.clear();
  rows.clear();
  sources.clear();
  raws.clear();
  refused.clear();
  committed = done = 0;
  error = failure::none;
  message.clear();
}

Sender::Sender(citypipe::Tool& tool, const std::string& conninfo, citypipe::time_ms retry_for_ms,
               const CopyPlan& plan, std::string tag)
    : tool_(tool), conn_(conninfo), retry_for_ms_(retry_for_ms), plan_(plan), tag_(std::move(tag)) {}

Sender::~Sender() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    quit_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Sender::start() {
  if (!thread_.joinable()) thread_ = citypipe::start_thread_without_signals([this] { send_loop(); });
}

template <typename Done>
void Sender::wait_calling_hook(std::unique_lock<std::mutex>& lock, Done done) {
  while (!wake_.wait_for(lock, std::chrono::milliseconds(100), done)) {
    if (!on_wait_) continue;
    lock.unlock();
    on_wait_();
    lock.lock();
  }
}

std::chrono::milliseconds Sender::retry_left() const {
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now().time_since_epoch());
  return std::max(std::chrono::milliseconds(deadline_ms_.load()) - now, std::chrono::milliseconds(0));
}

void Sender::push(std::unique_ptr<Batch> b) {
  {
    std::unique_lock<std::mutex> lock(mutex_);
    wait_calling_hook(lock, [this] { return queue_.size() < max_handed || stopped(); });
    queue_.push_back(std::move(b));
  }
  wake_.notify_all();
}

void Sender::take_finished(std::vector<std::unique_ptr<Batch>>& out, bool all) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (all) wait_calling_hook(lock, [this] { return queue_.empty() || (stopped() && !sending_); });
  for (auto& b : finished_) out.push_back(std::move(b));
  finished_.clear();
}

void Sender::halt() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    halted_ = true;
  }
  wake_.notify_all();
}

bool Sender::idle() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.empty();
}

std::uint64_t Sender::queued_rows() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::uint64_t n = 0;
  for (const auto& b : queue_) n += b->rows.size();
  return n;
}

// The thread: commits the queued batches in order, until told to quit or to
// halt, or a batch fails (which ends the run).
void Sender::send_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return quit_ || (!queue_.empty() && !stopped()); });
    if (quit_) return;
    Batch& b = *queue_.front();
    sending_ = true;
    lock.unlock();
    send_batch(b);
    lock.lock();
    sending_ = false;
    if (b.error != failure::none) broken_ = true;
    finished_.push_back(std::move(queue_.front()));
    queue_.pop_front();
    wake_.notify_all();
  }
}

void Sender::send_batch(Batch& b) {
  struct Range {
    std::size_t lo, hi;
    bool staged;  // known to hold an existing key: straight to the stage
  };
  std::vector<Range> todo{{0, b.rows.size(), false}};
  while (!todo.empty()) {
    const auto [lo, hi, staged] = todo.back();
    todo.pop_back();
    std::size_t fresh = 0;
    Result r = send_range(b, lo, hi, staged, fresh);
    while (r.kind == failure::connection) {
      if (Status s = reconnect(r); !s.is_ok()) {
        b.error = refused_login() ? failure::fatal : failure::connection;
        b.message = s.message();
        return;
      }
      r = send_range(b, lo, hi, staged, fresh);
    }
    if (fresh > 0) {
      // The rows before the first existing key are new: they go by COPY
      // again, the rest through the stage.
      todo.push_back({lo + fresh, hi, true});
      todo.push_back({lo, lo + fresh, false});
    } else if (r.kind == failure::none) {
      b.committed += hi - lo;
      b.done += hi - lo;
      failing_since_.reset();
    } else if (r.kind == failure::data) {
      if (hi - lo == 1) {
        b.refused.emplace_back(lo, r.message);
        b.done += 1;
      } else {
        // Halve until the refused rows stand alone; the rest commits.
        const std::size_t mid = lo + (hi - lo) / 2;
        todo.push_back({mid, hi, false});
        todo.push_back({lo, mid, false});
      }
    } else {
      b.error = failure::fatal;
      b.message = "PostgreSQL refused the batch: " + r.message;
      return;
    }
  }
}

// Idempotent batches are mostly new rows: a plain COPY into the table commits
// them at COPY speed. The COPY is one transaction, so a unique violation
// leaves nothing behind, and the rows go again through the stage and
// INSERT ... ON CONFLICT DO NOTHING, with the same result as if they had gone
// that way at once. The server names the row the COPY stopped at: the rows
// before it are new, and fresh says how many, for the caller to send them by
// COPY again (a replay's batches stop at their first row: nothing to resend).
Result Sender::send_range(const Batch& b, std::size_t lo, std::size_t hi, bool staged, std::size_t& fresh) {
  fresh = 0;
  if (prepared_ != plan_.generation)
    if (Result r = prepare_session(); !r.ok()) return r;
  if (!plan_.fast_sql.empty() && optimistic_ && !staged) {
    Result r = copy_range(plan_.fast_sql, b, lo, hi);
    if (r.state != "23505") return r;
    const std::uint64_t at = r.failed_row;
    if (at >= 2 && at <= hi - lo) {
      fresh = at - 1;
      // A conflict late in the range cost a COPY of most of it: the next
      // ranges go through the stage until one is all new.
      if (2 * fresh >= hi - lo) optimistic_ = false;
      return r;
    }
    if (at != 1) optimistic_ = false;  // where is not known
  }
  Result r = copy_range(plan_.copy_sql, b, lo, hi);
  if (!plan_.fast_sql.empty() && r.ok() && r.inserted == static_cast<std::int64_t>(hi - lo)) optimistic_ = true;
  return r;
}

Result Sender::copy_range(const std::string& sql, const Batch& b, std::size_t lo, std::size_t hi) {
  const citypipe::pg::CopyEncoder& encoder = *plan_.encoder;
  if (Result r = conn_.copy_begin(sql); !r.ok()) {
    conn_.rollback_if_needed();
    return r;
  }
  const std::size_t start = b.rows[lo];
  const std::size_t end = hi < b.rows.size() ? b.rows[hi] : b.data.size();
  bool sent = conn_.copy_put(encoder.header());
  for (std::size_t at = start; sent && at < end; at += send_chunk)
    sent = conn_.copy_put(std::string_view(b.data).substr(at, std::min(send_chunk, end - at)));
  if (!sent || !conn_.copy_put(encoder.trailer())) {
    conn_.close();
    return {failure::connection, "connection lost while sending a batch", ""};
  }
  Result r = conn_.copy_end();
  if (!r.ok()) conn_.rollback_if_needed();
  return r;
}

Result Sender::prepare_session() {
  Result r;
  if (!plan_.stage_sql.empty()) r = conn_.exec(plan_.stage_sql);
  if (r.ok()) prepared_ = plan_.generation;
  return r;
}

Status Sender::reconnect(const Result& why) {
  if (why.kind == failure::fatal) return refused(why);
  const auto now = clock::now();
  if (!failing_since_) {
    failing_since_ = now;
    backoff_ = std::chrono::milliseconds(100);
    tool_.warn(fmt::format("{}{}; reconnecting for up to {}", tag_, why.message,
                           citypipe::format_duration(retry_for_ms_)));
  }
  const auto deadline = *failing_since_ + std::chrono::milliseconds(retry_for_ms_);
  deadline_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(deadline.time_since_epoch()).count();
  failing_ = true;
  struct Clear {
    std::atomic<bool>& flag;
    ~Clear() { flag = false; }
  } clear{failing_};
  // Before start() the caller's thread waits here, and on_wait_ looks at signals.
  const bool callers_thread = !started();
  std::string last = why.message;
  for (;;) {
    Result r = conn_.connect();
    if (r.ok()) r = prepare_session();
    if (r.ok()) {
      reconnects_.fetch_add(1);
      tool_.warn(tag_ + "reconnected");
      return Status::ok();
    }
    if (r.kind == failure::fatal) return refused(r);
    last = r.message;
    const auto until = std::min(clock::now() + backoff_, deadline);
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      if (halted_ || quit_) return Status::error(citypipe::exit_unavailable, last + "; gave up");
      const auto now2 = clock::now();
      if (now2 >= until) break;
      wake_.wait_for(lock, std::min<clock::duration>(until - now2, std::chrono::milliseconds(100)));
      if (callers_thread && on_wait_) {
        lock.unlock();
        on_wait_();
        lock.lock();
      }
    }
    if (clock::now() >= deadline) return Status::error(citypipe::exit_unavailable, last);
    backoff_ = std::min(backoff_ * 2, std::chrono::milliseconds(2000));
  }
}

// A login refused for good, or a session the server will not set up: no
// retry would help.
Status Sender::refused(const Result& r) {
  refused_ = true;
  return Status::error(citypipe::exit_unavailable,
                       fmt::format("{}PostgreSQL refused the connection: {} (not retried)", tag_, r.message));
}

}  // namespace pgsink
