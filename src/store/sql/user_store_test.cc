// Contract: SqlUserStore on SQLite and PostgreSQL, and MemoryUserStore, answer the same cases
// the same way. SQL-only cases follow: what Delete takes with the user, and UserService ending a
// user's grants in its own transaction over the real tables.
#include "store/sql/user_store.h"

#include <gtest/gtest.h>

#include <memory>

#include "oauth/credentials/secret_hash.h"
#include "oauth/refresh/grant_revocation.h"
#include "oauth/user/memory_user_store.h"
#include "oauth/user/user_service.h"
#include "store/sql/audit_log.h"
#include "store/sql/backend_test_fixture.h"
#include "store/sql/code_store.h"
#include "store/sql/device_store.h"
#include "store/sql/refresh_token_store.h"
#include "store/sql/session_store.h"

namespace portcullis::store {
namespace {

using oauth::User;
using oauth::UserStore;

User MakeUser(std::string id, std::string email, std::string hash = "h0") {
  return User{id,           "customer", "First", "", std::move(email), std::move(hash),
              "user admin", false,      10,      10};
}

class UserStoreContract : public BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (GetParam() == "memory") {
      store_ = std::make_unique<oauth::MemoryUserStore>();
    } else {
      store_ = std::make_unique<SqlUserStore>(db());
    }
  }
  UserStore& users() { return *store_; }
  Status InTx(const std::function<Status(Tx&)>& fn) { return db().Transact("test", fn); }
  Status Insert(const User& u) {
    return InTx([&](Tx& tx) { return users().Insert(tx, u); });
  }
  template <typename T>
  Result<T> InTxValue(const std::function<Result<T>(Tx&)>& fn) {
    return db().TransactValue<T>("test", fn);
  }

  std::unique_ptr<UserStore> store_;
};

TEST_P(UserStoreContract, InsertFindAndConflicts) {
  ASSERT_TRUE(Insert(MakeUser("u1", "U1@Example.com")));
  auto found = users().Find("u1");
  ASSERT_TRUE(found && *found);
  const User& u = **found;
  EXPECT_EQ(u.user_id, "u1");
  EXPECT_EQ(u.user_type, "customer");
  EXPECT_EQ(u.first_name, "First");
  EXPECT_EQ(u.last_name, "");  // stored as NULL, read back empty
  EXPECT_EQ(u.email, "U1@Example.com");
  EXPECT_EQ(u.password_hash, "h0");
  EXPECT_EQ(u.roles, "user admin");
  EXPECT_FALSE(u.locked);
  EXPECT_EQ(u.created_at, 10);
  EXPECT_EQ(u.updated_at, 10);
  EXPECT_FALSE(u.email_verified);
  EXPECT_EQ(u.phone_number, "");
  EXPECT_FALSE(u.phone_number_verified);
  EXPECT_EQ(u.address, "");
  // The same through a transaction, and with the row lock.
  auto in_tx = InTxValue<std::optional<User>>([&](Tx& tx) { return users().Find(tx, "u1"); });
  ASSERT_TRUE(in_tx && *in_tx);
  EXPECT_EQ((*in_tx)->roles, "user admin");
  auto locked =
      InTxValue<std::optional<User>>([&](Tx& tx) { return users().FindForUpdate(tx, "u1"); });
  ASSERT_TRUE(locked && *locked);
  EXPECT_EQ((*locked)->email, "U1@Example.com");
  EXPECT_FALSE(*users().Find("nobody"));
  EXPECT_FALSE(*users().Find("U1"));  // ids are exact

  auto again = Insert(MakeUser("u1", "other@example.com"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, "ERR12020");
  auto email = Insert(MakeUser("u2", "U1@Example.com"));
  ASSERT_FALSE(email);
  EXPECT_EQ(email.error().code, "ERR12021");

  auto taken = [&](std::string_view e, std::string_view except) {
    auto r = InTxValue<bool>([&](Tx& tx) { return users().EmailTaken(tx, e, except); });
    EXPECT_TRUE(r);
    return r && *r;
  };
  EXPECT_TRUE(taken("u1@example.COM", ""));
  EXPECT_FALSE(taken("u1@example.com", "u1"));  // the user's own address
  EXPECT_FALSE(taken("u2@example.com", ""));
}

TEST_P(UserStoreContract, UpdateWritesTheProfileNotThePassword) {
  ASSERT_TRUE(Insert(MakeUser("u1", "u1@example.com")));
  ASSERT_TRUE(Insert(MakeUser("u2", "u2@example.com")));
  User u = MakeUser("u1", "new@example.com", "changed-hash");
  u.user_type = "partner";
  u.first_name = "";
  u.last_name = "Last";
  u.roles = "";
  u.locked = true;
  u.created_at = 99;
  u.updated_at = 20;
  u.email_verified = true;
  u.phone_number = "+47 555 0100";
  u.phone_number_verified = true;
  u.address = R"({"locality":"Oslo","country":"NO"})";
  ASSERT_TRUE(InTx([&](Tx& tx) { return users().Update(tx, u); }));
  auto found = users().Find("u1");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->user_type, "partner");
  EXPECT_EQ((*found)->first_name, "");
  EXPECT_EQ((*found)->last_name, "Last");
  EXPECT_EQ((*found)->email, "new@example.com");
  EXPECT_EQ((*found)->roles, "");
  EXPECT_TRUE((*found)->locked);
  EXPECT_EQ((*found)->updated_at, 20);
  EXPECT_EQ((*found)->created_at, 10);
  EXPECT_EQ((*found)->password_hash, "h0");
  EXPECT_TRUE((*found)->email_verified);
  EXPECT_EQ((*found)->phone_number, "+47 555 0100");
  EXPECT_TRUE((*found)->phone_number_verified);
  EXPECT_EQ((*found)->address, R"({"locality":"Oslo","country":"NO"})");

  User clash = **found;
  clash.email = "u2@example.com";
  auto st = InTx([&](Tx& tx) { return users().Update(tx, clash); });
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, "ERR12021");
  User ghost = MakeUser("ghost", "ghost@example.com");
  st = InTx([&](Tx& tx) { return users().Update(tx, ghost); });
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, "ERR12013");
}

TEST_P(UserStoreContract, PasswordHashesChangeOnlyAsAsked) {
  ASSERT_TRUE(Insert(MakeUser("u1", "u1@example.com", "old")));
  auto set = [&](std::string_view id, std::string_view hash, int64_t now,
                 std::optional<std::string_view> expected) {
    auto r = InTxValue<bool>(
        [&](Tx& tx) { return users().SetPasswordHash(tx, id, hash, now, expected); });
    EXPECT_TRUE(r) << r.error().detail;
    return r && *r;
  };
  auto stored = [&] { return users().Find("u1")->value(); };
  EXPECT_FALSE(set("u1", "new", 20, "not-the-hash"));
  EXPECT_EQ(stored().password_hash, "old");
  EXPECT_EQ(stored().updated_at, 10);
  EXPECT_TRUE(set("u1", "new", 20, "old"));
  EXPECT_EQ(stored().password_hash, "new");
  EXPECT_EQ(stored().updated_at, 20);
  EXPECT_TRUE(set("u1", "reset", 30, std::nullopt));
  EXPECT_EQ(stored().password_hash, "reset");
  EXPECT_EQ(stored().updated_at, 30);
  EXPECT_FALSE(set("nobody", "x", 30, std::nullopt));

  auto upgrade = [&](std::string_view old_hash, std::string_view new_hash) {
    auto r = InTxValue<bool>(
        [&](Tx& tx) { return users().UpgradePasswordHash(tx, "u1", old_hash, new_hash); });
    EXPECT_TRUE(r);
    return r && *r;
  };
  EXPECT_FALSE(upgrade("old", "better"));
  EXPECT_EQ(stored().password_hash, "reset");
  EXPECT_TRUE(upgrade("reset", "better"));
  EXPECT_EQ(stored().password_hash, "better");
  EXPECT_EQ(stored().updated_at, 30);  // the same password: not a change of the user
}

// A password set by someone else must be replaced: the flag is stored as inserted, a profile
// update keeps it, and any new password hash clears it.
TEST_P(UserStoreContract, ANewPasswordClearsPasswordChangeRequired) {
  User u = MakeUser("u1", "u1@example.com", "old");
  u.password_change_required = true;
  ASSERT_TRUE(Insert(u));
  ASSERT_TRUE(Insert(MakeUser("u2", "u2@example.com")));
  auto stored = [&](const char* id) { return users().Find(id)->value(); };
  EXPECT_TRUE(stored("u1").password_change_required);
  EXPECT_FALSE(stored("u2").password_change_required);
  User changed = stored("u1");
  changed.roles = "admin";
  ASSERT_TRUE(InTx([&](Tx& tx) { return users().Update(tx, changed); }));
  EXPECT_TRUE(stored("u1").password_change_required);
  auto set =
      InTxValue<bool>([&](Tx& tx) { return users().SetPasswordHash(tx, "u1", "new", 20, "old"); });
  ASSERT_TRUE(set && *set);
  EXPECT_FALSE(stored("u1").password_change_required);
}

// An administrator's reset: a new hash, then the flag, in one transaction.
TEST_P(UserStoreContract, RequirePasswordChangeSetsTheFlag) {
  ASSERT_TRUE(Insert(MakeUser("u1", "u1@example.com", "old")));
  auto reset = InTxValue<bool>([&](Tx& tx) -> Result<bool> {
    auto set = users().SetPasswordHash(tx, "u1", "new", 20, std::nullopt);
    if (!set) return set;
    return users().RequirePasswordChange(tx, "u1");
  });
  ASSERT_TRUE(reset && *reset);
  auto u = users().Find("u1")->value();
  EXPECT_TRUE(u.password_change_required);
  EXPECT_EQ(u.password_hash, "new");
  auto unknown =
      InTxValue<bool>([&](Tx& tx) { return users().RequirePasswordChange(tx, "nobody"); });
  ASSERT_TRUE(unknown);
  EXPECT_FALSE(*unknown);
}

TEST_P(UserStoreContract, ListPagesByPrefixInByteOrder) {
  for (const char* id : {"ab", "a_", "B", "a", "Z", "a1", "b"}) {
    ASSERT_TRUE(Insert(MakeUser(id, std::string(id) + "@example.com")));
  }
  auto ids = [](const oauth::UserPage& p) {
    std::vector<std::string> out;
    for (const auto& u : p.users) out.push_back(u.user_id);
    return out;
  };
  auto all = users().List("", 0, 100);
  ASSERT_TRUE(all);
  EXPECT_EQ(all->total, 7);
  EXPECT_EQ(ids(*all), (std::vector<std::string>{"B", "Z", "a", "a1", "a_", "ab", "b"}));
  auto a = users().List("a", 1, 2);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->total, 4);
  EXPECT_EQ(ids(*a), (std::vector<std::string>{"a1", "a_"}));
  auto underscore = users().List("a_", 0, 10);  // a prefix, not a LIKE pattern
  ASSERT_TRUE(underscore);
  EXPECT_EQ(ids(*underscore), (std::vector<std::string>{"a_"}));
  auto past = users().List("", 10, 10);
  ASSERT_TRUE(past);
  EXPECT_EQ(past->total, 7);
  EXPECT_TRUE(past->users.empty());
}

TEST_P(UserStoreContract, DeleteAndImport) {
  ASSERT_TRUE(Insert(MakeUser("u1", "u1@example.com")));
  auto st = InTx([&](Tx& tx) { return users().Delete(tx, "nobody"); });
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, "ERR12013");
  ASSERT_TRUE(InTx([&](Tx& tx) { return users().Delete(tx, "u1"); }));
  EXPECT_FALSE(*users().Find("u1"));

  auto import = [&](const User& u) {
    auto r = InTxValue<bool>([&](Tx& tx) { return users().InsertIfAbsent(tx, u); });
    EXPECT_TRUE(r);
    return r && *r;
  };
  EXPECT_TRUE(import(MakeUser("admin", "admin@example.com", "pbkdf2")));
  EXPECT_FALSE(import(MakeUser("admin", "other@example.com", "x")));  // kept
  EXPECT_FALSE(import(MakeUser("other", "admin@example.com", "x")));
  EXPECT_EQ(users().Find("admin")->value().password_hash, "pbkdf2");
  EXPECT_FALSE(*users().Find("other"));
}

INSTANTIATE_TEST_SUITE_P(Backends, UserStoreContract,
                         ::testing::Values("memory", "sqlite", "postgres"), BackendName);

// What only the SQL store can show: the rows of other tables.
class SqlUserStoreTest : public BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_TRUE(db().Exec(
        "INSERT INTO clients (client_id, client_type, client_profile, client_name, owner_id, "
        "host, created_at, updated_at) VALUES ('c', 'public', 'mobile', 'c', 'admin', 'h', 1, 1)"));
  }
  // A refresh token, an unredeemed code, an SSO session and a consent of `user`.
  void Grant(const std::string& user, const std::string& n, int64_t now) {
    for (auto [sql, key] : {std::pair{"INSERT INTO refresh_tokens (token_hash, family_id, "
                                      "client_id, user_id, created_at, expires_at) VALUES "
                                      "($1, $1, 'c', $2, 1, $3)",
                                      "h" + n},
                            std::pair{"INSERT INTO auth_codes (code_hash, client_id, user_id, "
                                      "created_at, expires_at) VALUES ($1, 'c', $2, 1, $3)",
                                      "c" + n},
                            std::pair{"INSERT INTO sso_sessions (session_hash, user_id, "
                                      "created_at, expires_at) VALUES ($1, $2, 1, $3)",
                                      "s" + n}}) {
      auto r = db().Exec(sql, {Text(key), Text(user), Int(now + 300)});
      ASSERT_TRUE(r) << r.error().detail;
    }
    auto r = db().Exec(
        "INSERT INTO consents (user_id, client_id, scope, created_at) VALUES ($1, 'c', 's', 1) "
        "ON CONFLICT DO NOTHING",
        {Text(user)});
    ASSERT_TRUE(r) << r.error().detail;
  }
  // Live refresh tokens + unredeemed codes + sessions of `user`.
  int64_t Live(const std::string& user, int64_t now) {
    auto row = db().QueryRow(
        "SELECT (SELECT count(*) FROM refresh_tokens WHERE user_id = $1 AND state = 'active')"
        " + (SELECT count(*) FROM auth_codes WHERE user_id = $1 AND expires_at > $2)"
        " + (SELECT count(*) FROM sso_sessions WHERE user_id = $1)",
        {Text(user), Int(now)});
    return row && *row ? (**row).Int(0) : -1;
  }
  int64_t Count(const std::string& from_where, const std::string& user) {
    auto row = db().QueryRow("SELECT count(*) FROM " + from_where, {Text(user)});
    return row && *row ? (**row).Int(0) : -1;
  }
};

TEST_P(SqlUserStoreTest, DeleteTakesWhatTheUserHolds) {
  SqlUserStore users(db());
  for (const char* id : {"u1", "u2"}) {
    ASSERT_TRUE(db().Transact(
        "t", [&](Tx& tx) { return users.Insert(tx, MakeUser(id, std::string(id) + "@x.org")); }));
    Grant(id, id, 1000);
  }
  ASSERT_TRUE(db().Transact("t", [&](Tx& tx) { return users.Delete(tx, "u1"); }));
  for (const char* table : {"users", "refresh_tokens", "auth_codes", "sso_sessions", "consents"}) {
    EXPECT_EQ(Count(std::string(table) + " WHERE user_id = $1", "u1"), 0) << table;
    EXPECT_EQ(Count(std::string(table) + " WHERE user_id = $1", "u2"), 1) << table;
  }
}

TEST_P(SqlUserStoreTest, ARolledBackTransactionLeavesNoUser) {
  SqlUserStore users(db());
  auto st = db().Transact("t", [&](Tx& tx) -> Status {
    if (auto r = users.Insert(tx, MakeUser("u1", "u1@x.org")); !r) return r;
    return Fail(Error::Internal("roll back"));
  });
  ASSERT_FALSE(st);
  EXPECT_FALSE(*users.Find("u1"));
}

// UserService over the SQL stores: a password change, a reset and locking end the user's
// refresh tokens (revoked), unredeemed codes and SSO sessions in the same transaction; other
// users keep theirs; deleting a user deletes what they hold.
TEST_P(SqlUserStoreTest, UserServiceEndsTheUsersGrants) {
  ManualClock clock;
  SqlUserStore user_store(db());
  SqlAuditLog audit(db());
  SqlRefreshTokenStore refresh_tokens(db());
  SqlAuthCodeStore codes(db());
  SqlSessionStore sessions(db());
  SqlDeviceGrantStore devices(db());
  oauth::GrantRevocation revocation(refresh_tokens, codes, sessions, devices);
  oauth::UserService users(db(), user_store, audit, clock, nullptr, revocation.ForUser());
  auto make = [&](std::string id) {
    oauth::UserPatch p;
    p.user_id = id;
    p.user_type = "customer";
    p.email = id + "@example.com";
    p.password = Secret("s3cret-pass");
    p.password_confirm = Secret("s3cret-pass");
    auto u = users.Create(p, "t");
    ASSERT_TRUE(u) << u.error().description;
  };
  make("u1");
  make("u2");
  const int64_t now = clock.Now();
  Grant("u1", "1", now);
  Grant("u2", "2", now);
  ASSERT_EQ(Live("u1", now), 3);
  oauth::PasswordChange change{Secret("s3cret-pass"), Secret("n3w-passphrase"),
                               Secret("n3w-passphrase")};
  ASSERT_TRUE(users.ChangePassword("u1", change, "t"));
  EXPECT_EQ(Live("u1", now), 0);
  EXPECT_EQ(Live("u2", now), 3);
  Grant("u1", "3", now);
  EXPECT_FALSE(users.ChangePassword("u1", change, "t"));  // wrong current password now
  EXPECT_EQ(Live("u1", now), 3);
  ASSERT_TRUE(users.SetPassword("u1", Secret("r3set-passphrase"), "t"));
  EXPECT_EQ(Live("u1", now), 0);
  Grant("u1", "4", now);
  oauth::UserPatch lock;
  lock.locked = true;
  ASSERT_TRUE(users.Update("u1", lock, "t"));
  EXPECT_EQ(Live("u1", now), 0);
  EXPECT_EQ(Live("u2", now), 3);
  EXPECT_EQ(users.Authenticate("u1", Secret("r3set-passphrase")).error().code, "ERR12016");

  // A directory user of the same name is someone else: their consent stays (consents.realm).
  ASSERT_TRUE(
      db().Exec("INSERT INTO consents (realm, user_id, client_id, scope, created_at)"
                " VALUES ('ldap-corp', $1, 'c', 's', 1)",
                {Text("u2")}));
  ASSERT_TRUE(users.Delete("u2", "t"));
  EXPECT_EQ(Count("refresh_tokens WHERE user_id = $1", "u2"), 0);
  EXPECT_EQ(Count("consents WHERE user_id = $1 AND realm = ''", "u2"), 0);
  EXPECT_EQ(Count("consents WHERE user_id = $1 AND realm = 'ldap-corp'", "u2"), 1);
  auto entries = audit.List({.entity_kind = "user"});
  ASSERT_TRUE(entries);
  EXPECT_EQ(entries->total, 6);  // 2 creates, change, reset, lock, delete
  for (const auto& e : entries->entries) {
    EXPECT_EQ(e.before_json.find("argon2"), std::string::npos);
    EXPECT_EQ(e.after_json.find("argon2"), std::string::npos);
  }
}

PORTCULLIS_INSTANTIATE_BACKENDS(SqlUserStoreTest);

}  // namespace
}  // namespace portcullis::store
