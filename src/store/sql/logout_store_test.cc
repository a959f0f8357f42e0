// Contract: SqlLogoutStore on SQLite and PostgreSQL, and MemoryLogoutStore, answer the same
// cases the same way; then SQL-only cases (rollback with the caller's transaction, one
// deliverer per row across connections).
#include "store/sql/logout_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "oauth/logout/memory_logout_store.h"
#include "store/sql/backend_test_fixture.h"

namespace portcullis::store {
namespace {

using oauth::LogoutDelivery;
using oauth::LogoutParticipant;
using oauth::LogoutStore;

LogoutDelivery Row(std::string id, int64_t next, int64_t expires, std::string sid = "s1") {
  return LogoutDelivery{std::move(id), "c1", "alice", std::move(sid), 0, next, 1, expires};
}

class LogoutStoreContract : public BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (GetParam() == "memory") {
      store_ = std::make_unique<oauth::MemoryLogoutStore>();  // ignores the transaction
    } else {
      store_ = std::make_unique<SqlLogoutStore>(db());
    }
  }
  LogoutStore& s() { return *store_; }
  Status In(const std::function<Status(Tx&)>& fn) { return db().Transact("t", fn); }
  std::vector<LogoutParticipant> Take(std::string_view sid, int64_t now) {
    std::vector<LogoutParticipant> out;
    EXPECT_TRUE(In([&](Tx& tx) -> Status {
      auto r = s().TakeParticipants(tx, sid, now);
      if (!r) return Fail(r.error());
      out = std::move(*r);
      return {};
    }));
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.client_id < b.client_id; });
    return out;
  }
  std::unique_ptr<LogoutStore> store_;
};

TEST_P(LogoutStoreContract, ParticipantsAreTakenOncePerSessionAndExtendToTheLaterExpiry) {
  ASSERT_TRUE(s().AddParticipant({"s1", "c1", "alice", 100}));
  ASSERT_TRUE(s().AddParticipant({"s1", "c1", "alice", 300}));  // a later code: extends
  ASSERT_TRUE(s().AddParticipant({"s1", "c1", "alice", 200}));  // an earlier expiry: kept 300
  ASSERT_TRUE(s().AddParticipant({"s1", "c2", "alice", 50}));   // expired by then
  ASSERT_TRUE(s().AddParticipant({"s2", "c1", "alice", 300}));
  auto taken = Take("s1", 250);
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_EQ(taken[0].client_id, "c1");
  EXPECT_EQ(taken[0].user_id, "alice");
  EXPECT_EQ(taken[0].sid, "s1");
  EXPECT_EQ(taken[0].expires_at, 300);
  EXPECT_TRUE(Take("s1", 0).empty());  // removed, expired rows too
  EXPECT_EQ(Take("s2", 0).size(), 1u);
  EXPECT_TRUE(Take("unknown", 0).empty());
}

TEST_P(LogoutStoreContract, ParticipantsOfAUserSpanTheirSessions) {
  ASSERT_TRUE(s().AddParticipant({"s1", "c1", "alice", 100}));
  ASSERT_TRUE(s().AddParticipant({"s2", "c2", "alice", 100}));
  ASSERT_TRUE(s().AddParticipant({"s3", "c1", "bob", 100}));
  std::vector<LogoutParticipant> got;
  ASSERT_TRUE(In([&](Tx& tx) -> Status {
    auto r = s().TakeParticipantsOfUser(tx, "alice", 10);
    if (!r) return Fail(r.error());
    got = std::move(*r);
    return {};
  }));
  EXPECT_EQ(got.size(), 2u);
  EXPECT_TRUE(Take("s1", 0).empty());
  EXPECT_EQ(Take("s3", 0).size(), 1u);
}

TEST_P(LogoutStoreContract, ClaimTakesDueRowsOnceUntilTheLeaseRunsOut) {
  ASSERT_TRUE(In([&](Tx& tx) -> Status {
    if (auto st = s().Enqueue(tx, Row("a", 10, 1000)); !st) return st;
    if (auto st = s().Enqueue(tx, Row("b", 20, 1000, "")); !st) return st;
    return s().Enqueue(tx, Row("c", 5, 8));  // expired before it is due
  }));
  EXPECT_FALSE(*s().Claim(9, 30));  // nothing due yet ("c" expired at 8)
  auto a = s().Claim(20, 30);
  ASSERT_TRUE(a && *a);
  EXPECT_EQ((*a)->id, "a");  // the earliest due first
  EXPECT_EQ((*a)->client_id, "c1");
  EXPECT_EQ((*a)->sub, "alice");
  EXPECT_EQ((*a)->sid, "s1");
  EXPECT_EQ((*a)->attempts, 1);
  EXPECT_EQ((*a)->next_attempt_at, 50);
  EXPECT_EQ((*a)->expires_at, 1000);
  auto b = s().Claim(20, 30);
  ASSERT_TRUE(b && *b);
  EXPECT_EQ((*b)->id, "b");
  EXPECT_EQ((*b)->sid, "");
  EXPECT_FALSE(*s().Claim(49, 30));  // both leased
  auto again = s().Claim(50, 30);    // "a"'s lease ran out: the deliverer died, try again
  ASSERT_TRUE(again && *again);
  EXPECT_EQ((*again)->id, "a");
  EXPECT_EQ((*again)->attempts, 2);

  ASSERT_TRUE(s().Reschedule("a", 200));
  ASSERT_TRUE(s().Remove("b"));
  EXPECT_FALSE(*s().Claim(199, 30));
  auto later = s().Claim(200, 30);
  ASSERT_TRUE(later && *later);
  EXPECT_EQ((*later)->attempts, 3);
  ASSERT_TRUE(s().Remove("a"));
  EXPECT_FALSE(*s().Claim(5000, 30));
}

TEST_P(LogoutStoreContract, PurgeDropsExpiredRows) {
  ASSERT_TRUE(In([&](Tx& tx) -> Status {
    if (auto st = s().Enqueue(tx, Row("a", 10, 100)); !st) return st;
    return s().Enqueue(tx, Row("b", 10, 300));
  }));
  ASSERT_TRUE(s().AddParticipant({"s1", "c1", "alice", 100}));
  ASSERT_TRUE(s().AddParticipant({"s2", "c1", "alice", 300}));
  auto n = s().Purge(100);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 1);
  EXPECT_TRUE(Take("s1", 0).empty());
  EXPECT_EQ(Take("s2", 0).size(), 1u);
  auto b = s().Claim(200, 30);
  ASSERT_TRUE(b && *b);
  EXPECT_EQ((*b)->id, "b");
}

INSTANTIATE_TEST_SUITE_P(Backends, LogoutStoreContract,
                         ::testing::Values("memory", "sqlite", "postgres"), BackendName);

class SqlLogoutStoreTest : public BackendTest {};

// The outbox rows belong to the sign-out's transaction: rolled back with it, and the
// participants it took are back.
TEST_P(SqlLogoutStoreTest, EnqueueAndTakeRollBackWithTheirTransaction) {
  SqlLogoutStore s(db());
  ASSERT_TRUE(s.AddParticipant({"s1", "c1", "alice", 100}));
  auto st = db().Transact("t", [&](Tx& tx) -> Status {
    auto p = s.TakeParticipants(tx, "s1", 0);
    EXPECT_TRUE(p && p->size() == 1);
    if (auto e = s.Enqueue(tx, Row("a", 0, 100)); !e) return e;
    return Fail(Error::Internal("roll back"));
  });
  ASSERT_FALSE(st);
  EXPECT_FALSE(*s.Claim(10, 30));
  auto again = db().Transact("t", [&](Tx& tx) -> Status {
    auto p = s.TakeParticipants(tx, "s1", 0);
    EXPECT_TRUE(p && p->size() == 1);
    return {};
  });
  EXPECT_TRUE(again);
}

// Several instances drain one outbox: every row is claimed by exactly one of them.
TEST_P(SqlLogoutStoreTest, ConcurrentClaimersEachRowHasOneWinner) {
  constexpr int kRows = 40;
  SqlLogoutStore s(db());
  ASSERT_TRUE(db().Transact("t", [&](Tx& tx) -> Status {
    for (int i = 0; i < kRows; ++i) {
      if (auto st = s.Enqueue(tx, Row("r" + std::to_string(i), 10, 1000)); !st) return st;
    }
    return {};
  }));
  constexpr int kInstances = 4;
  std::vector<std::unique_ptr<Database>> dbs;
  for (int i = 0; i < kInstances; ++i) {
    auto other = OpenDatabase(url());
    ASSERT_TRUE(other) << other.error().detail;
    dbs.push_back(std::move(*other));
  }
  std::mutex mu;
  std::vector<std::string> claimed;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kInstances; ++i) {
    threads.emplace_back([&, i] {
      SqlLogoutStore mine(*dbs[i]);
      for (;;) {
        auto c = mine.Claim(10, 600);
        if (!c) {
          ++errors;
          return;
        }
        if (!*c) return;
        std::lock_guard lock(mu);
        claimed.push_back((*c)->id);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  std::set<std::string> distinct(claimed.begin(), claimed.end());
  EXPECT_EQ(claimed.size(), static_cast<size_t>(kRows));
  EXPECT_EQ(distinct.size(), static_cast<size_t>(kRows));
}

// Every code of a session records its client again; when the row already has that expiry (or a
// later one) nothing is written, so the call does not wait for writers: here a transaction holds
// the SQLite writer (on PostgreSQL, the row's lock, which an upsert would wait for) until the
// call returns, or gives up after 10 s and the test fails.
TEST_P(SqlLogoutStoreTest, ARecordedParticipantIsNotWrittenAgain) {
  SqlLogoutStore s(db());
  ASSERT_TRUE(s.AddParticipant({"s1", "c1", "alice", 300}));
  std::promise<void> holding, done;
  std::atomic<bool> gave_up{false};
  std::thread holder([&] {
    auto st = db().Transact("hold", [&](Tx& tx) -> Status {
      auto n = tx.Exec("UPDATE logout_participants SET expires_at = expires_at WHERE sid = $1",
                       {Text("s1")});
      if (!n) return Fail(n.error());
      holding.set_value();
      if (done.get_future().wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
        gave_up = true;
      }
      return {};
    });
    EXPECT_TRUE(st) << st.error().detail;
  });
  holding.get_future().wait();
  auto same = s.AddParticipant({"s1", "c1", "alice", 300});
  auto earlier = s.AddParticipant({"s1", "c1", "alice", 200});
  done.set_value();
  holder.join();
  EXPECT_TRUE(same) << same.error().detail;
  EXPECT_TRUE(earlier) << earlier.error().detail;
  EXPECT_FALSE(gave_up) << "AddParticipant waited for the writer";
  // A later expiry is still written, and the row keeps the latest.
  ASSERT_TRUE(s.AddParticipant({"s1", "c1", "alice", 400}));
  auto taken = db().Transact("t", [&](Tx& tx) -> Status {
    auto p = s.TakeParticipants(tx, "s1", 0);
    if (!p) return Fail(p.error());
    EXPECT_EQ(p->size(), 1u);
    if (!p->empty()) EXPECT_EQ((*p)[0].expires_at, 400);
    return {};
  });
  EXPECT_TRUE(taken);
}

PORTCULLIS_INSTANTIATE_BACKENDS(SqlLogoutStoreTest);

}  // namespace
}  // namespace portcullis::store
