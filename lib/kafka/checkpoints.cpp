#include "citypipe/kafka/checkpoints.h"

namespace citypipe {

void CheckpointLedger::assigned(const TopicPartition& tp, std::optional<std::int64_t> offset) {
  held_[tp] = Held{++epochs_, offset};
  changed_ = true;
}

void CheckpointLedger::revoked(const TopicPartition& tp) { held_.erase(tp); }

void CheckpointLedger::written(const TopicPartition& tp, std::int64_t offset) {
  auto it = held_.find(tp);
  if (it == held_.end()) return;
  it->second.next = offset + 1;
  changed_ = true;
}

Control CheckpointLedger::checkpoint() {
  Control c;
  c.kind = control_kind::checkpoint;
  c.id = next_id_++;
  auto& epochs = sent_[c.id];
  for (const auto& [tp, h] : held_) {
    if (!h.next) continue;
    c.parts.push_back(CheckpointPart{tp, *h.next, std::nullopt, {}});
    epochs[tp] = h.epoch;
  }
  changed_ = false;
  return c;
}

std::vector<CheckpointLedger::Commit> CheckpointLedger::acknowledged(const Control& ack) {
  std::vector<Commit> commits;
  auto sent = sent_.find(ack.id);
  if (ack.kind != control_kind::checkpoint || sent == sent_.end()) return commits;
  for (const CheckpointPart& part : ack.parts) {
    auto epoch = sent->second.find(part.tp);
    auto held = held_.find(part.tp);
    if (epoch == sent->second.end() || held == held_.end() || held->second.epoch != epoch->second) continue;
    commits.push_back(Commit{part.tp, part.restart.value_or(part.next), part.state});
  }
  sent_.erase(sent_.begin(), std::next(sent));
  return commits;
}

}  // namespace citypipe
