#include "sink.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <limits>
#include <thread>

#include <fmt/format.h>

#include "citypipe/signals.h"

namespace pgsink {

using citypipe::Status;
namespace pg = citypipe::pg;

namespace {

constexpr std::size_t send_chunk = 256 * 1024;
// Batches handed to the sender and not yet done: one being sent, one ready to
// go the moment it commits. More would only hold memory.
constexpr std::size_t max_handed = 2;
constexpr std::size_t npos = static_cast<std::size_t>(-1);
const std::string stage_name = "pg_sink_stage";

}  // namespace

Sink::Sink(citypipe::Tool& tool, SinkOptions options)
    : tool_(tool),
      opt_(std::move(options)),
      conn_(opt_.conninfo),
      target_(pg::quote_table(opt_.table)),
      open_(std::make_unique<Batch>()) {
  progress_tty_ = isatty(2) != 0;
  progress_at_ = clock::now();
}

Sink::~Sink() {
  if (!sender_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    quit_ = true;
  }
  wake_.notify_all();
  sender_.join();
}

Status Sink::run(citypipe::RecordInput& in) {
  tool_.stats().set_extra("batches", 0);
  tool_.stats().set_extra("reconnects", 0);
  if (Status s = start(); !s.is_ok()) return s;
  in.on_idle([this] { on_idle(); });
  citypipe::JsonRecord rec;
  std::uint64_t n = 0;
  while (deferred_.is_ok() && in.next(rec)) {
    const citypipe::Line& where = in.where();
    std::uint32_t file = 0;
    if (files_.empty() || files_.back() != *where.file) files_.push_back(*where.file);
    file = static_cast<std::uint32_t>(files_.size() - 1);
    if (Status s = add(rec, file, where.number); !s.is_ok()) return s;
    if ((++n & 255) == 0) {
      if (batch_due(clock::now())) {
        if (Status s = flush_pending(); !s.is_ok()) return s;
        if (Status s = commit_batch(); !s.is_ok()) return s;
      }
      progress(false);
    }
  }
  if (!deferred_.is_ok()) return deferred_;
  if (Status s = flush_pending(); !s.is_ok()) return s;
  if (Status s = commit_batch(); !s.is_ok()) return s;
  if (Status s = collect(true); !s.is_ok()) return s;
  progress(true);
  return in.status();
}

// Connecting, and learning the table (or planning to create it).
Status Sink::start() {
  if (Result r = conn_.connect(); !r.ok())
    if (Status s = reconnect(r); !s.is_ok()) return unavailable(s.message(), 0);
  bool exists = false;
  if (Status s = load_columns(exists); !s.is_ok()) return s;
  if (!exists) {
    if (!opt_.create)
      return Status::error(citypipe::exit_usage,
                           fmt::format("table {} does not exist (--create makes it)", target_));
    inference_.emplace(opt_.time_columns);
    return Status::ok();
  }
  table_ready_ = true;
  if (opt_.create && !opt_.key.empty())
    for (const std::string& sql : pg::create_index_sql(opt_.table, std::nullopt, opt_.key))
      if (Status s = run_with_retry(sql); !s.is_ok()) return s;
  return Status::ok();
}

Status Sink::load_columns(bool& exists) {
  for (;;) {
    std::vector<std::vector<std::string>> rows;
    Result r = conn_.query(std::string(pg::columns_query()), {target_}, rows);
    if (r.kind == failure::connection) {
      if (Status s = reconnect(r); !s.is_ok()) return unavailable(s.message(), 0);
      continue;
    }
    if (!r.ok()) return Status::error(citypipe::exit_unavailable, "reading the table's columns: " + r.message);
    table_columns_.clear();
    defaulted_.clear();
    for (const auto& row : rows) {
      if (row[3] == "1") continue;  // generated: never written
      const auto oid = static_cast<std::uint32_t>(std::stoul(row[1]));
      table_columns_.push_back(pg::Column{row[0], pg::type_from_oid(oid)});
      if (row[2] == "1") defaulted_.push_back(row[0]);
    }
    exists = !rows.empty();
    return Status::ok();
  }
}

Status Sink::create_table() {
  const std::vector<pg::Column> cols = inference_->columns();
  if (Status s = run_with_retry(pg::create_table_sql(opt_.table, cols)); !s.is_ok()) return s;
  const auto time_column = pg::pick_time_column(cols, opt_.time_columns);
  for (const std::string& sql : pg::create_index_sql(opt_.table, time_column, opt_.key))
    if (Status s = run_with_retry(sql); !s.is_ok()) return s;
  bool exists = false;
  if (Status s = load_columns(exists); !s.is_ok()) return s;
  if (!exists) return Status::error(citypipe::exit_unavailable, "table " + target_ + " vanished after CREATE");
  return Status::ok();
}

// The COPY column list: every column, except that columns the server fills
// (defaults, serial ids) are left to it unless the first record has them.
Status Sink::choose_columns(const citypipe::JsonRecord& first) {
  columns_.clear();
  for (const pg::Column& c : table_columns_) {
    const bool defaulted = std::find(defaulted_.begin(), defaulted_.end(), c.name) != defaulted_.end();
    if (!defaulted || first.find(c.name) != nullptr) columns_.push_back(c);
  }
  key_index_.clear();
  for (const std::string& k : opt_.key) {
    auto it = std::find_if(columns_.begin(), columns_.end(), [&](const pg::Column& c) { return c.name == k; });
    if (it == columns_.end())
      return Status::error(citypipe::exit_usage, fmt::format("key column '{}' is not a column of {}", k, target_));
    key_index_.push_back(static_cast<std::size_t>(it - columns_.begin()));
  }
  std::vector<pg::col_type> types;
  bool binary = true;
  for (const pg::Column& c : columns_) {
    types.push_back(c.type);
    binary = binary && pg::binary_supported(c.type);
  }
  encoder_ = std::make_unique<pg::CopyEncoder>(std::move(types), binary);
  values_.assign(columns_.size(), nullptr);
  if (opt_.key.empty()) {
    copy_sql_ = pg::copy_sql(target_, columns_, binary);
  } else {
    // One query string: after the COPY data the server goes on to the
    // INSERT and the COMMIT without waiting for another round trip.
    copy_sql_ = "BEGIN; " + pg::copy_sql(stage_name, columns_, binary) + "; " +
                pg::upsert_sql(opt_.table, stage_name, columns_, opt_.key, opt_.conflict) + "; COMMIT";
    stage_sql_ = pg::stage_table_sql(stage_name, opt_.table, columns_);
  }
  columns_chosen_ = true;
  if (!stage_sql_.empty()) {
    for (;;) {
      Result r = prepare_session();
      if (r.ok()) break;
      if (r.kind != failure::connection)
        return Status::error(citypipe::exit_unavailable, "creating the staging table: " + r.message);
      if (Status s = reconnect(r); !s.is_ok()) return unavailable(s.message(), held());
    }
  }
  return Status::ok();
}

Result Sink::prepare_session() {
  if (stage_sql_.empty()) return {};
  return conn_.exec(stage_sql_);
}

Status Sink::add(const citypipe::JsonRecord& record, std::uint32_t file, std::uint64_t line) {
  if (!table_ready_) {
    if (pending_.empty()) batch_started_ = clock::now();
    inference_->add(record);
    pending_raw_ += record.raw();
    pending_.push_back(Source{file, line, pending_raw_.size()});
    if (pending_.size() >= opt_.batch_rows) return flush_pending();
    return Status::ok();
  }
  if (!columns_chosen_)
    if (Status s = choose_columns(record); !s.is_ok()) return s;
  std::string error;
  Batch& b = *open_;
  const std::size_t start = b.data.size();
  if (!encode(record, error)) {
    reject(file, line, error, record.raw());
    return Status::ok();
  }
  if (b.rows.empty()) batch_started_ = clock::now();
  b.rows.push_back(start);
  b.raws += record.raw();
  b.sources.push_back(Source{file, line, b.raws.size()});
  if (b.rows.size() >= opt_.batch_rows) return commit_batch();
  return Status::ok();
}

bool Sink::encode(const citypipe::JsonRecord& record, std::string& error) {
  std::fill(values_.begin(), values_.end(), nullptr);
  const auto& fields = record.fields();
  if (guess_.size() < fields.size()) guess_.resize(fields.size(), npos);
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const citypipe::JsonField& f = fields[i];
    std::size_t c = guess_[i];
    // Records of one stream mostly share a layout: try last time's column.
    if (c >= columns_.size() || columns_[c].name != f.key) {
      c = npos;
      for (std::size_t j = 0; j < columns_.size(); ++j)
        if (columns_[j].name == f.key) c = j;
      guess_[i] = c;
    }
    if (c == npos) {
      if (opt_.strict_columns) {
        error = fmt::format("field '{}' has no column in {}", f.key, target_);
        return false;
      }
      if (std::find(ignored_.begin(), ignored_.end(), f.key) == ignored_.end()) {
        ignored_.emplace_back(f.key);
        tool_.warn(fmt::format("field '{}' has no column in {}; ignored (reported once)", f.key, target_));
      }
      continue;
    }
    if (values_[c] == nullptr) values_[c] = &f;
  }
  for (std::size_t k = 0; k < key_index_.size(); ++k) {
    const citypipe::JsonField* f = values_[key_index_[k]];
    if (f == nullptr || f->type == citypipe::json_type::null) {
      error = fmt::format("key field '{}' is missing or null", opt_.key[k]);
      return false;
    }
  }
  return encoder_->append_row(open_->data, values_.data(), error);
}

bool Sink::reject(std::uint32_t file, std::uint64_t line, std::string_view reason, std::string_view raw) {
  --tool_.stats().in;  // counted as rejected instead
  return tool_.bad_input().report(files_[file], line, reason, raw);
}

// The first batch with --create: its records decide the column types.
Status Sink::flush_pending() {
  if (table_ready_ || pending_.empty()) return Status::ok();
  if (Status s = create_table(); !s.is_ok()) return s;
  table_ready_ = true;
  std::vector<Source> pending = std::move(pending_);
  std::string raw = std::move(pending_raw_);
  pending_.clear();
  pending_raw_.clear();
  citypipe::JsonParser parser;
  citypipe::JsonRecord rec;
  std::string error;
  std::size_t begin = 0;
  for (const Source& src : pending) {
    const std::string_view line(raw.data() + begin, src.raw_end - begin);
    begin = src.raw_end;
    if (!parser.parse(line, rec, error)) continue;  // it parsed once already
    if (Status s = add(rec, src.file, src.line); !s.is_ok()) return s;
  }
  return Status::ok();
}

// Hands the open batch to the sender, waiting while it has max_handed.
Status Sink::commit_batch() {
  if (open_->rows.empty()) return collect(false);
  std::unique_ptr<Batch> b = std::move(open_);
  if (!spare_.empty()) {
    open_ = std::move(spare_.back());
    spare_.pop_back();
  } else {
    open_ = std::make_unique<Batch>();
  }
  if (!sender_.joinable()) {
    // From here on the connection is the sender's.
    sender_ = citypipe::start_thread_without_signals([this] { send_loop(); });
  }
  {
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait(lock, [this] { return queue_.size() < max_handed || broken_; });
    queue_.push_back(std::move(b));  // after a failure, still counted as not committed
  }
  wake_.notify_all();
  return collect(false);
}

// Reports the batches the sender is done with; with all, waits for every
// batch handed over.
Status Sink::collect(bool all) {
  std::deque<std::unique_ptr<Batch>> done;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    if (all) wake_.wait(lock, [this] { return queue_.empty() || broken_; });
    done.swap(finished_);
  }
  Status status;
  for (std::unique_ptr<Batch>& b : done) {
    Status s = report(*b);
    if (status.is_ok()) status = s;
    b->data.clear();
    b->rows.clear();
    b->sources.clear();
    b->raws.clear();
    b->refused.clear();
    b->committed = b->done = 0;
    b->error = failure::none;
    b->message.clear();
    spare_.push_back(std::move(b));
  }
  return status;
}

Status Sink::report(Batch& b) {
  for (const auto& [row, reason] : b.refused) {
    const std::size_t raw_begin = row == 0 ? 0 : b.sources[row - 1].raw_end;
    const std::string_view raw(b.raws.data() + raw_begin, b.sources[row].raw_end - raw_begin);
    reject(b.sources[row].file, b.sources[row].line, "PostgreSQL refused the row: " + reason, raw);
  }
  committed_ += b.committed;
  tool_.stats().out += b.committed;
  tool_.stats().set_extra("reconnects", reconnects_.load());
  if (b.error == failure::none) {
    ++batches_;
    tool_.stats().set_extra("batches", batches_);
    progress(false);
    return Status::ok();
  }
  const std::uint64_t left = b.rows.size() - b.done + unfinished();
  if (b.error == failure::connection) return unavailable(b.message, left);
  return Status::error(citypipe::exit_unavailable,
                       fmt::format("PostgreSQL refused the batch: {}; {} records committed, {} not committed",
                                   b.message, committed_, left));
}

std::uint64_t Sink::unfinished() const {
  std::uint64_t n = held();
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& b : queue_) n += b->rows.size();
  return n;
}

// The sender thread: commits the handed batches in order, until told to quit
// or a batch fails (which ends the run).
void Sink::send_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return quit_ || (!queue_.empty() && !broken_); });
    if (quit_) return;
    Batch& b = *queue_.front();
    lock.unlock();
    send_batch(b);
    lock.lock();
    if (b.error != failure::none) broken_ = true;
    finished_.push_back(std::move(queue_.front()));
    queue_.pop_front();
    wake_.notify_all();
  }
}

void Sink::send_batch(Batch& b) {
  std::vector<std::pair<std::size_t, std::size_t>> todo{{0, b.rows.size()}};
  while (!todo.empty()) {
    auto [lo, hi] = todo.back();
    todo.pop_back();
    Result r = send_range(b, lo, hi);
    while (r.kind == failure::connection) {
      if (Status s = reconnect(r); !s.is_ok()) {
        b.error = failure::connection;
        b.message = s.message();
        return;
      }
      r = send_range(b, lo, hi);
    }
    if (r.kind == failure::none) {
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
        todo.emplace_back(mid, hi);
        todo.emplace_back(lo, mid);
      }
    } else {
      b.error = failure::fatal;
      b.message = r.message;
      return;
    }
  }
}

Result Sink::begin_copy() {
  Result r = conn_.copy_begin(copy_sql_);
  if (!r.ok()) conn_.rollback_if_needed();
  return r;
}

Result Sink::after_copy(Result copied) {
  if (!copied.ok()) conn_.rollback_if_needed();
  return copied;
}

Result Sink::send_range(const Batch& b, std::size_t lo, std::size_t hi) {
  if (Result r = begin_copy(); !r.ok()) return r;
  const std::size_t start = b.rows[lo];
  const std::size_t end = hi < b.rows.size() ? b.rows[hi] : b.data.size();
  bool sent = conn_.copy_put(encoder_->header());
  for (std::size_t at = start; sent && at < end; at += send_chunk)
    sent = conn_.copy_put(std::string_view(b.data).substr(at, std::min(send_chunk, end - at)));
  if (!sent || !conn_.copy_put(encoder_->trailer())) {
    conn_.close();
    return {failure::connection, "connection lost while sending a batch"};
  }
  return after_copy(conn_.copy_end());
}

// Reconnects with exponential backoff until the retry budget, counted from
// the first failure, is spent.
Status Sink::reconnect(const Result& why) {
  const auto now = clock::now();
  if (!failing_since_) {
    failing_since_ = now;
    backoff_ = std::chrono::milliseconds(100);
    tool_.warn(fmt::format("{}; reconnecting for up to {}", why.message,
                           citypipe::format_duration(opt_.retry_for_ms)));
  }
  const auto deadline = *failing_since_ + std::chrono::milliseconds(opt_.retry_for_ms);
  std::string last = why.message;
  for (;;) {
    Result r = conn_.connect();
    if (r.ok()) r = prepare_session();
    if (r.ok()) {
      reconnects_.fetch_add(1);
      tool_.warn("reconnected");
      return Status::ok();
    }
    last = r.message;
    const auto left = deadline - clock::now();
    if (left <= clock::duration::zero()) return Status::error(citypipe::exit_unavailable, last);
    std::this_thread::sleep_for(std::min<clock::duration>(backoff_, left));
    backoff_ = std::min(backoff_ * 2, std::chrono::milliseconds(2000));
  }
}

Status Sink::run_with_retry(const std::string& sql) {
  for (;;) {
    Result r = conn_.exec(sql);
    if (r.ok()) return Status::ok();
    if (r.kind != failure::connection)
      return Status::error(citypipe::exit_unavailable, fmt::format("{} failed: {}", sql, r.message));
    if (Status s = reconnect(r); !s.is_ok()) return unavailable(s.message(), held());
  }
}

Status Sink::unavailable(const std::string& why, std::uint64_t uncommitted) {
  return Status::error(citypipe::exit_unavailable,
                       fmt::format("PostgreSQL unavailable for {} ({}); {} records committed, {} not committed",
                                   citypipe::format_duration(opt_.retry_for_ms), why, committed_, uncommitted));
}

bool Sink::batch_due(clock::time_point now) const {
  return held() > 0 && now - batch_started_ >= std::chrono::milliseconds(opt_.batch_ms);
}

// Called before every read: hands over a batch that is due; before a read
// that would block on a quiet pipe, commits everything and waits for it, so
// that a batch neither waits past its --batch-ms nor fails unnoticed.
void Sink::on_idle() {
  if (!deferred_.is_ok()) return;
  Status s = collect(false);
  if (s.is_ok()) {
    bool quiet = false;
    const auto& inputs = tool_.options().inputs;
    if (inputs.empty() || inputs == std::vector<std::string>{"-"}) {
      bool handed = false;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        handed = !queue_.empty();
      }
      if (held() > 0 || handed) {
        std::int64_t wait_ms = 0;
        const auto now = clock::now();
        if (held() > 0 && !batch_due(now))
          wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        batch_started_ + std::chrono::milliseconds(opt_.batch_ms) - now)
                        .count() + 1;
        pollfd p{0, POLLIN, 0};
        quiet = ::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(wait_ms, std::numeric_limits<int>::max()))) == 0;
      }
    }
    if (quiet || batch_due(clock::now())) {
      s = flush_pending();
      if (s.is_ok()) s = commit_batch();
      if (s.is_ok() && quiet) s = collect(true);
    }
  }
  if (!s.is_ok()) {
    deferred_ = s;
    citypipe::request_stop();
  }
  progress(false);
}

void Sink::progress(bool final) {
  if (!opt_.progress) return;
  const auto now = clock::now();
  const double secs = std::chrono::duration<double>(now - progress_at_).count();
  if (!final && secs < 1.0) return;
  const std::uint64_t in = tool_.stats().in;
  const double rate = secs > 0 ? static_cast<double>(in - progress_in_) / secs : 0.0;
  progress_at_ = now;
  progress_in_ = in;
  const std::string line = fmt::format("{}: {} rows committed, {:.0f} records/s", tool_.name(), committed_, rate);
  if (progress_tty_) fmt::print(stderr, "\r{}\x1b[K{}", line, final ? "\n" : "");
  else fmt::print(stderr, "{}\n", line);
}

}  // namespace pgsink
