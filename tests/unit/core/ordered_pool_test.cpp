#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "citypipe/core/ordered_pool.h"

using citypipe::OrderedPool;

namespace {
struct Job {
  int input = 0;
  int output = 0;
};
}  // namespace

TEST_CASE("OrderedPool hands jobs back in submission order", "[ordered_pool]") {
  // Early jobs take longest, so workers finish them last.
  OrderedPool<Job> pool(3, 4, [](Job& j, std::size_t) {
    std::this_thread::sleep_for(std::chrono::microseconds((50 - j.input % 50) * 20));
    j.output = j.input * 2;
  });
  std::vector<int> seen;
  auto take = [&](bool wait) {
    while (Job* j = pool.oldest(wait)) {
      seen.push_back(j->output);
      pool.release();
    }
  };
  for (int i = 0; i < 200; ++i) {
    if (pool.full()) {
      Job* j = pool.oldest(true);
      REQUIRE(j != nullptr);
      seen.push_back(j->output);
      pool.release();
    }
    pool.next_free().input = i;
    pool.submit();
    take(false);
  }
  take(true);
  REQUIRE(pool.empty());
  REQUIRE(seen.size() == 200);
  for (int i = 0; i < 200; ++i) REQUIRE(seen[static_cast<std::size_t>(i)] == i * 2);
}

TEST_CASE("OrderedPool finishes submitted jobs when destroyed", "[ordered_pool]") {
  std::atomic<int> done{0};
  {
    OrderedPool<Job> pool(2, 3, [&](Job&, std::size_t) { ++done; });
    for (int i = 0; i < 3; ++i) pool.submit();
    REQUIRE(pool.full());
  }
  REQUIRE(done == 3);
}
