// Counters every tool keeps, printed by --stats as one line on stderr:
//   TOOL: stats in=N out=N rejected=N seconds=S records_per_s=R [extra=V ...]
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace citypipe {

class Stats {
 public:
  Stats();
  std::uint64_t in = 0;
  std::uint64_t out = 0;
  std::uint64_t rejected = 0;

  // A tool-specific counter shown after the common ones (e.g. late=12).
  void set_extra(const std::string& name, std::uint64_t value);

  const std::vector<std::pair<std::string, std::uint64_t>>& extras() const { return extra_; }

  double seconds() const;
  // The line, without the "TOOL: " prefix or newline. records_per_s counts
  // records in, or records out for a tool with no input.
  std::string format() const;

 private:
  std::chrono::steady_clock::time_point start_;
  std::vector<std::pair<std::string, std::uint64_t>> extra_;
};

}  // namespace citypipe
