// What tui-top's modes share: the options, the model under a lock, and the
// input thread that feeds it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "citypipe/screen/dashboard.h"
#include "citypipe/screen/render.h"
#include "citypipe/core/tool.h"

namespace tui_top {

struct Options {
  citypipe::DashboardConfig model;
  citypipe::time_ms refresh = 1000;
  std::string spark_field;  // empty: the first field
  std::string sort;         // key, records, anomalies or a field; empty: key
  bool reverse = false;
  bool batch = false;
  bool once = false;
  bool color = true;
  bool utf8 = true;
  std::size_t width = 0;  // batch width; 0: terminal or $COLUMNS or 100
  std::size_t alerts = 10;
  std::string serve;      // --serve ADDR:PORT; empty: no web page
  std::string html_file;  // --html FILE; empty: no report
};

// The model, the lock that guards it, and the state of the input thread.
struct Shared {
  explicit Shared(const citypipe::DashboardConfig& config) : model(config) {}
  std::mutex mu;
  std::condition_variable changed;  // input ended
  citypipe::Dashboard model;
  bool ended = false;      // guarded by mu
  citypipe::Stats stats;   // the tool's counters, copied by the input thread; guarded by mu
  // Run by the input thread under mu when input ends (the --html report).
  std::function<citypipe::Status(const citypipe::Dashboard&)> at_end;
  citypipe::Status at_end_status;  // guarded by mu
};

// Reads records into shared.model on its own thread, with the stop signals
// blocked there so that they reach the thread drawing the screen.
class Feed {
 public:
  Feed(citypipe::Tool& tool, Shared& shared);
  ~Feed();  // stops and joins
  // Asks the input thread to stop and waits for it (a blocked read is
  // interrupted). Safe to call twice.
  void stop();
  const citypipe::Status& status() const { return input_.status(); }

 private:
  void run();
  void copy_stats();  // under shared_.mu
  citypipe::Tool& tool_;
  Shared& shared_;
  citypipe::RecordInput input_;
  std::atomic<bool> done_{false};
  bool clock_stale_ = true;  // input thread only
  std::thread thread_;
};

// Resolves the --sort and --spark names against the fields seen so far.
std::optional<std::size_t> sort_column_for(const citypipe::DashboardSnapshot& snapshot,
                                           const std::string& name);
std::size_t field_index_for(const std::vector<std::string>& fields, const std::string& name);

// Checks --sort and --spark once against the fields of the data, after the
// first check_after records or at the end of input, whichever comes first: a
// usage error ("did you mean 'temperature'?") when the data has no such field.
class ViewNameCheck {
 public:
  static constexpr std::uint64_t check_after = 1000;
  citypipe::Status check(const Options& options, const std::vector<std::string>& fields,
                         std::uint64_t records, bool ended);

 private:
  bool done_ = false;
};

// A dashboard shows no control lines (citypipe/core/control.h) and passes none
// on: they are neither records nor bad lines.
void ignore_control_lines(citypipe::RecordInput& input);

// The modes. Each returns the input status for Tool::finish.
citypipe::Status run_once(citypipe::Tool& tool, const Options& options);
// Sets downstream_closed when the reader of standard output went away.
citypipe::Status run_batch(citypipe::Tool& tool, const Options& options, Shared& shared,
                           bool& downstream_closed);
// Falls back to batch mode when /dev/tty cannot be opened. Sets quit when
// the user quit with q, or (batch fallback) the reader of the output went away.
citypipe::Status run_terminal(citypipe::Tool& tool, const Options& options, Shared& shared, bool& quit);
// Reads input for the web page alone (--once: with one snapshot at its end),
// then waits for SIGINT or SIGTERM.
citypipe::Status run_served(citypipe::Tool& tool, const Options& options, Shared& shared);
// Waits for SIGINT or SIGTERM: the web page keeps serving the final state.
void wait_for_stop_signal();

// The --html report of the model's state: one self-contained page, written
// whole (through a temporary file and rename).
citypipe::Status write_html_report(const Options& options, const citypipe::Dashboard& model);

}  // namespace tui_top
