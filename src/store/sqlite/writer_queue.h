#pragma once
// One thread that owns a resource (the SQLite writer connection) and runs the jobs given to it
// one at a time, in the order they were given (FIFO). A caller of Run() waits on its own
// condition variable and is woken once, when its job is done; the writer thread goes from one
// job to the next without waiting for anybody to be scheduled, so the resource is never idle
// while work is queued (a lock handed from thread to thread would sit idle during each wake-up).
//
// The SQLite driver (sqlite_db.cc) sends every write of a process through one WriterQueue, so
// no writer of the process ever waits in SQLite's busy handler, which sleeps between retries.
//
// Thread-safe. A job runs on the writer thread: it must not wait for another job of the same
// queue (Run from inside a job fails at once instead of waiting for itself).

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>

#include "common/error.h"

namespace portcullis::store::internal {

template <typename R>
class WriterQueue {
 public:
  using Clock = std::chrono::steady_clock;

  // `timeout`: how long a job may wait for its turn before Run gives up on it.
  WriterQueue(std::unique_ptr<R> resource, std::chrono::milliseconds timeout)
      : resource_(std::move(resource)), timeout_(timeout), thread_([this] { Loop(); }) {
    thread_id_ = thread_.get_id();
  }
  // Waits for the job that runs now; no caller may be waiting by then.
  ~WriterQueue() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    writer_cv_.notify_one();
    thread_.join();
  }
  WriterQueue(const WriterQueue&) = delete;
  WriterQueue& operator=(const WriterQueue&) = delete;

  // Runs `job(resource)` on the writer thread after every job given before it and returns its
  // Status; an exception it throws is rethrown here. Gives up with Unavailable when the job has
  // not started within the timeout (it is then never run); a started job is waited for to its
  // end. `job` may refer to the caller's frame: it is done, or dropped, when Run returns.
  template <typename F>
  Status Run(F&& job) {
    if (std::this_thread::get_id() == thread_id_) {
      return Fail(Error::Unavailable(
          "waiting for a database connection: the SQLite writer is running the caller's own "
          "transaction"));
    }
    using Fn = std::remove_reference_t<F>;
    Job j;
    j.ctx = const_cast<void*>(static_cast<const void*>(std::addressof(job)));
    j.call = [](void* ctx, R& r) -> Status { return (*static_cast<Fn*>(ctx))(r); };
    std::unique_lock lock(mu_);
    queue_.push_back(&j);
    if (writer_waiting_) writer_cv_.notify_one();
    const auto deadline = Clock::now() + timeout_;
    while (j.state != State::kDone) {
      if (j.state == State::kRunning) {
        j.cv.wait(lock);
      } else if (j.cv.wait_until(lock, deadline) == std::cv_status::timeout &&
                 j.state == State::kQueued) {
        std::erase(queue_, &j);
        return Fail(Error::Unavailable("timed out after " + std::to_string(timeout_.count()) +
                                       " ms waiting for a database connection (the SQLite "
                                       "writer is in use)"));
      }
    }
    lock.unlock();
    if (j.error) std::rethrow_exception(j.error);
    return std::move(j.result);
  }

  // Jobs waiting for their turn now (for tests and metrics).
  size_t waiting() const {
    std::lock_guard lock(mu_);
    return queue_.size();
  }

 private:
  enum class State { kQueued, kRunning, kDone };
  struct Job {
    void* ctx = nullptr;
    Status (*call)(void*, R&) = nullptr;
    State state = State::kQueued;
    Status result;
    std::exception_ptr error;
    std::condition_variable cv;
  };

  void Loop() {
    std::unique_lock lock(mu_);
    for (;;) {
      writer_waiting_ = true;
      writer_cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      writer_waiting_ = false;
      if (queue_.empty()) return;  // stopping, and nobody waits
      Job* j = queue_.front();
      queue_.pop_front();
      j->state = State::kRunning;
      lock.unlock();
      Status result;
      std::exception_ptr error;
      try {
        result = j->call(j->ctx, *resource_);
      } catch (...) {
        error = std::current_exception();
      }
      lock.lock();
      j->result = std::move(result);
      j->error = std::move(error);
      j->state = State::kDone;
      // Under the lock: the job lives in the caller's frame until the caller has re-taken mu_.
      j->cv.notify_one();
    }
  }

  mutable std::mutex mu_;
  std::condition_variable writer_cv_;
  bool writer_waiting_ = false;
  bool stop_ = false;
  std::deque<Job*> queue_;  // each points into a waiting caller's frame
  std::unique_ptr<R> resource_;
  const std::chrono::milliseconds timeout_;
  std::thread thread_;  // last: starts once everything above exists
  std::thread::id thread_id_;
};

}  // namespace portcullis::store::internal
