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

void WindowAgg::write_window(const WindowResult& r) {
  std::string& out = tool_.out().buffer();
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
  tool_.out().commit();
  ++tool_.stats().out;
}

// Live input only: while standard input is quiet, close windows by the wall
// clock (--processing-time, --idle-timeout) instead of blocking in read().
void WindowAgg::wait_for_input(RecordInput& in) {
  if (!engine_ || (!o_.processing_time && !idle_) || in.reader().current_file() != "<stdin>") return;
  const WindowEngine::Sink sink = [this](const WindowResult& r) { write_window(r); };
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

Status WindowAgg::run() {
  RecordInput in(tool_);
  if (!in.status().is_ok()) return in.status();
  Output& out = tool_.out();
  in.reader().on_before_read([this, &out, &in] {
    out.flush();
    tool_.update_metrics();
    wait_for_input(in);
  });
  const WindowEngine::Sink sink = [this](const WindowResult& r) { write_window(r); };

  JsonRecord rec;
  std::string key;
  std::uint32_t key_id = 0;
  std::vector<double> values;
  std::vector<std::uint8_t> trues;
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
    bool bad = false;
    for (std::size_t i = 0; i < fields_.size(); ++i) {
      const JsonField* f = field(rec, fields_[i], field_slots_[i]);
      if (f == nullptr || f->type == json_type::null) {
        values[i] = std::numeric_limits<double>::quiet_NaN();
      } else if (f->type == json_type::number) {
        values[i] = f->number;
      } else {
        bad = true;
        if (!in.reject("field '" + fields_[i] + "' is not a number")) return in.status();
        break;
      }
    }
    if (bad) continue;
    for (std::size_t j = 0; j < trues_.size(); ++j) {
      const JsonField* f = field(rec, trues_[j], true_slots_[j]);
      trues[j] = f != nullptr && f->type == json_type::boolean && f->boolean;
    }
    // The look-up form of the key is its fields' unescaped bytes; the JSON
    // text the engine keeps is built once per new key.
    key.clear();
    for (std::size_t k = 0; k < keys_.size(); ++k) append_lookup_piece(key, field(rec, keys_[k], key_slots_[k]));
    auto known = key_ids_.find(std::string_view(key));
    if (known != key_ids_.end()) {
      key_id = known->second;
    } else {
      std::string text;
      for (std::size_t k = 0; k < keys_.size(); ++k) {
        if (k > 0) text += key_separator;
        append_key_piece(text, field(rec, keys_[k], key_slots_[k]));
      }
      key_id = engine_->intern_key(text);
      key_ids_.emplace(key, key_id);
    }
    if (engine_->add(key_id, t, values, trues) && late_ != nullptr) {
      const auto raw = rec.raw();
      std::fwrite(raw.data(), 1, raw.size(), late_);
      std::fputc('\n', late_);
    }
    max_event_ = engine_->late_records() == 0 && tool_.stats().in == 1 ? t : std::max(max_event_, t);
    if (idle_) last_arrival_ = wall_clock_ms();
    engine_->emit(sink);
  }
  if (engine_) tool_.stats().set_extra("late", engine_->late_records());
  Status status = in.status();
  // After a signal or an error the open windows are incomplete: drop them.
  if (engine_ && status.is_ok() && !stop_requested() && !tool_.bad_input().stopped() && out.ok())
    engine_->finish(sink);
  if (late_ != nullptr && (std::fflush(late_) != 0 || std::ferror(late_)) && status.is_ok())
    status = Status::error(exit_io, o_.late_file + ": write error");
  return status;
}

}  // namespace citypipe
