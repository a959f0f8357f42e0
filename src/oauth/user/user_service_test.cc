#include "oauth/user/user_service.h"

#include <gtest/gtest.h>

#include "oauth/audit/audit.h"
#include "oauth/client/registry_testing.h"
#include "oauth/client/validation.h"
#include "oauth/credentials/secret_hash.h"

namespace portcullis::oauth {
namespace {

using testing::RegistryDbTest;

// light-oauth2's seed row for `admin` / `123456` (reference §2.4).
constexpr std::string_view kAdminPbkdf2 =
    "1000:5b39342c202d37372c203132302c202d3132302c2034372c2032332c2034352c202d34342c202d31362c"
    "2034372c202d35392c202d35362c2039302c202d352c202d38322c202d32385d:949e6fcf9c4bb8a3d6a8c141a3"
    "a9182a572fb95fe8ccdc93b54ba53df8ef2e930f7b0348590df0d53f242ccceeae03aef6d273a34638b49c559ada"
    "110ec06992";

class UserServiceTest : public RegistryDbTest {
 protected:
  void SetUp() override {
    RegistryDbTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    users_ = std::make_unique<UserService>(*db_, clock_);
  }

  static UserPatch NewUser(std::string id, std::string email, std::string pw = "s3cret-pass") {
    UserPatch p;
    p.user_id = std::move(id);
    p.user_type = "customer";
    p.first_name = "First";
    p.last_name = "Last";
    p.email = std::move(email);
    p.roles = "user";
    p.password = Secret(pw);
    p.password_confirm = Secret(pw);
    return p;
  }

  void InsertLegacyAdmin() {
    ASSERT_TRUE(
        db_->Exec("INSERT INTO users (user_id, user_type, first_name, last_name, email, "
                  "password_hash, roles, created_at, updated_at) VALUES ('admin', "
                  "'admin', 'admin', 'admin', 'admin@networknt.com', $1, 'user admin', "
                  "1, 1)",
                  {std::string(kAdminPbkdf2)}));
  }

  std::string StoredHash(const std::string& id) {
    auto row = db_->QueryRow("SELECT password_hash FROM users WHERE user_id = $1", {id});
    return row && *row ? (**row).Str(0) : "";
  }

  ManualClock clock_;
  std::unique_ptr<UserService> users_;
};

// Reference §16.5, at the domain level.
TEST_P(UserServiceTest, LightOauth2Scenarios) {
  InsertLegacyAdmin();
  auto created = users_->Create(NewUser("delete", "delete@example.com"), "t");
  ASSERT_TRUE(created) << created.error().description;
  EXPECT_TRUE(created->password_hash.starts_with("$argon2id$"));
  for (int i = 1; i <= 12; ++i) {
    char id[8];
    std::snprintf(id, sizeof id, "test%02d", i);
    ASSERT_TRUE(users_->Create(NewUser(id, std::string(id) + "@example.com"), "t"));
  }
  // userId admin again (new email) -> ERR12020; existing email -> ERR12021.
  EXPECT_EQ(users_->Create(NewUser("admin", "new@example.com"), "t").error().code, "ERR12020");
  EXPECT_EQ(users_->Create(NewUser("other", "admin@networknt.com"), "t").error().code, "ERR12021");
  EXPECT_EQ(users_->Create(NewUser("other", "ADMIN@networknt.com"), "t").error().code, "ERR12021");
  auto missing = NewUser("other", "other@example.com");
  missing.password.reset();
  EXPECT_EQ(users_->Create(missing, "t").error().code, "ERR12011");
  auto mismatch = NewUser("other", "other@example.com");
  mismatch.password_confirm = Secret("different-pass");
  EXPECT_EQ(users_->Create(mismatch, "t").error().code, "ERR12012");
  // The email check comes first, as upstream.
  auto both = NewUser("admin", "admin@networknt.com");
  both.password.reset();
  EXPECT_EQ(users_->Create(both, "t").error().code, "ERR12021");

  UserPatch rename;
  rename.first_name = "Steve";
  auto updated = users_->Update("admin", rename, "t");
  ASSERT_TRUE(updated);
  EXPECT_EQ(updated->first_name, "Steve");
  EXPECT_EQ(updated->email, "admin@networknt.com");
  EXPECT_EQ(StoredHash("admin"), kAdminPbkdf2);  // PUT keeps the password
  EXPECT_EQ(users_->Update("nobody", rename, "t").error().code, "ERR12013");

  auto page = users_->List("", 0, 10);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->total, 14);
  ASSERT_EQ(page->users.size(), 10u);
  EXPECT_EQ(page->users[0].user_id, "admin");
  page = users_->List("", 10, 10);
  ASSERT_TRUE(page);
  EXPECT_GE(page->users.size(), 3u);
  EXPECT_LE(page->users.size(), 5u);
  page = users_->List("test", 10, 10);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->users.size(), 2u);
  EXPECT_EQ(page->total, 12);

  EXPECT_EQ(users_->Get("admin")->user_type, "admin");
  EXPECT_EQ(users_->Get("nobody").error().code, "ERR12013");
  ASSERT_TRUE(users_->Delete("delete", "t"));
  EXPECT_EQ(users_->Delete("delete", "t").error().code, "ERR12013");
}

TEST_P(UserServiceTest, PasswordChangeVerifiesLegacyHashAndStoresArgon2id) {
  InsertLegacyAdmin();
  PasswordChange wrong{Secret("1234567"), Secret("new-password-1"), Secret("new-password-1")};
  auto st = users_->ChangePassword("admin", wrong, "t");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, "ERR12016");
  EXPECT_EQ(st.error().message, "INCORRECT_PASSWORD");
  EXPECT_EQ(st.error().http_status, 401);

  PasswordChange mismatch{Secret("123456"), Secret("new-password-1"), Secret("new-password-2")};
  st = users_->ChangePassword("admin", mismatch, "t");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message, "PASSWORD_PASSWORDCONFIRM_NOT_MATCH");

  PasswordChange weak{Secret("123456"), Secret("short"), Secret("short")};
  EXPECT_EQ(users_->ChangePassword("admin", weak, "t").error().description,
            "newPassword: at least 8 characters");
  EXPECT_EQ(users_->ChangePassword("nobody", weak, "t").error().code, "ERR12013");

  PasswordChange ok{Secret("123456"), Secret("new-password-1"), Secret("new-password-1")};
  ASSERT_TRUE(users_->ChangePassword("admin", ok, "t"));
  std::string stored = StoredHash("admin");
  EXPECT_TRUE(stored.starts_with("$argon2id$"));
  EXPECT_TRUE(VerifyPassword("new-password-1", stored));
  EXPECT_FALSE(VerifyPassword("123456", stored));
  EXPECT_TRUE(users_->Authenticate("admin", Secret("new-password-1")));

  auto entries = audit::List(*db_, {.action = "user.password"});
  ASSERT_TRUE(entries && entries->entries.size() == 1);
  EXPECT_EQ(entries->entries[0].after_json.find("new-password-1"), std::string::npos);
  EXPECT_EQ(entries->entries[0].after_json.find("argon2"), std::string::npos);
}

TEST_P(UserServiceTest, AdministratorResetSetsAnArgon2idHash) {
  InsertLegacyAdmin();
  EXPECT_EQ(users_->SetPassword("admin", Secret("short"), "cli").error().description,
            "password: at least 8 characters");
  EXPECT_EQ(users_->SetPassword("nobody", Secret("long-enough-1"), "cli").error().code, "ERR12013");
  ASSERT_TRUE(users_->SetPassword("admin", Secret("long-enough-1"), "cli"));
  EXPECT_TRUE(users_->Authenticate("admin", Secret("long-enough-1")));
  EXPECT_FALSE(users_->Authenticate("admin", Secret("123456")));
  auto e = audit::List(*db_, {.action = "user.set_password"});
  ASSERT_TRUE(e && e->entries.size() == 1);
  EXPECT_EQ(e->entries[0].actor, "cli");
}

TEST_P(UserServiceTest, AuthenticateUpgradesLegacyHashOnFirstSuccess) {
  InsertLegacyAdmin();
  EXPECT_EQ(users_->Authenticate("admin", Secret("wrong")).error().code, "ERR12016");
  EXPECT_EQ(StoredHash("admin"), kAdminPbkdf2);
  auto u = users_->Authenticate("admin", Secret("123456"));
  ASSERT_TRUE(u) << u.error().description;
  EXPECT_EQ(u->roles, "user admin");
  std::string stored = StoredHash("admin");
  EXPECT_TRUE(stored.starts_with("$argon2id$"));
  EXPECT_TRUE(VerifyPassword("123456", stored));
  EXPECT_TRUE(users_->Authenticate("admin", Secret("123456")));
  EXPECT_EQ(StoredHash("admin"), stored);  // no second rehash
  EXPECT_EQ(users_->Authenticate("nobody", Secret("123456")).error().code, "ERR12013");
}

TEST_P(UserServiceTest, ValidationAndHostileInput) {
  auto p = NewUser("u1", "u1@example.com");
  p.user_type = "root";
  EXPECT_EQ(users_->Create(p, "t").error().description,
            "userType: 'root' is not one of admin, employee, customer, partner");
  p = NewUser("u1", "not-an-email");
  EXPECT_EQ(users_->Create(p, "t").error().description,
            "email: 'not-an-email' is not an e-mail address");
  p = NewUser("u1'; --", "u1@example.com");
  EXPECT_EQ(users_->Create(p, "t").error().description,
            "userId: may contain only letters, digits and . _ ~ @ + -");
  p = NewUser("u1", "u1@example.com", "short");
  EXPECT_EQ(users_->Create(p, "t").error().description, "password: at least 8 characters");
  p = NewUser("u1", "u1@example.com");
  p.first_name = std::string(33, 'x');
  EXPECT_EQ(users_->Create(p, "t").error().description, "firstName: at most 32 characters");
  p = NewUser("u1", "u1@example.com", "pässwörd-ünicode-☃");
  p.first_name = "Zoë";
  p.last_name = "O'Brien; DROP TABLE users";
  auto u = users_->Create(p, "t");
  ASSERT_TRUE(u) << u.error().description;
  EXPECT_EQ(users_->Get("u1")->last_name, "O'Brien; DROP TABLE users");
  EXPECT_TRUE(users_->Authenticate("u1", Secret("pässwörd-ünicode-☃")));
  EXPECT_EQ(Count("users"), 1);
}

TEST_P(UserServiceTest, DeleteTakesTheUsersRefreshTokens) {
  ASSERT_TRUE(users_->Create(NewUser("u1", "u1@example.com"), "t"));
  ASSERT_TRUE(
      db_->Exec("INSERT INTO clients (client_id, client_type, client_profile, "
                "client_name, owner_id, host, created_at, updated_at) VALUES ('c', "
                "'public', 'mobile', 'c', 'admin', 'h', 1, 1)"));
  ASSERT_TRUE(
      db_->Exec("INSERT INTO refresh_tokens (token_hash, family_id, client_id, user_id, "
                "created_at, expires_at) VALUES ('h1', 'f', 'c', 'u1', 1, 2), "
                "('h2', 'f2', 'c', 'u2', 1, 2)"));
  ASSERT_TRUE(users_->Delete("u1", "t"));
  EXPECT_EQ(Count("refresh_tokens"), 1);
  auto e = audit::List(*db_, {.entity_kind = "user", .action = "user.delete"});
  ASSERT_TRUE(e && e->entries.size() == 1);
  EXPECT_EQ(e->entries[0].before_json.find("argon2"), std::string::npos);
}

// Rights once cut stay cut: a password change, a reset and locking end the user's refresh
// tokens (revoked, family by family), unredeemed codes and SSO sessions, in the same
// transaction; other users keep theirs.
TEST_P(UserServiceTest, PasswordChangeResetAndLockEndTheUsersGrants) {
  ASSERT_TRUE(users_->Create(NewUser("u1", "u1@example.com"), "t"));
  ASSERT_TRUE(users_->Create(NewUser("u2", "u2@example.com"), "t"));
  ASSERT_TRUE(
      db_->Exec("INSERT INTO clients (client_id, client_type, client_profile, "
                "client_name, owner_id, host, created_at, updated_at) VALUES ('c', "
                "'public', 'mobile', 'c', 'admin', 'h', 1, 1)"));
  auto grant = [&](const std::string& user, const std::string& n) {
    ASSERT_TRUE(db_->Exec(
        "INSERT INTO refresh_tokens (token_hash, family_id, client_id, user_id, created_at, "
        "expires_at) VALUES ($1, $1, 'c', $2, 1, $3)",
        {"h" + n, user, clock_.Now() + 3600}));
    ASSERT_TRUE(
        db_->Exec("INSERT INTO auth_codes (code_hash, client_id, user_id, created_at, expires_at) "
                  "VALUES ($1, 'c', $2, 1, $3)",
                  {"c" + n, user, clock_.Now() + 300}));
    ASSERT_TRUE(
        db_->Exec("INSERT INTO sso_sessions (session_hash, user_id, created_at, expires_at) "
                  "VALUES ($1, $2, 1, $3)",
                  {"s" + n, user, clock_.Now() + 3600}));
  };
  auto live = [&](const std::string& user) {
    auto row = db_->QueryRow(
        "SELECT (SELECT count(*) FROM refresh_tokens WHERE user_id = $1 AND state = 'active')"
        " + (SELECT count(*) FROM auth_codes WHERE user_id = $1 AND expires_at > $2)"
        " + (SELECT count(*) FROM sso_sessions WHERE user_id = $1)",
        {user, clock_.Now()});
    return row && *row ? (**row).Int(0) : -1;
  };
  grant("u1", "1");
  grant("u2", "2");
  ASSERT_EQ(live("u1"), 3);
  PasswordChange change{Secret("s3cret-pass"), Secret("n3w-passphrase"), Secret("n3w-passphrase")};
  ASSERT_TRUE(users_->ChangePassword("u1", change, "t"));
  EXPECT_EQ(live("u1"), 0);
  EXPECT_EQ(live("u2"), 3);
  // A failed change ends nothing.
  grant("u1", "3");
  EXPECT_FALSE(users_->ChangePassword("u1", change, "t"));  // wrong current password now
  EXPECT_EQ(live("u1"), 3);
  ASSERT_TRUE(users_->SetPassword("u1", Secret("r3set-passphrase"), "t"));
  EXPECT_EQ(live("u1"), 0);

  grant("u1", "4");
  UserPatch lock;
  lock.locked = true;
  auto locked = users_->Update("u1", lock, "t");
  ASSERT_TRUE(locked) << locked.error().description;
  EXPECT_TRUE(locked->locked);
  EXPECT_TRUE(users_->Get("u1")->locked);
  EXPECT_EQ(live("u1"), 0);
  EXPECT_EQ(live("u2"), 3);
  // A locked account does not authenticate, even with its password.
  auto a = users_->Authenticate("u1", Secret("r3set-passphrase"));
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, "ERR12016");
  UserPatch unlock;
  unlock.locked = false;
  ASSERT_TRUE(users_->Update("u1", unlock, "t"));
  EXPECT_TRUE(users_->Authenticate("u1", Secret("r3set-passphrase")));
}

INSTANTIATE_TEST_SUITE_P(Backends, UserServiceTest, testing::kRegistryBackends,
                         testing::BackendName);

}  // namespace
}  // namespace portcullis::oauth
