// window-agg's glue between records and the window engine: option checking,
// reading fields out of records, the live-input timer, and printing windows.
#pragma once

#include <cstdio>
#include <span>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "citypipe/core/json_record.h"
#include "citypipe/core/status.h"
#include "citypipe/core/tool.h"
#include "citypipe/window/engine.h"

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

class WindowAgg {
 public:
  WindowAgg(Tool& tool, WindowAggOptions options);
  ~WindowAgg();

  // Checks the options; exit_usage (or exit_io for --late) on error.
  Status setup();
  // Reads every record, writes every window; the status for Tool::finish.
  Status run();

 private:
  struct Chunk;
  // Where each field was in the last record, to look there first.
  struct Slots {
    std::vector<std::size_t> fields, trues, keys;
    std::size_t time = 0;
  };
  struct Row {
    time_ms time;
    double* values;            // fields_.size()
    std::uint8_t* trues;       // trues_.size()
    std::string* key;          // the look-up key is appended here
  };

  bool first_record(const JsonRecord& rec);
  Slots make_slots() const;
  std::string time_reason() const;
  std::optional<std::string> extract(const JsonRecord& rec, Slots& slots, Row& row) const;
  std::uint32_t key_id(std::string_view lookup, const JsonRecord* rec, std::string_view line);
  void add(std::uint32_t key, time_ms t, std::span<const double> values,
           std::span<const std::uint8_t> trues, std::string_view raw);
  void emit();  // writes the windows the watermark closed
  bool add_one(const JsonRecord& rec, RecordInput& in);
  void add_replay(RecordInput& in);
  void parse_chunk(Chunk& c, JsonParser& parser, Slots& slots) const;
  bool add_chunk(const Chunk& c);
  void write_window(const WindowResult& r, std::string& out) const;
  void wait_for_input(RecordInput& in);

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
  FieldName time_name_;
  std::vector<std::string> columns_;  // "temperature_avg", ... field-major
  time_ms offset_ = 0;
  time_ms lateness_ = 0;
  std::optional<time_ms> idle_;
  std::unique_ptr<WindowEngine> engine_;
  bool emit_per_chunk_ = false;  // replay: emit after each chunk, not each record
  std::FILE* late_ = nullptr;
  Slots slots_;  // of this thread
  std::vector<double> values_;
  std::vector<std::uint8_t> trues_row_;
  JsonParser main_parser_;
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::uint32_t, StringHash, std::equal_to<>> key_ids_;
  time_ms max_event_ = 0;
  bool have_event_ = false;
  time_ms last_arrival_ = 0;
};

}  // namespace citypipe
