#pragma once
// Pieces shared by the SQLite and PostgreSQL drivers. Not for domain code: include db.h.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/db.h"

namespace portcullis::store::internal {

// Rewrites PostgreSQL placeholders `$N` to SQLite's `?N`, leaving string literals, quoted
// identifiers and comments untouched.
std::string RewritePlaceholders(std::string_view sql);

struct Migration {
  int version;            // from the file name: 0001_initial.sql -> 1
  std::string_view name;  // "0001_initial"
  std::string_view sql;
};
// Generated at build time from src/store/migrations/<dialect>/*.sql, ordered by version.
std::span<const Migration> EmbeddedMigrations(Dialect d);

// An error for OpenDatabase: the one-line cause is both the public description and the detail.
Error OpenError(std::string message);

// Thread-safe list of change subscribers.
class Subscribers {
 public:
  void Add(Database::Subscriber fn);
  void Deliver(std::string_view kind, std::string_view id) const;
  bool empty() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<const Database::Subscriber>> fns_;
};

// Splits a notification payload "kind:id" at the first ':'.
std::pair<std::string_view, std::string_view> SplitPayload(std::string_view payload);
Status ValidateNotify(std::string_view kind, std::string_view id);

// A bounded pool of connections of type C. Acquire hands out an idle connection that passes
// `healthy`, or opens a new one while fewer than `max` exist, or waits up to `timeout` for one
// to come back. A Lease returns its connection on destruction unless Discard()ed.
template <typename C>
class Pool {
 public:
  using Factory = std::function<Result<std::unique_ptr<C>>()>;
  using Check = std::function<bool(C&)>;

  Pool(int max, std::chrono::milliseconds timeout, Factory factory, Check healthy)
      : max_(max), timeout_(timeout), factory_(std::move(factory)), healthy_(std::move(healthy)) {}

  class Lease {
   public:
    Lease(Pool* pool, std::unique_ptr<C> conn) : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&& o) noexcept : pool_(o.pool_), conn_(std::move(o.conn_)) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (conn_) pool_->Release(std::move(conn_));
    }
    C& operator*() const { return *conn_; }
    C* operator->() const { return conn_.get(); }
    // The connection is broken: close it instead of returning it.
    void Discard() {
      if (conn_) {
        conn_.reset();
        pool_->Forget();
      }
    }

   private:
    Pool* pool_;
    std::unique_ptr<C> conn_;
  };

  // Seeds the pool with an already opened connection (the one OpenDatabase made).
  void Add(std::unique_ptr<C> conn) {
    std::lock_guard lock(mu_);
    ++total_;
    idle_.push_back(std::move(conn));
  }

  Result<Lease> Acquire() {
    std::unique_lock lock(mu_);
    const auto deadline = std::chrono::steady_clock::now() + timeout_;
    for (;;) {
      while (!idle_.empty()) {
        std::unique_ptr<C> conn = std::move(idle_.back());
        idle_.pop_back();
        if (healthy_(*conn)) return Lease(this, std::move(conn));
        --total_;  // broken while idle: close it (outside the lock) and look again
        lock.unlock();
        conn.reset();
        lock.lock();
      }
      if (total_ < max_) {
        ++total_;
        lock.unlock();
        auto conn = factory_();
        if (!conn) {
          Forget();
          return Fail(std::move(conn.error()));
        }
        return Lease(this, std::move(*conn));
      }
      if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
          total_ >= max_) {
        return Fail(Error::Unavailable("timed out after " + std::to_string(timeout_.count()) +
                                       " ms waiting for a database connection (pool of " +
                                       std::to_string(max_) + " in use)"));
      }
    }
  }

 private:
  void Release(std::unique_ptr<C> conn) {
    {
      std::lock_guard lock(mu_);
      idle_.push_back(std::move(conn));
    }
    cv_.notify_one();
  }
  void Forget() {
    {
      std::lock_guard lock(mu_);
      --total_;
    }
    cv_.notify_one();
  }

  const int max_;
  const std::chrono::milliseconds timeout_;
  Factory factory_;
  Check healthy_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<C>> idle_;
  int total_ = 0;
};

Result<std::unique_ptr<Database>> OpenSqlite(std::string_view path, const Options& options);
Result<std::unique_ptr<Database>> OpenPostgres(std::string_view url, const Options& options);

}  // namespace portcullis::store::internal
