// UserAccess over the in-memory fakes: what an administrator sees and ends of a user, who may,
// and what goes with it (back-channel hooks, the grants at a client, audit rows).
#include "oauth/user/user_access.h"

#include <gtest/gtest.h>

#include "oauth/audit/audit.h"
#include "oauth/code/memory_consent_store.h"
#include "oauth/code/memory_session_store.h"
#include "oauth/user/memory_user_store.h"
#include "store/fake_database.h"

namespace portcullis::oauth {
namespace {

class UserAccessTest : public ::testing::Test {
 protected:
  UserAccessTest()
      : clock_(1000),
        access_(
            db_, users_, sessions_, consents_, audit_, clock_,
            {[this](store::Tx&, std::string_view sid) -> Status {
               calls_.push_back("session:" + std::string(sid));
               return {};
             },
             [this](store::Tx&, std::string_view user) -> Status {
               calls_.push_back("user:" + std::string(user));
               return {};
             },
             [this](store::Tx&, std::string_view user, std::string_view client, int64_t) -> Status {
               calls_.push_back("grants:" + std::string(user) + "@" + std::string(client));
               return {};
             },
             [this](store::Tx&, std::string_view user, std::string_view sid, int64_t) -> Status {
               calls_.push_back("session-grants:" + std::string(user) + "/" + std::string(sid));
               return {};
             },
             [this](store::Tx&, std::string_view user, int64_t) -> Status {
               calls_.push_back("sessions-grants:" + std::string(user));
               return {};
             }}) {
    for (auto [id, roles] : {std::pair{"alice", "user"}, std::pair{"bob", "user"}}) {
      User u{id, "customer", "", "", std::string(id) + "@x.com", "h", roles, false, 1, 1};
      EXPECT_TRUE(db_.Transact([&](store::Tx& tx) { return users_.Insert(tx, u); }));
    }
    EXPECT_TRUE(sessions_.Insert("k1", SsoSession{"alice", false, 10, 2000, "sid-1", "pwd"}));
    EXPECT_TRUE(sessions_.Insert("k2", SsoSession{"alice", true, 20, 2000, "sid-2", "pwd"}));
    EXPECT_TRUE(sessions_.Insert("k3", SsoSession{"bob", false, 10, 2000, "sid-3", "pwd"}));
    EXPECT_TRUE(sessions_.Insert("k4", SsoSession{"alice", false, 10, 999, "sid-old", "pwd"}));
    EXPECT_TRUE(consents_.Widen("", "alice", "c1", {"a", "b"}, 5));
    EXPECT_TRUE(consents_.Widen("", "bob", "c1", {"a"}, 5));
  }

  store::FakeDatabase db_;
  MemoryUserStore users_;
  MemorySessionStore sessions_;
  MemoryConsentStore consents_;
  audit::MemoryAuditLog audit_;
  ManualClock clock_;
  std::vector<std::string> calls_;
  UserAccess access_;
  const Authority admin_{.scopes = {"oauth.user.w"}, .user_id = "root", .roles = "admin"};
};

TEST_F(UserAccessTest, SessionsAreListedAndEndedOnlyForTheirUser) {
  auto list = access_.Sessions("alice", admin_);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);  // the expired one is not shown
  EXPECT_EQ((*list)[0].sid, "sid-2");

  auto other = access_.RevokeSession("alice", "sid-3", "admin", admin_);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().http_status, 404);
  EXPECT_TRUE(sessions_.Contains("k3"));
  ASSERT_TRUE(access_.RevokeSession("alice", "sid-1", "admin", admin_));
  EXPECT_FALSE(sessions_.Contains("k1"));
  // The session's refresh tokens end with it.
  EXPECT_EQ(calls_, (std::vector<std::string>{"session-grants:alice/sid-1", "session:sid-1"}));

  auto n = access_.RevokeSessions("alice", "admin", admin_);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(calls_, (std::vector<std::string>{"session-grants:alice/sid-1", "session:sid-1",
                                              "sessions-grants:alice", "user:alice"}));
  EXPECT_TRUE(sessions_.Contains("k3"));
  EXPECT_EQ(audit_.List({.entity_id = "alice"})->total, 2);
}

TEST_F(UserAccessTest, AConsentEndsWithTheUsersGrantsAtTheClient) {
  auto list = access_.Consents("alice", admin_);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].scope, (std::vector<std::string>{"a", "b"}));
  ASSERT_TRUE(access_.RevokeConsent("alice", "c1", "admin", admin_));
  EXPECT_EQ(calls_, (std::vector<std::string>{"grants:alice@c1"}));
  EXPECT_TRUE(access_.Consents("alice", admin_)->empty());
  EXPECT_EQ(access_.Consents("bob", admin_)->size(), 1u);
  EXPECT_EQ(access_.RevokeConsent("alice", "c1", "admin", admin_).error().http_status, 404);
  auto e = audit_.List({.action = "user.consent_revoke"});
  ASSERT_TRUE(e && e->total == 1);
  EXPECT_NE(e->entries[0].before_json.find("\"scope\":\"a b\""), std::string::npos);
}

TEST_F(UserAccessTest, UnknownUsersAndOtherUsersAreRefused) {
  EXPECT_EQ(access_.Sessions("nobody", admin_).error().code, "ERR12013");
  EXPECT_EQ(access_.RevokeSessions("nobody", "a", admin_).error().code, "ERR12013");
  EXPECT_EQ(access_.Consents("nobody", admin_).error().code, "ERR12013");
  // A token acting for the non-admin bob reaches bob's own, never alice's.
  const Authority bob{.scopes = {"oauth.user.w"}, .user_id = "bob", .roles = "user"};
  EXPECT_EQ(access_.Sessions("alice", bob).error().code, "ERR11620");
  EXPECT_EQ(access_.RevokeSession("alice", "sid-1", "bob", bob).error().code, "ERR11620");
  EXPECT_EQ(access_.RevokeConsent("alice", "c1", "bob", bob).error().code, "ERR11620");
  EXPECT_TRUE(sessions_.Contains("k1"));
  EXPECT_TRUE(access_.Sessions("bob", bob));
  EXPECT_TRUE(calls_.empty());
}

TEST_F(UserAccessTest, EndingSessionsWithoutGrantRevocationIsRefused) {
  // Without the hooks that end a session's refresh tokens, nothing ends at all.
  UserAccess bare(db_, users_, sessions_, consents_, audit_, clock_, {});
  EXPECT_EQ(bare.RevokeSession("alice", "sid-1", "admin", admin_).error().http_status, 500);
  EXPECT_EQ(bare.RevokeSessions("alice", "admin", admin_).error().http_status, 500);
  EXPECT_TRUE(sessions_.Contains("k1"));
  EXPECT_TRUE(sessions_.Contains("k2"));
}

}  // namespace
}  // namespace portcullis::oauth
