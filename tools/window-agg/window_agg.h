// window-agg's glue between records and the window engine: option checking,
// reading fields out of records, the live-input timer, and printing windows.
#pragma once

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <span>
#include <thread>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "citypipe/json_record.h"
#include "citypipe/status.h"
#include "citypipe/tool.h"
#include "citypipe/window_engine.h"

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
  bool first_record(const JsonRecord& rec);
  struct Batch;
  void write_window(const WindowResult& r, std::string& out) const;
  void add_record(std::uint32_t key, time_ms t, std::span<const double> values,
                  std::span<const std::uint8_t> trues, std::string_view raw, std::string& out,
                  std::uint64_t& out_lines);
  void wait_for_input(RecordInput& in);
  void worker();
  void collect(bool wait);

  Tool& tool_;
  WindowAggOptions o_;
  std::vector<WindowSpec> specs_;
  std::vector<std::string> window_names_;
  std::vector<Aggregate> aggregates_;
  bool with_count_ = false;
  std::vector<std::string> keys_;
  std::vector<std::string> fields_;
  std::vector<std::string> trues_;
  std::vector<std::string> columns_;  // "temperature_avg", ... field-major
  time_ms offset_ = 0;
  time_ms lateness_ = 0;
  std::optional<time_ms> idle_;
  std::unique_ptr<WindowEngine> engine_;
  std::FILE* late_ = nullptr;
  // Where each field was in the last record, and keys already known.
  std::vector<std::size_t> field_slots_, true_slots_, key_slots_;
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::uint32_t, StringHash, std::equal_to<>> key_ids_;
  time_ms max_event_ = 0;
  // The replay worker and the batches between it and the reading thread.
  std::thread worker_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Batch*> todo_, done_;
  std::vector<Batch*> free_;
  bool closing_ = false;
  time_ms last_arrival_ = 0;
};

}  // namespace citypipe
