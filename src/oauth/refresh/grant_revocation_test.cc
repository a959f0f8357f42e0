// GrantRevocation over fake stores (and over the SQL stores in
// src/store/sql/refresh_token_store_test.cc).
#include "oauth/refresh/grant_revocation.h"

#include <gtest/gtest.h>

#include "oauth/code/memory_code_store.h"
#include "oauth/code/memory_session_store.h"
#include "oauth/device/memory_device_store.h"
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

  void AddApprovedDevice(std::string hash, std::string user, std::string client) {
    DeviceGrant g;
    g.device_code_hash = hash;
    g.user_code_hash = "u-" + hash;
    g.client_id = std::move(client);
    g.expires_at = 1000;
    ASSERT_TRUE(devices_.Insert(g).value());
    DeviceApproval who;
    who.user_id = std::move(user);
    ASSERT_TRUE(devices_.Decide("u-" + hash, true, who, 100).value());
  }
  int64_t DeviceExpiry(std::string_view hash) {
    int64_t out = -1;
    EXPECT_TRUE(db_.Transact([&](store::Tx& tx) -> Status {
      auto g = devices_.Lock(tx, hash);
      if (!g) return Fail(g.error());
      if (*g) out = (*g)->expires_at;
      return {};
    }));
    return out;
  }

  store::FakeDatabase db_;
  MemoryRefreshTokenStore tokens_;
  MemoryAuthCodeStore codes_;
  MemorySessionStore sessions_;
  MemoryDeviceGrantStore devices_;
  GrantRevocation revocation_{tokens_, codes_, sessions_, devices_};
};

TEST_F(GrantRevocationTest, RevokeUserClientGrantsEndsOnlyThatClientsGrants) {
  AddToken("t1", "alice", "app1");
  AddToken("t2", "alice", "app2");
  AddToken("t3", "bob", "app1");
  AddCode("c1", "alice", "app1");
  AddCode("c2", "alice", "app2");
  AddApprovedDevice("d1", "alice", "app1");
  AddApprovedDevice("d2", "alice", "app2");
  ASSERT_TRUE(db_.Transact(
      [&](store::Tx& tx) { return revocation_.RevokeUserClientGrants(tx, "alice", "app1", 500); }));
  EXPECT_EQ(DeviceExpiry("d1"), 500);
  EXPECT_EQ(DeviceExpiry("d2"), 1000);
  EXPECT_EQ(StateOf("t1"), "revoked");
  EXPECT_EQ((*tokens_.Find("t1"))->rotated_at, 500);
  EXPECT_EQ(StateOf("t2"), "active");
  EXPECT_EQ(StateOf("t3"), "active");
  EXPECT_EQ(codes_.Get("c1")->code.expires_at, 500);
  EXPECT_EQ(codes_.Get("c2")->code.expires_at, 1000);
}

TEST_F(GrantRevocationTest, RevokeUserGrantsEndsTokensCodesAndSessionsOfThatUserOnly) {
  AddToken("t1", "alice", "app1");
  AddToken("t2", "bob", "app1");
  AddCode("c1", "alice", "app2");
  AddApprovedDevice("d1", "alice", "app1");
  AddApprovedDevice("d2", "bob", "app1");
  ASSERT_TRUE(sessions_.Insert("s-alice", SsoSession{.user_id = "alice", .expires_at = 2000}));
  ASSERT_TRUE(sessions_.Insert("s-bob", SsoSession{.user_id = "bob", .expires_at = 2000}));
  ASSERT_TRUE(
      db_.Transact([&](store::Tx& tx) { return revocation_.RevokeUserGrants(tx, "alice", 500); }));
  EXPECT_EQ(StateOf("t1"), "revoked");
  EXPECT_EQ(StateOf("t2"), "active");
  EXPECT_EQ(codes_.Get("c1")->code.expires_at, 500);
  EXPECT_EQ(DeviceExpiry("d1"), 500);
  EXPECT_EQ(DeviceExpiry("d2"), 1000);
  EXPECT_FALSE(*sessions_.Find("s-alice", 100));
  EXPECT_TRUE(*sessions_.Find("s-bob", 100));
}

}  // namespace
}  // namespace portcullis::oauth
