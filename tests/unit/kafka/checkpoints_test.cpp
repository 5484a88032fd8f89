#include "citypipe/kafka/checkpoints.h"

#include <catch2/catch.hpp>

using namespace citypipe;

namespace {
const TopicPartition p0{"city", 0}, p1{"city", 1};

Control ack_of(Control c, std::int64_t restart, std::string state) {
  for (auto& part : c.parts) {
    part.restart = restart;
    part.state = state;
  }
  return c;
}
}  // namespace

TEST_CASE("an acknowledged checkpoint commits restart with its state", "[kafka][checkpoint]") {
  CheckpointLedger l;
  l.assigned(p0, 100);
  l.assigned(p1, std::nullopt);
  CHECK(l.changed());
  Control c = l.checkpoint();
  REQUIRE(c.parts.size() == 1);  // p1's position is not known yet
  CHECK(c.parts[0].next == 100);
  CHECK(!l.changed());
  l.written(p0, 150);
  l.written(p1, 7);
  Control c2 = l.checkpoint();
  REQUIRE(c2.parts.size() == 2);
  CHECK(c2.parts[0].next == 151);
  CHECK(l.outstanding() == 2);
  auto commits = l.acknowledged(ack_of(c2, 120, "w=1;n=151"));
  REQUIRE(commits.size() == 2);
  CHECK(commits[0].offset == 120);
  CHECK(commits[0].metadata == "w=1;n=151");
  CHECK(l.outstanding() == 0);  // the earlier one is forgotten too
  CHECK(l.acknowledged(c).empty());  // a repeat commits nothing
}

TEST_CASE("a checkpoint from before a revocation commits nothing for that partition", "[kafka][checkpoint]") {
  CheckpointLedger l;
  l.assigned(p0, 0);
  l.assigned(p1, 0);
  l.written(p0, 10);
  l.written(p1, 20);
  Control c = l.checkpoint();
  l.revoked(p1);
  l.assigned(p1, 5);  // back again, under a new assignment
  auto commits = l.acknowledged(c);
  REQUIRE(commits.size() == 1);
  CHECK(commits[0].tp == p0);
  CHECK(commits[0].offset == 11);  // no restart given: next
}
