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

TEST_CASE("OrderedPool::help runs a waiting job on the caller's thread, in order all the same", "[ordered_pool]") {
  const auto caller = std::this_thread::get_id();
  std::atomic<int> by_caller{0};
  OrderedPool<Job> pool(1, 8, [&](Job& j, std::size_t worker) {
    if (std::this_thread::get_id() == caller) {
      REQUIRE(worker == 1);
      ++by_caller;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));  // a slow worker leaves jobs waiting
    }
    j.output = j.input * 3;
  });
  std::vector<int> seen;
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 8; ++i) {
      pool.next_free().input = round * 8 + i;
      pool.submit();
    }
    for (;;) {
      Job* j = pool.oldest(false);
      if (j == nullptr && pool.help(1)) continue;
      if (j == nullptr) j = pool.oldest(true);
      if (j == nullptr) break;
      seen.push_back(j->output);
      pool.release();
    }
  }
  REQUIRE(seen.size() == 40);
  for (int i = 0; i < 40; ++i) REQUIRE(seen[static_cast<std::size_t>(i)] == i * 3);
  CHECK(by_caller > 0);
}
