#include "sink.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "citypipe/core/control.h"
#include "citypipe/core/event_time.h"
#include "citypipe/core/hash.h"
#include "citypipe/core/signals.h"

namespace pgsink {

using citypipe::Status;
namespace pg = citypipe::pg;

namespace {

constexpr std::size_t npos = static_cast<std::size_t>(-1);
const std::string stage_name = "pg_sink_stage";

}  // namespace

Status print_ddl(citypipe::Tool& tool, const SinkOptions& opt, citypipe::RecordInput& in) {
  in.on_control([](std::string_view) { return true; });
  pg::SchemaInference inference(opt.time_columns);
  citypipe::JsonRecord rec;
  // The first batch, as --create sees it: up to batch_rows records or batch_bytes.
  for (std::size_t n = 0, bytes = 0; n < opt.batch_rows && bytes < opt.batch_bytes && in.next(rec); ++n) {
    inference.add(rec);
    bytes += rec.raw().size();
  }
  if (!in.status().is_ok()) return in.status();
  if (inference.empty()) return Status::error(citypipe::exit_data, "no record to infer the columns from");
  const std::vector<pg::Column> cols = inference.columns();
  for (const std::string& k : opt.key)
    if (std::none_of(cols.begin(), cols.end(), [&](const pg::Column& c) { return c.name == k; }))
      return Status::error(citypipe::exit_usage, fmt::format("key column '{}' is not a field of the input", k));
  std::string& out = tool.out().buffer();
  out += pg::create_table_sql(opt.table, cols) + ";\n";
  for (const std::string& sql : pg::create_index_sql(opt.table, pg::pick_time_column(cols, opt.time_columns), opt.key))
    out += sql + ";\n";
  tool.out().commit();
  return Status::ok();
}

Sink::Sink(citypipe::Tool& tool, SinkOptions options)
    : tool_(tool),
      opt_(std::move(options)),
      target_(pg::quote_table(opt_.table)) {
  const std::size_t n = std::max<std::size_t>(opt_.workers, 1);
  for (std::size_t i = 0; i < n; ++i) {
    senders_.push_back(std::make_unique<Sender>(tool_, opt_.conninfo, opt_.retry_for_ms, plan_,
                                                n > 1 ? fmt::format("connection {}: ", i + 1) : ""));
    open_.push_back(std::make_unique<Batch>());
    senders_.back()->on_wait([this] { check_signals(); });
  }
  progress_tty_ = isatty(2) != 0;
  progress_at_ = clock::now();
}

// The senders first: their threads use plan_.
Sink::~Sink() {
  senders_.clear();
  if (acks_fd_ >= 0) ::close(acks_fd_);
}

Status Sink::run(citypipe::RecordInput& in) {
  tool_.stats().set_extra("batches", 0);
  tool_.stats().set_extra("reconnects", 0);
  if (Status s = start(); !s.is_ok()) return s;
  in.on_idle([this, &in] { on_idle(in.reader().reading_stdin()); });
  in.on_control([this](std::string_view line) { return on_control(line); });
  citypipe::JsonRecord rec;
  std::uint64_t n = 0;
  while (deferred_.is_ok() && in.next(rec)) {
    const citypipe::Line& where = in.where();
    std::uint32_t file = 0;
    if (files_.empty() || files_.back() != *where.file) files_.push_back(*where.file);
    file = static_cast<std::uint32_t>(files_.size() - 1);
    if (Status s = add(rec, file, where.number); !s.is_ok()) return s;
    if ((++n & 255) == 0) {
      if (batch_due(clock::now()))
        if (Status s = commit_held(false); !s.is_ok()) return s;
      progress(false);
    }
  }
  if (!deferred_.is_ok()) return deferred_;
  if (Status s = commit_held(true); !s.is_ok()) return s;
  progress(true);
  if (Status s = all_refused(); !s.is_ok()) return s;
  return in.status();
}

// Control lines: only a checkpoint, and only with --acks, does anything.
bool Sink::on_control(std::string_view line) {
  static constexpr std::string_view checkpoint = "\"checkpoint\"";
  if (opt_.acks.empty()) return true;
  std::string_view kind = line.substr(citypipe::control_prefix.size());
  while (!kind.empty() && kind.front() == ' ') kind.remove_prefix(1);
  if (kind.substr(0, checkpoint.size()) != checkpoint) return true;
  Status s = commit_held(true);
  if (s.is_ok()) s = write_ack(line);
  if (s.is_ok()) return true;
  deferred_ = s;
  return false;
}

// The ack: the control line and a newline in one write(2). A FIFO is opened
// at the first checkpoint, which waits for its reader.
Status Sink::write_ack(std::string_view line) {
  if (acks_fd_ < 0) {
    acks_fd_ = ::open(opt_.acks.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (acks_fd_ < 0) {
      if (errno == EINTR && citypipe::stop_requested())
        return Status::error(citypipe::exit_interrupted,
                             fmt::format("interrupted while waiting for a reader of {}; {} records committed, "
                                         "the checkpoint not acknowledged", opt_.acks, committed_));
      return Status::error(citypipe::exit_io, fmt::format("cannot open {} for acks: {}", opt_.acks, std::strerror(errno)));
    }
  }
  std::string ack(line);
  ack += '\n';
  ssize_t n = -1;
  do n = ::write(acks_fd_, ack.data(), ack.size());
  while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(ack.size())) return Status::ok();
  const std::string why = n < 0 && errno == EPIPE ? "the reader has gone (EPIPE)"
                          : n < 0                 ? std::strerror(errno)
                                                  : "short write";
  return Status::error(citypipe::exit_io,
                       fmt::format("cannot write an ack to {}: {}; {} records committed, the checkpoint not acknowledged",
                                   opt_.acks, why, committed_));
}

void Sink::check_signals() {
  const int signals = citypipe::signal_count();
  if (signals == 0 || abandoned_) return;
  bool down = false;
  std::chrono::milliseconds left{0};
  for (const auto& s : senders_)
    if (s->failing()) {
      down = true;
      left = std::max(left, s->retry_left());
    }
  // SIGTERM abandons only a wait for a server that is down: while it is up,
  // the flush that SIGTERM asks for is short.
  if (signals >= 2 || (down && citypipe::abandon_requested())) {
    abandoned_ = true;
    for (auto& s : senders_) s->halt();
    return;
  }
  if (down && !told_pending_) {
    told_pending_ = true;
    tool_.warn(fmt::format("waiting up to {} for PostgreSQL to commit {} records; Ctrl-C again to abandon",
                           citypipe::format_duration(left.count() + 999 - (left.count() + 999) % 1000),
                           unfinished()));
  }
}

Status Sink::abandoned(std::uint64_t uncommitted) const {
  return Status::error(citypipe::exit_interrupted,
                       fmt::format("abandoned while PostgreSQL was unavailable: {} records committed, {} not committed",
                                   committed_, uncommitted));
}

// Every record refused, none committed: a mismatch between input and table
// more likely than bad lines.
Status Sink::all_refused() const {
  if (committed_ > 0 || refused_ == 0 || tool_.stats().in > 0) return Status::ok();
  return Status::error(citypipe::exit_data,
                       fmt::format("all {} records were refused and none committed; the first: {}", refused_,
                                   first_refusal_));
}

// Connecting, and learning the table (or planning to create it), on the first
// connection; then the others connect. Table and indexes are made once, before
// any sender starts.
Status Sink::start() {
  auto connect = [this](Sender& s) -> Status {
    if (Result r = s.connection().connect(); !r.ok())
      if (Status e = s.reconnect(r); !e.is_ok()) return gave_up(s, e, 0);
    return Status::ok();
  };
  if (Status s = connect(admin()); !s.is_ok()) return s;
  bool exists = false;
  if (Status s = load_columns(exists); !s.is_ok()) return s;
  if (!exists) {
    if (!opt_.create)
      return Status::error(citypipe::exit_usage,
                           fmt::format("table {} does not exist (--create makes it)", target_));
    inference_.emplace(opt_.time_columns);
  } else {
    table_ready_ = true;
    if (opt_.create && !opt_.key.empty())
      for (const std::string& sql : pg::create_index_sql(opt_.table, std::nullopt, opt_.key))
        if (Status s = run_sql(sql); !s.is_ok()) return s;
    if (Status s = check_key_index(); !s.is_ok()) return s;
  }
  for (std::size_t i = 1; i < senders_.size(); ++i)
    if (Status s = connect(*senders_[i]); !s.is_ok()) return s;
  return Status::ok();
}

Status Sink::load_columns(bool& exists) {
  std::vector<std::vector<std::string>> rows;
  Status s = with_retry(
      admin(), [&] { return admin().connection().query(std::string(pg::columns_query()), {target_}, rows); },
      "reading the table's columns");
  if (!s.is_ok()) return s;
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

Sender& Sink::admin() {
  if (!senders_.front()->started()) return *senders_.front();
  if (!admin_) {
    admin_ = std::make_unique<Sender>(tool_, opt_.conninfo, opt_.retry_for_ms, plan_, "");
    admin_->connection().connect();  // on failure, with_retry reconnects
  }
  return *admin_;
}

std::string Sink::schema_change(const citypipe::JsonRecord& record) const {
  std::vector<pg::Column> add;
  std::vector<std::string> widen;
  pg::SchemaInference inferred(opt_.time_columns);
  inferred.add(record);
  const std::vector<pg::Column> kinds = inferred.columns();
  for (const citypipe::JsonField& f : record.fields()) {
    if (f.type == citypipe::json_type::null) continue;
    auto it = std::find_if(table_columns_.begin(), table_columns_.end(),
                           [&](const pg::Column& c) { return c.name == f.key; });
    if (it == table_columns_.end()) {
      auto kind = std::find_if(kinds.begin(), kinds.end(), [&](const pg::Column& c) { return c.name == f.key; });
      if (std::none_of(add.begin(), add.end(), [&](const pg::Column& c) { return c.name == f.key; }))
        add.push_back(*kind);
    } else if (it->type == pg::col_type::bigint && f.type == citypipe::json_type::number && !f.integral &&
               std::trunc(f.number) != f.number) {
      widen.emplace_back(f.key);
    }
  }
  return pg::alter_table_sql(opt_.table, add, widen);
}

// Commits every row encoded for the old columns, alters the table, and has
// the next record choose the columns again.
Status Sink::change_schema(const std::string& sql) {
  if (Status s = commit_held(true); !s.is_ok()) return s;
  if (Status s = run_sql(sql); !s.is_ok()) return s;
  tool_.warn(fmt::format("{} (a record did not fit the table --create made)", sql));
  bool exists = false;
  if (Status s = load_columns(exists); !s.is_ok()) return s;
  columns_chosen_ = false;
  return Status::ok();
}

// ON CONFLICT (key) needs a unique index on exactly the key's columns; without
// one every batch would fail.
Status Sink::check_key_index() {
  if (opt_.key.empty()) return Status::ok();
  std::vector<std::vector<std::string>> rows;
  Status s = with_retry(
      admin(),
      [&] {
        return admin().connection().query(std::string(pg::unique_index_query()),
                                          {target_, pg::text_array_literal(opt_.key)}, rows);
      },
      "looking for the key's unique index");
  if (!s.is_ok()) return s;
  if (!rows.empty()) return Status::ok();
  std::string cols;
  for (const std::string& k : opt_.key) cols += (cols.empty() ? "" : ", ") + pg::quote_ident(k);
  return Status::error(citypipe::exit_usage,
                       fmt::format("--key needs a unique index on exactly ({}) of {}, and there is none: "
                                   "create it (CREATE UNIQUE INDEX ON {} ({})), or let --create make it",
                                   cols, target_, target_, cols));
}

// A first record none of whose fields is a column would load rows of NULLs.
Status Sink::check_fields_match(const citypipe::JsonRecord& first) const {
  std::string fields, columns;
  for (const citypipe::JsonField& f : first.fields()) {
    for (const pg::Column& c : columns_)
      if (c.name == f.key) return Status::ok();
    if (fields.size() < 200) fields += (fields.empty() ? "" : ", ") + std::string(f.key);
  }
  for (const pg::Column& c : columns_)
    if (columns.size() < 200) columns += (columns.empty() ? "" : ", ") + c.name;
  return Status::error(citypipe::exit_data,
                       fmt::format("no field of the input is a column of {}: the first record has {}; the table has {}",
                                   target_, fields.empty() ? "no fields" : fields, columns));
}

Status Sink::create_table() {
  const std::vector<pg::Column> cols = inference_->columns();
  if (Status s = run_sql(pg::create_table_sql(opt_.table, cols)); !s.is_ok()) return s;
  const auto time_column = pg::pick_time_column(cols, opt_.time_columns);
  for (const std::string& sql : pg::create_index_sql(opt_.table, time_column, opt_.key))
    if (Status s = run_sql(sql); !s.is_ok()) return s;
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
  is_key_.assign(columns_.size(), 0);
  for (const std::string& k : opt_.key) {
    auto it = std::find_if(columns_.begin(), columns_.end(), [&](const pg::Column& c) { return c.name == k; });
    if (it == columns_.end())
      return Status::error(citypipe::exit_usage, fmt::format("key column '{}' is not a column of {}", k, target_));
    key_index_.push_back(static_cast<std::size_t>(it - columns_.begin()));
    is_key_[key_index_.back()] = 1;
  }
  std::vector<pg::col_type> types;
  bool binary = true;
  for (const pg::Column& c : columns_) {
    types.push_back(c.type);
    binary = binary && pg::binary_supported(c.type);
  }
  plan_.encoder = std::make_unique<pg::CopyEncoder>(std::move(types), binary);
  values_.assign(columns_.size(), nullptr);
  spans_.assign(columns_.size(), pg::FieldSpan{});
  by_key_ = !opt_.key.empty() && senders_.size() > 1;
  if (opt_.key.empty()) {
    plan_.copy_sql = pg::copy_sql(target_, columns_, binary);
  } else {
    // One query string: after the COPY data the server goes on to the
    // INSERT and the COMMIT without waiting for another round trip.
    plan_.copy_sql = "BEGIN; " + pg::copy_sql(stage_name, columns_, binary) + "; " +
                     pg::upsert_sql(opt_.table, stage_name, columns_, opt_.key, opt_.conflict) + "; COMMIT";
    plan_.stage_sql = pg::stage_table_sql(stage_name, opt_.table, columns_);
    if (opt_.conflict == pg::on_conflict::nothing) plan_.fast_sql = pg::copy_sql(target_, columns_, binary);
  }
  columns_chosen_ = true;
  if (Status s = check_fields_match(first); !s.is_ok()) return s;
  ++plan_.generation;
  // Started senders set their sessions up themselves, before their next batch.
  if (!senders_.front()->started())
    for (auto& sender : senders_)
    if (Status s = with_retry(*sender, [&] { return sender->prepare_session(); }, "creating the staging table");
        !s.is_ok())
      return s;
  return Status::ok();
}

Status Sink::add(const citypipe::JsonRecord& record, std::uint32_t file, std::uint64_t line) {
  if (!table_ready_) {
    if (pending_.empty()) pending_started_ = clock::now();
    inference_->add(record);
    pending_raw_ += record.raw();
    pending_.push_back(Source{file, line, pending_raw_.size()});
    if (pending_.size() >= opt_.batch_rows || pending_raw_.size() >= opt_.batch_bytes) return flush_pending();
    return Status::ok();
  }
  if (!columns_chosen_)
    if (Status s = choose_columns(record); !s.is_ok()) return s;
  std::string error;
  // With a key and several senders a row is encoded on its own first: its
  // encoded key decides the sender.
  const bool by_key = by_key_;
  std::size_t w = by_key ? 0 : next_;
  if (by_key) row_.clear();
  std::string& out = by_key ? row_ : open_[w]->data;
  const std::size_t start = out.size();
  const bool encoded = encode(record, out, error);
  if (opt_.create && (unknown_field_ || !encoded)) {
    if (const std::string sql = schema_change(record); !sql.empty()) {
      out.resize(start);
      if (Status s = change_schema(sql); !s.is_ok()) return s;
      return add(record, file, line);  // with the new columns
    }
  }
  if (!encoded) {
    reject(file, line, error, record.raw());
    return Status::ok();
  }
  if (by_key) w = route(row_);
  Batch& b = *open_[w];
  if (b.rows.empty()) b.started = clock::now();
  if (by_key) {
    b.rows.push_back(b.data.size());
    b.data += row_;
  } else {
    b.rows.push_back(start);
  }
  b.raws += record.raw();
  b.sources.push_back(Source{file, line, b.raws.size()});
  if (b.rows.size() >= opt_.batch_rows || b.data.size() + b.raws.size() >= opt_.batch_bytes) return commit_batch(w);
  return Status::ok();
}

// The sender of an encoded row: a hash of its key columns' encoded values, so
// that one key value goes to one sender however the JSON wrote it (a time
// with another offset, 21.0 for 21). The encoder said where they are.
std::size_t Sink::route(std::string_view row) const {
  std::uint64_t h = citypipe::fnv1a_basis;
  const bool text = !plan_.encoder->binary();
  for (std::size_t c = 0; c < columns_.size(); ++c) {
    if (is_key_[c] == 0) continue;
    h = citypipe::fnv1a(row.substr(spans_[c].begin, spans_[c].end - spans_[c].begin), h);
    if (text) h = citypipe::fnv1a("\t", h);
  }
  h ^= h >> 29;
  return static_cast<std::size_t>(h % senders_.size());
}

bool Sink::encode(const citypipe::JsonRecord& record, std::string& out, std::string& error) {
  std::fill(values_.begin(), values_.end(), nullptr);
  unknown_field_ = false;
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
      if (opt_.create) {  // add() adds a column for it
        unknown_field_ = true;
        continue;
      }
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
  return plan_.encoder->append_row(out, values_.data(), error, by_key_ ? spans_.data() : nullptr);
}

bool Sink::reject(std::uint32_t file, std::uint64_t line, std::string_view reason, std::string_view raw) {
  --tool_.stats().in;  // counted as rejected instead
  if (refused_++ == 0) first_refusal_ = fmt::format("{}:{}: {}", files_[file], line, reason);
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

// Hands sender w's open batch to it, waiting while it holds its maximum.
Status Sink::commit_batch(std::size_t w) {
  if (open_[w]->rows.empty()) return collect(false);
  std::unique_ptr<Batch> b = std::move(open_[w]);
  if (!spare_.empty()) {
    open_[w] = std::move(spare_.back());
    spare_.pop_back();
  } else {
    open_[w] = std::make_unique<Batch>();
  }
  // From here on the connections are the senders'.
  if (!senders_[w]->started())
    for (auto& s : senders_) s->start();
  senders_[w]->push(std::move(b));
  if (opt_.key.empty()) next_ = (next_ + 1) % senders_.size();
  return collect(false);
}

Status Sink::commit_all() {
  for (std::size_t w = 0; w < open_.size(); ++w)
    if (!open_[w]->rows.empty())
      if (Status s = commit_batch(w); !s.is_ok()) return s;
  return collect(false);
}

// Reports the batches the senders are done with; with all, waits for every
// batch handed over. A batch that failed ends the run: the other senders
// stop, and what they committed meanwhile is counted before the totals.
Status Sink::collect(bool all) {
  std::vector<std::unique_ptr<Batch>> done;
  for (auto& s : senders_) s->take_finished(done, all);
  const Batch* failed = nullptr;
  for (const auto& b : done)
    if (failed == nullptr && b->error != failure::none) failed = b.get();
  if (failed != nullptr) {
    for (auto& s : senders_) s->halt();
    for (auto& s : senders_) s->take_finished(done, true);
  }
  std::uint64_t lost = 0;
  for (const auto& b : done) {
    report(*b);
    if (b->error != failure::none) lost += b->rows.size() - b->done;
  }
  Status status;
  if (abandoned_) {
    status = abandoned(lost + unfinished());
  } else if (failed != nullptr) {
    const std::uint64_t left = lost + unfinished();
    if (failed->error == failure::connection)
      status = unavailable(failed->message, left);
    else
      status = Status::error(citypipe::exit_unavailable, fmt::format("{}; {} records committed, {} not committed",
                                                                     failed->message, committed_, left));
  }
  for (auto& b : done) {
    b->clear();
    spare_.push_back(std::move(b));
  }
  return status;
}

void Sink::report(Batch& b) {
  for (const auto& [row, reason] : b.refused) {
    const std::size_t raw_begin = row == 0 ? 0 : b.sources[row - 1].raw_end;
    const std::string_view raw(b.raws.data() + raw_begin, b.sources[row].raw_end - raw_begin);
    reject(b.sources[row].file, b.sources[row].line, "PostgreSQL refused the row: " + reason, raw);
  }
  committed_ += b.committed;
  tool_.stats().out += b.committed;
  std::uint64_t reconnects = 0;
  for (const auto& s : senders_) reconnects += s->reconnects();
  tool_.stats().set_extra("reconnects", reconnects);
  if (b.error != failure::none) return;
  ++batches_;
  tool_.stats().set_extra("batches", batches_);
  progress(false);
}

std::size_t Sink::held() const {
  std::size_t n = pending_.size();
  for (const auto& b : open_) n += b->rows.size();
  return n;
}

std::uint64_t Sink::unfinished() const {
  std::uint64_t n = held();
  for (const auto& s : senders_) n += s->queued_rows();
  return n;
}

bool Sink::all_idle() const {
  return std::all_of(senders_.begin(), senders_.end(), [](const auto& s) { return s->idle(); });
}

// Runs a setup step until it gets through, reconnecting after a lost
// connection; any other failure stops the run.
Status Sink::with_retry(Sender& sender, const std::function<Result()>& step, const std::string& what) {
  for (;;) {
    Result r = step();
    if (r.ok()) return Status::ok();
    if (r.kind != failure::connection) return Status::error(citypipe::exit_unavailable, what + ": " + r.message);
    if (Status s = sender.reconnect(r); !s.is_ok()) return gave_up(sender, s, held());
  }
}

Status Sink::gave_up(const Sender& sender, const Status& why, std::uint64_t uncommitted) {
  if (abandoned_) return abandoned(uncommitted);
  if (sender.refused_login()) return why;
  return unavailable(why.message(), uncommitted);
}

Status Sink::run_sql(const std::string& sql) {
  return with_retry(admin(), [&] { return admin().connection().exec(sql); }, sql + " failed");
}

Status Sink::unavailable(const std::string& why, std::uint64_t uncommitted) {
  return Status::error(citypipe::exit_unavailable,
                       fmt::format("PostgreSQL unavailable for {} ({}); {} records committed, {} not committed",
                                   citypipe::format_duration(opt_.retry_for_ms), why, committed_, uncommitted));
}

std::optional<Sink::clock::time_point> Sink::oldest() const {
  std::optional<clock::time_point> t;
  if (!pending_.empty()) t = pending_started_;
  for (const auto& b : open_)
    if (!b->rows.empty() && (!t || b->started < *t)) t = b->started;
  return t;
}

bool Sink::batch_due(clock::time_point now) const {
  const auto t = oldest();
  return t && now - *t >= std::chrono::milliseconds(opt_.batch_ms);
}

// Called before every read: hands over a batch that is due; before a read
// that would block on a quiet pipe, commits everything and waits for it, so
// that a batch neither waits past its --batch-ms nor fails unnoticed. A
// failure here ends the input; run() returns it.
void Sink::on_idle(bool reading_stdin) {
  if (!deferred_.is_ok()) return;
  Status s = collect(false);
  if (s.is_ok()) {
    const bool quiet = reading_stdin && input_quiet();
    if (quiet || batch_due(clock::now())) s = commit_held(quiet);
  }
  if (!s.is_ok()) {
    deferred_ = s;
    citypipe::request_stop();
  }
  progress(false);
}

// Waits for input on stdin until the oldest batch held is due; true when none
// came. Returns at once when nothing is held or being committed.
bool Sink::input_quiet() const {
  const auto first = oldest();
  if (!first && all_idle()) return false;
  pollfd p{0, POLLIN, 0};
  return ::poll(&p, 1, ms_until_due(first)) == 0;
}

int Sink::ms_until_due(std::optional<clock::time_point> first) const {
  const auto now = clock::now();
  if (!first || batch_due(now)) return 0;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      *first + std::chrono::milliseconds(opt_.batch_ms) - now).count() + 1;
  return static_cast<int>(std::min<std::int64_t>(ms, std::numeric_limits<int>::max()));
}

// Hands over every batch held; with wait, until all are committed.
Status Sink::commit_held(bool wait) {
  if (Status s = flush_pending(); !s.is_ok()) return s;
  if (Status s = commit_all(); !s.is_ok()) return s;
  return wait ? collect(true) : Status::ok();
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
