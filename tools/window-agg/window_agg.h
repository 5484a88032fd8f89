// window-agg's glue between records and the window engine: option checking,
// reading fields out of records, the live-input timer, and printing windows.
#pragma once

#include <bit>
#include <cstdio>
#include <concepts>
#include <cstring>
#include <span>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <map>

#include "citypipe/core/control.h"
#include "citypipe/core/json_record.h"
#include "citypipe/core/record_fields.h"
#include "citypipe/core/status.h"
#include "citypipe/core/tool.h"
#include "citypipe/core/util.h"
#include "citypipe/window/engine.h"
#include "citypipe/window/minute_cache.h"
#include "citypipe/window/watermark.h"

namespace citypipe {

struct WindowAggOptions {
  std::vector<std::string> windows{"tumble:1m"};
  std::string key = "zone";
  std::string fields;  // empty: every numeric field of the first record
  std::string aggregates = "count,avg,min,max";
  std::vector<std::string> count_true;  // empty: "anomaly" when the first record has it
  std::string time_field = "ts";
  bool processing_time = false;
  std::string offset = "0";
  std::string lateness = "0";
  std::string late_file;
  std::string idle_timeout;
  bool emit_empty = false;
};

// A growable array whose new elements are not initialised: a row is
// written whole right after it is added, so zeroing it first is wasted.
template <class T>
class Column {
 public:
  T* grow(std::size_t n) {
    if (size_ + n > capacity_) {
      const std::size_t capacity = std::max<std::size_t>(2 * capacity_, size_ + n + 256);
      auto data = std::make_unique_for_overwrite<T[]>(capacity);
      if (size_ > 0) std::memcpy(data.get(), data_.get(), size_ * sizeof(T));
      data_ = std::move(data);
      capacity_ = capacity;
    }
    T* at = data_.get() + size_;
    size_ += n;
    return at;
  }
  void resize_down(std::size_t n) { size_ = n; }
  void clear() { size_ = 0; }
  std::size_t size() const { return size_; }
  std::span<const T> subspan(std::size_t from, std::size_t n) const { return {data_.get() + from, n}; }
  std::string_view view(std::size_t from, std::size_t n) const
    requires std::same_as<T, char>
  {
    return {data_.get() + from, n};
  }

 private:
  std::unique_ptr<T[]> data_;
  std::size_t size_ = 0, capacity_ = 0;
};

// The ids of keys by their look-up bytes: one hash, one probe and one compare
// per look-up, all in line for a key of 8 to 32 bytes (most keys).
class KeyIds {
 public:
  static constexpr std::uint32_t none = UINT32_MAX;
  // The id of bytes, or none. (Not an optional: returned through the stack
  // in two stores and read back in one load, it stalled every look-up.)
  [[gnu::always_inline]] std::uint32_t find(std::string_view bytes) const {
    const Words w(bytes);
    const std::uint64_t hash = w.hash();
    for (std::size_t i = hash & mask_; slots_[i].id != none; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.hash == hash && s.size == bytes.size() && (w.covers ? s.words == w : same_text(s, bytes))) return s.id;
    }
    return none;
  }
  void insert(std::string_view bytes, std::uint32_t id);

 private:
  // A key of 8 to 32 bytes as four words, some overlapping, that cover it:
  // it is hashed and compared by them. Any other key has a hash only.
  struct Words {
    Words() = default;
    [[gnu::always_inline]] explicit Words(std::string_view bytes) : size(bytes.size()), covers(size >= 8 && size <= 32) {
      if (!covers) {
        other = hash_other(bytes);
        return;
      }
      const std::size_t mid = size > 16 ? 8 : 0;
      std::memcpy(&w[0], bytes.data(), 8);
      std::memcpy(&w[1], bytes.data() + mid, 8);
      std::memcpy(&w[2], bytes.data() + size - 8 - mid, 8);
      std::memcpy(&w[3], bytes.data() + size - 8, 8);
    }
    // Two multiplications side by side, not four in a chain: the hash is
    // on the path of every record's look-up. A table's slots come from its
    // low bits, which the fold mixes with the high ones.
    std::uint64_t hash() const {
      if (!covers) return other;
      const std::uint64_t h = ((w[0] + std::rotl(w[2], 29) + size) * 0x9e3779b97f4a7c15ULL) ^
                              ((w[1] + std::rotl(w[3], 17)) * 0xbf58476d1ce4e5b9ULL);
      return h ^ (h >> 29) ^ (h >> 47);
    }
    bool operator==(const Words& o) const {
      return ((w[0] ^ o.w[0]) | (w[1] ^ o.w[1]) | (w[2] ^ o.w[2]) | (w[3] ^ o.w[3])) == 0;
    }
    std::size_t size = 0;
    bool covers = false;
    std::uint64_t w[4] = {}, other = 0;
  };
  static std::uint64_t hash_other(std::string_view bytes);
  struct Slot {
    std::uint64_t hash = 0;
    std::uint32_t id = none;
    std::uint32_t size = 0;
    std::size_t from = 0;
    Words words;  // of a key of 8 to 32 bytes
  };
  bool same_text(const Slot& s, std::string_view bytes) const {
    // (An empty key's view may have no data pointer: memcmp must not see it.)
    return s.size == 0 || std::memcmp(text_.data() + s.from, bytes.data(), s.size) == 0;
  }
  // Puts s in its home slot or the first free one after; true if at home.
  bool place(const Slot& s);
  static constexpr std::size_t max_spread_slots = 1024, spread_per_key = 32;
  std::vector<Slot> slots_ = std::vector<Slot>(16);
  std::size_t mask_ = 15, used_ = 0;
  std::size_t displaced_ = 0;  // keys not in their home slot
  std::string text_;  // the keys' bytes, one after another
};

class WindowAgg {
 public:
  WindowAgg(Tool& tool, WindowAggOptions options);
  ~WindowAgg();

  // Checks the options; exit_usage (or exit_io for --late) on error.
  Status setup();
  // Reads every record, writes every window; the status for Tool::finish.
  Status run();

 private:
  class Replay;
  // Where each field was in the last record, to look there first.
  struct Slots {
    FieldLookup lookup;  // the time field, the fields, the true-counters and the keys, in that order
    FieldHits found;  // lookup's fields in the last record extract() saw
    std::size_t kafka = 0;
    std::string key_text;  // scratch for a key's text
    MinuteCache minute;
  };
  struct Row {
    time_ms time;
    double* values;            // fields_.size()
    std::uint8_t* trues;       // trues_.size()
  };
  // The windows of one Kafka partition (or of the whole input, when records
  // carry no "_kafka"), with their own watermark: a partition's backlog never
  // makes another's records late, and a partition's state can be dropped or
  // rebuilt alone (citypipe(7), CHECKPOINTS).
  struct Partition {
    std::unique_ptr<WindowEngine> engine;  // made at the partition's first record
    KeyIds key_ids;
    time_ms max_event = 0, last_arrival = 0;
    bool have_event = false;
    std::int64_t next = 0;                 // offset after the last record seen
    // From "assign": where reading resumed and the state committed with it.
    std::optional<std::int64_t> assigned_offset;
    std::string assigned_state;
    std::optional<time_ms> restore_watermark;  // rebuild, then restore to this
    std::int64_t restore_until = 0;            // records below were seen before
  };

  bool first_record(const JsonRecord& rec);
  Slots make_slots() const;
  std::string time_reason() const;
  std::optional<std::string> extract(const JsonRecord& rec, Slots& slots, Row& row) const;
  // The key fields of the record slots.found was set from.
  FieldHits key_fields(const Slots& slots) const {
    return slots.found.from(1 + field_names_.size() + true_names_.size());
  }
  // The look-up form of that record's key (append_lookup_piece), appended to out.
  void append_lookup(Slots& slots, Column<char>& out) const;
  Partition* partition_of(const JsonRecord& rec, Slots& slots, std::int64_t& position, std::string& why);
  void start_engine(Partition& p);
  std::uint32_t key_id(Partition& p, std::string_view lookup, const Slots& slots);
  // Adds a record; true when it was late (for the caller to pass to late()).
  bool add(Partition& p, std::uint32_t key, time_ms t, std::span<const double> values,
           std::span<const std::uint8_t> trues, std::int64_t position);
  // While p's engine rebuilds: restores it once the records before next are in.
  void restore_if_rebuilt(Partition& p, std::int64_t next);
  void late(std::string_view raw);  // counts a late record, writes it to --late
  void emit(Partition& p);  // writes the windows the watermark closed
  void finish(Partition& p);  // writes every open window
  bool add_one(const JsonRecord& rec, RecordInput& in);
  void add_replay(RecordInput& in);
  bool on_control(std::string_view line);
  void checkpoint(Control& c);
  WindowEngine::Sink window_writer(const WindowEngine& engine);
  void write_window(const WindowResult& r, const WindowEngine& engine, std::string& out) const;
  void wait_for_input(RecordInput& in);
  template <class F> void each_partition(F&& f) {
    if (!partitioned_) f(plain_);
    for (auto& [tp, p] : parts_) f(p);
  }

  Tool& tool_;
  WindowAggOptions o_;
  std::vector<WindowSpec> specs_;
  std::vector<std::string> window_names_;
  std::vector<Aggregate> aggregates_;
  bool with_count_ = false;
  std::vector<std::string> keys_;
  std::vector<std::string> fields_;
  std::vector<std::string> trues_;
  std::vector<FieldName> field_names_, true_names_, key_names_;  // the same, for look-ups
  FieldName time_name_, kafka_name_{std::string(field::kafka)};
  std::vector<std::string> columns_;  // "temperature_avg", ... field-major
  time_ms offset_ = 0;
  time_ms lateness_ = 0;
  std::optional<time_ms> idle_;
  std::optional<IdleWatermark> idle_watermark_;
  std::optional<WindowConfig> config_;  // set by the first record
  bool emit_per_chunk_ = false;  // replay: emit after each chunk, not each record
  std::FILE* late_ = nullptr;
  std::uint64_t late_count_ = 0;
  Slots slots_;  // of this thread
  std::vector<double> values_;
  std::vector<std::uint8_t> trues_row_;
  JsonParser main_parser_;
  // Records carry "_kafka" (kafka-cat-in --meta) or control lines came: one
  // Partition each in parts_; otherwise everything goes to plain_.
  bool partitioned_ = false;
  bool checkpointed_ = false;  // control lines came: only "drain" emits open windows
  Partition plain_;
  std::map<TopicPartition, Partition> parts_;
  Partition* last_part_ = nullptr;  // records come in runs of one partition
  TopicPartition last_tp_;
  std::unordered_map<std::string, TopicPartition, StringHash, std::equal_to<>> key_home_;
  bool warned_shared_key_ = false;
};

}  // namespace citypipe
