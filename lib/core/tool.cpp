#include "citypipe/core/tool.h"

#include <fmt/format.h>

#include "citypipe/core/control.h"
#include "citypipe/core/metrics.h"
#include "citypipe/core/signals.h"

namespace citypipe {

Tool::Tool(std::string name, std::string description, bool with_inputs)
    : name_(std::move(name)), with_inputs_(with_inputs), app_(std::move(description), name_) {
  app_.set_version_flag("--version", std::string(name_) + " (citypipe) 0.1.0");
  app_.add_flag("--stats", opts_.stats, "On exit, print records in, out, rejected and rate on stderr");
  app_.add_flag("--line-buffered", opts_.line_buffered, "Flush output after every line");
  app_.add_option("--metrics-file", opts_.metrics_file,
                  "Keep Prometheus text-format counters in FILE, rewritten every 2 s")
      ->type_name("FILE");
  if (with_inputs_) {
    app_.add_flag("--strict", opts_.strict, "Stop at the first bad input line with status 65");
    app_.add_option("--reject", opts_.reject_file, "Write rejected input lines to FILE")
        ->type_name("FILE");
    app_.add_option("--max-line-bytes", opts_.max_line_bytes,
                    "Longer input lines are bad lines (default 1048576)")
        ->type_name("N")
        ->check(CLI::Range(std::size_t{2}, std::size_t{1} << 30));
    app_.add_option("files", opts_.inputs, "Input files, read in order; none or - for standard input")
        ->type_name("FILE");
  }
}

Tool::~Tool() = default;

std::optional<int> Tool::parse(int argc, char** argv) {
  try {
    app_.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {  // --help, --version
      app_.exit(e);
      return exit_ok;
    }
    fmt::print(stderr, "{}: {}\nTry '{} --help' for more information.\n", name_, e.what(), name_);
    return exit_usage;
  }
  return after_parse();
}

std::optional<int> Tool::parse(std::vector<std::string> args) {
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app_.parse(reversed);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {
      app_.exit(e);
      return exit_ok;
    }
    fmt::print(stderr, "{}: {}\nTry '{} --help' for more information.\n", name_, e.what(), name_);
    return exit_usage;
  }
  return after_parse();
}

std::optional<int> Tool::after_parse() {
  install_signal_handlers();
  out_ = std::make_unique<Output>(1, opts_.line_buffered);
  bad_ = std::make_unique<BadInput>(name_, opts_.strict);
  if (!opts_.reject_file.empty()) {
    if (Status s = bad_->open_reject_file(opts_.reject_file); !s.is_ok()) {
      warn(s.message());
      return s.code();
    }
  }
  return std::nullopt;
}

void Tool::update_metrics() {
  if (opts_.metrics_file.empty() || metrics_failed_) return;
  const double now = stats_.seconds();
  if (now - metrics_written_at_ < 2.0) return;
  metrics_written_at_ = now;
  if (bad_) stats_.rejected = bad_->count();
  const auto epoch = static_cast<double>(wall_clock_ms()) / 1000.0;
  if (Status s = write_file_atomically(opts_.metrics_file, render_metrics(name_, stats_, epoch));
      !s.is_ok()) {
    warn(s.message() + " (metrics no longer written)");
    metrics_failed_ = true;
  }
}

void Tool::warn(std::string_view message) const { fmt::print(stderr, "{}: {}\n", name_, message); }

int Tool::finish(const Status& status) {
  if (out_) out_->flush();
  if (bad_) {
    bad_->print_summary();
    stats_.rejected = bad_->count();
  }
  if (opts_.stats) warn(stats_.format());
  metrics_written_at_ = -1e9;  // the final counts, whatever the time
  update_metrics();
  if (!status.is_ok()) {
    warn(status.message());
    return status.code();
  }
  if (out_ && !out_->error().is_ok()) {
    warn(out_->error().message());
    return exit_io;
  }
  if (bad_ && bad_->stopped()) return exit_data;
  if (stop_requested() && !(out_ && out_->broken_pipe())) return exit_interrupted;
  return exit_ok;
}

RecordInput::RecordInput(Tool& tool)
    : tool_(tool),
      reader_(tool.options().inputs, tool.options().max_line_bytes, JsonParser::padding()) {
  Output* out = &tool.out();
  reader_.on_before_read([this, out, &tool] {
    if (idle_work_) idle_work_();
    if (flush_on_idle_) out->flush();
    tool.update_metrics();
  });
  BadInput* bad = &tool.bad_input();
  reader_.on_overlong_bytes([bad](std::string_view bytes, bool last) { bad->continue_raw(bytes, last); });
  open_status_ = reader_.check_files();  // fail before any work, not midway
}

bool RecordInput::next(JsonRecord& record) {
  if (!open_status_.is_ok() || tool_.bad_input().stopped() || !tool_.out().ok()) return false;
  while (reader_.next(line_)) {
    if (line_.too_long) {
      if (!reject_too_long(line_)) return false;
      continue;
    }
    if (is_control_line(line_.text)) {
      ++control_lines_;
      if (control_) {
        if (!control_(line_.text)) return false;
      } else {
        std::string& buf = tool_.out().buffer();
        buf.append(line_.text);
        buf.push_back('\n');
        tool_.out().commit();
      }
      continue;
    }
    if (!parser_.parse(line_.text, line_.capacity, record, error_)) {
      if (!tool_.bad_input().report(*line_.file, line_.number, error_, line_.text)) return false;
      continue;
    }
    ++tool_.stats().in;
    if (++since_metrics_ == 4096) {
      since_metrics_ = 0;
      tool_.update_metrics();
    }
    return true;
  }
  return false;
}

bool RecordInput::reject_too_long(const Line& line) {
  return tool_.bad_input().report(*line.file, line.number,
                                  fmt::format("line longer than {} bytes", tool_.options().max_line_bytes),
                                  line.text, !line.continues);
}

bool RecordInput::reject(std::string_view reason) {
  --tool_.stats().in;  // counted as rejected instead
  return tool_.bad_input().report(*line_.file, line_.number, reason, line_.text);
}

}  // namespace citypipe
