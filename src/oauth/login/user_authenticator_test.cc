// LocalUserAuthenticator over the in-memory user store.
#include "oauth/login/user_authenticator.h"

#include <gtest/gtest.h>

#include "oauth/credentials/secret_hash.h"
#include "oauth/user/memory_user_store.h"
#include "store/fake_database.h"

namespace portcullis::oauth {
namespace {

// light-oauth2's seed row for `admin` / `123456` (reference §2.4).
constexpr std::string_view kAdminPbkdf2 =
    "1000:5b39342c202d37372c203132302c202d3132302c2034372c2032332c2034352c202d34342c202d31362c"
    "2034372c202d35392c202d35362c2039302c202d352c202d38322c202d32385d:949e6fcf9c4bb8a3d6a8c141a3"
    "a9182a572fb95fe8ccdc93b54ba53df8ef2e930f7b0348590df0d53f242ccceeae03aef6d273a34638b49c559ada"
    "110ec06992";

class UserAuthenticatorTest : public ::testing::Test {
 protected:
  void Add(std::string id, std::string hash, bool locked = false, bool must_change = false) {
    User u{id, "employee", "", "", id + "@example.com", std::move(hash), "user", locked, 1, 1};
    u.password_change_required = must_change;
    auto st = db_.Transact([&](store::Tx& tx) { return store_.Insert(tx, u); });
    ASSERT_TRUE(st) << st.error().detail;
  }
  std::string StoredHash(const std::string& id) { return store_.Find(id)->value().password_hash; }

  store::FakeDatabase db_;
  MemoryUserStore store_;
  ManualClock clock_;
  LoginThrottle throttle_{clock_, 3, 300, 10};
  audit::MemoryAuditLog audit_;
  LocalUserAuthenticator auth_{db_, store_, throttle_, audit_, &clock_};
};

TEST_F(UserAuthenticatorTest, ChecksThePasswordAndUpgradesALegacyHash) {
  Add("admin", std::string(kAdminPbkdf2));
  auto wrong = auth_.AuthenticateFrom("admin", "1234567", "10.0.0.1");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, "ERR12016");
  EXPECT_EQ(StoredHash("admin"), kAdminPbkdf2);
  auto ok = auth_.AuthenticateFrom("admin", "123456", "10.0.0.1");
  ASSERT_TRUE(ok) << ok.error().description;
  EXPECT_EQ(ok->user_id, "admin");
  EXPECT_EQ(ok->user_type, "employee");
  EXPECT_EQ(ok->roles, "user");
  const std::string upgraded = StoredHash("admin");
  EXPECT_TRUE(upgraded.starts_with("$argon2id$"));
  EXPECT_TRUE(VerifyPassword("123456", upgraded));
  ASSERT_TRUE(auth_.Authenticate("admin", "123456"));
  EXPECT_EQ(StoredHash("admin"), upgraded);  // upgraded once
}

// Unknown user, wrong password and locked account answer alike.
TEST_F(UserAuthenticatorTest, UnknownWrongAndLockedAreOneError) {
  auto hash = HashPassword("right-password");
  ASSERT_TRUE(hash);
  Add("alice", *hash);
  Add("locked", *hash, true);
  for (auto [id, pw] : {std::pair{"nobody", "right-password"}, std::pair{"alice", "wrong-password"},
                        std::pair{"locked", "right-password"}}) {
    auto r = auth_.Authenticate(id, pw);
    ASSERT_FALSE(r) << id;
    EXPECT_EQ(r.error().code, "ERR12016") << id;
    EXPECT_EQ(r.error().description, "The user name or password is incorrect.") << id;
  }
  EXPECT_TRUE(auth_.Authenticate("alice", "right-password"));
  // A session's account: a locked or unknown one is gone.
  auto found = auth_.Find("alice");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->roles, "user");
  EXPECT_EQ(auth_.Find("locked").error().code, "ERR12013");
  EXPECT_EQ(auth_.Find("nobody").error().code, "ERR12013");
}

TEST_F(UserAuthenticatorTest, FailuresAreThrottledPerAccountAndAddress) {
  auto hash = HashPassword("right-password");
  ASSERT_TRUE(hash);
  Add("alice", *hash);
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(auth_.AuthenticateFrom("alice", "wrong", "10.0.0.1"));
  auto limited = auth_.AuthenticateFrom("alice", "right-password", "10.0.0.1");
  ASSERT_FALSE(limited);
  EXPECT_EQ(limited.error().http_status, 429);
  // The real user, from another address, is not locked out.
  EXPECT_TRUE(auth_.AuthenticateFrom("alice", "right-password", "10.0.0.2"));
}

// A store failure is not a failed guess: the tokens go back.
TEST_F(UserAuthenticatorTest, AStoreOutageCountsNoAttempt) {
  auto hash = HashPassword("right-password");
  ASSERT_TRUE(hash);
  Add("alice", *hash);
  for (int i = 0; i < 5; ++i) {
    store_.fail_next_calls(1);
    auto r = auth_.AuthenticateFrom("alice", "right-password", "10.0.0.1");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().http_status, 503);
  }
  EXPECT_TRUE(auth_.AuthenticateFrom("alice", "right-password", "10.0.0.1"));
}

// A password set by someone else (first run) is refused until replaced; the replacement checks
// the current password, the policy, the confirmation and that it differs, then clears the flag.
TEST_F(UserAuthenticatorTest, ARequiredPasswordChangeBlocksSignInUntilReplaced) {
  auto hash = HashPassword("first-run-password");
  ASSERT_TRUE(hash);
  Add("admin", *hash, false, true);
  auto r = auth_.AuthenticateFrom("admin", "first-run-password", "10.0.0.1");
  ASSERT_FALSE(r);
  EXPECT_TRUE(IsPasswordChangeRequired(r.error()));
  EXPECT_EQ(r.error().oauth_error, "invalid_grant");
  // A wrong password still says only that it is wrong.
  r = auth_.AuthenticateFrom("admin", "wrong-password", "10.0.0.1");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "ERR12016");
  // No session stands for such a user.
  EXPECT_FALSE(auth_.Find("admin"));

  auto replace = [&](const char* current, const char* next, const char* confirm) {
    return auth_.ReplaceRequiredPassword("admin", current, next, confirm, "10.0.0.2");
  };
  EXPECT_EQ(replace("first-run-password", "short", "short").error().code, "ERR11004");
  EXPECT_EQ(replace("first-run-password", "a new password", "a new passw0rd").error().code,
            "ERR12012");
  EXPECT_EQ(replace("first-run-password", "first-run-password", "first-run-password").error().code,
            "ERR11004");
  EXPECT_EQ(replace("not-the-password", "a new password", "a new password").error().code,
            "ERR12016");
  EXPECT_EQ(StoredHash("admin"), *hash);
  // Refused replacements leave no audit row.
  EXPECT_EQ(audit_.List({})->total, 0);

  clock_.Set(1'700'000'123);
  auto ok = replace("first-run-password", "a new password", "a new password");
  ASSERT_TRUE(ok) << ok.error().description;
  // The change is in the audit log, by the user itself, without the hash or the password.
  auto page = audit_.List({});
  ASSERT_TRUE(page);
  ASSERT_EQ(page->total, 1);
  const audit::Row& row = page->entries[0];
  EXPECT_EQ(row.action, "user.password");
  EXPECT_EQ(row.actor, "user:admin");
  EXPECT_EQ(row.entity_kind, "user");
  EXPECT_EQ(row.entity_id, "admin");
  EXPECT_EQ(row.at, 1'700'000'123);
  EXPECT_TRUE(row.before_json.empty());
  EXPECT_NE(row.after_json.find("\"passwordChangeRequired\":false"), std::string::npos)
      << row.after_json;
  EXPECT_EQ(row.after_json.find("argon2"), std::string::npos);
  EXPECT_EQ(row.after_json.find("a new password"), std::string::npos);
  EXPECT_EQ(ok->user_id, "admin");
  EXPECT_FALSE(store_.Find("admin")->value().password_change_required);
  EXPECT_TRUE(auth_.AuthenticateFrom("admin", "a new password", "10.0.0.3"));
  EXPECT_FALSE(auth_.AuthenticateFrom("admin", "first-run-password", "10.0.0.3"));
  EXPECT_TRUE(auth_.Find("admin"));
  // The form is stale now.
  EXPECT_EQ(replace("a new password", "another password", "another password").error().oauth_error,
            "invalid_request");
}

}  // namespace
}  // namespace portcullis::oauth
