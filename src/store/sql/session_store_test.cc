// Contract: SqlSessionStore on SQLite and PostgreSQL, and MemorySessionStore, answer the same
// cases the same way.
#include "store/sql/session_store.h"

#include <gtest/gtest.h>

#include <memory>

#include "oauth/code/memory_session_store.h"
#include "oauth/code/sso_session.h"
#include "store/sql/backend_test_fixture.h"

namespace portcullis::store {
namespace {

using oauth::SessionStore;
using oauth::SsoSession;

class SessionStoreContract : public BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (GetParam() == "memory") {
      store_ = std::make_unique<oauth::MemorySessionStore>();
    } else {
      store_ = std::make_unique<SqlSessionStore>(db());
    }
  }
  SessionStore& sessions() { return *store_; }
  bool Has(std::string_view key) {
    auto s = sessions().Find(key, 0);
    EXPECT_TRUE(s);
    return s && s->has_value();
  }
  std::unique_ptr<SessionStore> store_;
};

TEST_P(SessionStoreContract, FindsUnexpiredSessionsOnly) {
  ASSERT_TRUE(sessions().Insert("k1", SsoSession{"alice", false, 10, 100}));
  ASSERT_TRUE(sessions().Insert("k2", SsoSession{"alice", true, 10, 1000}));
  auto s = sessions().Find("k1", 99);
  ASSERT_TRUE(s && *s);
  EXPECT_EQ((*s)->user_id, "alice");
  EXPECT_FALSE((*s)->remember);
  EXPECT_EQ((*s)->created_at, 10);
  EXPECT_EQ((*s)->expires_at, 100);
  EXPECT_FALSE(*sessions().Find("k1", 100));  // expired at its expiry
  s = sessions().Find("k2", 100);
  ASSERT_TRUE(s && *s);
  EXPECT_TRUE((*s)->remember);
  EXPECT_EQ((*s)->sid, "");  // none given: empty, not garbage

  ASSERT_TRUE(sessions().Insert("k3", SsoSession{"bob", false, 5, 50, "sid-3", "pwd otp", "2"}));
  s = sessions().Find("k3", 0);
  ASSERT_TRUE(s && *s);
  EXPECT_EQ((*s)->sid, "sid-3");
  EXPECT_EQ((*s)->amr, "pwd otp");
  EXPECT_EQ((*s)->acr, "2");
  EXPECT_FALSE(*sessions().Find("unknown", 0));
  EXPECT_FALSE(*sessions().Find("K1", 0));
}

TEST_P(SessionStoreContract, DeleteDeleteForUserAndPurge) {
  ASSERT_TRUE(sessions().Insert("a1", SsoSession{"alice", false, 1, 100}));
  ASSERT_TRUE(sessions().Insert("a2", SsoSession{"alice", true, 1, 200}));
  // Another realm's key of the same user (SsoSessions::Key binds the realm).
  ASSERT_TRUE(
      sessions().Insert(oauth::SsoSessions::Key("ldap", "c"), SsoSession{"alice", false, 1, 200}));
  ASSERT_TRUE(sessions().Insert("b1", SsoSession{"bob", false, 1, 50}));
  ASSERT_TRUE(sessions().Insert("b2", SsoSession{"bob", false, 1, 51}));

  ASSERT_TRUE(sessions().Delete("a1"));
  ASSERT_TRUE(sessions().Delete("a1"));  // gone already: fine
  EXPECT_FALSE(Has("a1"));
  EXPECT_TRUE(Has("a2"));

  ASSERT_TRUE(db().Transact("t", [&](Tx& tx) { return sessions().DeleteForUser(tx, "alice"); }));
  EXPECT_FALSE(Has("a2"));
  EXPECT_FALSE(Has(oauth::SsoSessions::Key("ldap", "c")));
  EXPECT_TRUE(Has("b1"));

  ASSERT_TRUE(sessions().Purge(50));  // expires_at <= now
  EXPECT_FALSE(Has("b1"));
  EXPECT_TRUE(Has("b2"));
}

// The admin view: a user's live sessions, newest first, and ending one by its public sid only
// when it is that user's.
TEST_P(SessionStoreContract, ListForUserAndDeleteBySid) {
  ASSERT_TRUE(sessions().Insert("a1", SsoSession{"alice", false, 10, 100, "sid-b", "pwd"}));
  ASSERT_TRUE(sessions().Insert("a2", SsoSession{"alice", true, 20, 200, "sid-A", "pwd otp"}));
  ASSERT_TRUE(sessions().Insert("a3", SsoSession{"alice", false, 10, 100, "sid-a"}));
  ASSERT_TRUE(sessions().Insert("a4", SsoSession{"alice", false, 30, 40, "sid-old"}));
  ASSERT_TRUE(sessions().Insert("a5", SsoSession{"alice", false, 5, 100}));  // no sid
  ASSERT_TRUE(sessions().Insert("b1", SsoSession{"bob", false, 10, 100, "sid-bob"}));

  auto list = sessions().ListForUser("alice", 50);  // a4 expired at 40
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 4u);
  EXPECT_EQ((*list)[0].sid, "sid-A");
  EXPECT_TRUE((*list)[0].remember);
  EXPECT_EQ((*list)[0].amr, "pwd otp");
  EXPECT_EQ((*list)[0].expires_at, 200);
  EXPECT_EQ((*list)[1].sid, "sid-a");  // same created_at: by sid, bytewise
  EXPECT_EQ((*list)[2].sid, "sid-b");
  EXPECT_EQ((*list)[3].sid, "");
  EXPECT_TRUE(sessions().ListForUser("nobody", 0)->empty());

  auto del = [&](std::string_view user, std::string_view sid) {
    bool gone = false;
    EXPECT_TRUE(db().Transact("t", [&](Tx& tx) -> Status {
      auto r = sessions().DeleteBySid(tx, user, sid);
      if (!r) return Fail(std::move(r.error()));
      gone = *r;
      return {};
    }));
    return gone;
  };
  EXPECT_FALSE(del("alice", "sid-bob"));  // another user's session: untouched
  EXPECT_TRUE(Has("b1"));
  EXPECT_FALSE(del("alice", ""));  // a session without sid is not reachable this way
  EXPECT_TRUE(Has("a5"));
  EXPECT_FALSE(del("alice", "SID-A"));
  EXPECT_TRUE(del("alice", "sid-A"));
  EXPECT_FALSE(Has("a2"));
  EXPECT_FALSE(del("alice", "sid-A"));  // once
  EXPECT_EQ(sessions().ListForUser("alice", 50)->size(), 3u);
}

// ListForUser inside a transaction reads through it: what the transaction ended is gone before
// it commits (UserAccess::RevokeSessions holds one pool connection, not two).
TEST_P(SessionStoreContract, ListForUserInsideATransactionSeesItsWrites) {
  ASSERT_TRUE(sessions().Insert("a1", SsoSession{"alice", false, 10, 100, "sid-1", "pwd"}));
  ASSERT_TRUE(sessions().Insert("a2", SsoSession{"alice", true, 20, 200, "sid-2", "pwd"}));
  ASSERT_TRUE(sessions().Insert("a3", SsoSession{"alice", false, 30, 40, "sid-old"}));
  ASSERT_TRUE(sessions().Insert("b1", SsoSession{"bob", false, 10, 100, "sid-bob"}));
  ASSERT_TRUE(db().Transact("t", [&](Tx& tx) -> Status {
    auto list = sessions().ListForUser(tx, "alice", 50);
    if (!list) return Fail(list.error());
    EXPECT_EQ(list->size(), 2u);  // a3 expired at 40
    if (list->size() == 2u) {
      EXPECT_EQ((*list)[0].sid, "sid-2");
      EXPECT_TRUE((*list)[0].remember);
      EXPECT_EQ((*list)[1].sid, "sid-1");
    }
    auto gone = sessions().DeleteBySid(tx, "alice", "sid-2");
    if (!gone) return Fail(gone.error());
    EXPECT_TRUE(*gone);
    auto after = sessions().ListForUser(tx, "alice", 50);
    if (!after) return Fail(after.error());
    EXPECT_EQ(after->size(), 1u);
    return {};
  }));
}

INSTANTIATE_TEST_SUITE_P(Backends, SessionStoreContract,
                         ::testing::Values("memory", "sqlite", "postgres"), BackendName);

class SqlSessionStoreTest : public BackendTest {};

// DeleteForUser belongs to the caller's transaction: rolled back with it.
TEST_P(SqlSessionStoreTest, DeleteForUserRollsBackWithItsTransaction) {
  SqlSessionStore sessions(db());
  ASSERT_TRUE(sessions.Insert("k", SsoSession{"alice", false, 1, 100}));
  auto st = db().Transact("t", [&](Tx& tx) -> Status {
    if (auto r = sessions.DeleteForUser(tx, "alice"); !r) return r;
    return Fail(Error::Internal("roll back"));
  });
  ASSERT_FALSE(st);
  EXPECT_TRUE(*sessions.Find("k", 0));
  // The stored key is the hash the caller gave, nothing derived.
  auto row = db().QueryRow("SELECT user_id, remember FROM sso_sessions WHERE session_hash = 'k'");
  ASSERT_TRUE(row && *row);
  EXPECT_EQ((*row)->Str(1), "N");
}

// DeleteIn belongs to the caller's transaction too (a sign-out with its logout tokens).
TEST_P(SqlSessionStoreTest, DeleteInCommitsAndRollsBackWithItsTransaction) {
  SqlSessionStore sessions(db());
  ASSERT_TRUE(sessions.Insert("k", SsoSession{"alice", false, 1, 100}));
  auto st = db().Transact("t", [&](Tx& tx) -> Status {
    if (auto r = sessions.DeleteIn(tx, "k"); !r) return r;
    return Fail(Error::Internal("roll back"));
  });
  ASSERT_FALSE(st);
  EXPECT_TRUE(*sessions.Find("k", 0));
  ASSERT_TRUE(db().Transact("t", [&](Tx& tx) { return sessions.DeleteIn(tx, "k"); }));
  EXPECT_FALSE(*sessions.Find("k", 0));
}

PORTCULLIS_INSTANTIATE_BACKENDS(SqlSessionStoreTest);

}  // namespace
}  // namespace portcullis::store
