// The consumer's side of the checkpoint protocol (citypipe(7), CHECKPOINTS),
// without librdkafka: which partitions are held and under which assignment,
// how far each was written, the checkpoints sent and not yet acknowledged,
// and which offsets an acknowledgement lets the consumer commit.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "citypipe/core/control.h"

namespace citypipe {

class CheckpointLedger {
 public:
  // The partition is held from now on, reading from offset (nullopt: from
  // where the group's reset policy says). A new assignment of a partition
  // held before counts as another: acknowledgements of earlier checkpoints no
  // longer commit it.
  void assigned(const TopicPartition& tp, std::optional<std::int64_t> offset);
  void revoked(const TopicPartition& tp);
  bool holds(const TopicPartition& tp) const { return held_.count(tp) != 0; }
  std::size_t held() const { return held_.size(); }

  // A record of tp at offset went to the output.
  void written(const TopicPartition& tp, std::int64_t offset);

  // True when a record or an assignment came since the last checkpoint.
  bool changed() const { return changed_; }

  // The next checkpoint: every held partition whose position is known, with
  // the offset after its last record written. Remembered until acknowledged.
  Control checkpoint();

  struct Commit {
    TopicPartition tp;
    std::int64_t offset = 0;
    std::string metadata;
  };
  // An acknowledgement: the commits it allows (restart, else next, with the
  // state as metadata) for the partitions still held under the assignment
  // the checkpoint saw. It and every earlier checkpoint are then forgotten.
  // Empty for an id that is not outstanding (a repeat, or another worker's).
  std::vector<Commit> acknowledged(const Control& ack);

  // Checkpoints sent and not yet acknowledged.
  std::size_t outstanding() const { return sent_.size(); }
  // The id of the last checkpoint made, 0 before the first.
  std::uint64_t last_id() const { return next_id_ - 1; }

 private:
  struct Held {
    std::uint64_t epoch = 0;
    std::optional<std::int64_t> next;  // offset after the last written record
  };
  std::map<TopicPartition, Held> held_;
  std::map<std::uint64_t, std::map<TopicPartition, std::uint64_t>> sent_;  // id -> epochs
  std::uint64_t next_id_ = 1;
  std::uint64_t epochs_ = 0;
  bool changed_ = false;
};

}  // namespace citypipe
