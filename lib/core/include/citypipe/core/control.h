// Control lines: the checkpoint protocol of citypipe(7), "CHECKPOINTS".
// A control line is one JSON object on its own line whose first member is
// "_ctl"; it carries no record. Every tool passes control lines on, in order,
// after all output derived from the lines before it; a sink acknowledges them.
#pragma once

#include <cstring>
#include <string_view>

namespace citypipe {

// The bytes every control line begins with.
inline constexpr std::string_view control_prefix = "{\"_ctl\":";

// True when line is a control line (its first member is "_ctl").
inline bool is_control_line(std::string_view line) {
  return line.size() >= control_prefix.size() &&
         std::memcmp(line.data(), control_prefix.data(), control_prefix.size()) == 0;
}

}  // namespace citypipe
