// tui-top: a live terminal dashboard of an NDJSON sensor stream, like top,
// also as a live web page and as an HTML report.
//
//   sensor-gen | iforest-score --warmup 2000 | tui-top
//   tui-top --once readings.ndjson        # one plain-text snapshot at end of input
//   ... | tui-top --serve :8080           # the same dashboard in a browser
//   tui-top --html report.html day.ndjson # one self-contained page at end of input
#include <algorithm>
#include <clocale>
#include <cstdlib>
#include <cstring>

#include <langinfo.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "app.h"
#include "serve.h"
#include "citypipe/core/event_time.h"
#include "citypipe/core/line_reader.h"
#include "citypipe/core/signals.h"

namespace {

std::size_t batch_width(std::size_t requested) {
  if (requested > 0) return requested;
  winsize ws{};
  if (::isatty(1) && ::ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  if (const char* c = std::getenv("COLUMNS")) {
    const long n = std::strtol(c, nullptr, 10);
    if (n > 0 && n < 10000) return static_cast<std::size_t>(n);
  }
  return 100;
}

}  // namespace

int main(int argc, char** argv) {
  std::setlocale(LC_ALL, "");
  citypipe::Tool tool("tui-top", "Live terminal dashboard of an NDJSON sensor stream, like top");
  tui_top::Options o;
  std::string span = "1m", refresh = "1s";
  bool no_color = false;
  auto& app = tool.app();
  app.add_option("--key", o.model.key_field, "Field whose value makes one table row (default zone)")
      ->type_name("FIELD");
  app.add_option("--time", o.model.time_field,
                 "Event time field (default ts; then window_start, then arrival time)")
      ->type_name("FIELD");
  app.add_option("--span", span, "Averages and sparklines cover this much event time (default 1m)")
      ->type_name("DURATION");
  app.add_option("--refresh", refresh, "Refresh interval, 0.5s to 30s (default 1s)")
      ->type_name("DURATION");
  app.add_option("--spark", o.spark_field, "Field of the sparkline (default the first field)")
      ->type_name("FIELD");
  app.add_option("--sort", o.sort, "Sort column: key, records, anomalies or a field (default key)")
      ->type_name("COLUMN");
  app.add_flag("--reverse", o.reverse, "Reverse the sort order");
  app.add_option("--max-keys", o.model.max_keys,
                 "Rows kept; later keys are counted under (other) (default 1000)")
      ->type_name("N")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000}));
  app.add_flag("--batch,-b", o.batch, "Print a plain-text snapshot every refresh, no curses");
  app.add_flag("--once", o.once, "Print one plain-text snapshot at end of input");
  app.add_option("--width", o.width, "Width of batch snapshots (default terminal, $COLUMNS or 100)")
      ->type_name("N")
      ->check(CLI::Range(std::size_t{20}, std::size_t{1000}));
  app.add_option("--alerts", o.alerts, "Alerts in a batch snapshot (default 10)")
      ->type_name("N")
      ->check(CLI::Range(std::size_t{0}, std::size_t{1000}));
  app.add_flag("--no-color", no_color, "No colours (also when NO_COLOR is set)");
  app.add_option("--serve", o.serve,
                 "Also serve the dashboard as a live web page on ADDR:PORT (default address "
                 "127.0.0.1), with /api/state and /metrics; keeps serving after end of input "
                 "until SIGINT or SIGTERM")
      ->type_name("ADDR:PORT");
  app.add_option("--html", o.html_file,
                 "At end of input, write the dashboard to FILE as one self-contained HTML page")
      ->type_name("FILE");
  if (auto rc = tool.parse(argc, argv)) return *rc;

  const auto span_ms = citypipe::parse_duration(span);
  const auto refresh_ms = citypipe::parse_duration(refresh);
  if (!span_ms || *span_ms < 1000) {
    return tool.usage_error("--span: expected a duration of at least 1s, like 30s, 1m or 1h: " + span);
  }
  if (!refresh_ms || *refresh_ms < 500 || *refresh_ms > 30'000) {
    return tool.usage_error("--refresh: expected a duration from 0.5s to 30s: " + refresh);
  }
  o.model.span = *span_ms;
  o.refresh = *refresh_ms;
  const char* nc = std::getenv("NO_COLOR");
  o.color = !no_color && (nc == nullptr || *nc == '\0');
  o.utf8 = std::strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
  o.width = batch_width(o.width);

  // A missing file fails before the screen is taken over.
  citypipe::LineReader check(tool.options().inputs, 2);
  if (auto s = check.check_files(); !s.is_ok()) return tool.finish(s);

  const bool serving = !o.serve.empty();
  const bool interactive = !o.once && !o.batch && ::isatty(1);
  if (interactive && citypipe::reads_live_stdin(tool.options().inputs) && ::isatty(0)) {
    return tool.usage_error("standard input is the terminal: pipe records in, or name files");
  }

  tui_top::Shared shared(o.model);
  if (!o.html_file.empty())
    shared.at_end = [&o](const citypipe::Dashboard& model) { return tui_top::write_html_report(o, model); };
  std::unique_ptr<tui_top::WebServer> web;
  if (serving) {
    web = std::make_unique<tui_top::WebServer>(tool, o, shared);
    if (auto s = web->start(o.serve); !s.is_ok()) return tool.finish(s);
  }

  citypipe::Status status;
  bool quit_by_key = false;
  if (o.once && !serving) {
    status = tui_top::run_once(tool, o);
  } else if (serving && !interactive && !o.batch) {
    status = tui_top::run_served(tool, o, shared);  // the page alone (--once: and a snapshot)
  } else if (!interactive) {
    status = tui_top::run_batch(tool, o, shared, quit_by_key);
    if (serving && status.is_ok() && !quit_by_key) tui_top::wait_for_stop_signal();
  } else {
    status = tui_top::run_terminal(tool, o, shared, quit_by_key);
  }
  if (web) web->stop();
  if (status.is_ok()) {
    std::lock_guard lock(shared.mu);
    status = shared.at_end_status;
  }
  const int rc = tool.finish(status);
  // q, or a closed pipe downstream, stops the input thread through the stop
  // flag; that is not an interruption.
  if (quit_by_key && rc == citypipe::exit_interrupted && citypipe::stop_signal() == 0)
    return citypipe::exit_ok;
  return rc;
}
