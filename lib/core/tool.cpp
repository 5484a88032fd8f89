#include "citypipe/core/tool.h"

#include <cstdlib>
#include <cstring>
#include <regex>

#include <fmt/format.h>
#include <simdjson.h>

#include "citypipe/core/completions.h"
#include "citypipe/core/control.h"
#include "citypipe/core/metrics.h"
#include "citypipe/core/option_checks.h"
#include "citypipe/core/ordered_pool.h"
#include "citypipe/core/signals.h"
#include "citypipe/core/suggest.h"
#include "citypipe/core/version.h"

namespace citypipe {

namespace {

bool looks_like_number(const std::string& s) {
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return !s.empty() && end == s.c_str() + s.size();
}

std::string short_number(const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str()) return text;
  return fmt::format("{:g}", v);
}

// CLI11's messages for bad numbers, made readable: "Could not convert: --seed
// = abc" and ranges printed with 309 digits.
std::string readable(const std::string& what) {
  static const std::regex conversion(R"(Could not convert: (\S+) = (.*))");
  static const std::regex range(R"((\S+): Value (.*) not in range (\S+) to (\S+))");
  std::smatch m;
  if (std::regex_match(what, m, conversion))
    return fmt::format("{}: '{}' is not a valid value (a number is expected)", m[1].str(), m[2].str());
  if (std::regex_match(what, m, range)) {
    const double hi = std::strtod(m[4].str().c_str(), nullptr);
    const std::string lo = short_number(m[3].str());
    if (!looks_like_number(m[2].str()))
      return fmt::format("{}: '{}' is not a number", m[1].str(), m[2].str());
    if (hi >= 1e300)
      return lo == "0" ? fmt::format("{}: must be greater than 0, got {}", m[1].str(), m[2].str())
                       : fmt::format("{}: must be at least {}, got {}", m[1].str(), lo, m[2].str());
    return fmt::format("{}: must be from {} to {}, got {}", m[1].str(), lo, short_number(m[4].str()),
                       m[2].str());
  }
  return what;
}

}  // namespace

Tool::Tool(std::string name, std::string description, bool with_inputs)
    : name_(std::move(name)), with_inputs_(with_inputs), app_(std::move(description), name_) {
  app_.set_version_flag("--version", [this] { return version_text(); });
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
        ->check(integer_in(2, std::int64_t{1} << 30));
    app_.add_option("files", opts_.inputs, "Input files, read in order; none or - for standard input")
        ->type_name("FILE");
  }
}

Tool::~Tool() = default;

std::string Tool::version_text() const {
  std::string text = fmt::format("{} (citypipe) {}\ncommit {}\n", name_, version(), build_commit());
  text += fmt::format("simdjson {}.{}.{} (JSON kernel: {}), fmt {}.{}.{}, CLI11 {}",
                      static_cast<int>(simdjson::SIMDJSON_VERSION_MAJOR), static_cast<int>(simdjson::SIMDJSON_VERSION_MINOR),
                      static_cast<int>(simdjson::SIMDJSON_VERSION_REVISION), JsonParser::kernel(), FMT_VERSION / 10000, FMT_VERSION / 100 % 100, FMT_VERSION % 100,
                      CLI11_VERSION);
  for (const auto& line : version_lines_) text += "\n" + line;
  return text;
}

std::optional<int> Tool::completions(const std::vector<std::string>& args) const {
  if (args.size() != 2 || args[0] != "--completions") return std::nullopt;
  if (auto script = completion_script(app_, name_, args[1])) {
    fmt::print("{}", *script);
    return exit_ok;
  }
  fmt::print(stderr, "{}: --completions takes bash, zsh or fish\n", name_);
  return exit_usage;
}

std::optional<int> Tool::parse(int argc, char** argv) {
  return parse(std::vector<std::string>(argv + 1, argv + argc));
}

std::optional<int> Tool::parse(std::vector<std::string> args) {
  if (auto rc = completions(args)) return rc;
  if (auto rc = check_arguments(args)) return rc;
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app_.parse(reversed);
  } catch (const CLI::ParseError& e) {
    return parse_error(e);
  }
  return after_parse();
}

std::optional<int> Tool::parse_error(const CLI::ParseError& e) {
  if (e.get_exit_code() == 0) {  // --help, --version
    app_.exit(e);
    return exit_ok;
  }
  return usage_error(readable(e.what()));
}

// Unknown options first, with a suggestion: before CLI11 would complain of a
// missing required option instead.
std::optional<int> Tool::check_arguments(const std::vector<std::string>& args) {
  std::vector<std::string> names;
  for (const CLI::Option* opt : app_.get_options()) {
    for (const auto& l : opt->get_lnames()) names.push_back("--" + l);
    for (const auto& sn : opt->get_snames()) names.push_back("-" + sn);
  }
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") break;
    if (a.size() < 2 || a[0] != '-' || looks_like_number(a)) continue;
    const bool is_long = a[1] == '-';
    const std::string name = is_long ? a.substr(0, a.find('=')) : a.substr(0, 2);
    const CLI::Option* opt = app_.get_option_no_throw(name);
    if (opt == nullptr) {
      return usage_error(fmt::format("unknown option {}{}", name, did_you_mean(name, names)));
    }
    // Its value, when separate, may begin with '-' ("-o -5").
    const bool attached = is_long ? a.find('=') != std::string::npos : a.size() > 2;
    if (opt->get_type_size_max() > 0 && !attached) ++i;
  }
  return std::nullopt;
}

std::optional<int> Tool::after_parse() {
  install_signal_handlers();
  out_ = std::make_unique<Output>(1, opts_.line_buffered);
  bad_ = std::make_unique<BadInput>(name_, opts_.strict);
  if (!opts_.reject_file.empty()) {
    if (Status s = bad_->open_reject_file(opts_.reject_file); !s.is_ok()) {
      warn(s.message());
      return exit_code_for(s.kind());
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

int Tool::usage_error(std::string_view message) const {
  fmt::print(stderr, "{}: {}\nTry '{} --help' for more information.\n", name_, message, name_);
  return exit_usage;
}

void Tool::watch_fields(std::string what, const std::vector<std::string>& fields) {
  for (const auto& f : fields)
    if (!f.empty()) watches_.push_back({what, f});
  watching_ = !watches_.empty();
}

void Tool::see_fields(const JsonRecord& record) {
  for (const auto& f : record.fields())
    if (seen_fields_.size() < 1000 && seen_fields_.find(f.key) == seen_fields_.end())
      seen_fields_.emplace(f.key);
  if (++watched_ == watch_records) end_watch();
}

void Tool::watch_line(std::string_view line) {
  if (!watching_) return;
  if (!watch_parser_) watch_parser_ = std::make_unique<JsonParser>();
  JsonRecord record;
  std::string error;
  if (watch_parser_->parse(line, record, error)) see_fields(record);
}

std::vector<std::string> Tool::absent_fields() const {
  std::vector<std::string> absent;
  for (const auto& w : watches_)
    if (seen_fields_.find(w.field) == seen_fields_.end()) absent.push_back(w.field);
  return absent;
}

void Tool::end_watch() {
  if (!watching_) return;
  watching_ = false;
  // Silent unless the watch saw the first watch_records records or all of them.
  if (watched_ == 0 || (watched_ < watch_records && watched_ < stats_.in)) return;
  const std::vector<std::string> known(seen_fields_.begin(), seen_fields_.end());
  for (const auto& w : watches_) {
    if (seen_fields_.find(w.field) != seen_fields_.end()) continue;
    warn(fmt::format("{} '{}' is in none of the {}{} records{}", w.what, w.field,
                     watched_ == watch_records ? "first " : "", watched_, did_you_mean(w.field, known)));
  }
}

int Tool::finish(const Status& status) {
  if (out_) out_->flush();
  end_watch();
  if (bad_) {
    bad_->print_summary();
    stats_.rejected = bad_->count();
  }
  if (opts_.stats) warn(stats_.format());
  metrics_written_at_ = -1e9;  // the final counts, whatever the time
  update_metrics();
  const bool all_rejected = bad_ && bad_->count() > 0 && stats_.in == 0;
  auto diagnose = [&] {
    warn(bad_->diagnosis(reject_hint_ ? reject_hint_(bad_->most_common_reason()) : std::string()));
  };
  if (!status.is_ok()) {
    if (status.kind() == errc::invalid_argument) return usage_error(status.message());
    warn(status.message());
    if (all_rejected && status.kind() == errc::corrupt) diagnose();  // "too few records": say why
    return exit_code_for(status.kind());
  }
  if (out_ && !out_->error().is_ok()) {
    warn(out_->error().message());
    return exit_code_for(out_->error().kind());
  }
  if (bad_ && !bad_->reject_status().is_ok()) {
    warn(bad_->reject_status().message());
    return exit_code_for(bad_->reject_status().kind());
  }
  if (metrics_failed_) {
    warn(fmt::format("--metrics-file {} could not be written (see above)", opts_.metrics_file));
    return exit_io;
  }
  if (bad_ && bad_->stopped()) return exit_data;
  if (stop_requested() && !(out_ && out_->broken_pipe())) return exit_interrupted;
  // Input, and all of it bad: a green job with nothing done is the worst outcome.
  if (all_rejected) {
    diagnose();
    return exit_data;
  }
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
      if (!handle_control(line_.text)) return false;
      continue;
    }
    if (!parser_.parse(line_.text, line_.capacity, record, error_)) {
      if (!tool_.bad_input().report(*line_.file, line_.number, error_, line_.text)) return false;
      continue;
    }
    took(1);
    if (tool_.watching_) tool_.see_fields(record);
    return true;
  }
  return false;
}

bool RecordInput::handle_control(std::string_view line) {
  ++control_lines_;
  if (control_) return control_(line);
  std::string& buf = tool_.out().buffer();
  buf.append(line);
  buf.push_back('\n');
  tool_.out().commit();
  return true;
}

// Counts good records; the metrics file is rewritten every few thousand.
bool RecordInput::took(std::uint64_t records) {
  tool_.stats().in += records;
  since_metrics_ += static_cast<std::uint32_t>(records);
  if (since_metrics_ >= 4096) {
    since_metrics_ = 0;
    tool_.update_metrics();
  }
  return true;
}

// On a worker: splits the block into lines and parses each; what to do with
// bad and control lines is decided later, in order, by take_batch.
void RecordInput::parse_batch(RecordBatch& b, BatchHandler& handler, JsonParser& parser,
                              std::size_t worker) const {
  b.lines_.clear();
  b.reasons_.clear();
  b.rows_.clear();
  handler.clear(b, worker);
  const std::string_view text = b.block_.text;
  const std::size_t max_line = tool_.opts_.max_line_bytes;
  JsonRecord record;
  std::string error;
  // The line ends found in one pass over the block, not one search a line.
  if (b.ends_.size() < b.block_.lines) b.ends_.resize(b.block_.lines);
  std::size_t ends = newline_offsets(text, b.ends_.data(), b.ends_.size());
  if (ends > b.ends_.size()) {  // not as the reader counted: take them all
    b.ends_.resize(ends);
    newline_offsets(text, b.ends_.data(), ends);
  }
  for (std::size_t from = 0, i = 0; from < text.size(); ++i) {
    const std::size_t end = i < ends ? b.ends_[i] : text.size();
    std::size_t size = end - from;
    RecordBatch::kind what = RecordBatch::kind::good;
    if (size > max_line) {  // as LineReader::next() marks it: CR and all
      what = RecordBatch::kind::too_long;
    } else {
      if (size > 0 && text[end - 1] == '\r') --size;
      const std::string_view line = text.substr(from, size);
      if (is_control_line(line)) {
        what = RecordBatch::kind::control;
      } else if (!parser.parse(line, b.block_.capacity - from, record, error)) {
        what = RecordBatch::kind::bad;
        b.reasons_.push_back(error);
      } else {
        b.rows_.push_back(static_cast<std::uint32_t>(b.lines_.size()));
        if (auto reason = handler.parse(record, b, worker)) {
          b.rows_.pop_back();
          what = RecordBatch::kind::bad;
          b.reasons_.push_back(std::move(*reason));
        }
      }
    }
    b.lines_.push_back({static_cast<std::uint32_t>(from), static_cast<std::uint32_t>(size), what});
    from = end + 1;
  }
}

// In input order: the batch's runs of good records to the tool, and its other
// lines to the bad-input policy or the control handler, as next() would.
bool RecordInput::take_batch(RecordBatch& b, BatchHandler& handler) {
  std::size_t row = 0, run = 0, bad = 0;
  auto take_run = [&] {
    const std::size_t count = row - run;
    if (count == 0) return true;
    took(count);
    for (std::size_t r = run; r < row && tool_.watching_; ++r) tool_.watch_line(b.row_line(r));
    const bool go_on = handler.take(b, run, count);
    run = row;
    return go_on && tool_.out().ok();
  };
  for (std::size_t i = 0; i < b.lines_.size(); ++i) {
    const RecordBatch::kind what = b.lines_[i].what;
    if (what == RecordBatch::kind::good) {
      ++row;
      continue;
    }
    if (!take_run()) return false;
    const std::uint64_t number = b.block_.first_line + i;
    bool go_on = true;
    switch (what) {
      case RecordBatch::kind::control: go_on = handle_control(b.line(i)); break;
      case RecordBatch::kind::bad:
        go_on = tool_.bad_input().report(*b.block_.file, number, b.reasons_[bad++], b.line(i));
        break;
      case RecordBatch::kind::too_long:
        go_on = reject_too_long(Line{b.line(i), 0, b.block_.file, number, true, false});
        break;
      case RecordBatch::kind::good: break;
    }
    if (!go_on) return false;
  }
  return take_run();
}

namespace {
constexpr std::size_t batch_bytes = 256 * 1024;  // read at a time by replay()
}  // namespace

void RecordInput::replay(BatchHandler& handler, std::size_t threads) {
  if (!open_status_.is_ok() || tool_.bad_input().stopped() || !tool_.out().ok()) return;
  threads = std::max<std::size_t>(threads, 1);
  std::vector<JsonParser> parsers(threads + 1);  // the last for this thread
  // Small batches, many in flight: when the machine is busy and one thread
  // waits for a core, the other still has work.
  reader_.set_chunk_bytes(batch_bytes);
  OrderedPool<std::unique_ptr<RecordBatch>> pool(
      threads, 8 * threads + 4,
      [&](std::unique_ptr<RecordBatch>& b, std::size_t worker) { parse_batch(*b, handler, parsers[worker], worker); });
  bool stop = false;
  // Takes back the oldest parsed batch (if wait, parsing one itself or
  // waiting until there is one); false if none is in flight.
  auto take = [&](bool wait) {
    std::unique_ptr<RecordBatch>* b = pool.oldest(false);
    while (b == nullptr && wait && !pool.empty()) b = pool.help(threads) ? pool.oldest(false) : pool.oldest(true);
    if (b == nullptr) return false;
    if (!stop && !take_batch(**b, handler)) stop = true;
    pool.release();
    return true;
  };
  while (!stop) {
    while (take(false)) {
    }
    if (pool.full()) take(true);
    if (stop) break;
    std::unique_ptr<RecordBatch>& b = pool.next_free();
    if (!b) b = handler.make_batch();
    if (!reader_.next_block(b->block_)) break;
    if (b->block_.too_long) {  // reported here, in order: first everything before it
      while (take(true)) {
      }
      if (stop) break;
      const LineBlock& l = b->block_;
      if (!reject_too_long(Line{l.text, l.capacity, l.file, l.first_line, true, true})) break;
      continue;
    }
    pool.submit();
  }
  while (take(true)) {
  }
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
