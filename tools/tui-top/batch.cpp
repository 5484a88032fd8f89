// Batch modes: plain-text snapshots for logs and pipes, like top -b.
#include <chrono>
#include <thread>

#include "app.h"
#include "citypipe/core/metrics.h"
#include "citypipe/core/signals.h"
#include "citypipe/screen/web.h"

namespace tui_top {

namespace {

void print_snapshot(citypipe::Output& output, const citypipe::DashboardSnapshot& snapshot,
                    const Options& options, const citypipe::ScreenInfo& info, bool separator) {
  citypipe::ViewState view;
  view.refresh = options.refresh;
  view.reverse = options.reverse;
  view.sort_column = sort_column_for(snapshot, options.sort).value_or(0);
  citypipe::ScreenOptions screen;
  screen.width = options.width;
  screen.height = 0;
  screen.utf8 = options.utf8;
  screen.batch_alerts = options.alerts;
  std::string& out = output.buffer();
  if (separator) out += '\n';
  for (const auto& line : citypipe::render_screen(snapshot, view, info, screen)) {
    std::string text = line.text();
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text;
    out += '\n';
  }
  output.flush();
}

}  // namespace

citypipe::Status run_once(citypipe::Tool& tool, const Options& options) {
  citypipe::Dashboard model(options.model);
  citypipe::RecordInput input(tool);
  ignore_control_lines(input);
  citypipe::JsonRecord record;
  const auto start = std::chrono::steady_clock::now();
  while (input.next(record)) model.add(record, citypipe::wall_clock_ms());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (auto s = ViewNameCheck().check(options, model.fields(), model.records(), true); !s.is_ok())
    return s;
  const auto snapshot = model.snapshot(field_index_for(model.fields(), options.spark_field));
  citypipe::ScreenInfo info;
  info.live = false;
  if (seconds > 0) {
    info.records_per_s = static_cast<double>(snapshot.records) / seconds;
    info.anomalies_per_s = static_cast<double>(snapshot.anomalies) / seconds;
  }
  if (input.status().is_ok() || snapshot.records > 0) print_snapshot(tool.out(), snapshot, options, info, false);
  if (!options.html_file.empty())
    if (auto s = write_html_report(options, model); !s.is_ok()) return s;
  return input.status();
}

citypipe::Status run_batch(citypipe::Tool& tool, const Options& options, Shared& shared,
                           bool& downstream_closed) {
  // The input thread checks tool.out() for a closed pipe, so snapshots go
  // through an Output of their own while it runs.
  citypipe::Output output(1, false);
  Feed feed(tool, shared);
  citypipe::RateMeter meter;
  meter.sample(citypipe::wall_clock_ms(), 0, 0);
  bool first = true;
  ViewNameCheck names;
  citypipe::Status status;
  for (;;) {
    citypipe::DashboardSnapshot snapshot;
    bool ended = false;
    {
      std::unique_lock lock(shared.mu);
      const auto deadline =
          std::chrono::steady_clock::now() + std::chrono::milliseconds(options.refresh);
      // Short waits so that a stop signal is seen soon.
      while (!shared.ended && !citypipe::stop_requested() &&
             std::chrono::steady_clock::now() < deadline)
        shared.changed.wait_for(lock, std::chrono::milliseconds(100));
      snapshot = shared.model.snapshot(field_index_for(shared.model.fields(), options.spark_field));
      ended = shared.ended;
    }
    status = names.check(options, snapshot.fields, snapshot.records, ended);
    if (!status.is_ok()) break;
    meter.sample(citypipe::wall_clock_ms(), snapshot.records, snapshot.anomalies);
    citypipe::ScreenInfo info{!ended, meter.records_per_s(), meter.anomalies_per_s()};
    print_snapshot(output, snapshot, options, info, !first);
    first = false;
    if (ended || citypipe::stop_requested() || !output.ok()) break;
  }
  feed.stop();
  downstream_closed = output.broken_pipe();
  if (!status.is_ok()) return status;
  if (!output.error().is_ok()) return output.error();
  return feed.status();
}

void wait_for_stop_signal() {
  while (!citypipe::stop_requested()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

citypipe::Status run_served(citypipe::Tool& tool, const Options& options, Shared& shared) {
  citypipe::Status status;
  {
    Feed feed(tool, shared);
    ViewNameCheck names;
    bool ended = false;
    while (!ended && !citypipe::stop_requested()) {
      std::vector<std::string> fields;
      std::uint64_t records;
      {
        std::unique_lock lock(shared.mu);
        shared.changed.wait_for(lock, std::chrono::milliseconds(100));
        fields = shared.model.fields();
        records = shared.model.records();
        ended = shared.ended;
      }
      status = names.check(options, fields, records, ended);
      if (!status.is_ok()) return status;  // the feed stops as it goes
    }
    feed.stop();
    if (!feed.status().is_ok()) return feed.status();
  }
  if (options.once && !citypipe::stop_requested()) {
    citypipe::DashboardSnapshot snapshot;
    {
      std::lock_guard lock(shared.mu);
      snapshot = shared.model.snapshot(field_index_for(shared.model.fields(), options.spark_field));
    }
    print_snapshot(tool.out(), snapshot, options, citypipe::ScreenInfo{false, 0, 0}, false);
  }
  wait_for_stop_signal();
  return status;
}

citypipe::Status write_html_report(const Options& options, const citypipe::Dashboard& model) {
  const auto snapshot = model.snapshot(static_cast<std::size_t>(-1), true);
  citypipe::WebView view;
  view.view.sort_column = sort_column_for(snapshot, options.sort).value_or(0);
  view.view.reverse = options.reverse;
  view.view.refresh = options.refresh;
  view.chart_field = field_index_for(snapshot.fields, options.spark_field);
  citypipe::PageOptions page;
  page.kind = citypipe::PageKind::report;
  page.max_rows = 10'000;
  page.alerts = std::max<std::size_t>(options.alerts, 1);
  const std::string html =
      citypipe::render_page(snapshot, view, citypipe::ScreenInfo{false, 0, 0}, page);
  auto s = citypipe::write_file_atomically(options.html_file, html);
  if (!s.is_ok()) return citypipe::Status::error(citypipe::exit_io, "--html: " + s.message());
  return s;
}

}  // namespace tui_top
