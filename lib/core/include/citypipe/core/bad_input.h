// The one bad-input policy: a bad line is skipped with "TOOL: FILE:LINE: REASON"
// on stderr (the first few, then a count), optionally kept raw in a reject
// file; under strict mode the first bad line stops the tool with status 65.
#pragma once

#include <cstdint>
#include <cstdio>
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

  // Opens (truncates) the reject file. Fails with exit_io.
  Status open_reject_file(const std::string& path);

  // Records one bad line. Returns false when the tool must stop (strict mode).
  // complete=false: raw is only the head of the line; continue_raw() brings the rest.
  bool report(std::string_view file, std::uint64_t line, std::string_view reason,
              std::string_view raw, bool complete = true);
  // More bytes of the last reported line, for the reject file; last ends the line.
  void continue_raw(std::string_view bytes, bool last);

  std::uint64_t count() const { return count_; }
  bool stopped() const { return stopped_; }
  // Prints "TOOL: N bad lines in all" when more were hidden than shown.
  void print_summary() const;

 private:
  std::string tool_;
  bool strict_;
  std::size_t max_messages_;
  std::uint64_t count_ = 0;
  bool stopped_ = false;
  std::FILE* reject_ = nullptr;
};

}  // namespace citypipe
