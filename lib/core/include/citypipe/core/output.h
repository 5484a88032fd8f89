// Buffered NDJSON output: full buffering into pipes and files, line buffering
// on a terminal or on request. A closed pipe ends the tool quietly (status 0);
// other write errors are kept for the exit status (74).
#pragma once

#include <string>

#include "citypipe/core/status.h"

namespace citypipe {

class Output {
 public:
  // line_buffered is forced on when fd is a terminal.
  Output(int fd, bool line_buffered);
  ~Output();
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  // Append whole lines here, then call commit().
  std::string& buffer() { return buf_; }
  // Writes out when line-buffered or when the buffer is large.
  void commit() {
    if (line_buffered_ || buf_.size() >= flush_threshold) flush();
  }
  void flush();

  // False once the reader went away (EPIPE) or a write failed.
  bool ok() const { return !broken_pipe_ && error_.is_ok(); }
  bool broken_pipe() const { return broken_pipe_; }
  const Status& error() const { return error_; }
  bool line_buffered() const { return line_buffered_; }

  static constexpr std::size_t flush_threshold = 64 * 1024;

 private:
  int fd_;
  bool line_buffered_;
  bool broken_pipe_ = false;
  Status error_;
  std::string buf_;
};

}  // namespace citypipe
