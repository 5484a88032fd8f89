#include "citypipe/core/metrics.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
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

Status write_file_atomically(const std::string& path, std::string_view text) {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) return Status::error(exit_io, fmt::format("{}: {}", tmp, std::strerror(errno)));
  const bool written = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !written)
    return Status::error(exit_io, fmt::format("{}: write error", tmp));
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    return Status::error(exit_io, fmt::format("{}: {}", path, std::strerror(errno)));
  return Status::ok();
}

}  // namespace citypipe
