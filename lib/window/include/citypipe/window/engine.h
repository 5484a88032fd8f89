// The event-time window engine of window-agg, without any I/O: it is fed
// (key, event time, values) and hands back finished windows in order of
// window end, then key, then window definition.
//
// Tumbling and sliding windows are kept as panes of gcd(size, step), so a
// record is stored in exactly one pane per definition and a sliding window is
// the merge of its panes when it closes; sessions are merged intervals per key.
// The watermark is the highest event time seen minus the lateness; a window
// closes once the watermark reaches its end, and a record whose windows all
// closed already is late (counted, not aggregated).
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "citypipe/core/event_time.h"
#include "citypipe/core/util.h"
#include "citypipe/window/aggregate.h"

namespace citypipe {

enum class window_kind : std::uint8_t { tumble, slide, session };

struct WindowSpec {
  window_kind kind = window_kind::tumble;
  time_ms size = 0;  // the session gap for sessions
  time_ms step = 0;  // equal to size for tumbling windows; unused for sessions

  // The canonical text: "tumble:1m", "slide:5m,1m", "session:30s".
  std::string name() const;
};

// Parses "tumble:SIZE", "slide:SIZE,STEP" or "session:GAP" (durations as in
// parse_duration). Returns nullopt with error set when malformed.
std::optional<WindowSpec> parse_window_spec(std::string_view text, std::string& error);

struct WindowConfig {
  std::vector<WindowSpec> windows;
  time_ms offset = 0;    // windows start at offset + k * step
  time_ms lateness = 0;  // the watermark trails the highest event time by this
  std::size_t fields = 0;         // numeric values per record
  std::size_t true_counters = 0;  // boolean counters per record
  AggregateNeeds needs;
  bool emit_empty = false;  // tumbling and sliding: count-0 windows for known keys
};

struct WindowResult {
  std::size_t window = 0;  // index into WindowConfig::windows
  time_ms start = 0;
  time_ms end = 0;  // exclusive; for a session its last event time + gap
  std::uint32_t key = 0;
  const WindowAccumulator* acc = nullptr;
};

class WindowEngine {
 public:
  using Sink = std::function<void(const WindowResult&)>;

  explicit WindowEngine(WindowConfig config);

  // The id of a key (any bytes; keys sort bytewise in the output order).
  std::uint32_t intern_key(std::string_view key);
  const std::string& key_text(std::uint32_t id) const { return keys_[id]; }

  // Adds one record; values.size() == fields, trues.size() == true_counters,
  // NaN values are "no value". Returns true if the record was late for at
  // least one window definition (it then counts in none of that definition's
  // windows). Closed windows are handed out by emit(), not here. position is
  // the record's place in its source (a Kafka offset), for oldest_position().
  bool add(std::uint32_t key, time_ms t, std::span<const double> values,
           std::span<const std::uint8_t> trues, std::int64_t position = 0) {
    // The usual record, in line: one tumbling or sliding definition, and the
    // record in the pane of its key's last one, whose windows are all open.
    if (one_paned_) {
      const KeyState& ks = defs_[0].keys[key];
      if (in_cached_pane(ks, t) && !(has_time_ && ks.cached_last_end <= watermark_)) {
        ks.cached->acc.add(t, values, trues);
        ks.cached->oldest = std::min(ks.cached->oldest, position);
        saw(t);
        return false;
      }
    }
    return add_any(key, t, values, trues, position);
  }

  // The lowest position among the records that open windows hold, nullopt
  // when no window is open: where a replay must start to rebuild them.
  std::optional<std::int64_t> oldest_position() const;

  // Rebuilding after a restart (citypipe(7), CHECKPOINTS): between
  // begin_restore() and restore(w), records are taken into windows without
  // watermark, lateness or emission; restore(w) then sets the watermark to w
  // and drops, unemitted, every window that w closes (emitted before the
  // restart), leaving the state the engine had when its watermark was w.
  void begin_restore();
  void restore(time_ms watermark);
  bool restoring() const { return holding_; }

  // Raises the watermark to at least w (idle timeout, processing time).
  void advance_watermark(time_ms w);

  // Hands every window whose end the watermark reached to sink, in order;
  // returns how many.
  std::size_t emit(const Sink& sink);
  // End of input: hands out every open window, in order.
  std::size_t finish(const Sink& sink);

  // The watermark, nullopt before the first record.
  std::optional<time_ms> watermark() const;
  // The earliest end of an open window, nullopt when none is open.
  std::optional<time_ms> next_end() const;
  std::uint64_t late_records() const { return late_; }
  const WindowConfig& config() const { return config_; }

 private:
  struct Slot {
    time_ms end;  // pane end, or session end
    WindowAccumulator acc;
    std::int64_t oldest = INT64_MAX;  // lowest position of its records
  };
  struct KeyState {
    std::map<time_ms, Slot> slots;  // panes or sessions by start
    time_ms cached_start = 0;     // the pane of the key's last record
    time_ms cached_last_end = 0;  // and the end of the latest window holding it
    Slot* cached = nullptr;
  };
  struct DefState {
    WindowSpec spec;
    time_ms pane = 0;
    std::vector<KeyState> keys;
    std::map<time_ms, std::vector<std::uint32_t>> due;     // window end -> keys with data
    std::set<std::tuple<time_ms, std::uint32_t, time_ms>> sessions;  // (end, key, start)
    std::optional<time_ms> next_empty_end;                // --emit-empty cursor
  };
  struct Pending {
    time_ms end;
    std::uint32_t key;
    std::uint32_t def;
    time_ms start;
    bool has_data;
  };

  bool add_any(std::uint32_t key, time_ms t, std::span<const double> values,
               std::span<const std::uint8_t> trues, std::int64_t position);
  static bool in_cached_pane(const KeyState& ks, time_ms t) {
    return ks.cached != nullptr && t >= ks.cached_start && t < ks.cached->end;
  }
  // The watermark after a record at t.
  void saw(time_ms t) {
    if (holding_) {  // no watermark yet: restore() sets it
      max_time_ = std::max(max_time_, t);
    } else if (!has_time_) {
      has_time_ = true;
      max_time_ = t;
      watermark_ = t - config_.lateness;
    } else if (t > max_time_) {
      max_time_ = t;
      watermark_ = std::max(watermark_, t - config_.lateness);
    }
  }
  bool add_paned(DefState& d, std::uint32_t key, time_ms t, std::span<const double> values,
                 std::span<const std::uint8_t> trues, std::int64_t position);
  bool add_session(DefState& d, std::uint32_t key, time_ms t, std::span<const double> values,
                   std::span<const std::uint8_t> trues, std::int64_t position);
  std::size_t emit_until(time_ms w, std::optional<time_ms> empty_limit, const Sink& sink);
  time_ms align(time_ms t, time_ms unit) const;
  WindowAccumulator fresh_accumulator() const {
    return {config_.fields, config_.true_counters, config_.needs};
  }

  WindowConfig config_;
  std::vector<DefState> defs_;
  bool one_paned_ = false;  // one definition, not a session, no --emit-empty: add()'s fast path
  std::vector<std::string> keys_;
  // Each key's first event time, read for --emit-empty only: add_any() keeps
  // it, as add()'s fast path never serves --emit-empty.
  std::vector<time_ms> key_first_time_;
  std::unordered_map<std::string, std::uint32_t, StringHash, std::equal_to<>> key_ids_;
  bool has_time_ = false;
  bool holding_ = false;  // between begin_restore() and restore()
  time_ms max_time_ = 0;
  time_ms watermark_ = 0;
  std::uint64_t late_ = 0;
  std::vector<Pending> pending_;
  WindowAccumulator scratch_;
  WindowAccumulator empty_;
};

}  // namespace citypipe
