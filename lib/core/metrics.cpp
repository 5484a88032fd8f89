#include "citypipe/core/metrics.h"

#include <iterator>

#include <fmt/format.h>

namespace citypipe {

namespace {

void metric(std::string& out, std::string_view name, std::string_view type, std::string_view help,
            std::string_view tool, double value) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n{}{{tool=\"{}\"}} {}\n", name,
                 help, name, type, name, tool, value);
}

}  // namespace

std::string render_metrics(std::string_view tool, const Stats& stats, double now) {
  std::string out;
  metric(out, "citypipe_records_in_total", "counter", "Records read.", tool,
         static_cast<double>(stats.in));
  metric(out, "citypipe_records_out_total", "counter", "Records written.", tool,
         static_cast<double>(stats.out));
  metric(out, "citypipe_records_rejected_total", "counter", "Bad input lines skipped.", tool,
         static_cast<double>(stats.rejected));
  for (const auto& [name, value] : stats.extras())
    metric(out, "citypipe_" + name + "_total", "counter", "Tool counter " + name + ".", tool,
           static_cast<double>(value));
  metric(out, "citypipe_uptime_seconds", "gauge", "Seconds since the tool started.", tool,
         stats.seconds());
  metric(out, "citypipe_last_update_timestamp_seconds", "gauge",
         "When this file was written, seconds since the epoch.", tool, now);
  return out;
}

}  // namespace citypipe
