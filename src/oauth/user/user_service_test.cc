// UserService over the in-memory fakes (MemoryUserStore, MemoryAuditLog, FakeDatabase). What the
// SQL store does with the rows (grants ended, rows deleted with the user) is covered on both
// backends by store/sql/user_store_test.cc.
#include "oauth/user/user_service.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "oauth/audit/audit.h"
#include "oauth/client/validation.h"
#include "oauth/credentials/secret_hash.h"
#include "oauth/login/throttle.h"
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

class UserServiceTest : public ::testing::Test {
 protected:
  UserServiceTest()
      : users_(db_, store_, audit_, clock_, nullptr,
               [this](store::Tx&, std::string_view user_id, int64_t now) -> Status {
                 revoked_.push_back(std::string(user_id) + "@" + std::to_string(now));
                 return {};
               }) {}

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

  // An imported light-oauth2 row, as the import writes it.
  void InsertLegacyAdmin() {
    User admin{
        "admin",      "admin", "admin", "admin", "admin@networknt.com", std::string(kAdminPbkdf2),
        "user admin", false,   1,       1};
    auto st = db_.Transact([&](store::Tx& tx) { return store_.Insert(tx, admin); });
    ASSERT_TRUE(st) << st.error().detail;
  }

  std::string StoredHash(const std::string& id) {
    auto u = store_.Find(id);
    return u && *u ? (*u)->password_hash : "";
  }

  int64_t UserCount() { return store_.List("", 0, 1000)->total; }

  store::FakeDatabase db_;
  MemoryUserStore store_;
  audit::MemoryAuditLog audit_;
  ManualClock clock_;
  std::vector<std::string> revoked_;  // "user@now" per RevokeGrants call
  UserService users_;
};

// Reference §16.5, at the domain level.
TEST_F(UserServiceTest, LightOauth2Scenarios) {
  InsertLegacyAdmin();
  auto created = users_.Create(NewUser("delete", "delete@example.com"), "t");
  ASSERT_TRUE(created) << created.error().description;
  EXPECT_TRUE(created->password_hash.starts_with("$argon2id$"));
  EXPECT_EQ(StoredHash("delete"), created->password_hash);
  for (int i = 1; i <= 12; ++i) {
    char id[8];
    std::snprintf(id, sizeof id, "test%02d", i);
    ASSERT_TRUE(users_.Create(NewUser(id, std::string(id) + "@example.com"), "t"));
  }
  // userId admin again (new email) -> ERR12020; existing email -> ERR12021.
  EXPECT_EQ(users_.Create(NewUser("admin", "new@example.com"), "t").error().code, "ERR12020");
  EXPECT_EQ(users_.Create(NewUser("other", "admin@networknt.com"), "t").error().code, "ERR12021");
  EXPECT_EQ(users_.Create(NewUser("other", "ADMIN@networknt.com"), "t").error().code, "ERR12021");
  auto missing = NewUser("other", "other@example.com");
  missing.password.reset();
  EXPECT_EQ(users_.Create(missing, "t").error().code, "ERR12011");
  auto mismatch = NewUser("other", "other@example.com");
  mismatch.password_confirm = Secret("different-pass");
  EXPECT_EQ(users_.Create(mismatch, "t").error().code, "ERR12012");
  // The email check comes first, as upstream.
  auto both = NewUser("admin", "admin@networknt.com");
  both.password.reset();
  EXPECT_EQ(users_.Create(both, "t").error().code, "ERR12021");

  UserPatch rename;
  rename.first_name = "Steve";
  clock_.Advance(10);
  auto updated = users_.Update("admin", rename, "t");
  ASSERT_TRUE(updated);
  EXPECT_EQ(updated->first_name, "Steve");
  EXPECT_EQ(updated->email, "admin@networknt.com");
  EXPECT_EQ(updated->updated_at, clock_.Now());
  EXPECT_EQ(store_.Find("admin")->value().first_name, "Steve");
  EXPECT_EQ(StoredHash("admin"), kAdminPbkdf2);  // PUT keeps the password
  EXPECT_EQ(users_.Update("nobody", rename, "t").error().code, "ERR12013");
  // Another user's address, in another case, is taken.
  UserPatch steal;
  steal.email = "Test01@Example.com";
  EXPECT_EQ(users_.Update("admin", steal, "t").error().code, "ERR12021");

  auto page = users_.List("", 0, 10);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->total, 14);
  ASSERT_EQ(page->users.size(), 10u);
  EXPECT_EQ(page->users[0].user_id, "admin");
  page = users_.List("", 10, 10);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->users.size(), 4u);
  page = users_.List("test", 10, 10);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->users.size(), 2u);
  EXPECT_EQ(page->total, 12);

  EXPECT_EQ(users_.Get("admin")->user_type, "admin");
  EXPECT_EQ(users_.Get("nobody").error().code, "ERR12013");
  ASSERT_TRUE(users_.Delete("delete", "t"));
  EXPECT_EQ(users_.Delete("delete", "t").error().code, "ERR12013");
  EXPECT_EQ(UserCount(), 13);

  // One audit entry per successful write, none for the refused ones.
  EXPECT_EQ(audit_.List({.action = "user.create"})->total, 13);
  EXPECT_EQ(audit_.List({.action = "user.update"})->total, 1);
  auto deleted = audit_.List({.entity_kind = "user", .action = "user.delete"});
  ASSERT_TRUE(deleted && deleted->entries.size() == 1);
  EXPECT_EQ(deleted->entries[0].entity_id, "delete");
  EXPECT_EQ(deleted->entries[0].before_json.find("argon2"), std::string::npos);
}

TEST_F(UserServiceTest, PasswordChangeVerifiesLegacyHashAndStoresArgon2id) {
  InsertLegacyAdmin();
  PasswordChange wrong{Secret("1234567"), Secret("new-password-1"), Secret("new-password-1")};
  auto st = users_.ChangePassword("admin", wrong, "t");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, "ERR12016");
  EXPECT_EQ(st.error().message, "INCORRECT_PASSWORD");
  EXPECT_EQ(st.error().http_status, 401);

  PasswordChange mismatch{Secret("123456"), Secret("new-password-1"), Secret("new-password-2")};
  st = users_.ChangePassword("admin", mismatch, "t");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message, "PASSWORD_PASSWORDCONFIRM_NOT_MATCH");

  PasswordChange weak{Secret("123456"), Secret("short"), Secret("short")};
  EXPECT_EQ(users_.ChangePassword("admin", weak, "t").error().description,
            "newPassword: at least 8 characters");
  EXPECT_EQ(users_.ChangePassword("nobody", weak, "t").error().code, "ERR12013");
  EXPECT_TRUE(revoked_.empty());

  PasswordChange ok{Secret("123456"), Secret("new-password-1"), Secret("new-password-1")};
  ASSERT_TRUE(users_.ChangePassword("admin", ok, "t"));
  std::string stored = StoredHash("admin");
  EXPECT_TRUE(stored.starts_with("$argon2id$"));
  EXPECT_TRUE(VerifyPassword("new-password-1", stored));
  EXPECT_FALSE(VerifyPassword("123456", stored));
  EXPECT_TRUE(users_.Authenticate("admin", Secret("new-password-1")));

  auto entries = audit_.List({.action = "user.password"});
  ASSERT_TRUE(entries && entries->entries.size() == 1);
  EXPECT_EQ(entries->entries[0].after_json.find("new-password-1"), std::string::npos);
  EXPECT_EQ(entries->entries[0].after_json.find("argon2"), std::string::npos);
}

// The current-password check is a password oracle: it shares the sign-in throttle.
TEST_F(UserServiceTest, PasswordChangeIsThrottledPerUser) {
  LoginThrottle throttle(clock_, 2, 300);
  UserService users(db_, store_, audit_, clock_, &throttle,
                    [](store::Tx&, std::string_view, int64_t) -> Status { return {}; });
  InsertLegacyAdmin();
  PasswordChange wrong{Secret("wrong-one"), Secret("new-password-1"), Secret("new-password-1")};
  EXPECT_EQ(users.ChangePassword("admin", wrong, "t").error().code, "ERR12016");
  EXPECT_EQ(users.ChangePassword("admin", wrong, "t").error().code, "ERR12016");
  auto limited = users.ChangePassword("admin", wrong, "t");
  ASSERT_FALSE(limited);
  EXPECT_EQ(limited.error().http_status, 429);
  EXPECT_GT(limited.error().retry_after, 0);
  // Even the right password waits until a token has grown back.
  PasswordChange ok{Secret("123456"), Secret("new-password-1"), Secret("new-password-1")};
  EXPECT_EQ(users.ChangePassword("admin", ok, "t").error().http_status, 429);
  clock_.Advance(300);
  EXPECT_TRUE(users.ChangePassword("admin", ok, "t"));
}

TEST_F(UserServiceTest, AdministratorResetSetsAnArgon2idHash) {
  InsertLegacyAdmin();
  EXPECT_EQ(users_.SetPassword("admin", Secret("short"), "cli").error().description,
            "password: at least 8 characters");
  EXPECT_EQ(users_.SetPassword("nobody", Secret("long-enough-1"), "cli").error().code, "ERR12013");
  ASSERT_TRUE(users_.SetPassword("admin", Secret("long-enough-1"), "cli"));
  EXPECT_TRUE(users_.Authenticate("admin", Secret("long-enough-1")));
  EXPECT_FALSE(users_.Authenticate("admin", Secret("123456")));
  auto e = audit_.List({.action = "user.set_password"});
  ASSERT_TRUE(e && e->entries.size() == 1);
  EXPECT_EQ(e->entries[0].actor, "cli");
}

TEST_F(UserServiceTest, AuthenticateUpgradesLegacyHashOnFirstSuccess) {
  InsertLegacyAdmin();
  EXPECT_EQ(users_.Authenticate("admin", Secret("wrong")).error().code, "ERR12016");
  EXPECT_EQ(StoredHash("admin"), kAdminPbkdf2);
  auto u = users_.Authenticate("admin", Secret("123456"));
  ASSERT_TRUE(u) << u.error().description;
  EXPECT_EQ(u->roles, "user admin");
  std::string stored = StoredHash("admin");
  EXPECT_TRUE(stored.starts_with("$argon2id$"));
  EXPECT_EQ(u->password_hash, stored);
  EXPECT_TRUE(VerifyPassword("123456", stored));
  EXPECT_EQ(store_.Find("admin")->value().updated_at, 1);  // the same password: no update
  EXPECT_TRUE(users_.Authenticate("admin", Secret("123456")));
  EXPECT_EQ(StoredHash("admin"), stored);  // no second rehash
  EXPECT_EQ(users_.Authenticate("nobody", Secret("123456")).error().code, "ERR12013");
  auto e = audit_.List({.action = "user.upgrade_password"});
  ASSERT_TRUE(e && e->entries.size() == 1);
  EXPECT_EQ(e->entries[0].actor, "system");
}

TEST_F(UserServiceTest, ValidationAndHostileInput) {
  auto p = NewUser("u1", "u1@example.com");
  p.user_type = "root";
  EXPECT_EQ(users_.Create(p, "t").error().description,
            "userType: 'root' is not one of admin, employee, customer, partner");
  p = NewUser("u1", "not-an-email");
  EXPECT_EQ(users_.Create(p, "t").error().description,
            "email: 'not-an-email' is not an e-mail address");
  p = NewUser("u1'; --", "u1@example.com");
  EXPECT_EQ(users_.Create(p, "t").error().description,
            "userId: may contain only letters, digits and . _ ~ @ + -");
  p = NewUser("u1", "u1@example.com", "short");
  EXPECT_EQ(users_.Create(p, "t").error().description, "password: at least 8 characters");
  p = NewUser("u1", "u1@example.com");
  p.first_name = std::string(33, 'x');
  EXPECT_EQ(users_.Create(p, "t").error().description, "firstName: at most 32 characters");
  // OpenID Connect fields: a telephone number, an address object of the §5.1.1 members.
  for (std::string bad : {"555-0100x", "++47 1", "12", "+47 555 0100;ext=", "tel:+4755501"}) {
    p = NewUser("u1", "u1@example.com");
    p.phone_number = bad;
    EXPECT_EQ(users_.Create(p, "t").error().description,
              "phoneNumber: must be a telephone number such as +1 555 0100")
        << bad;
  }
  p = NewUser("u1", "u1@example.com");
  p.phone_number_verified = true;
  EXPECT_EQ(users_.Create(p, "t").error().description, "phoneNumberVerified: needs a phoneNumber");
  for (std::string_view bad : {R"({"address":"Oslo"})", R"({"address":{"city":"Oslo"}})",
                               R"({"address":{"locality":1}})", R"({"emailVerified":"yes"})"}) {
    auto parsed = UserPatchFromJson(boost::json::parse(bad).as_object());
    EXPECT_FALSE(parsed) << bad;
  }
  p = NewUser("u1", "u1@example.com", "pässwörd-ünicode-☃");
  p.first_name = "Zoë";
  p.last_name = "O'Brien; DROP TABLE users";
  auto u = users_.Create(p, "t");
  ASSERT_TRUE(u) << u.error().description;
  EXPECT_EQ(users_.Get("u1")->last_name, "O'Brien; DROP TABLE users");
  EXPECT_TRUE(users_.Authenticate("u1", Secret("pässwörd-ünicode-☃")));
  EXPECT_EQ(UserCount(), 1);
}

// The OpenID Connect fields round-trip through JSON; a changed e-mail address or number is no
// longer verified unless the same change says so.
TEST_F(UserServiceTest, OpenIdConnectFieldsAndTheirVerification) {
  auto parsed = UserPatchFromJson(boost::json::parse(R"({"userId":"u1","userType":"customer",
      "email":"u1@example.com","password":"long-enough-1","passwordConfirm":"long-enough-1",
      "emailVerified":true,"phoneNumber":"+1 (555) 010-0100;ext=12","phoneNumberVerified":true,
      "address":{"country":"NO","locality":"Oslo","postal_code":""}})")
                                      .as_object());
  ASSERT_TRUE(parsed) << parsed.error().description;
  ASSERT_TRUE(users_.Create(*parsed, "t"));
  auto u = users_.Get("u1");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->email_verified);
  EXPECT_TRUE(u->phone_number_verified);
  EXPECT_EQ(u->address, R"({"locality":"Oslo","country":"NO"})");  // §5.1.1 order, no empties
  auto json = UserToJson(*u);
  EXPECT_EQ(json.at("emailVerified"), true);
  EXPECT_EQ(json.at("phoneNumber"), "+1 (555) 010-0100;ext=12");
  EXPECT_EQ(json.at("address"), (boost::json::object{{"locality", "Oslo"}, {"country", "NO"}}));

  UserPatch change;
  change.email = "new@example.com";
  ASSERT_TRUE(users_.Update("u1", change, "t"));
  u = users_.Get("u1");
  EXPECT_FALSE(u->email_verified);
  EXPECT_TRUE(u->phone_number_verified);  // untouched
  change = {};
  change.phone_number = "+1 555 0199";
  change.phone_number_verified = true;
  change.address = "";
  ASSERT_TRUE(users_.Update("u1", change, "t"));
  u = users_.Get("u1");
  EXPECT_TRUE(u->phone_number_verified);
  EXPECT_EQ(u->address, "");
  EXPECT_TRUE(UserToJson(*u).at("address").is_null());
}

// Rights once cut stay cut: a password change, a reset and locking end the user's grants in the
// write's transaction (RevokeGrants); a failed change, unlocking and other edits end nothing.
TEST_F(UserServiceTest, PasswordChangeResetAndLockEndTheUsersGrants) {
  ASSERT_TRUE(users_.Create(NewUser("u1", "u1@example.com"), "t"));
  ASSERT_TRUE(users_.Create(NewUser("u2", "u2@example.com"), "t"));
  const std::string at = "@" + std::to_string(clock_.Now());
  PasswordChange change{Secret("s3cret-pass"), Secret("n3w-passphrase"), Secret("n3w-passphrase")};
  ASSERT_TRUE(users_.ChangePassword("u1", change, "t"));
  EXPECT_EQ(revoked_, (std::vector<std::string>{"u1" + at}));
  EXPECT_FALSE(users_.ChangePassword("u1", change, "t"));  // wrong current password now
  EXPECT_EQ(revoked_.size(), 1u);
  ASSERT_TRUE(users_.SetPassword("u1", Secret("r3set-passphrase"), "t"));
  EXPECT_EQ(revoked_.size(), 2u);

  UserPatch rename;
  rename.last_name = "Other";
  ASSERT_TRUE(users_.Update("u1", rename, "t"));
  EXPECT_EQ(revoked_.size(), 2u);
  UserPatch lock;
  lock.locked = true;
  auto locked = users_.Update("u1", lock, "t");
  ASSERT_TRUE(locked) << locked.error().description;
  EXPECT_TRUE(locked->locked);
  EXPECT_TRUE(users_.Get("u1")->locked);
  ASSERT_EQ(revoked_.size(), 3u);
  EXPECT_EQ(revoked_[2], "u1" + at);
  // Locking a locked account again ends nothing more.
  ASSERT_TRUE(users_.Update("u1", lock, "t"));
  EXPECT_EQ(revoked_.size(), 3u);
  // A locked account does not authenticate, even with its password.
  auto a = users_.Authenticate("u1", Secret("r3set-passphrase"));
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, "ERR12016");
  UserPatch unlock;
  unlock.locked = false;
  ASSERT_TRUE(users_.Update("u1", unlock, "t"));
  EXPECT_EQ(revoked_.size(), 3u);
  EXPECT_TRUE(users_.Authenticate("u1", Secret("r3set-passphrase")));
}

// A failing revocation rolls the whole write back (here: the write is refused).
TEST_F(UserServiceTest, AFailedRevocationFailsTheWrite) {
  UserService users(db_, store_, audit_, clock_, nullptr,
                    [](store::Tx&, std::string_view, int64_t) -> Status {
                      return Fail(Error::Unavailable("revocation failed"));
                    });
  ASSERT_TRUE(users.Create(NewUser("u1", "u1@example.com"), "t"));
  EXPECT_FALSE(users.SetPassword("u1", Secret("r3set-passphrase"), "t"));
  UserPatch lock;
  lock.locked = true;
  EXPECT_FALSE(users.Update("u1", lock, "t"));
  EXPECT_EQ(audit_.List({.action = "user.set_password"})->total, 0);
  EXPECT_EQ(audit_.List({.action = "user.update"})->total, 0);
}

TEST_F(UserServiceTest, StoreOutagesAreReportedNotMasked) {
  ASSERT_TRUE(users_.Create(NewUser("u1", "u1@example.com"), "t"));
  store_.fail_next_calls(1);
  auto g = users_.Get("u1");
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().http_status, 503);
  store_.fail_next_calls(1);
  EXPECT_EQ(users_.Authenticate("u1", Secret("s3cret-pass")).error().http_status, 503);
  EXPECT_TRUE(users_.Get("u1"));
}

// An administrator's password for someone else can be marked for change at the first sign-in;
// only creation sets the mark (updates ignore it), and a new password clears it.
TEST_F(UserServiceTest, CreateCanRequireAPasswordChange) {
  UserPatch p = NewUser("temp", "temp@example.com");
  p.password_change_required = true;
  ASSERT_TRUE(users_.Create(p, "t"));
  EXPECT_TRUE(users_.Get("temp")->password_change_required);
  UserPatch clear;
  clear.password_change_required = false;
  clear.first_name = "Changed";
  ASSERT_TRUE(users_.Update("temp", clear, "t"));
  EXPECT_TRUE(users_.Get("temp")->password_change_required);
  ASSERT_TRUE(users_.SetPassword("temp", Secret("another-pass"), "t"));
  EXPECT_FALSE(users_.Get("temp")->password_change_required);
  ASSERT_TRUE(users_.Create(NewUser("plain", "plain@example.com"), "t"));
  EXPECT_FALSE(users_.Get("plain")->password_change_required);
}

// The admin API's reset: the user must choose a new password, their grants end, and who may do
// it follows authority.h (no non-admin user; an admin's password only for an admin or trust).
TEST_F(UserServiceTest, ResetPasswordRequiresAChangeAndChecksTheCaller) {
  ASSERT_TRUE(users_.Create(NewUser("bob", "bob@example.com"), "t"));
  UserPatch root = NewUser("root", "root@example.com");
  root.roles = "user admin";
  ASSERT_TRUE(users_.Create(root, "t"));
  Authority admin_user{.scopes = {"oauth.user.w"}, .user_id = "root", .roles = "user admin"};
  Authority client_only{.scopes = {"oauth.user.w"}};
  Authority trusted{.scopes = {"oauth.user.w"}, .trusted = true};
  Authority plain_user{.scopes = {"oauth.user.w"}, .user_id = "bob", .roles = "user"};
  revoked_.clear();

  EXPECT_EQ(users_.ResetPassword("bob", Secret("temporary-1"), "x", plain_user).error().code,
            "ERR11620");  // not even its own: that is ChangePassword, with the current one
  EXPECT_EQ(users_.ResetPassword("root", Secret("temporary-1"), "x", client_only).error().code,
            "ERR11620");
  EXPECT_EQ(users_.ResetPassword("nobody", Secret("temporary-1"), "x", admin_user).error().code,
            "ERR12013");
  EXPECT_EQ(users_.ResetPassword("bob", Secret("short"), "x", admin_user).error().code, "ERR11004");
  EXPECT_TRUE(revoked_.empty());
  EXPECT_FALSE(users_.Get("bob")->password_change_required);

  ASSERT_TRUE(users_.ResetPassword("bob", Secret("temporary-1"), "x", client_only));
  EXPECT_TRUE(users_.Get("bob")->password_change_required);
  EXPECT_TRUE(users_.Authenticate("bob", Secret("temporary-1")));
  EXPECT_EQ(revoked_.size(), 1u);
  ASSERT_TRUE(users_.ResetPassword("root", Secret("temporary-2"), "x", admin_user));
  ASSERT_TRUE(users_.ResetPassword("root", Secret("temporary-3"), "x", trusted));
  EXPECT_TRUE(users_.Get("root")->password_change_required);
  auto e = audit_.List({.action = "user.password_reset"});
  ASSERT_TRUE(e);
  ASSERT_EQ(e->entries.size(), 3u);
  EXPECT_EQ(e->entries[0].after_json.find("temporary"), std::string::npos);
}

// A refused reset never reaches argon2id: an unknown user, a caller that may not reset that
// user's password, a policy failure. Only a reset that happens hashes, once.
TEST_F(UserServiceTest, ARefusedResetNeverHashes) {
  ASSERT_TRUE(users_.Create(NewUser("bob", "bob@example.com"), "t"));
  UserPatch root = NewUser("root", "root@example.com");
  root.roles = "user admin";
  ASSERT_TRUE(users_.Create(root, "t"));
  int hashes = 0;
  users_.SetPasswordHasher([&](std::string_view password) {
    ++hashes;
    return HashPassword(password);
  });
  Authority admin_user{.scopes = {"oauth.user.w"}, .user_id = "root", .roles = "user admin"};
  Authority client_only{.scopes = {"oauth.user.w"}};
  Authority plain_user{.scopes = {"oauth.user.w"}, .user_id = "bob", .roles = "user"};

  EXPECT_EQ(users_.ResetPassword("nobody", Secret("temporary-1"), "x", admin_user).error().code,
            "ERR12013");
  EXPECT_EQ(users_.ResetPassword("root", Secret("temporary-1"), "x", client_only).error().code,
            "ERR11620");
  EXPECT_EQ(users_.ResetPassword("bob", Secret("temporary-1"), "x", plain_user).error().code,
            "ERR11620");
  EXPECT_EQ(users_.ResetPassword("bob", Secret("short"), "x", admin_user).error().code, "ERR11004");
  EXPECT_EQ(hashes, 0);
  ASSERT_TRUE(users_.ResetPassword("bob", Secret("temporary-1"), "x", client_only));
  EXPECT_EQ(hashes, 1);
}

}  // namespace
}  // namespace portcullis::oauth
