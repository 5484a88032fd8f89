// What tui-top's modes share: the options, the model under a lock, and the
// input thread that feeds it.
#pragma once

#include <atomic>
#include <condition_variable>
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
};

// The model, the lock that guards it, and the state of the input thread.
struct Shared {
  explicit Shared(const citypipe::DashboardConfig& config) : model(config) {}
  std::mutex mu;
  std::condition_variable changed;  // input ended
  citypipe::Dashboard model;
  bool ended = false;  // guarded by mu
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

// The candidate nearest to a mistyped name, when it is close enough to be a typo.
std::optional<std::string> closest_name(std::string_view name, const std::vector<std::string>& candidates);

// Checks --sort and --spark once against the fields of the data, after the
// first check_after records or at the end of input, whichever comes first: a
// usage error ("did you mean temperature?") when the data has no such field.
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
citypipe::Status run_batch(citypipe::Tool& tool, const Options& options, bool& downstream_closed);
// Falls back to batch mode when /dev/tty cannot be opened. Sets quit when
// the user quit with q, or (batch fallback) the reader of the output went away.
citypipe::Status run_terminal(citypipe::Tool& tool, const Options& options, bool& quit);

}  // namespace tui_top
