// GrantRevocation over fake stores (RevokeUserGrants also deletes SSO sessions with SQL, so it
// is covered on the SQL stores: src/store/sql/refresh_token_store_test.cc).
#include "oauth/refresh/grant_revocation.h"

#include <gtest/gtest.h>

#include "oauth/code/memory_code_store.h"
#include "oauth/refresh/memory_refresh_token_store.h"
#include "store/fake_database.h"

namespace portcullis::oauth {
namespace {

class GrantRevocationTest : public ::testing::Test {
 protected:
  void AddToken(std::string hash, std::string user, std::string client) {
    RefreshToken t;
    t.token_hash = std::move(hash);
    t.family_id = "fam-" + t.token_hash;
    t.user_id = std::move(user);
    t.client_id = std::move(client);
    t.expires_at = 1000;
    ASSERT_TRUE(db_.Transact([&](store::Tx& tx) { return tokens_.Insert(tx, t); }));
  }
  void AddCode(std::string hash, std::string user, std::string client) {
    AuthCode c;
    c.code_hash = std::move(hash);
    c.user_id = std::move(user);
    c.client_id = std::move(client);
    c.expires_at = 1000;
    ASSERT_TRUE(codes_.Insert(c));
  }
  std::string StateOf(std::string_view hash) { return (*tokens_.Find(hash))->state; }

  store::FakeDatabase db_;
  MemoryRefreshTokenStore tokens_;
  MemoryAuthCodeStore codes_;
  GrantRevocation revocation_{tokens_, codes_};
};

TEST_F(GrantRevocationTest, RevokeUserClientGrantsEndsOnlyThatClientsGrants) {
  AddToken("t1", "alice", "app1");
  AddToken("t2", "alice", "app2");
  AddToken("t3", "bob", "app1");
  AddCode("c1", "alice", "app1");
  AddCode("c2", "alice", "app2");
  ASSERT_TRUE(db_.Transact(
      [&](store::Tx& tx) { return revocation_.RevokeUserClientGrants(tx, "alice", "app1", 500); }));
  EXPECT_EQ(StateOf("t1"), "revoked");
  EXPECT_EQ((*tokens_.Find("t1"))->rotated_at, 500);
  EXPECT_EQ(StateOf("t2"), "active");
  EXPECT_EQ(StateOf("t3"), "active");
  EXPECT_EQ(codes_.Get("c1")->code.expires_at, 500);
  EXPECT_EQ(codes_.Get("c2")->code.expires_at, 1000);
}

}  // namespace
}  // namespace portcullis::oauth
