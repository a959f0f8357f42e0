#include "oauth/refresh/refresh_admin.h"

#include <gtest/gtest.h>

#include "oauth/audit/audit.h"
#include "oauth/client/registry_testing.h"
#include "oauth/credentials/token_hash.h"

namespace portcullis::oauth {
namespace {

// The refresh token light-oauth2's tests preload (reference §16).
constexpr std::string_view kToken = "86c0a39f-0789-4b71-9fed-d99fe6dc9281";

class RefreshAdminTest : public testing::RegistryDbTest {
 protected:
  void SetUp() override {
    RegistryDbTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    admin_ = std::make_unique<RefreshTokenAdmin>(*db_, clock_);
    ASSERT_TRUE(
        db_->Exec("INSERT INTO clients (client_id, client_type, client_profile, "
                  "client_name, owner_id, host, created_at, updated_at) VALUES ('c1', "
                  "'trusted', 'mobile', 'c', 'admin', 'h', 1, 1)"));
  }

  void Insert(std::string hash, std::string family, std::string user, std::string state,
              int64_t created, int64_t expires) {
    ASSERT_TRUE(db_->Exec(
        "INSERT INTO refresh_tokens (token_hash, family_id, client_id, user_id, user_type, "
        "roles, scope, remember, state, created_at, expires_at) VALUES ($1, $2, 'c1', $3, "
        "'admin', 'user admin', 'petstore.r', 'Y', $4, $5, $6)",
        {hash, family, user, state, created, expires}));
  }

  ManualClock clock_;
  std::unique_ptr<RefreshTokenAdmin> admin_;
};

// Reference §16.7.
TEST_P(RefreshAdminTest, LightOauth2Scenarios) {
  int64_t now = clock_.Now();
  Insert(TokenHash(kToken), "fam1", "admin", "active", now - 10, now + 1000);
  Insert("old-rotated-hash", "fam1", "admin", "rotated", now - 20, now + 1000);
  Insert("steve-hash", "fam2", "steve", "active", now - 5, now + 1000);
  Insert("expired-hash", "fam3", "admin", "active", now - 5000, now - 1);

  auto list = admin_->List("", 0, 10);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);  // active and unexpired only
  EXPECT_EQ((*list)[0].user_id, "admin");
  EXPECT_EQ((*list)[1].user_id, "steve");
  list = admin_->List("st", 0, 10);
  ASSERT_EQ(list->size(), 1u);
  list = admin_->List("", 1, 10);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].user_id, "steve");

  auto got = admin_->Get(kToken);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->client_id, "c1");
  EXPECT_EQ(got->remember, "Y");
  auto json = RefreshTokenToJson(*got);
  EXPECT_EQ(json["refreshToken"].as_string(), TokenHash(kToken));  // the handle, never the token
  EXPECT_EQ(admin_->Get(TokenHash(kToken))->family_id, "fam1");    // by handle too
  auto fake = admin_->Get("fake");
  ASSERT_FALSE(fake);
  EXPECT_EQ(fake.error().code, "ERR12029");
  EXPECT_EQ(fake.error().http_status, 404);

  ASSERT_TRUE(admin_->Delete(kToken, "ops"));
  EXPECT_EQ(Count("refresh_tokens WHERE family_id = 'fam1'"), 0);  // the whole family
  EXPECT_EQ(Count("refresh_tokens"), 2);
  EXPECT_EQ(admin_->Delete(kToken, "ops").error().code, "ERR12029");
  EXPECT_EQ(admin_->Delete("fake", "ops").error().code, "ERR12029");
  ASSERT_TRUE(admin_->Delete("steve-hash", "ops"));  // by handle
  auto entries = audit::List(*db_, {.action = "refresh_token.delete"});
  ASSERT_TRUE(entries && entries->entries.size() == 2);
  EXPECT_EQ(entries->entries[1].before_json.find(kToken), std::string::npos);
  EXPECT_NE(entries->entries[1].before_json.find("\"familySize\":2"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, RefreshAdminTest, testing::kRegistryBackends,
                         testing::BackendName);

}  // namespace
}  // namespace portcullis::oauth
