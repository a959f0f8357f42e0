// RefreshTokenAdmin over fake stores; the SQL behind them is covered by the contract tests
// (src/store/sql/refresh_token_store_test.cc).
#include "oauth/refresh/refresh_admin.h"

#include <gtest/gtest.h>

#include "oauth/audit/audit.h"
#include "oauth/credentials/token_hash.h"
#include "oauth/refresh/memory_refresh_token_store.h"
#include "store/fake_database.h"

namespace portcullis::oauth {
namespace {

// The refresh token light-oauth2's tests preload (reference §16).
constexpr std::string_view kToken = "86c0a39f-0789-4b71-9fed-d99fe6dc9281";

class RefreshAdminTest : public ::testing::Test {
 protected:
  void Insert(std::string hash, std::string family, std::string user, std::string state,
              int64_t created, int64_t expires) {
    RefreshToken t;
    t.token_hash = std::move(hash);
    t.family_id = std::move(family);
    t.client_id = "c1";
    t.user_id = std::move(user);
    t.user_type = "admin";
    t.roles = "user admin";
    t.scope = "petstore.r";
    t.remember = "Y";
    t.state = std::move(state);
    t.created_at = created;
    t.expires_at = expires;
    auto st = db_.Transact("test", [&](store::Tx& tx) { return tokens_.Insert(tx, t); });
    ASSERT_TRUE(st) << st.error().detail;
  }

  bool Has(std::string_view hash) {
    auto r = tokens_.Find(hash);
    return r && *r;
  }

  ManualClock clock_;
  store::FakeDatabase db_;
  MemoryRefreshTokenStore tokens_;
  audit::MemoryAuditLog audit_;
  RefreshTokenAdmin admin_{db_, tokens_, audit_, clock_};
};

// Reference §16.7.
TEST_F(RefreshAdminTest, LightOauth2Scenarios) {
  int64_t now = clock_.Now();
  Insert(TokenHash(kToken), "fam1", "admin", "active", now - 10, now + 1000);
  Insert("old-rotated-hash", "fam1", "admin", "rotated", now - 20, now + 1000);
  Insert("steve-hash", "fam2", "steve", "active", now - 5, now + 1000);
  Insert("expired-hash", "fam3", "admin", "active", now - 5000, now - 1);

  auto list = admin_.List({}, 0, 10);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->tokens.size(), 2u);  // active and unexpired only
  EXPECT_EQ(list->total, 2);
  EXPECT_EQ(list->tokens[0].user_id, "admin");
  EXPECT_EQ(list->tokens[1].user_id, "steve");
  list = admin_.List({.user_id_prefix = "st"}, 0, 10);
  ASSERT_EQ(list->tokens.size(), 1u);
  EXPECT_EQ(list->total, 1);
  list = admin_.List({}, 1, 10);
  ASSERT_EQ(list->tokens.size(), 1u);
  EXPECT_EQ(list->total, 2);  // every match, not this page's
  EXPECT_EQ(list->tokens[0].user_id, "steve");
  EXPECT_EQ(admin_.List({.client_id = "c1"}, 0, 10)->total, 2);
  EXPECT_EQ(admin_.List({.client_id = "c2"}, 0, 10)->total, 0);
  EXPECT_EQ(admin_.CountActive().value(), 2);

  auto got = admin_.Get(kToken);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->client_id, "c1");
  EXPECT_EQ(got->remember, "Y");
  auto json = RefreshTokenToJson(*got);
  EXPECT_EQ(json["refreshToken"].as_string(), TokenHash(kToken));  // the handle, never the token
  EXPECT_EQ(admin_.Get(TokenHash(kToken))->family_id, "fam1");     // by handle too
  auto fake = admin_.Get("fake");
  ASSERT_FALSE(fake);
  EXPECT_EQ(fake.error().code, "ERR12029");
  EXPECT_EQ(fake.error().http_status, 404);
  EXPECT_EQ(admin_.Get("").error().code, "ERR12029");
  EXPECT_EQ(admin_.Get(std::string(1025, 'x')).error().code, "ERR12029");

  ASSERT_TRUE(admin_.Delete(kToken, "ops"));
  EXPECT_FALSE(Has(TokenHash(kToken)));  // the whole family
  EXPECT_FALSE(Has("old-rotated-hash"));
  EXPECT_EQ(tokens_.size(), 2u);
  EXPECT_EQ(admin_.Delete(kToken, "ops").error().code, "ERR12029");
  EXPECT_EQ(admin_.Delete("fake", "ops").error().code, "ERR12029");
  ASSERT_TRUE(admin_.Delete("steve-hash", "ops"));  // by handle
  auto entries = audit_.List({.action = "refresh_token.delete"});
  ASSERT_TRUE(entries && entries->entries.size() == 2);
  EXPECT_EQ(entries->entries[1].before_json.find(kToken), std::string::npos);
  EXPECT_NE(entries->entries[1].before_json.find("\"familySize\":2"), std::string::npos);
  EXPECT_EQ(entries->entries[1].actor, "ops");
  // The family's deletion is announced, once per family, after the transaction.
  std::vector<std::pair<std::string, std::string>> expected = {{"refresh_token", "fam1"},
                                                               {"refresh_token", "fam2"}};
  EXPECT_EQ(db_.notified(), expected);
}

TEST_F(RefreshAdminTest, JsonNamesTheRowByItsHashAndShowsNoneAsNull) {
  RefreshTokenInfo t;
  t.token_hash = "h";
  t.family_id = "f";
  t.client_id = "c";
  t.remember = "";
  t.state = "active";
  auto json = RefreshTokenToJson(t);
  EXPECT_EQ(json["tokenHash"].as_string(), "h");
  EXPECT_EQ(json["refreshToken"].as_string(), "h");
  EXPECT_TRUE(json["userId"].is_null());
  EXPECT_TRUE(json["scope"].is_null());
  EXPECT_EQ(json["remember"].as_string(), "N");
}

}  // namespace
}  // namespace portcullis::oauth
