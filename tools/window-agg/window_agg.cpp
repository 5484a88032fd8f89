#include "window_agg.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <thread>

#include <poll.h>

#include <fmt/format.h>

#include "citypipe/core/json_write.h"
#include "citypipe/core/signals.h"

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

void append_key_piece(std::string& out, const JsonField* f) {
  if (f == nullptr) out += "null";
  else append_json_value(out, *f);
}

// Unambiguous bytes per key value: its key text (record_fields.h) after 's'
// for a string, 'v' for another value (whose text cannot be taken for a
// string's then); '0' for null or missing.
void append_lookup_piece(Column<char>& out, const JsonField* f, std::string& scratch) {
  const auto text = f == nullptr                    ? std::nullopt
                    : f->type == json_type::string ? std::optional(f->text)  // the usual key, without a call
                                                   : key_text(*f, scratch);
  if (!text) {
    *out.grow(1) = '0';
  } else {
    char* d = out.grow(text->size() + 1);
    d[0] = f->type == json_type::string ? 's' : 'v';
    std::memcpy(d + 1, text->data(), text->size());
  }
  *out.grow(1) = key_separator;
}

}  // namespace

std::uint64_t KeyIds::hash_other(std::string_view bytes) {
  // Eight bytes at a time, each word mixed in by a multiply.
  const std::size_t n = bytes.size();
  std::uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, bytes.data() + i, 8);
    h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 31;
  }
  if (i < n) {
    // The last eight bytes (overlapping the words above) where there are
    // eight: a load of fixed size, not a call to memcpy.
    std::uint64_t w = 0;
    if (n >= 8) std::memcpy(&w, bytes.data() + n - 8, 8);
    else
      for (std::size_t j = i; j < n; ++j) w |= std::uint64_t{static_cast<unsigned char>(bytes[j])} << (8 * j);
    h = (h ^ w) * 0x94d049bb133111ebULL;
  }
  h ^= h >> 29;
  return h * 0xbf58476d1ce4e5b9ULL;
}

void KeyIds::insert(std::string_view bytes, std::uint32_t id) {
  const Words words(bytes);
  const std::uint64_t hash = words.hash();
  ++used_;
  displaced_ += !place(Slot{hash, id, static_cast<std::uint32_t>(bytes.size()), text_.size(), words});
  text_.append(bytes);
  // At most half full; and while few keys share a home, a larger table, so
  // that each key is found at its home in one probe, whose test the CPU
  // then always guesses right: a key that takes a second probe would be
  // guessed wrong each time its turn comes in a mix of keys.
  auto spread = [&] {
    return displaced_ > 0 && slots_.size() < max_spread_slots && slots_.size() < spread_per_key * used_;
  };
  if (2 * used_ <= slots_.size() && !spread()) return;
  do {
    std::vector<Slot> old(2 * slots_.size());
    old.swap(slots_);
    mask_ = slots_.size() - 1;
    displaced_ = 0;
    for (const Slot& s : old)
      if (s.id != none) displaced_ += !place(s);
  } while (spread());
}

bool KeyIds::place(const Slot& s) {
  const std::size_t home = s.hash & mask_;
  std::size_t i = home;
  while (slots_[i].id != none) i = (i + 1) & mask_;
  slots_[i] = s;
  return i == home;
}

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
  if (idle_ || o_.processing_time) idle_watermark_.emplace(lateness_, idle_, o_.processing_time);
  if (!o_.late_file.empty()) {
    late_ = std::fopen(o_.late_file.c_str(), "w");
    if (late_ == nullptr) return Status::error(exit_io, o_.late_file + ": " + std::strerror(errno));
  }
  return Status::ok();
}

// The columns come from the options or, by default, from the first record.
bool WindowAgg::first_record(const JsonRecord& rec) {
  if (o_.count_true.empty()) {
    if (auto f = rec.find(field::anomaly); f != nullptr && f->type == json_type::boolean)
      trues_ = {std::string(field::anomaly)};
  } else {
    trues_ = o_.count_true;
  }
  if (fields_.empty()) {
    for (const auto& f : rec.fields()) {
      if (!is_measurement(f) || f.key == o_.time_field) continue;
      if (std::find(keys_.begin(), keys_.end(), f.key) != keys_.end()) continue;
      if (std::find(fields_.begin(), fields_.end(), f.key) != fields_.end()) continue;
      fields_.emplace_back(f.key);
    }
  }
  for (const auto& f : fields_)
    for (const auto& a : aggregates_)
      if (a.kind != aggregate_kind::count) columns_.push_back(f + "_" + a.name);
  for (const auto& f : fields_) field_names_.emplace_back(f);
  for (const auto& t : trues_) true_names_.emplace_back(t);
  for (const auto& k : keys_) key_names_.emplace_back(k);
  time_name_ = FieldName(o_.time_field);
  WindowConfig config;
  config.windows = specs_;
  config.offset = offset_;
  config.lateness = lateness_;
  config.fields = fields_.size();
  config.true_counters = trues_.size();
  config.needs = needs_of(aggregates_);
  config.emit_empty = o_.emit_empty;
  // A tumbling window is emitted when the watermark passes its end, and a
  // record for it after that is late by the same test, so emitting once per
  // chunk of a replay writes what emitting per record would. Not so for a
  // sliding window or a session, which a record may still join after an
  // overlapping one was emitted, nor for empty windows, which depend on the
  // keys known at the time.
  emit_per_chunk_ = !o_.emit_empty && std::all_of(specs_.begin(), specs_.end(), [](const WindowSpec& w) {
                      return w.kind != window_kind::session && w.step == w.size;
                    });
  config_ = std::move(config);
  if (!partitioned_ && rec.find(field::kafka) != nullptr) partitioned_ = true;
  return true;
}

void WindowAgg::start_engine(Partition& p) {
  p.engine = std::make_unique<WindowEngine>(*config_);
  if (p.restore_watermark && p.restore_until > p.assigned_offset.value_or(0)) {
    p.engine->begin_restore();
  } else if (p.restore_watermark) {
    p.engine->restore(*p.restore_watermark);
    p.restore_watermark.reset();
  }
}

WindowEngine::Sink WindowAgg::window_writer(const WindowEngine& engine) {
  return [this, &engine](const WindowResult& r) {
    write_window(r, engine, tool_.out().buffer());
    ++tool_.stats().out;
  };
}

void WindowAgg::write_window(const WindowResult& r, const WindowEngine& engine, std::string& out) const {
  ObjectWriter w(out);
  w.key(field::window).string(window_names_[r.window]);
  w.key(field::window_start).time(r.start);
  w.key(field::window_end).time(r.end);
  const std::string& key = engine.key_text(r.key);
  std::size_t pos = 0;
  for (const auto& k : keys_) {
    const std::size_t sep = std::min(key.find(key_separator, pos), key.size());
    w.key(k).raw(std::string_view(key).substr(pos, sep - pos));
    pos = sep + 1;
  }
  if (with_count_) w.key(field::count).integer(static_cast<std::int64_t>(r.acc->count()));
  std::size_t column = 0;
  for (std::size_t i = 0; i < r.acc->fields(); ++i) {
    for (const auto& a : aggregates_) {
      if (a.kind == aggregate_kind::count) continue;
      w.key(columns_[column++]);
      if (auto v = r.acc->value(i, a)) w.number(*v);
      else w.null();
    }
  }
  for (std::size_t j = 0; j < trues_.size(); ++j)
    w.key(trues_[j] + "_count").integer(static_cast<std::int64_t>(r.acc->true_count(j)));
  w.finish();
}

// Live input only: while standard input is quiet, close windows by the wall
// clock (--processing-time, --idle-timeout) instead of blocking in read().
void WindowAgg::wait_for_input(RecordInput& in) {
  if (!config_ || !idle_watermark_ || !in.reader().reading_stdin()) return;
  for (;;) {
    const time_ms now = wall_clock_ms();
    std::optional<time_ms> deadline;
    std::size_t emitted = 0;
    each_partition([&](Partition& p) {
      if (!p.engine || p.engine->restoring()) return;
      if (auto w = idle_watermark_->at(now, p.max_event, p.last_arrival)) p.engine->advance_watermark(*w);
      if (const auto next = p.engine->next_end())
        if (auto due = idle_watermark_->due(*next, p.max_event, p.last_arrival); due && (!deadline || *due < *deadline))
          deadline = due;
      emitted += p.engine->emit(window_writer(*p.engine));
    });
    if (emitted > 0) tool_.out().flush();
    int timeout = -1;
    if (deadline) timeout = static_cast<int>(std::clamp<time_ms>(*deadline - wall_clock_ms(), 1, 60000));
    pollfd p{0, POLLIN, 0};
    const int n = ::poll(&p, 1, timeout);
    if (n > 0 || stop_requested()) return;
    if (n < 0 && errno != EINTR) return;  // let read() report it
  }
}

// What the engine needs of one record, but its key: its time and the values
// of the fields and true-counters; a reason when it is bad.
// In line in both callers: on a replay's workers, once a record.
[[gnu::always_inline]] inline std::optional<std::string> WindowAgg::extract(const JsonRecord& rec, Slots& slots, Row& row) const {
  // The time field, then the fields, then the true-counters (make_slots).
  const FieldHits found = slots.found = slots.lookup.find(rec);
  if (o_.processing_time) {
    row.time = wall_clock_ms();
  } else {
    const JsonField* f = found[0];
    auto parsed = f != nullptr && f->type == json_type::string ? slots.minute.parse(f->text)
                                                                : event_time(f);
    if (!parsed) return time_reason();
    row.time = *parsed;
  }
  const FieldHits fields = found.from(1);
  double* values = row.values;  // a plain pointer: no reload of the bounds after each store
  for (std::size_t i = 0, n = field_names_.size(); i < n; ++i) {
    const JsonField* f = fields[i];
    if (f != nullptr && f->type == json_type::number) {
      values[i] = f->number;
    } else if (f == nullptr || f->type == json_type::null) {
      values[i] = std::numeric_limits<double>::quiet_NaN();
    } else {
      return "field '" + fields_[i] + "' is not a number";
    }
  }
  const FieldHits trues = fields.from(field_names_.size());
  for (std::size_t j = 0, n = true_names_.size(); j < n; ++j) {
    const JsonField* f = trues[j];
    row.trues[j] = f != nullptr && f->type == json_type::boolean && f->boolean;
  }
  return std::nullopt;
}

void WindowAgg::append_lookup(Slots& slots, Column<char>& out) const {
  const FieldHits keys = key_fields(slots);
  for (std::size_t k = 0, n = key_names_.size(); k < n; ++k) append_lookup_piece(out, keys[k], slots.key_text);
}

// The partition a record belongs to, by its "_kafka" member; nullptr with why
// set when partitioned input lacks it.
WindowAgg::Partition* WindowAgg::partition_of(const JsonRecord& rec, Slots& slots, std::int64_t& position,
                                              std::string& why) {
  if (!partitioned_) return &plain_;
  const JsonField* f = rec.find(kafka_name_, slots.kafka);
  std::optional<KafkaPosition> at;
  if (f != nullptr && f->type == json_type::object) at = kafka_position(f->text);
  if (!at) {
    why = "no \"_kafka\" topic, partition and offset (the input is partitioned: kafka-cat-in -C --meta)";
    return nullptr;
  }
  position = at->offset;
  if (last_part_ != nullptr && last_tp_.partition == at->partition && last_tp_.topic == at->topic)
    return last_part_;
  last_tp_ = TopicPartition{std::string(at->topic), at->partition};
  last_part_ = &parts_[last_tp_];
  return last_part_;
}

// The key's id in partition p; a key seen there for the first time gets the
// engine's next id and its JSON text, built then from the key fields slots found.
std::uint32_t WindowAgg::key_id(Partition& p, std::string_view lookup, const Slots& slots) {
  if (const std::uint32_t known = p.key_ids.find(lookup); known != KeyIds::none) return known;
  std::string text;
  const FieldHits keys = key_fields(slots);
  for (std::size_t k = 0; k < keys_.size(); ++k) {
    if (k > 0) text += key_separator;
    append_key_piece(text, keys[k]);
  }
  const std::uint32_t id = p.engine->intern_key(text);
  p.key_ids.insert(lookup, id);
  if (partitioned_ && !warned_shared_key_) {
    auto [home, fresh] = key_home_.try_emplace(std::string(lookup), last_tp_);
    if (!fresh && home->second != last_tp_) {
      tool_.warn(fmt::format("key {} comes from partitions {} and {} of {}: its windows are counted per "
                             "partition; produce with -k on the window key (kafka-cat-in -k)",
                             text, home->second.partition, last_tp_.partition, last_tp_.topic));
      warned_shared_key_ = true;
    }
  }
  return id;
}

std::string WindowAgg::time_reason() const { return "missing or invalid time field '" + o_.time_field + "'"; }

WindowAgg::Slots WindowAgg::make_slots() const {
  Slots s;
  std::vector<FieldName> names{time_name_};
  names.insert(names.end(), field_names_.begin(), field_names_.end());
  names.insert(names.end(), true_names_.begin(), true_names_.end());
  names.insert(names.end(), key_names_.begin(), key_names_.end());
  s.lookup = FieldLookup(std::move(names));
  return s;
}

// In line (the replay's loop calls it per record): the rare restore is a call.
inline bool WindowAgg::add(Partition& p, std::uint32_t key, time_ms t, std::span<const double> values,
                           std::span<const std::uint8_t> trues, std::int64_t position) {
  WindowEngine& engine = *p.engine;
  if (engine.restoring()) [[unlikely]] restore_if_rebuilt(p, position);
  p.max_event = p.have_event ? std::max(p.max_event, t) : t;
  p.have_event = true;
  p.next = position + 1;
  const bool was_late = engine.add(key, t, values, trues, position);
  if (engine.restoring()) [[unlikely]] restore_if_rebuilt(p, position + 1);
  return was_late;
}

void WindowAgg::restore_if_rebuilt(Partition& p, std::int64_t next) {
  if (next < p.restore_until) return;
  p.engine->restore(*p.restore_watermark);  // the rebuilt state is complete
  p.restore_watermark.reset();
}

void WindowAgg::late(std::string_view raw) {
  ++late_count_;
  if (late_ != nullptr) {
    std::fwrite(raw.data(), 1, raw.size(), late_);
    std::fputc('\n', late_);
  }
}

void WindowAgg::emit(Partition& p) {
  p.engine->emit(window_writer(*p.engine));
  tool_.out().commit();
}

void WindowAgg::finish(Partition& p) {
  if (!p.engine) return;
  if (p.engine->restoring()) {
    p.engine->restore(*p.restore_watermark);
    p.restore_watermark.reset();
  }
  time_ms last_end = std::numeric_limits<time_ms>::min();
  const auto write = window_writer(*p.engine);
  p.engine->finish([&](const WindowResult& r) {
    last_end = std::max(last_end, r.end);
    write(r);
    tool_.out().commit();
  });
  // Windows written now count as emitted should the partition go on later.
  if (last_end != std::numeric_limits<time_ms>::min()) p.engine->advance_watermark(last_end);
}

// One record on this thread: live input, and the first record of a replay.
bool WindowAgg::add_one(const JsonRecord& rec, RecordInput& in) {
  if (!config_) {
    if (!o_.processing_time && !rec.time(o_.time_field)) return in.reject(time_reason());
    first_record(rec);
    slots_ = make_slots();
    values_.resize(fields_.size());
    trues_row_.resize(trues_.size());
  }
  std::string why;
  Column<char> lookup_bytes;
  Row row{0, values_.data(), trues_row_.data()};
  if (auto bad = extract(rec, slots_, row)) return in.reject(*bad);
  append_lookup(slots_, lookup_bytes);
  std::int64_t position = 0;
  Partition* p = partition_of(rec, slots_, position, why);
  if (p == nullptr) return in.reject(why);
  if (!p->engine) start_engine(*p);
  const std::string_view lookup = lookup_bytes.view(0, lookup_bytes.size());
  const std::uint32_t id = key_id(*p, lookup, slots_);
  if (idle_) p->last_arrival = wall_clock_ms();
  if (add(*p, id, row.time, values_, trues_row_, position)) late(rec.raw());
  emit(*p);
  return true;
}

// A control line, in input order (citypipe(7), CHECKPOINTS). Every one is
// passed on; false when the tool must stop.
bool WindowAgg::on_control(std::string_view line) {
  const control_kind kind = control_kind_of(line);
  std::string& out = tool_.out().buffer();
  if (kind == control_kind::other) {
    out.append(line).push_back('\n');
    tool_.out().commit();
    return true;
  }
  std::string error;
  auto c = parse_control(line, error);
  if (!c) return tool_.bad_input().report(tool_.name(), 0, error, line);
  if (kind != control_kind::drain) {
    if (o_.emit_empty || o_.processing_time) {
      tool_.warn("--emit-empty and --processing-time cannot be checkpointed (kafka-cat-in --acks)");
      return false;
    }
    partitioned_ = checkpointed_ = true;
  }
  last_part_ = nullptr;  // parts_ may change
  switch (kind) {
    case control_kind::checkpoint: checkpoint(*c); out += format_control(*c); break;
    case control_kind::assign: {
      Partition& p = parts_[c->tp] = Partition{};
      p.assigned_offset = c->offset;
      p.assigned_state = c->state;
      p.next = c->offset;
      long long w = 0, n = 0;
      if (std::sscanf(c->state.c_str(), "w=%lld;n=%lld", &w, &n) == 2) {
        p.restore_watermark = static_cast<time_ms>(w);
        p.restore_until = static_cast<std::int64_t>(n);
      }
      out.append(line);
      break;
    }
    case control_kind::revoke:
      parts_.erase(c->tp);
      out.append(line);
      break;
    case control_kind::drain:
      each_partition([this](Partition& p) { finish(p); });
      out.append(line);
      break;
    case control_kind::other: break;
  }
  out.push_back('\n');
  tool_.out().commit();
  return tool_.out().ok();
}

// Fills in each part's restart offset (the oldest record an open window
// holds) and state (the watermark, and how far records were seen), so that a
// restart replays from there and rebuilds exactly the windows now open.
void WindowAgg::checkpoint(Control& c) {
  for (CheckpointPart& part : c.parts) {
    auto it = parts_.find(part.tp);
    if (it == parts_.end()) continue;  // nothing read: the offset says all
    Partition& p = it->second;
    if (!p.engine || p.engine->restoring()) {  // still as assigned
      part.restart = std::min(part.next, p.assigned_offset.value_or(part.next));
      part.state = p.assigned_state;
      continue;
    }
    part.restart = std::min(part.next, p.engine->oldest_position().value_or(part.next));
    if (auto w = p.engine->watermark()) part.state = fmt::format("w={};n={}", *w, part.next);
  }
}

// A replay of files: RecordInput reads batches of lines, worker threads parse
// them into rows, and this thread feeds the rows to the engine in input
// order, so the output is the same as from one thread.
//
// Each worker gives the keys it sees ids of its own, so that this thread
// finds a row's engine key id by an index, not by a hash look-up: the
// parsing threads look keys up in parallel, in tables no other thread touches.
class WindowAgg::Replay : public BatchHandler {
 public:
  Replay(WindowAgg& agg, std::size_t threads)
      : agg_(agg), workers_(threads + 1), engine_ids_(threads + 1) {
    for (Worker& w : workers_) w.slots = agg.make_slots();
  }

  std::unique_ptr<RecordBatch> make_batch() override { return std::make_unique<Rows>(); }

  void clear(RecordBatch& batch, std::size_t worker) override {
    Rows& r = static_cast<Rows&>(batch);
    r.times.clear(), r.values.clear(), r.trues.clear(), r.keys.clear();
    r.worker = worker;
  }

  std::optional<std::string> parse(const JsonRecord& rec, RecordBatch& batch, std::size_t worker) override {
    Rows& r = static_cast<Rows&>(batch);
    Worker& w = workers_[worker];
    const std::size_t nf = agg_.fields_.size(), nt = agg_.trues_.size();
    const std::size_t values_from = r.values.size(), trues_from = r.trues.size();
    Row row{0, r.values.grow(nf), r.trues.grow(nt)};
    if (auto bad = agg_.extract(rec, w.slots, row)) {
      r.values.resize_down(values_from);
      r.trues.resize_down(trues_from);
      return bad;
    }
    r.times.push_back(row.time);
    r.keys.push_back(worker_key(w));
    return std::nullopt;
  }

  bool take(RecordBatch& batch, std::size_t first, std::size_t count) override {
    const Rows& r = static_cast<const Rows&>(batch);
    const std::size_t nf = agg_.fields_.size(), nt = agg_.trues_.size();
    Partition& p = agg_.plain_;
    std::vector<std::uint32_t>& ids = engine_ids_[r.worker];
    for (std::size_t i = first; i < first + count; ++i) {
      const std::uint32_t local = r.keys[i];
      const std::uint32_t id = local < ids.size() && ids[local] != KeyIds::none ? ids[local] : engine_key(r, i, ids);
      if (agg_.add(p, id, r.times[i], r.values.subspan(i * nf, nf), r.trues.subspan(i * nt, nt), 0))
        agg_.late(r.row_line(i));
      if (!agg_.emit_per_chunk_) agg_.emit(p);
    }
    agg_.emit(p);  // before what ends the run: a control line, a strict stop
    return true;
  }

 private:
  // The rows of one batch, column by column.
  struct Rows : RecordBatch {
    std::vector<time_ms> times;
    Column<double> values;       // rows x fields
    Column<std::uint8_t> trues;  // rows x true counters
    std::vector<std::uint32_t> keys;  // the worker's id of each row's key
    std::size_t worker = 0;           // who parsed the batch
  };
  struct Worker {
    Slots slots;
    // A lone key of string type by its text, any other by its look-up
    // bytes: the usual key needs no copy. The two share one run of ids.
    KeyIds texts, lookups;
    std::uint32_t next_id = 0;
    Column<char> lookup;  // scratch
  };

  // The worker's id of the key of the record extract() saw last.
  std::uint32_t worker_key(Worker& w) {
    if (agg_.key_names_.size() == 1) {
      const JsonField* f = agg_.key_fields(w.slots)[0];
      if (f != nullptr && f->type == json_type::string) return worker_id(w.texts, f->text, w);
    }
    w.lookup.clear();
    agg_.append_lookup(w.slots, w.lookup);
    return worker_id(w.lookups, w.lookup.view(0, w.lookup.size()), w);
  }
  [[gnu::always_inline]] static std::uint32_t worker_id(KeyIds& table, std::string_view bytes, Worker& w) {
    if (const std::uint32_t known = table.find(bytes); known != KeyIds::none) [[likely]] return known;
    return new_worker_id(table, bytes, w);
  }
  [[gnu::noinline]] static std::uint32_t new_worker_id(KeyIds& table, std::string_view bytes, Worker& w) {
    table.insert(bytes, w.next_id);
    return w.next_id++;
  }

  // The engine's id of row i's key, the first time this thread meets the
  // worker's id: the line is parsed again for its look-up bytes.
  std::uint32_t engine_key(const Rows& r, std::size_t i, std::vector<std::uint32_t>& ids) {
    const std::string_view line = r.row_line(i);
    JsonRecord rec;
    std::string error;
    agg_.main_parser_.parse(line, rec, error);  // it parsed on a worker already
    Slots slots = agg_.make_slots();
    slots.found = slots.lookup.find(rec);
    Column<char> lookup;
    agg_.append_lookup(slots, lookup);
    const std::string_view bytes = lookup.view(0, lookup.size());
    const std::uint32_t id = agg_.key_id(agg_.plain_, bytes, slots);
    if (ids.size() <= r.keys[i]) ids.resize(r.keys[i] + 1, KeyIds::none);
    ids[r.keys[i]] = id;
    return id;
  }

  WindowAgg& agg_;
  std::vector<Worker> workers_;  // per worker, and one for the calling thread
  std::vector<std::vector<std::uint32_t>> engine_ids_;  // per worker: its key id -> the engine's, or none
};

void WindowAgg::add_replay(RecordInput& in) {
  // This thread reads and feeds the windows, and parses when it would wait;
  // the others parse. One parser per remaining core: a parser more than that
  // slows this thread down.
  const std::size_t threads = std::clamp<std::size_t>(std::thread::hardware_concurrency(), 2, 9) - 1;
  Replay replay(*this, threads);
  in.replay(replay, threads);
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
  in.on_control([this](std::string_view line) { return on_control(line); });
  const bool replay = !o_.processing_time && !idle_ && !reads_live_stdin(tool_.options().inputs);
  JsonRecord rec;
  while (in.next(rec)) {
    if (!add_one(rec, in)) break;
    if (replay && !partitioned_ && plain_.engine) {
      add_replay(in);
      break;
    }
  }
  tool_.stats().set_extra("late", late_count_);
  Status status = in.status();
  // After a signal or an error the open windows are incomplete: drop them.
  // Under checkpoints they are rebuilt by whoever reads on: only "drain" ends them.
  if (status.is_ok() && !stop_requested() && !tool_.bad_input().stopped() && out.ok() && !checkpointed_)
    each_partition([this](Partition& p) { finish(p); });
  if (late_ != nullptr && (std::fflush(late_) != 0 || std::ferror(late_)) && status.is_ok())
    status = Status::error(exit_io, o_.late_file + ": write error");
  return status;
}

}  // namespace citypipe
