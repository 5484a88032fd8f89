// What every citypipe tool's main() shares: the common options, parsing with
// our exit codes, the record input loop with the bad-input policy, output,
// --stats and the final exit status.
//
//   citypipe::Tool tool("window-agg", "Event-time windowed aggregation");
//   ... tool.app().add_option(...);
//   if (auto rc = tool.parse(argc, argv)) return *rc;
//   citypipe::RecordInput in(tool);
//   while (in.next(rec)) { ... tool.out().buffer() += ...; tool.out().commit(); }
//   return tool.finish(in.status());
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "citypipe/core/bad_input.h"
#include "citypipe/core/json_record.h"
#include "citypipe/core/line_reader.h"
#include "citypipe/core/output.h"
#include "citypipe/core/stats.h"
#include "citypipe/core/status.h"

namespace citypipe {

struct CommonOptions {
  std::vector<std::string> inputs;  // empty or "-" means standard input
  bool stats = false;
  bool strict = false;
  bool line_buffered = false;
  std::string reject_file;
  std::size_t max_line_bytes = 1 << 20;
  std::string metrics_file;  // Prometheus textfile, rewritten every few seconds
};

class Tool {
 public:
  // with_inputs: the tool reads NDJSON (FILE... positional and input options).
  Tool(std::string name, std::string description, bool with_inputs = true);
  ~Tool();

  CLI::App& app() { return app_; }
  const std::string& name() const { return name_; }
  CommonOptions& options() { return opts_; }

  // Parses the command line. Returns the exit status to return at once (0
  // after --help or --version, 64 on a usage error), or nullopt to go on.
  // Installs the signal handlers and opens output and the reject file.
  std::optional<int> parse(int argc, char** argv);
  std::optional<int> parse(std::vector<std::string> args);  // args without argv[0]

  Output& out() { return *out_; }
  BadInput& bad_input() { return *bad_; }
  Stats& stats() { return stats_; }

  // Rewrites --metrics-file when a few seconds have passed since the last
  // time (cheap to call often; RecordInput calls it as records flow and
  // before it waits for input).
  void update_metrics();

  // A line for --version naming a library the tool links beyond core's (as
  // librdkafka or libpq), printed after citypipe's own lines.
  void add_version_line(std::string line) { version_lines_.push_back(std::move(line)); }

  // "TOOL: message" on stderr.
  void warn(std::string_view message) const;

  // A command line that cannot be run as given, found after parse (options
  // that do not go together, a bad value): "TOOL: message" and "Try 'TOOL
  // --help' for more information." on stderr. Returns 64 for main to return.
  // finish() words an errc::invalid_argument Status the same way.
  int usage_error(std::string_view message) const;

  // Typos in field names: once the first watch_records records have been
  // read (or at finish, if fewer), warns of each of fields that none of them
  // had, with the closest field name that they had ("--fields 'temprature'
  // is in none of the first 1000 records; did you mean 'temperature'?").
  // what names where the fields came from ("--fields", "the model").
  void watch_fields(std::string what, const std::vector<std::string>& fields);
  static constexpr std::uint64_t watch_records = 1000;
  // The watched fields that no record had (valid once the watch is over).
  std::vector<std::string> absent_fields() const;
  // RecordInput::next feeds the watch. A tool that parses records elsewhere
  // (threads of its own) passes each good record's line here, from one
  // thread, while watching() is true.
  bool watching() const { return watching_; }
  void watch_line(std::string_view line);

  // When every input line was rejected, finish() ends with 65 and a one-line
  // diagnosis (the most common reason); hint, given that reason, may add the
  // tool's likely cause ("is the time field named differently? (--time-field)").
  void on_all_rejected(std::function<std::string(const std::string& reason)> hint) {
    reject_hint_ = std::move(hint);
  }

  // Flushes, prints the bad-line summary and --stats, and returns the exit
  // status: the exit code of status's category if it is an error, else 74 on
  // a write error (output, --reject or --metrics-file), 65 after a strict stop, 130 after a
  // signal, 65 when there was input and every line was rejected, 0 otherwise
  // (also after EPIPE). The one place where errors become exit codes.
  int finish(const Status& status = Status::ok());

 private:
  friend class RecordInput;
  std::optional<int> after_parse();
  std::string version_text() const;
  // Hidden `--completions SHELL`: prints the script, returns the exit status.
  std::optional<int> completions(const std::vector<std::string>& args) const;
  std::optional<int> check_arguments(const std::vector<std::string>& args);
  std::optional<int> parse_error(const CLI::ParseError& e);
  void see_fields(const JsonRecord& record);
  void end_watch();

  struct Watch {
    std::string what;
    std::string field;
  };
  std::vector<Watch> watches_;
  std::set<std::string, std::less<>> seen_fields_;
  std::unique_ptr<JsonParser> watch_parser_;
  std::uint64_t watched_ = 0;
  bool watching_ = false;
  std::function<std::string(const std::string&)> reject_hint_;

  std::string name_;
  bool with_inputs_;
  CLI::App app_;
  CommonOptions opts_;
  std::unique_ptr<Output> out_;
  std::unique_ptr<BadInput> bad_;
  Stats stats_;
  double metrics_written_at_ = -1e9;
  bool metrics_failed_ = false;
  std::vector<std::string> version_lines_;
};

// A batch of consecutive lines of one input file, parsed on a worker thread
// (RecordInput::replay). A tool derives from it to hold what it takes from
// each good record: one row per good record, in order.
class RecordBatch {
 public:
  virtual ~RecordBatch() = default;
  // The rows so far (on the worker) or in all (after it).
  std::size_t rows() const { return rows_.size(); }
  // The line of row r, without its line terminator.
  std::string_view row_line(std::size_t r) const { return line(rows_[r]); }

 private:
  friend class RecordInput;
  enum class kind : std::uint8_t { good, bad, control, too_long };
  struct Entry {
    std::uint32_t from, size;
    kind what;
  };
  std::string_view line(std::size_t i) const { return block_.text.substr(lines_[i].from, lines_[i].size); }
  LineBlock block_;
  std::vector<Entry> lines_;
  std::vector<std::string> reasons_;   // of the bad lines, in order
  std::vector<std::uint32_t> rows_;    // the line of each row
  std::vector<std::uint32_t> ends_;    // where each line ends (its '\n'), parse_batch's scratch
};

// What a tool does with the records of a replay (RecordInput::replay): parse
// on worker threads into rows of its own, and take them in input order.
class BatchHandler {
 public:
  virtual ~BatchHandler() = default;
  // A new batch of the tool's own type; RecordInput keeps a few and reuses them.
  virtual std::unique_ptr<RecordBatch> make_batch() = 0;
  // Worker threads are numbered 0 to threads - 1 (as given to replay); the
  // thread that called replay parses too, as worker `threads`, rather than
  // wait for them.
  //
  // On worker thread `worker`: a batch is about to be filled anew.
  virtual void clear(RecordBatch& batch, std::size_t worker) = 0;
  // On worker thread `worker`: a good JSON record, the batch's next row.
  // Adds the row, or adds nothing and returns the reason the record is bad.
  virtual std::optional<std::string> parse(const JsonRecord& record, RecordBatch& batch, std::size_t worker) = 0;
  // On the thread that called replay, in input order: the rows [first,
  // first + count) of batch, which a bad or control line or the batch's end
  // follows. False stops the input.
  virtual bool take(RecordBatch& batch, std::size_t first, std::size_t count) = 0;
};

// Reads the tool's inputs as JSON records, passing every bad line through the
// bad-input policy. One per tool.
class RecordInput {
 public:
  explicit RecordInput(Tool& tool);

  // The next good record, or false at end of input, on error, on a strict
  // stop or a stop signal. Counts records in.
  bool next(JsonRecord& record);

  // Reads the rest of the input in batches, parsed by `threads` worker
  // threads through handler, with what next() does for each line (bad lines,
  // control lines, counting) done here in input order: the same outcome as
  // next() and the same work per record, faster. For a replay of files.
  void replay(BatchHandler& handler, std::size_t threads);

  // The current record is bad for a reason of the tool's own (a missing or
  // mistyped field). Returns false if the tool must stop (strict mode).
  bool reject(std::string_view reason);

  // Work of the tool's own to do each time just before the reader waits for
  // input (write out a held batch, commit, serve delivery reports). After it,
  // output is flushed (unless flush_output is false: a reader thread that does
  // not own standard output) and the metrics file updated.
  void on_idle(std::function<void()> work, bool flush_output = true) {
    idle_work_ = std::move(work);
    flush_on_idle_ = flush_output;
  }

  // Control lines (citypipe/core/control.h) never reach next(): they go to
  // handler, in input order. Without a handler they are copied to output as
  // they are, which is right for a tool that writes each record's output
  // before reading the next line. handler returns false to stop the input.
  void on_control(std::function<bool(std::string_view line)> handler) {
    control_ = std::move(handler);
  }
  std::uint64_t control_lines() const { return control_lines_; }

  // File and line of the current record.
  const Line& where() const { return line_; }
  // A missing input file (66) or a read error (74); ok otherwise.
  const Status& status() const { return open_status_.is_ok() ? reader_.status() : open_status_; }
  // The reader, for what it knows of the input (reading_stdin()); its lines
  // are read through next() or replay() only, so that each bad line meets the
  // bad-input policy once.
  LineReader& reader() { return reader_; }

 private:
  // A line the reader marked too_long, under the bad-input policy. False when
  // the tool must stop.
  bool reject_too_long(const Line& line);
  bool handle_control(std::string_view line);
  bool took(std::uint64_t records);
  void parse_batch(RecordBatch& batch, BatchHandler& handler, JsonParser& parser, std::size_t worker) const;
  bool take_batch(RecordBatch& batch, BatchHandler& handler);

  Tool& tool_;
  LineReader reader_;
  JsonParser parser_;
  Status open_status_;
  std::uint32_t since_metrics_ = 0;
  std::function<void()> idle_work_;
  bool flush_on_idle_ = true;
  std::function<bool(std::string_view)> control_;
  std::uint64_t control_lines_ = 0;
  Line line_;
  std::string error_;
};

}  // namespace citypipe
