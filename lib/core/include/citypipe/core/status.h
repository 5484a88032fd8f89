// Exit codes shared by every citypipe tool, and Status, the error value that
// library functions return instead of throwing.
#pragma once

#include <string>
#include <utility>

namespace citypipe {

// The one set of exit codes (sysexits.h values), documented in citypipe(7).
enum exit_code : int {
  exit_ok = 0,
  exit_usage = 64,        // bad command line
  exit_data = 65,         // bad input line under --strict
  exit_no_input = 66,     // an input file is missing or unreadable
  exit_unavailable = 69,  // Kafka or PostgreSQL unavailable past the retry budget
  exit_io = 74,           // read or write error
  exit_interrupted = 130  // SIGINT or SIGTERM, after a clean flush
};

// Either success or an exit code with a human-readable message.
class Status {
 public:
  Status() = default;
  static Status ok() { return Status(); }
  static Status error(int code, std::string message) { return Status(code, std::move(message)); }

  bool is_ok() const { return code_ == exit_ok; }
  int code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  Status(int code, std::string message) : code_(code), message_(std::move(message)) {}
  int code_ = exit_ok;
  std::string message_;
};

}  // namespace citypipe
