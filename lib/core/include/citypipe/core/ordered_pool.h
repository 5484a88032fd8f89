// Worker threads that process jobs in parallel and hand them back in the order
// they were submitted: parallel parsing of a replay without reordering it.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "citypipe/core/signals.h"

namespace citypipe {

template <class Job>
class OrderedPool {
 public:
  // work(job, worker) runs on one of `threads` threads (worker is its index,
  // for per-thread state). At most `depth` jobs are in flight.
  OrderedPool(std::size_t threads, std::size_t depth, std::function<void(Job&, std::size_t)> work)
      : work_(std::move(work)), jobs_(depth), state_(depth, state::free) {
    for (std::size_t i = 0; i < threads; ++i)
      threads_.push_back(start_thread_without_signals([this, i] { run(i); }));
  }
  ~OrderedPool() {
    {
      std::lock_guard lock(mutex_);
      closing_ = true;
    }
    todo_cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  OrderedPool(const OrderedPool&) = delete;
  OrderedPool& operator=(const OrderedPool&) = delete;

  // The job to fill next; only when !full(). Fill it, then submit().
  Job& next_free() { return jobs_[tail_]; }
  bool full() const { return in_flight_ == jobs_.size(); }
  bool empty() const { return in_flight_ == 0; }
  void submit() {
    {
      std::lock_guard lock(mutex_);
      state_[tail_] = state::todo;
    }
    tail_ = (tail_ + 1) % jobs_.size();
    ++in_flight_;
    todo_cv_.notify_one();
  }

  // Runs the oldest job no worker has taken yet on the calling thread, as
  // worker `worker` (an index of the caller's own), instead of waiting idle;
  // false when there is none.
  bool help(std::size_t worker) {
    std::unique_lock lock(mutex_);
    const std::size_t i = pick();
    if (i == jobs_.size()) return false;
    process(lock, i, worker);
    return true;
  }

  // The oldest job in flight once it is processed (waiting for it if wait),
  // or nullptr. Hand it back with release() before asking for the next.
  Job* oldest(bool wait) {
    if (in_flight_ == 0) return nullptr;
    std::unique_lock lock(mutex_);
    if (wait) done_cv_.wait(lock, [this] { return state_[head_] == state::done; });
    return state_[head_] == state::done ? &jobs_[head_] : nullptr;
  }
  void release() {
    {
      std::lock_guard lock(mutex_);
      state_[head_] = state::free;
      head_ = (head_ + 1) % jobs_.size();
    }
    --in_flight_;
  }

 private:
  enum class state { free, todo, busy, done };

  void run(std::size_t worker) {
    std::unique_lock lock(mutex_);
    for (;;) {
      todo_cv_.wait(lock, [this] { return closing_ || pick() < jobs_.size(); });
      const std::size_t i = pick();
      if (i == jobs_.size()) return;  // closing, nothing left
      process(lock, i, worker);
    }
  }

  // Runs job i (picked under lock) with the lock released, then marks it done.
  void process(std::unique_lock<std::mutex>& lock, std::size_t i, std::size_t worker) {
    state_[i] = state::busy;
    lock.unlock();
    work_(jobs_[i], worker);
    lock.lock();
    state_[i] = state::done;
    done_cv_.notify_one();
  }
  // The oldest job waiting for a worker, or jobs_.size(). Called locked.
  std::size_t pick() const {
    for (std::size_t k = 0, i = head_; k < jobs_.size(); ++k, i = (i + 1) % jobs_.size())
      if (state_[i] == state::todo) return i;
    return jobs_.size();
  }

  std::function<void(Job&, std::size_t)> work_;
  std::vector<Job> jobs_;
  std::vector<state> state_;
  std::size_t head_ = 0;                   // changed under mutex_
  std::size_t tail_ = 0, in_flight_ = 0;  // the owner's thread only
  std::mutex mutex_;
  std::condition_variable todo_cv_, done_cv_;
  bool closing_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace citypipe
