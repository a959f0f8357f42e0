// The SQLite writer queue: WriterQueue runs the jobs given to it one at a time, in the order
// given, on its own thread, and the driver sends every write of a process through it, so no
// writer of this process ever meets SQLITE_BUSY (these tests run with a busy timeout of 0, where
// the busy handler would fail at once instead of sleeping). Writers of other processes still
// meet the busy timeout.

#include "store/sqlite/writer_queue.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <latch>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "store/db.h"

namespace portcullis::store {
namespace {

using namespace std::chrono_literals;
using Queue = internal::WriterQueue<std::vector<int>>;

// Waits (briefly polling: test code only) until `n` jobs wait in `q`.
void AwaitWaiting(const Queue& q, size_t n) {
  for (int i = 0; i < 5000 && q.waiting() != n; ++i) std::this_thread::sleep_for(1ms);
  ASSERT_EQ(q.waiting(), n);
}

// Occupies the writer thread until Release(), so that jobs queue up behind it.
class Blocker {
 public:
  explicit Blocker(Queue& q)
      : thread_([this, &q] {
          EXPECT_TRUE(q.Run([this](std::vector<int>& seen) -> Status {
            seen.push_back(0);
            started_.count_down();
            release_.wait();
            return {};
          }));
        }) {
    started_.wait();
  }
  void Release() {
    release_.count_down();
    thread_.join();
  }

 private:
  std::latch started_{1}, release_{1};
  std::thread thread_;
};

TEST(WriterQueue, RunsJobsOneAtATimeInTheOrderGiven) {
  auto seen = std::make_unique<std::vector<int>>();
  auto* log = seen.get();
  Queue q(std::move(seen), 10s);
  Blocker blocker(q);
  std::vector<std::thread> threads;
  std::atomic<int> running{0};
  std::atomic<bool> overlapped{false};
  constexpr int kJobs = 6;
  for (int i = 1; i <= kJobs; ++i) {
    threads.emplace_back([&, i] {
      EXPECT_TRUE(q.Run([&, i](std::vector<int>& s) -> Status {
        if (running.fetch_add(1) != 0) overlapped = true;
        s.push_back(i);
        running.fetch_sub(1);
        return {};
      }));
    });
    // The next job is given only once this one is in line.
    AwaitWaiting(q, static_cast<size_t>(i));
  }
  blocker.Release();
  for (auto& t : threads) t.join();
  EXPECT_FALSE(overlapped.load());
  EXPECT_EQ(*log, (std::vector<int>{0, 1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(q.waiting(), 0u);
}

TEST(WriterQueue, FailingAndThrowingJobsDoNotStopTheQueue) {
  Queue q(std::make_unique<std::vector<int>>(), 10s);
  auto st = q.Run([](std::vector<int>&) -> Status { return Fail(Error::Internal("no")); });
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().detail, "no");
  EXPECT_THROW((void)q.Run([](std::vector<int>&) -> Status { throw std::runtime_error("boom"); }),
               std::runtime_error);
  int ran = 0;
  EXPECT_TRUE(q.Run([&](std::vector<int>&) -> Status {
    ++ran;
    return {};
  }));
  EXPECT_EQ(ran, 1);
}

TEST(WriterQueue, AJobThatWaitedTooLongIsDroppedNotRun) {
  Queue q(std::make_unique<std::vector<int>>(), 50ms);
  Blocker blocker(q);
  bool ran = false;
  auto t0 = std::chrono::steady_clock::now();
  auto st = q.Run([&](std::vector<int>&) -> Status {
    ran = true;
    return {};
  });
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 50ms);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().http_status, 503);
  EXPECT_EQ(q.waiting(), 0u);
  blocker.Release();
  EXPECT_TRUE(q.Run([](std::vector<int>&) -> Status { return {}; }));
  EXPECT_FALSE(ran);
}

TEST(WriterQueue, AJobThatGivesAnotherJobFailsAtOnceInsteadOfWaitingForItself) {
  Queue q(std::make_unique<std::vector<int>>(), 10s);
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(q.Run([&](std::vector<int>&) -> Status {
    auto nested = q.Run([](std::vector<int>&) -> Status { return {}; });
    EXPECT_FALSE(nested);
    if (!nested) {
      EXPECT_EQ(nested.error().http_status, 503);
    }
    return {};
  }));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

class SqliteWriter : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("pc_writer_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    url_ = "sqlite:" + (dir_ / "db.sqlite").string();
    // No busy handler: a writer of this process that met the write lock would fail at once.
    options_.busy_timeout_ms = 0;
    db_ = Open(options_);
    ASSERT_TRUE(db_);
    ASSERT_TRUE(db_->Migrate());
    ASSERT_TRUE(db_->Exec("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)"));
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<Database> Open(const Options& o) {
    auto db = OpenDatabase(url_, o);
    EXPECT_TRUE(db) << db.error().detail;
    return db ? std::move(*db) : nullptr;
  }

  int64_t Count(std::string_view where = "1 = 1") {
    auto row = db_->QueryRow("SELECT count(*) FROM t WHERE " + std::string(where));
    EXPECT_TRUE(row) << row.error().detail;
    return row && *row ? (*row)->Int(0) : -1;
  }

  std::filesystem::path dir_;
  std::string url_;
  Options options_;
  std::unique_ptr<Database> db_;
};

TEST_F(SqliteWriter, ConcurrentWritesOfAllKindsNeverMeetTheBusyHandler) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 40;
  std::latch start(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < kPerThread; ++i) {
        const std::string key = std::to_string(t) + "-" + std::to_string(i);
        Status st;
        switch (i % 4) {
          case 0:  // a read-then-write transaction
            st = db_->Transact([&](Tx& tx) -> Status {
              auto n = tx.QueryRow("SELECT count(*) FROM t");
              if (!n) return Fail(n.error());
              auto r = tx.Exec("INSERT INTO t (k, v) VALUES ($1, $2)", {key, (**n).Int(0)});
              if (!r) return Fail(r.error());
              return {};
            });
            break;
          case 1: {  // an autocommit write
            auto r = db_->Exec("INSERT INTO t (k, v) VALUES ($1, 1)", {key});
            if (!r) st = Fail(r.error());
            break;
          }
          case 2: {  // an autocommit write that returns rows, through Query
            auto r = db_->Query("INSERT INTO t (k, v) VALUES ($1, 2) RETURNING k", {key});
            if (!r) {
              st = Fail(r.error());
            } else if (r->size() != 1 || (*r)[0].Str(0) != key) {
              st = Fail(Error::Internal("RETURNING lost its row"));
            }
            break;
          }
          default: {  // an autocommit read beside the writers, and a notification (a write)
            auto r = db_->Query("SELECT count(*) FROM t");
            if (!r) st = Fail(r.error());
            if (st) st = db_->Notify("writer-test", key);
            if (st) {
              auto w = db_->Exec("INSERT INTO t (k, v) VALUES ($1, 3)", {key});
              if (!w) st = Fail(w.error());
            }
            break;
          }
        }
        if (!st) {
          ++failures;
          ADD_FAILURE() << key << ": " << st.error().detail;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Count(), kThreads * kPerThread);
}

TEST_F(SqliteWriter, AFailedTransactionRollsBackAndFreesTheWriter) {
  auto st = db_->Transact([](Tx& tx) -> Status {
    auto r = tx.Exec("INSERT INTO t (k, v) VALUES ('gone', 1)");
    if (!r) return Fail(r.error());
    return Fail(Error::Internal("changed my mind"));
  });
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().detail, "changed my mind");
  EXPECT_EQ(Count("k = 'gone'"), 0);
  // A statement error inside the transaction: the same.
  st = db_->Transact([](Tx& tx) -> Status {
    auto r = tx.Exec("INSERT INTO t (k, v) VALUES ('gone', 1)");
    if (!r) return Fail(r.error());
    auto bad = tx.Exec("INSERT INTO t (k, v) VALUES ('gone', 2)");  // duplicate key
    if (!bad) return Fail(bad.error());
    return {};
  });
  ASSERT_FALSE(st);
  EXPECT_TRUE(IsUniqueViolation(st.error()));
  EXPECT_EQ(Count("k = 'gone'"), 0);
  // A throwing transaction function: rolled back, and the writer is handed on.
  EXPECT_THROW((void)db_->Transact([](Tx& tx) -> Status {
    (void)tx.Exec("INSERT INTO t (k, v) VALUES ('gone', 1)");
    throw std::runtime_error("boom");
  }),
               std::runtime_error);
  EXPECT_EQ(Count("k = 'gone'"), 0);
  // The queue moves on at once (a held writer would time out after acquire_timeout_ms).
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(db_->Transact([](Tx& tx) -> Status {
    auto r = tx.Exec("INSERT INTO t (k, v) VALUES ('kept', 1)");
    if (!r) return Fail(r.error());
    return {};
  }));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  EXPECT_EQ(Count("k = 'kept'"), 1);
}

TEST_F(SqliteWriter, FailedTransactionsAmongConcurrentWritersDoNotStallTheQueue) {
  constexpr int kThreads = 6;
  constexpr int kPerThread = 30;
  std::latch start(kThreads);
  std::atomic<int> unexpected{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < kPerThread; ++i) {
        const bool fail = (i + t) % 3 == 0;
        auto st = db_->Transact([&](Tx& tx) -> Status {
          auto r = tx.Exec("INSERT INTO t (k, v) VALUES ($1, $2)",
                           {std::to_string(t) + "-" + std::to_string(i), int64_t{fail}});
          if (!r) return Fail(r.error());
          if (fail) return Fail(Error::Internal("rolled back on purpose"));
          return {};
        });
        if (st.has_value() == fail) ++unexpected;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(unexpected.load(), 0);
  EXPECT_EQ(Count("v = 1"), 0);  // every failed transaction left nothing
  int failed = 0;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) failed += (i + t) % 3 == 0;
  }
  EXPECT_EQ(Count("v = 0"), kThreads * kPerThread - failed);
}

TEST_F(SqliteWriter, ReadsSeeCommittedDataOnly) {
  // An autocommit write is visible to the next autocommit read, which runs on a reader.
  ASSERT_TRUE(db_->Exec("INSERT INTO t (k, v) VALUES ('a', 1)"));
  EXPECT_EQ(Count("k = 'a'"), 1);
  // A read beside a transaction in progress sees the state before it.
  std::latch inside(1), release(1);
  std::thread writer([&] {
    ASSERT_TRUE(db_->Transact([&](Tx& tx) -> Status {
      auto r = tx.Exec("INSERT INTO t (k, v) VALUES ('b', 1)");
      if (!r) return Fail(r.error());
      inside.count_down();
      release.wait();
      return {};
    }));
  });
  inside.wait();
  EXPECT_EQ(Count(), 1);
  release.count_down();
  writer.join();
  EXPECT_EQ(Count(), 2);
}

TEST_F(SqliteWriter, AWriterInAnotherProcessIsWaitedForWithTheBusyTimeout) {
  // Another Database on the same file stands for another process (the CLI): its write lock is
  // outside this process's queue, so the busy timeout is what waits for it.
  Options o = options_;
  o.busy_timeout_ms = 5000;
  auto mine = Open(o);
  auto other = Open(o);
  ASSERT_TRUE(mine && other);
  std::latch locked(1);
  std::thread holder([&] {
    ASSERT_TRUE(other->Transact([&](Tx& tx) -> Status {
      auto r = tx.Exec("INSERT INTO t (k, v) VALUES ('other', 1)");
      if (!r) return Fail(r.error());
      locked.count_down();
      std::this_thread::sleep_for(150ms);
      return {};
    }));
  });
  locked.wait();
  auto r = mine->Exec("INSERT INTO t (k, v) VALUES ('mine', 1)");
  EXPECT_TRUE(r) << r.error().detail;
  holder.join();
  EXPECT_EQ(Count("k IN ('other', 'mine')"), 2);
  // Without a busy timeout the same meeting fails with Unavailable, as before.
  std::latch locked2(1), release(1);
  std::thread holder2([&] {
    ASSERT_TRUE(other->Transact([&](Tx&) -> Status {
      locked2.count_down();
      release.wait();
      return {};
    }));
  });
  locked2.wait();
  auto busy = db_->Exec("INSERT INTO t (k, v) VALUES ('busy', 1)");
  release.count_down();
  holder2.join();
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().http_status, 503);
}

TEST_F(SqliteWriter, APoolOfOneServesReadsOnTheWriter) {
  Options o = options_;
  o.pool_size = 1;
  o.acquire_timeout_ms = 100;
  auto db = Open(o);
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->Exec("INSERT INTO t (k, v) VALUES ('x', 1)"));
  auto rows = db->Query("SELECT v FROM t WHERE k = 'x'");
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  // The one connection is the writer: a read nested in a transaction waits for it and gives up.
  ASSERT_TRUE(db->Transact([&](Tx&) -> Status {
    auto nested = db->Query("SELECT 1");
    EXPECT_FALSE(nested);
    if (!nested) {
      EXPECT_EQ(nested.error().http_status, 503);
    }
    return {};
  }));
}

}  // namespace
}  // namespace portcullis::store
