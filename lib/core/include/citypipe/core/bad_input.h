// The one bad-input policy: a bad line is skipped with "TOOL: FILE:LINE: REASON"
// on stderr (the first few, then a count), optionally kept raw in a reject
// file; under strict mode the first bad line stops the tool with status 65.
// A reject file that cannot be written stops the tool (74): rejected lines
// are never lost silently. When every line was bad, diagnosis() says why.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <string_view>

#include "citypipe/core/status.h"

namespace citypipe {

class BadInput {
 public:
  BadInput(std::string tool, bool strict, std::size_t max_messages = 10);
  ~BadInput();
  BadInput(const BadInput&) = delete;
  BadInput& operator=(const BadInput&) = delete;

  // Opens (truncates) the reject file. Fails with errc::io.
  Status open_reject_file(const std::string& path);

  // Records one bad line. Returns false when the tool must stop (strict mode,
  // or the reject file could not be written).
  // complete=false: raw is only the head of the line; continue_raw() brings the rest.
  bool report(std::string_view file, std::uint64_t line, std::string_view reason,
              std::string_view raw, bool complete = true);
  // More bytes of the last reported line, for the reject file; last ends the line.
  void continue_raw(std::string_view bytes, bool last);

  std::uint64_t count() const { return count_; }
  // Strict mode stopped the tool (65); reject_status() tells a write error apart.
  bool stopped() const { return stopped_; }
  // errc::io once a write to the reject file failed.
  const Status& reject_status() const { return reject_status_; }
  // Prints "TOOL: N bad lines in all" when more were hidden than shown.
  void print_summary() const;

  // For when every input line was bad: the most common reason with its count
  // and, for binary or compressed data, what the file looks like; hint (the
  // tool's guess for that reason, may be empty) is appended.
  std::string diagnosis(std::string_view hint = {}) const;
  // The most common reason ("" when none).
  std::string most_common_reason() const;

 private:
  bool write_reject(std::string_view bytes, bool end_line);

  std::string tool_;
  bool strict_;
  std::size_t max_messages_;
  std::uint64_t count_ = 0;
  bool stopped_ = false;
  std::FILE* reject_ = nullptr;
  std::string reject_path_;
  Status reject_status_;
  std::map<std::string, std::uint64_t> reasons_;  // a bounded number of distinct ones
  std::string binary_file_;                      // a file whose bad lines look binary
  bool gzip_ = false;                            // ... and begin with gzip's magic bytes
};

}  // namespace citypipe
