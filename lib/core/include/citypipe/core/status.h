// Exit codes shared by every citypipe tool, and Status, the error value that
// library functions return instead of throwing. A Status carries a category
// of error, not an exit code: only the edge (Tool::finish, exit_code_of)
// turns it into one.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

namespace citypipe {

// The one set of exit codes (sysexits.h values), documented in citypipe(7).
enum exit_code : int {
  exit_ok = 0,
  exit_usage = 64,        // bad command line
  exit_data = 65,         // bad data: a bad line under --strict, every input line rejected, a corrupt model, nothing to score or train on
  exit_no_input = 66,     // an input file is missing or unreadable
  exit_unavailable = 69,  // Kafka or PostgreSQL unavailable past the retry budget
  exit_io = 74,           // read or write error
  exit_interrupted = 130  // SIGINT or SIGTERM, after a clean flush
};

// What went wrong, as a library sees it.
enum class errc : std::uint8_t {
  ok,
  invalid_argument,  // the caller's request cannot be met as given (exit 64)
  corrupt,           // the data is malformed or unusable (65)
  not_found,         // a file or object that must exist does not (66)
  unavailable,       // a service cannot be reached (69)
  io,                // reading or writing failed (74)
  interrupted,       // a signal asked to stop (130)
};

// The exit status for a category: the one mapping, used at the edge.
int exit_code_for(errc e);

// Either success or an error category with a human-readable message.
class Status {
 public:
  Status() = default;
  static Status ok() { return Status(); }
  static Status error(errc kind, std::string message) { return Status(kind, std::move(message)); }
  // Transitional, for callers not yet converted: an exit code taken as its category.
  static Status error(int exit_code, std::string message);

  bool is_ok() const { return kind_ == errc::ok; }
  errc kind() const { return kind_; }
  // The exit status this error ends a tool with (exit_code_for(kind())).
  int code() const { return exit_code_for(kind_); }
  const std::string& message() const { return message_; }

  // The same error with "prefix: " before its message.
  Status with_prefix(const std::string& prefix) const {
    return is_ok() ? *this : Status(kind_, prefix + ": " + message_);
  }

 private:
  Status(errc kind, std::string message) : kind_(kind), message_(std::move(message)) {}
  errc kind_ = errc::ok;
  std::string message_;
};

}  // namespace citypipe
