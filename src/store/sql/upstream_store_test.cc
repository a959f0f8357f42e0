// Contract: SqlUpstreamStore on SQLite and PostgreSQL, and MemoryUpstreamStore, answer the same
// cases the same way; the SQL links go with the user.
#include "store/sql/upstream_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "oauth/upstream/memory_upstream_store.h"
#include "store/fake_database.h"
#include "store/sql/backend_test_fixture.h"
#include "store/sql/user_store.h"

namespace portcullis::store {
namespace {

using oauth::upstream::Link;
using oauth::upstream::PendingFlow;
using oauth::upstream::UpstreamStore;

class UpstreamStoreContract : public BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (GetParam() == "memory") {
      auto m = std::make_unique<oauth::upstream::MemoryUpstreamStore>();
      m->SetEmail("alice", "Alice@Example.com");
      m->SetEmail("bob", "bob@example.com");
      store_ = std::move(m);
    } else {
      store_ = std::make_unique<SqlUpstreamStore>(db());
      SqlUserStore users(db());
      for (auto [id, email] :
           {std::pair{"alice", "Alice@Example.com"}, std::pair{"bob", "bob@example.com"}}) {
        oauth::User u;
        u.user_id = id;
        u.user_type = "customer";
        u.email = email;
        u.password_hash = "h";
        ASSERT_TRUE(db().Transact("t", [&](Tx& tx) { return users.Insert(tx, u); }));
      }
    }
  }
  UpstreamStore& s() { return *store_; }
  // The memory fake takes any Tx; the SQL store needs a real one.
  template <typename F>
  auto InTx(F f) {
    using R = decltype(f(std::declval<Tx&>()));
    if (GetParam() == "memory") {
      FakeDatabase fake;
      return fake.TransactValue<typename R::value_type>("t", f);
    }
    return db().TransactValue<typename R::value_type>("t", f);
  }
  static PendingFlow Flow(std::string hash, int64_t expires_at) {
    return PendingFlow{std::move(hash), "up", "bind", "client_id=c&state=s", "n", "v", expires_at};
  }
  std::unique_ptr<UpstreamStore> store_;
};

TEST_P(UpstreamStoreContract, FlowIsTakenOnceAndOnlyBeforeItExpires) {
  ASSERT_TRUE(s().SaveFlow(Flow("h1", 100)));
  ASSERT_TRUE(s().SaveFlow(Flow("h2", 100)));
  EXPECT_FALSE(s().SaveFlow(Flow("h1", 200)));  // a state hash is stored once
  auto f = s().TakeFlow("h1", 99);
  ASSERT_TRUE(f && *f);
  EXPECT_EQ((*f)->state_hash, "h1");
  EXPECT_EQ((*f)->authenticator, "up");
  EXPECT_EQ((*f)->binding_hash, "bind");
  EXPECT_EQ((*f)->request, "client_id=c&state=s");
  EXPECT_EQ((*f)->nonce, "n");
  EXPECT_EQ((*f)->code_verifier, "v");
  EXPECT_EQ((*f)->expires_at, 100);
  EXPECT_FALSE(*s().TakeFlow("h1", 99));   // once
  EXPECT_FALSE(*s().TakeFlow("h2", 100));  // expired at its expiry
  EXPECT_FALSE(*s().TakeFlow("nope", 0));
  ASSERT_TRUE(s().SaveFlow(Flow("h3", 50)));
  ASSERT_TRUE(s().SaveFlow(Flow("h4", 500)));
  ASSERT_TRUE(s().PurgeFlows(100));
  EXPECT_FALSE(*s().TakeFlow("h3", 0));  // purged
  EXPECT_TRUE(*s().TakeFlow("h4", 0));
}

// One binding keeps its newest `keep` open flows, by order of saving (all in one second here,
// so expires_at cannot order them); its expired flows go, other bindings are untouched.
TEST_P(UpstreamStoreContract, CapFlowsKeepsTheNewestOpenFlowsOfOneBinding) {
  auto flow = [](std::string hash, std::string binding, int64_t expires_at) {
    PendingFlow f = Flow(std::move(hash), expires_at);
    f.binding_hash = std::move(binding);
    return f;
  };
  ASSERT_TRUE(s().SaveFlow(flow("old-expired", "b1", 50)));
  // Saved in an order that neither the hash nor the expiry follows.
  for (const char* h : {"m", "z", "a", "k"}) ASSERT_TRUE(s().SaveFlow(flow(h, "b1", 100)));
  ASSERT_TRUE(s().SaveFlow(flow("other", "b2", 100)));
  ASSERT_TRUE(s().CapFlows("b1", 2, 60));
  EXPECT_FALSE(*s().TakeFlow("m", 60));  // the oldest open ones went
  EXPECT_FALSE(*s().TakeFlow("z", 60));
  EXPECT_FALSE(*s().TakeFlow("old-expired", 0));  // and the expired one
  EXPECT_TRUE(*s().TakeFlow("other", 60));        // another browser's flow stays
  ASSERT_TRUE(s().SaveFlow(flow("n", "b1", 100)));
  ASSERT_TRUE(s().CapFlows("b1", 2, 60));  // a, k, n open: a goes
  EXPECT_FALSE(*s().TakeFlow("a", 60));
  EXPECT_TRUE(*s().TakeFlow("k", 60));
  EXPECT_TRUE(*s().TakeFlow("n", 60));
  ASSERT_TRUE(s().CapFlows("nobody", 2, 60));  // nothing to do
}

// Two callbacks with the same state at once (two tabs, two instances): one gets the flow.
TEST_P(UpstreamStoreContract, ConcurrentTakesHaveOneWinner) {
  for (int round = 0; round < 5; ++round) {
    const std::string hash = "race-" + std::to_string(round);
    ASSERT_TRUE(s().SaveFlow(Flow(hash, 100)));
    std::atomic<int> wins{0};
    std::atomic<int> errors{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
      threads.emplace_back([&] {
        auto f = s().TakeFlow(hash, 1);
        if (!f) {
          ++errors;
        } else if (*f) {
          ++wins;
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(errors.load(), 0);
    EXPECT_EQ(wins.load(), 1) << hash;
  }
}

TEST_P(UpstreamStoreContract, LinksAreUniquePerIdentity) {
  auto none = InTx([&](Tx& tx) { return s().FindLink(tx, "up", "sub-1"); });
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  auto added = InTx([&](Tx& tx) {
    return s().InsertLink(tx, Link{"up", "sub-1", "alice", true, 7});
  });
  ASSERT_TRUE(added);
  EXPECT_TRUE(*added);
  auto again = InTx([&](Tx& tx) {
    return s().InsertLink(tx, Link{"up", "sub-1", "bob", false, 8});
  });
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);  // the first link stays
  auto other = InTx([&](Tx& tx) {
    return s().InsertLink(tx, Link{"other", "sub-1", "bob", false, 9});
  });
  ASSERT_TRUE(other && *other);
  auto l = InTx([&](Tx& tx) { return s().FindLink(tx, "up", "sub-1"); });
  ASSERT_TRUE(l && *l);
  EXPECT_EQ((*l)->user_id, "alice");
  EXPECT_TRUE((*l)->created);
  EXPECT_EQ((*l)->created_at, 7);
  l = InTx([&](Tx& tx) { return s().FindLink(tx, "other", "sub-1"); });
  ASSERT_TRUE(l && *l);
  EXPECT_EQ((*l)->user_id, "bob");
  EXPECT_FALSE((*l)->created);
}

TEST_P(UpstreamStoreContract, UsersWithEmailIgnoresAsciiCase) {
  auto ids = InTx([&](Tx& tx) { return s().UsersWithEmail(tx, "alice@example.COM"); });
  ASSERT_TRUE(ids);
  ASSERT_EQ(ids->size(), 1u);
  EXPECT_EQ(ids->front(), "alice");
  ids = InTx([&](Tx& tx) { return s().UsersWithEmail(tx, "carol@example.com"); });
  ASSERT_TRUE(ids);
  EXPECT_TRUE(ids->empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, UpstreamStoreContract,
                         ::testing::Values("memory", "sqlite", "postgres"), BackendName);

class SqlUpstreamStoreTest : public BackendTest {};

// Deleting a user deletes their links (ON DELETE CASCADE); a link needs a user.
TEST_P(SqlUpstreamStoreTest, LinksGoWithTheUser) {
  SqlUserStore users(db());
  oauth::User u;
  u.user_id = "carol";
  u.user_type = "customer";
  u.email = "carol@example.com";
  u.password_hash = "h";
  ASSERT_TRUE(db().Transact("t", [&](Tx& tx) { return users.Insert(tx, u); }));
  SqlUpstreamStore s(db());
  ASSERT_TRUE(db().Transact("t", [&](Tx& tx) -> Status {
    auto r = s.InsertLink(tx, Link{"up", "c", "carol", true, 1});
    if (!r) return Fail(r.error());
    return {};
  }));
  ASSERT_TRUE(db().Transact("t", [&](Tx& tx) { return users.Delete(tx, "carol"); }));
  auto n = db().QueryRow("SELECT COUNT(*) FROM upstream_links WHERE user_id = 'carol'");
  ASSERT_TRUE(n && *n);
  EXPECT_EQ((*n)->Int(0), 0);
  EXPECT_FALSE(db().Transact("t", [&](Tx& tx) -> Status {
    auto r = s.InsertLink(tx, Link{"up", "x", "nobody", true, 1});
    if (!r) return Fail(r.error());
    return {};
  }));
}

PORTCULLIS_INSTANTIATE_BACKENDS(SqlUpstreamStoreTest);

}  // namespace
}  // namespace portcullis::store
