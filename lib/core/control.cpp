#include "citypipe/core/control.h"

#include <charconv>

#include <simdjson.h>

#include "citypipe/core/json_write.h"

namespace citypipe {

namespace {

constexpr std::string_view kind_names[] = {"checkpoint", "assign", "revoke", "drain"};

control_kind kind_from(std::string_view name) {
  for (std::size_t i = 0; i < std::size(kind_names); ++i)
    if (name == kind_names[i]) return static_cast<control_kind>(i);
  return control_kind::other;
}

void append_tp(ObjectWriter& w, const TopicPartition& tp) {
  w.key("topic").string(tp.topic);
  w.key("partition").integer(tp.partition);
}

bool read_tp(simdjson::dom::object o, TopicPartition& tp) {
  std::string_view topic;
  std::int64_t partition = 0;
  if (o["topic"].get(topic) || o["partition"].get(partition)) return false;
  if (partition < 0 || partition > INT32_MAX) return false;
  tp.topic = std::string(topic);
  tp.partition = static_cast<std::int32_t>(partition);
  return true;
}

// The integer after "name": in a flat object written by kafka-cat-in.
std::optional<std::int64_t> integer_member(std::string_view text, std::string_view quoted_name) {
  const std::size_t at = text.find(quoted_name);
  if (at == std::string_view::npos) return std::nullopt;
  const char* p = text.data() + at + quoted_name.size();
  const char* end = text.data() + text.size();
  while (p < end && (*p == ' ' || *p == ':')) ++p;
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(p, end, v);
  if (ec != std::errc() || ptr == p) return std::nullopt;
  return v;
}

}  // namespace

control_kind control_kind_of(std::string_view line) {
  if (!is_control_line(line)) return control_kind::other;
  line.remove_prefix(control_prefix.size());
  if (line.empty() || line.front() != '"') return control_kind::other;
  const std::size_t close = line.find('"', 1);
  if (close == std::string_view::npos) return control_kind::other;
  return kind_from(line.substr(1, close - 1));
}

std::optional<Control> parse_control(std::string_view line, std::string& error) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto err = parser.parse(line.data(), line.size()).get(doc)) {
    error = std::string("control line: ") + simdjson::error_message(err);
    return std::nullopt;
  }
  simdjson::dom::object o;
  std::string_view kind;
  if (doc.get(o) || o["_ctl"].get(kind)) {
    error = "control line: no \"_ctl\" kind";
    return std::nullopt;
  }
  Control c;
  c.kind = kind_from(kind);
  auto bad = [&](std::string_view what) {
    error = "control line '" + std::string(kind) + "': " + std::string(what);
    return std::nullopt;
  };
  switch (c.kind) {
    case control_kind::checkpoint: {
      simdjson::dom::array parts;
      if (o["id"].get(c.id) || o["parts"].get(parts)) return bad("needs id and parts");
      for (simdjson::dom::element e : parts) {
        simdjson::dom::object po;
        CheckpointPart part;
        if (e.get(po) || !read_tp(po, part.tp) || po["next"].get(part.next)) return bad("a part needs topic, partition and next");
        std::int64_t restart = 0;
        if (!po["restart"].get(restart)) part.restart = restart;
        std::string_view state;
        if (!po["state"].get(state)) part.state = std::string(state);
        c.parts.push_back(std::move(part));
      }
      break;
    }
    case control_kind::assign: {
      if (!read_tp(o, c.tp) || o["offset"].get(c.offset)) return bad("needs topic, partition and offset");
      std::string_view state;
      if (!o["state"].get(state)) c.state = std::string(state);
      break;
    }
    case control_kind::revoke:
      if (!read_tp(o, c.tp)) return bad("needs topic and partition");
      break;
    case control_kind::drain:
    case control_kind::other: break;
  }
  return c;
}

std::string format_control(const Control& c) {
  std::string out;
  ObjectWriter w(out);
  w.key("_ctl").string(c.kind == control_kind::other ? "other" : kind_names[static_cast<int>(c.kind)]);
  switch (c.kind) {
    case control_kind::checkpoint: {
      w.key("id").integer(static_cast<std::int64_t>(c.id));
      w.key("parts").raw("[");
      for (std::size_t i = 0; i < c.parts.size(); ++i) {
        const CheckpointPart& p = c.parts[i];
        if (i > 0) out += ',';
        ObjectWriter pw(out);
        append_tp(pw, p.tp);
        pw.key("next").integer(p.next);
        if (p.restart) pw.key("restart").integer(*p.restart);
        if (!p.state.empty()) pw.key("state").string(p.state);
        out += '}';
      }
      out += ']';
      break;
    }
    case control_kind::assign:
      append_tp(w, c.tp);
      w.key("offset").integer(c.offset);
      w.key("state").string(c.state);
      break;
    case control_kind::revoke: append_tp(w, c.tp); break;
    case control_kind::drain:
    case control_kind::other: break;
  }
  w.finish();
  out.pop_back();  // finish() ends the line; a control line is returned without
  return out;
}

std::optional<KafkaPosition> kafka_position(std::string_view text) {
  KafkaPosition pos;
  const std::size_t t = text.find("\"topic\"");
  if (t == std::string_view::npos) return std::nullopt;
  std::size_t open = text.find('"', t + 7);
  if (open == std::string_view::npos) return std::nullopt;
  std::size_t close = open + 1;
  while (close < text.size() && text[close] != '"') close += text[close] == '\\' ? 2 : 1;
  if (close >= text.size()) return std::nullopt;
  pos.topic = text.substr(open + 1, close - open - 1);
  const auto partition = integer_member(text, "\"partition\"");
  const auto offset = integer_member(text, "\"offset\"");
  if (!partition || !offset || *partition < 0 || *partition > INT32_MAX) return std::nullopt;
  pos.partition = static_cast<std::int32_t>(*partition);
  pos.offset = *offset;
  return pos;
}

}  // namespace citypipe
