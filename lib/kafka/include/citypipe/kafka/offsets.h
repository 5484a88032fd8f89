// Pure Kafka helpers for kafka-cat-in, with no librdkafka in sight: which
// offsets may be committed (only those of records already flushed to the
// reader), the -o start position, the -F properties file format.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "citypipe/core/status.h"

namespace citypipe {

// Tracks, per partition, the last record written into the output buffer and
// the last one known flushed. Only flushed records may have their offset
// stored for commit: at least once, never "at most once".
class OffsetTracker {
 public:
  // A record of partition at offset went into the output buffer.
  void written(std::int32_t partition, std::int64_t offset);

  // Everything written so far has reached the output. Returns the partitions
  // whose committable position moved, each with the next offset to read
  // (last flushed offset + 1), the value Kafka expects as committed offset.
  std::vector<std::pair<std::int32_t, std::int64_t>> flushed();

  // The partition was revoked: forget it, written or not.
  void forget(std::int32_t partition);
  void clear() { pending_.clear(); }

  bool has_pending() const { return !pending_.empty(); }

 private:
  std::map<std::int32_t, std::int64_t> pending_;  // partition -> last written offset
};

// Where -o says to start reading.
struct StartOffset {
  enum class kind : std::uint8_t { beginning, end, stored, absolute, relative_end };
  kind where = kind::beginning;
  std::int64_t value = 0;  // absolute offset, or how many before the end
};

// Parses "beginning", "end", "stored", "N" (absolute) or "-N" (N before end).
std::optional<StartOffset> parse_start_offset(std::string_view text);

// Parses a librdkafka properties file (as kcat -F): "name=value" lines,
// blank lines and lines starting with # ignored, spaces around name trimmed.
// A line without "=" is an error naming its line number (errc::invalid_argument).
Status parse_properties(std::string_view text,
                        std::vector<std::pair<std::string, std::string>>& out);

// Splits "name=value" as given to -X; nullopt when there is no "=" or no name.
std::optional<std::pair<std::string, std::string>> split_property(std::string_view text);

}  // namespace citypipe
