#include "window_agg.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>

#include <poll.h>

#include "citypipe/json_write.h"
#include "citypipe/signals.h"

namespace citypipe {

namespace {

constexpr char key_separator = '\x1f';  // never in JSON text: escaped in strings

std::vector<std::string> split_list(const std::string& list) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= list.size() && !list.empty()) {
    const std::size_t comma = std::min(list.find(',', pos), list.size());
    out.push_back(list.substr(pos, comma - pos));
    pos = comma + 1;
  }
  return out;
}

std::optional<time_ms> parse_signed_duration(std::string_view text) {
  if (!text.empty() && text[0] == '-') {
    auto d = parse_duration(text.substr(1));
    if (!d) return std::nullopt;
    return -*d;
  }
  return parse_duration(text);
}

bool looks_like_id(std::string_view name) {
  auto ends_with = [&](std::string_view s) {
    return name.size() >= s.size() && name.substr(name.size() - s.size()) == s;
  };
  return name == "id" || ends_with("_id") || ends_with("Id") || ends_with("ID");
}

void append_key_piece(std::string& out, const JsonField* f) {
  if (f == nullptr) {
    out += "null";
    return;
  }
  switch (f->type) {
    case json_type::null: out += "null"; break;
    case json_type::boolean: out += f->boolean ? "true" : "false"; break;
    case json_type::number:
      if (f->integral) append_json_integer(out, f->integer);
      else append_json_number(out, f->number);
      break;
    case json_type::string: append_json_string(out, f->text); break;
    case json_type::array:
    case json_type::object: out += f->text; break;
  }
}

// Unambiguous bytes per key value: a type tag, then the unescaped text.
void append_lookup_piece(std::string& out, const JsonField* f) {
  if (f == nullptr) {
    out += '0';
    return;
  }
  switch (f->type) {
    case json_type::string: out += 's'; out.append(f->text); break;
    case json_type::number: out += 'n'; append_json_number(out, f->number); break;
    case json_type::boolean: out += f->boolean ? 't' : 'f'; break;
    case json_type::null: out += '0'; break;
    case json_type::array:
    case json_type::object: out += 'j'; out.append(f->text); break;
  }
  out += key_separator;
}

// Records of one stream mostly share their layout: try where the field was
// last time before searching.
const JsonField* field(const JsonRecord& rec, std::string_view name, std::size_t& slot) {
  const auto& fields = rec.fields();
  if (slot < fields.size() && fields[slot].key == name) return &fields[slot];
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].key == name) {
      slot = i;
      return &fields[i];
    }
  }
  return nullptr;
}

}  // namespace

WindowAgg::WindowAgg(Tool& tool, WindowAggOptions options) : tool_(tool), o_(std::move(options)) {}

WindowAgg::~WindowAgg() {
  if (worker_.joinable()) {
    {
      std::lock_guard lock(mutex_);
      closing_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }
  if (late_ != nullptr) std::fclose(late_);
}

Status WindowAgg::setup() {
  std::string error;
  for (const auto& w : o_.windows) {
    auto spec = parse_window_spec(w, error);
    if (!spec) return Status::error(exit_usage, error);
    if (std::find(window_names_.begin(), window_names_.end(), spec->name()) != window_names_.end())
      return Status::error(exit_usage, "window '" + w + "' given twice");
    specs_.push_back(*spec);
    window_names_.push_back(spec->name());
  }
  if (!parse_aggregates(o_.aggregates, aggregates_, error)) return Status::error(exit_usage, error);
  with_count_ = std::any_of(aggregates_.begin(), aggregates_.end(),
                            [](const Aggregate& a) { return a.kind == aggregate_kind::count; });
  keys_ = split_list(o_.key);
  for (const auto& k : keys_)
    if (k.empty()) return Status::error(exit_usage, "--key: empty field name in '" + o_.key + "'");
  fields_ = split_list(o_.fields);
  for (const auto& f : fields_)
    if (f.empty()) return Status::error(exit_usage, "--fields: empty field name in '" + o_.fields + "'");
  auto offset = parse_signed_duration(o_.offset);
  if (!offset) return Status::error(exit_usage, "--offset: bad duration '" + o_.offset + "'");
  offset_ = *offset;
  auto lateness = parse_duration(o_.lateness);
  if (!lateness) return Status::error(exit_usage, "--lateness: bad duration '" + o_.lateness + "'");
  lateness_ = *lateness;
  if (!o_.idle_timeout.empty()) {
    idle_ = parse_duration(o_.idle_timeout);
    if (!idle_ || *idle_ <= 0)
      return Status::error(exit_usage, "--idle-timeout: bad duration '" + o_.idle_timeout + "'");
  }
  if (!o_.late_file.empty()) {
    late_ = std::fopen(o_.late_file.c_str(), "w");
    if (late_ == nullptr) return Status::error(exit_io, o_.late_file + ": " + std::strerror(errno));
  }
  return Status::ok();
}

// The columns come from the options or, by default, from the first record.
bool WindowAgg::first_record(const JsonRecord& rec) {
  if (o_.count_true.empty()) {
    if (auto f = rec.find("anomaly"); f != nullptr && f->type == json_type::boolean) trues_ = {"anomaly"};
  } else {
    trues_ = o_.count_true;
  }
  if (fields_.empty()) {
    for (const auto& f : rec.fields()) {
      if (f.type != json_type::number || f.key == o_.time_field || looks_like_id(f.key)) continue;
      if (std::find(keys_.begin(), keys_.end(), f.key) != keys_.end()) continue;
      if (std::find(fields_.begin(), fields_.end(), f.key) != fields_.end()) continue;
      fields_.emplace_back(f.key);
    }
  }
  for (const auto& f : fields_)
    for (const auto& a : aggregates_)
      if (a.kind != aggregate_kind::count) columns_.push_back(f + "_" + a.name);
  WindowConfig config;
  config.windows = specs_;
  config.offset = offset_;
  config.lateness = lateness_;
  config.fields = fields_.size();
  config.true_counters = trues_.size();
  config.needs = needs_of(aggregates_);
  config.emit_empty = o_.emit_empty;
  engine_ = std::make_unique<WindowEngine>(std::move(config));
  return true;
}

void WindowAgg::write_window(const WindowResult& r, std::string& out) const {
  ObjectWriter w(out);
  w.key("window").string(window_names_[r.window]);
  w.key("window_start").time(r.start);
  w.key("window_end").time(r.end);
  const std::string& key = engine_->key_text(r.key);
  std::size_t pos = 0;
  for (const auto& k : keys_) {
    const std::size_t sep = std::min(key.find(key_separator, pos), key.size());
    w.key(k).raw(std::string_view(key).substr(pos, sep - pos));
    pos = sep + 1;
  }
  if (with_count_) w.key("count").integer(static_cast<std::int64_t>(r.acc->count));
  std::size_t column = 0;
  for (const auto& field : r.acc->fields) {
    for (const auto& a : aggregates_) {
      if (a.kind == aggregate_kind::count) continue;
      w.key(columns_[column++]);
      if (auto v = field.value(a)) w.number(*v);
      else w.null();
    }
  }
  for (std::size_t j = 0; j < trues_.size(); ++j)
    w.key(trues_[j] + "_count").integer(static_cast<std::int64_t>(r.acc->true_counts[j]));
  w.finish();
}

// Live input only: while standard input is quiet, close windows by the wall
// clock (--processing-time, --idle-timeout) instead of blocking in read().
void WindowAgg::wait_for_input(RecordInput& in) {
  if (!engine_ || (!o_.processing_time && !idle_) || in.reader().current_file() != "<stdin>") return;
  const WindowEngine::Sink sink = [this](const WindowResult& r) {
    write_window(r, tool_.out().buffer());
    ++tool_.stats().out;
  };
  for (;;) {
    const time_ms now = wall_clock_ms();
    std::optional<time_ms> deadline;
    const auto next = engine_->next_end();
    if (o_.processing_time) {
      engine_->advance_watermark(now - lateness_);
      if (next) deadline = *next + lateness_;
    } else {
      const time_ms idle_from = last_arrival_ + *idle_;
      if (now >= idle_from) engine_->advance_watermark(max_event_ + (now - last_arrival_) - lateness_);
      // When the extrapolated watermark reaches the next window end.
      if (next) deadline = std::max(idle_from, last_arrival_ + (*next + lateness_ - max_event_));
    }
    if (engine_->emit(sink) > 0) tool_.out().flush();
    int timeout = -1;
    if (deadline) timeout = static_cast<int>(std::clamp<time_ms>(*deadline - wall_clock_ms(), 1, 60000));
    pollfd p{0, POLLIN, 0};
    const int n = ::poll(&p, 1, timeout);
    if (n > 0 || stop_requested()) return;
    if (n < 0 && errno != EINTR) return;  // let read() report it
  }
}

// Replays from files are split over two threads: this one reads and parses
// records into batches, a worker runs the engine and formats the windows,
// which come back to this thread for output (the Tool is not shared). Live
// input stays on one thread, where the wall-clock timers live.
struct WindowAgg::Batch {
  std::size_t n = 0;
  std::vector<time_ms> times;
  std::vector<std::uint32_t> keys;
  std::vector<double> values;        // n x fields
  std::vector<std::uint8_t> trues;   // n x true counters
  std::vector<std::string> new_keys;  // texts of the keys first seen in this batch, by id
  std::string raw;                    // the lines, for --late
  std::vector<std::size_t> raw_end;
  std::string out;                    // windows closed while adding this batch
  std::uint64_t out_lines = 0;
  void clear() {
    n = 0;
    times.clear(), keys.clear(), values.clear(), trues.clear(), new_keys.clear();
    raw.clear(), raw_end.clear(), out.clear();
    out_lines = 0;
  }
};

void WindowAgg::add_record(std::uint32_t key, time_ms t, std::span<const double> values,
                           std::span<const std::uint8_t> trues, std::string_view raw,
                           std::string& out, std::uint64_t& out_lines) {
  if (engine_->add(key, t, values, trues) && late_ != nullptr) {
    std::fwrite(raw.data(), 1, raw.size(), late_);
    std::fputc('\n', late_);
  }
  engine_->emit([&](const WindowResult& r) {
    write_window(r, out);
    ++out_lines;
  });
}

void WindowAgg::worker() {
  for (;;) {
    Batch* b;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [this] { return !todo_.empty() || closing_; });
      if (todo_.empty()) return;
      b = todo_.front();
      todo_.pop_front();
    }
    for (const auto& k : b->new_keys) engine_->intern_key(k);
    const std::size_t nf = fields_.size(), nt = trues_.size();
    std::size_t raw_from = 0;
    for (std::size_t i = 0; i < b->n; ++i) {
      std::string_view raw;
      if (late_ != nullptr) {
        raw = std::string_view(b->raw).substr(raw_from, b->raw_end[i] - raw_from);
        raw_from = b->raw_end[i];
      }
      add_record(b->keys[i], b->times[i], std::span(b->values).subspan(i * nf, nf),
                 std::span(b->trues).subspan(i * nt, nt), raw, b->out, b->out_lines);
    }
    {
      std::lock_guard lock(mutex_);
      done_.push_back(b);
    }
    cv_.notify_all();
  }
}

// Takes back batches the worker finished, writing their windows; with wait,
// blocks until one comes back.
void WindowAgg::collect(bool wait) {
  std::unique_lock lock(mutex_);
  if (wait) cv_.wait(lock, [this] { return !done_.empty(); });
  while (!done_.empty()) {
    Batch* b = done_.front();
    done_.pop_front();
    tool_.out().buffer() += b->out;
    tool_.out().commit();
    tool_.stats().out += b->out_lines;
    b->clear();
    free_.push_back(b);
  }
}

Status WindowAgg::run() {
  RecordInput in(tool_);
  if (!in.status().is_ok()) return in.status();
  Output& out = tool_.out();
  in.on_idle([this, &out, &in] {
    out.flush();  // before waiting, which may block
    tool_.update_metrics();
    wait_for_input(in);
  });
  const auto& inputs = tool_.options().inputs;
  const bool threaded = !o_.processing_time && !idle_ && !inputs.empty() &&
                        std::none_of(inputs.begin(), inputs.end(), [](const std::string& f) { return f == "-"; });
  constexpr std::size_t batch_records = 4096, batches = 4;
  std::vector<std::unique_ptr<Batch>> pool;
  Batch* batch = nullptr;
  std::uint32_t next_key_id = 0;
  auto submit = [&] {
    if (batch == nullptr || batch->n == 0) return;
    if (!worker_.joinable()) worker_ = std::thread([this] { worker(); });
    {
      std::lock_guard lock(mutex_);
      todo_.push_back(batch);
    }
    cv_.notify_all();
    batch = nullptr;
  };
  auto out_line = [this](const WindowResult& r) {
    write_window(r, tool_.out().buffer());
    tool_.out().commit();
    ++tool_.stats().out;
  };

  JsonRecord rec;
  std::string key;
  std::uint32_t key_id = 0;
  std::vector<double> values;
  std::vector<std::uint8_t> trues;
  std::string new_key;
  bool have_event = false;
  const std::string time_reason = "missing or invalid time field '" + o_.time_field + "'";
  while (in.next(rec)) {
    time_ms t;
    if (o_.processing_time) {
      t = wall_clock_ms();
    } else {
      auto parsed = rec.time(o_.time_field);
      if (!parsed) {
        if (!in.reject(time_reason)) break;
        continue;
      }
      t = *parsed;
    }
    if (!engine_) {
      first_record(rec);
      values.resize(fields_.size());
      trues.resize(trues_.size());
      field_slots_.assign(fields_.size(), 0);
      true_slots_.assign(trues_.size(), 0);
      key_slots_.assign(keys_.size(), 0);
    }
    std::size_t bad_field = fields_.size();
    for (std::size_t i = 0; i < fields_.size(); ++i) {
      const JsonField* f = field(rec, fields_[i], field_slots_[i]);
      if (f == nullptr || f->type == json_type::null) {
        values[i] = std::numeric_limits<double>::quiet_NaN();
      } else if (f->type == json_type::number) {
        values[i] = f->number;
      } else {
        bad_field = i;
        break;
      }
    }
    if (bad_field < fields_.size()) {
      if (!in.reject("field '" + fields_[bad_field] + "' is not a number")) break;
      continue;
    }
    for (std::size_t j = 0; j < trues_.size(); ++j) {
      const JsonField* f = field(rec, trues_[j], true_slots_[j]);
      trues[j] = f != nullptr && f->type == json_type::boolean && f->boolean;
    }
    // The look-up form of the key is its fields' unescaped bytes; the JSON
    // text the engine keeps is built once per new key. Ids are handed out in
    // order here and by the engine, so both agree.
    key.clear();
    for (std::size_t k = 0; k < keys_.size(); ++k) append_lookup_piece(key, field(rec, keys_[k], key_slots_[k]));
    bool is_new = false;
    if (auto known = key_ids_.find(std::string_view(key)); known != key_ids_.end()) {
      key_id = known->second;
    } else {
      new_key.clear();
      for (std::size_t k = 0; k < keys_.size(); ++k) {
        if (k > 0) new_key += key_separator;
        append_key_piece(new_key, field(rec, keys_[k], key_slots_[k]));
      }
      key_id = next_key_id++;
      key_ids_.emplace(key, key_id);
      is_new = true;
    }
    max_event_ = have_event ? std::max(max_event_, t) : t;
    have_event = true;
    if (!threaded) {
      if (is_new) engine_->intern_key(new_key);
      if (idle_) last_arrival_ = wall_clock_ms();
      std::string& buffer = tool_.out().buffer();
      std::uint64_t lines = 0;
      add_record(key_id, t, values, trues, rec.raw(), buffer, lines);
      tool_.stats().out += lines;
      tool_.out().commit();
      continue;
    }
    if (batch == nullptr) {
      if (free_.empty() && pool.size() < batches) {
        pool.push_back(std::make_unique<Batch>());
        free_.push_back(pool.back().get());
      }
      collect(free_.empty());
      batch = free_.back();
      free_.pop_back();
    }
    if (is_new) batch->new_keys.push_back(new_key);
    batch->times.push_back(t);
    batch->keys.push_back(key_id);
    batch->values.insert(batch->values.end(), values.begin(), values.end());
    batch->trues.insert(batch->trues.end(), trues.begin(), trues.end());
    if (late_ != nullptr) {
      batch->raw += rec.raw();
      batch->raw_end.push_back(batch->raw.size());
    }
    if (++batch->n == batch_records) submit();
  }
  submit();
  if (worker_.joinable()) {
    {
      std::lock_guard lock(mutex_);
      closing_ = true;
    }
    cv_.notify_all();
    worker_.join();
    collect(false);
  }
  if (engine_) tool_.stats().set_extra("late", engine_->late_records());
  Status status = in.status();
  // After a signal or an error the open windows are incomplete: drop them.
  if (engine_ && status.is_ok() && !stop_requested() && !tool_.bad_input().stopped() && out.ok())
    engine_->finish(out_line);
  if (late_ != nullptr && (std::fflush(late_) != 0 || std::ferror(late_)) && status.is_ok())
    status = Status::error(exit_io, o_.late_file + ": write error");
  return status;
}

}  // namespace citypipe
