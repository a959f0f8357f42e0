#pragma once
// A mutex that is handed over in arrival order: Unlock() gives it straight to the longest
// waiting caller and wakes that caller alone, so nobody polls, sleeps or overtakes. The SQLite
// driver guards its one writer connection with it (sqlite_db.cc): every write waits its turn in
// this queue instead of in SQLite's busy handler, which sleeps between retries.
//
// Thread-safe. Not recursive: a thread that locks it twice waits for itself until its deadline.

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>

namespace portcullis::store::internal {

class FifoMutex {
 public:
  using Clock = std::chrono::steady_clock;

  // Waits until every earlier caller has had its turn, up to `deadline`. False: the deadline
  // passed first; the caller is not the owner and has left the queue.
  bool LockUntil(Clock::time_point deadline) {
    std::unique_lock lock(mu_);
    if (!held_ && queue_.empty()) {
      held_ = true;
      return true;
    }
    Waiter me;
    queue_.push_back(&me);
    while (!me.granted) {
      if (me.cv.wait_until(lock, deadline) == std::cv_status::timeout && !me.granted) {
        queue_.erase(std::find(queue_.begin(), queue_.end(), &me));
        return false;
      }
    }
    return true;
  }

  // Hands the mutex to the first waiter, or frees it. Only the owner may call it.
  void Unlock() {
    std::lock_guard lock(mu_);
    if (queue_.empty()) {
      held_ = false;
      return;
    }
    Waiter* next = queue_.front();
    queue_.pop_front();
    next->granted = true;
    // Under the lock: the waiter's frame (and its cv) lives until it has re-taken mu_.
    next->cv.notify_one();
  }

  // Callers waiting now (for tests and metrics).
  size_t waiting() const {
    std::lock_guard lock(mu_);
    return queue_.size();
  }

 private:
  struct Waiter {
    std::condition_variable cv;
    bool granted = false;
  };

  mutable std::mutex mu_;
  bool held_ = false;
  std::deque<Waiter*> queue_;  // each points into a waiting caller's frame
};

}  // namespace portcullis::store::internal
