#include "citypipe/kafka/offsets.h"

#include <charconv>

namespace citypipe {

void OffsetTracker::written(std::int32_t partition, std::int64_t offset) {
  auto [it, inserted] = pending_.try_emplace(partition, offset);
  // A rewind (seek) must not move the committed position backwards past
  // records already delivered; keep the latest position seen.
  if (!inserted) it->second = offset;
}

std::vector<std::pair<std::int32_t, std::int64_t>> OffsetTracker::flushed() {
  std::vector<std::pair<std::int32_t, std::int64_t>> out;
  out.reserve(pending_.size());
  for (const auto& [partition, offset] : pending_) out.emplace_back(partition, offset + 1);
  pending_.clear();
  return out;
}

void OffsetTracker::forget(std::int32_t partition) { pending_.erase(partition); }

namespace {
std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}
}  // namespace

std::optional<StartOffset> parse_start_offset(std::string_view text) {
  if (text == "beginning") return StartOffset{StartOffset::kind::beginning, 0};
  if (text == "end") return StartOffset{StartOffset::kind::end, 0};
  if (text == "stored") return StartOffset{StartOffset::kind::stored, 0};
  const bool negative = !text.empty() && text.front() == '-';
  if (negative) text.remove_prefix(1);
  std::int64_t v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || v < 0) return std::nullopt;
  if (negative) return StartOffset{StartOffset::kind::relative_end, v};
  return StartOffset{StartOffset::kind::absolute, v};
}

std::optional<std::pair<std::string, std::string>> split_property(std::string_view text) {
  const auto eq = text.find('=');
  if (eq == std::string_view::npos) return std::nullopt;
  const std::string_view name = trim(text.substr(0, eq));
  if (name.empty()) return std::nullopt;
  return std::pair<std::string, std::string>(name, trim(text.substr(eq + 1)));
}

Status parse_properties(std::string_view text,
                        std::vector<std::pair<std::string, std::string>>& out) {
  std::uint64_t line_no = 0;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    line = trim(line);
    if (line.empty() || line.front() == '#') continue;
    auto prop = split_property(line);
    if (!prop)
      return Status::error(errc::invalid_argument, "line " + std::to_string(line_no) + ": expected name=value");
    out.push_back(std::move(*prop));
  }
  return Status::ok();
}

}  // namespace citypipe
