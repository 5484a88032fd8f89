#include "replay.h"

#include "citypipe/core/json_record.h"
#include "citypipe/core/signals.h"
#include "pacer.h"

namespace citypipe {

namespace {

std::size_t skip_space(std::string_view s, std::size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  return i;
}

// Past the string that opens at s[i] ('"').
std::size_t skip_string(std::string_view s, std::size_t i) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\') ++i;
    else if (s[i] == '"') return i + 1;
  }
  return s.size();
}

// Past the value that starts at s[i].
std::size_t skip_value(std::string_view s, std::size_t i) {
  if (i < s.size() && s[i] == '"') return skip_string(s, i);
  int depth = 0;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '"') {
      i = skip_string(s, i) - 1;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (depth == 0) return i;
      if (--depth == 0) return i + 1;
    } else if (depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n')) {
      return i;
    }
  }
  return i;
}

}  // namespace

std::optional<std::pair<std::size_t, std::size_t>> top_level_value_span(std::string_view s, std::string_view key) {
  std::size_t i = skip_space(s, 0);
  if (i >= s.size() || s[i] != '{') return std::nullopt;
  i = skip_space(s, i + 1);
  while (i < s.size() && s[i] == '"') {
    const std::size_t key_end = skip_string(s, i);
    const std::string_view k = s.substr(i + 1, key_end - i - 2);
    i = skip_space(s, key_end);
    if (i >= s.size() || s[i] != ':') return std::nullopt;
    i = skip_space(s, i + 1);
    const std::size_t value_end = skip_value(s, i);
    if (k == key) return std::make_pair(i, value_end);
    i = skip_space(s, value_end);
    if (i >= s.size() || s[i] != ',') return std::nullopt;
    i = skip_space(s, i + 1);
  }
  return std::nullopt;
}

Status replay(Tool& tool, const ReplayOptions& o) {
  Output& out = tool.out();
  Stats& stats = tool.stats();
  Pacer pacer(out, o.fast ? 1 : o.speed);
  const FieldName time_field(o.time_field);
  const std::string time_reason = "missing or invalid time field '" + o.time_field + "'";
  JsonRecord rec;
  std::size_t hint = 0;
  bool started = false;
  time_ms shift = 0;       // added to every time: the pass's offset, and the retime shift
  time_ms retime_by = 0;   // the retime shift alone
  std::uint64_t written = 0;
  for (std::uint64_t pass = 0;; ++pass) {
    RecordInput in(tool);
    time_ms first = 0, newest = 0;
    std::uint64_t records = 0;
    while (written < o.limit && in.next(rec)) {
      const auto t = rec.time(time_field, hint);
      if (!t) {
        if (!in.reject(time_reason)) break;
        continue;
      }
      if (records++ == 0) {
        first = newest = *t;
        if (!started) {  // the replay's one origin: every due time is counted from here
          started = true;
          if (o.retime) retime_by = o.start.value_or(wall_clock_ms()) - first;
          shift = retime_by;
          pacer.start(first + shift);
        }
      }
      newest = std::max(newest, *t);
      if (!o.fast && !pacer.wait(newest + shift)) break;
      std::string& buf = out.buffer();
      const std::string_view raw = in.where().text;
      if (o.retime) {
        const auto span = top_level_value_span(raw, o.time_field);
        if (!span) {  // a key written with escapes: parsed, but not found as written
          if (!in.reject("cannot find time field '" + o.time_field + "' to retime")) break;
          continue;
        }
        buf.append(raw.data(), span->first);
        buf += '"';
        append_rfc3339(buf, *t + shift);
        buf += '"';
        buf.append(raw.data() + span->second, raw.size() - span->second);
      } else {
        buf.append(raw.data(), raw.size());
      }
      // The reader drops a CR before LF; it is still in its buffer (capacity > size).
      if (in.where().capacity > raw.size() && raw.data()[raw.size()] == '\r') buf += '\r';
      buf += '\n';
      out.commit();
      ++written;
      stats.out = written;
      if (!o.fast && written % 4096 == 0) pacer.report(stats);  // for --metrics-file
    }
    if (!in.status().is_ok()) return in.status();
    if (!o.loop || written >= o.limit || records == 0 || stop_requested() || !out.ok() ||
        tool.bad_input().stopped() || pacer.reader_gone()) {
      break;
    }
    // The next pass goes on where this one ended, one average spacing later.
    const time_ms span = newest - first;
    const time_ms spacing = records > 1 ? (span + static_cast<time_ms>(records - 1) / 2) / static_cast<time_ms>(records - 1) : 1000;
    shift += span + std::max<time_ms>(spacing, 1);
    pacer.report(stats);
  }
  if (!o.fast) pacer.report(stats);
  return Status::ok();
}

}  // namespace citypipe
