// Prometheus text-format metrics for node_exporter's textfile collector: the
// counters of Stats, rendered as text (pure), written with write_file_atomically.
#pragma once

#include <string>
#include <string_view>

#include "citypipe/core/file_write.h"  // write_file_atomically, for the textfile
#include "citypipe/core/stats.h"
#include "citypipe/core/status.h"

namespace citypipe {

// The exposition text: citypipe_records_{in,out,rejected}_total, one
// citypipe_<extra>_total per tool counter, citypipe_uptime_seconds and
// citypipe_last_update_timestamp_seconds, each labelled tool="NAME".
std::string render_metrics(std::string_view tool, const Stats& stats, double now_epoch_seconds);

}  // namespace citypipe
