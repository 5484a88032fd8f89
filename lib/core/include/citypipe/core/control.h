// Control lines: the checkpoint protocol of citypipe(7), section CHECKPOINTS.
// A control line is one JSON object on its own line whose first member is
// "_ctl"; it carries no record. Every tool passes control lines on, in order,
// after all output derived from the lines before it; a sink acknowledges them.
//
// The kinds, all written by kafka-cat-in -C --acks:
//   {"_ctl":"checkpoint","id":N,"parts":[{"topic":T,"partition":P,"next":O}...]}
//     O is the offset after the last record of P written before the line. A
//     stateful stage adds "restart" (the lowest offset its open state still
//     needs) and "state" (opaque text it wants back on assignment) to a part.
//     The sink writes the line to its --acks file once everything before it is
//     durable; kafka-cat-in then commits restart (else next) with state as the
//     commit metadata.
//   {"_ctl":"assign","topic":T,"partition":P,"offset":O,"state":S}
//     P is read from O on; S is the state committed with O ("" when none).
//   {"_ctl":"revoke","topic":T,"partition":P}
//     P is no longer read here: drop its state without emitting it.
//   {"_ctl":"drain"}
//     Every partition read here is at its end (-e): emit all open state.
#pragma once

#include <compare>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace citypipe {

// The bytes every control line begins with.
inline constexpr std::string_view control_prefix = "{\"_ctl\":";

// True when line is a control line (its first member is "_ctl").
inline bool is_control_line(std::string_view line) {
  return line.size() >= control_prefix.size() &&
         std::memcmp(line.data(), control_prefix.data(), control_prefix.size()) == 0;
}

enum class control_kind : std::uint8_t { checkpoint, assign, revoke, drain, other };

// The kind of a control line, from its first member alone (cheap).
control_kind control_kind_of(std::string_view line);

struct TopicPartition {
  std::string topic;
  std::int32_t partition = 0;
  auto operator<=>(const TopicPartition&) const = default;
};

struct CheckpointPart {
  TopicPartition tp;
  std::int64_t next = 0;
  std::optional<std::int64_t> restart;
  std::string state;
};

// One control line, parsed.
struct Control {
  control_kind kind = control_kind::other;
  std::uint64_t id = 0;               // checkpoint
  std::vector<CheckpointPart> parts;  // checkpoint
  TopicPartition tp;                  // assign, revoke
  std::int64_t offset = 0;            // assign
  std::string state;                  // assign
};

// Parses a control line; nullopt with error set when it is malformed.
std::optional<Control> parse_control(std::string_view line, std::string& error);

// The control line's text, without a newline.
std::string format_control(const Control& c);

// Where a record came from: the "_kafka" member kafka-cat-in --meta adds.
struct KafkaPosition {
  std::string_view topic;  // as written (JSON string contents, escapes kept)
  std::int32_t partition = 0;
  std::int64_t offset = 0;
};

// Reads topic, partition and offset from the text of a "_kafka" object;
// nullopt when any is missing or mistyped.
std::optional<KafkaPosition> kafka_position(std::string_view object_text);

}  // namespace citypipe
