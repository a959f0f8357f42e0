// Contract: SqlConsentStore on SQLite and PostgreSQL, and MemoryConsentStore, answer the same
// cases the same way. SQL-only cases follow: the foreign key to clients, and Consents::Revoke
// ending the user's grants at the client in its transaction.
#include "store/sql/consent_store.h"

#include <gtest/gtest.h>

#include <memory>

#include "oauth/code/consents.h"
#include "oauth/code/memory_consent_store.h"
#include "oauth/refresh/grant_revocation.h"
#include "store/sql/backend_test_fixture.h"
#include "store/sql/code_store.h"
#include "store/sql/device_store.h"
#include "store/sql/refresh_token_store.h"
#include "store/sql/session_store.h"

namespace portcullis::store {
namespace {

using oauth::ConsentStore;

void AddClients(Database& db, std::initializer_list<const char*> ids) {
  for (const char* id : ids) {
    auto r = db.Exec(
        "INSERT INTO clients (client_id, client_type, client_profile, client_name, owner_id, "
        "host, created_at, updated_at) VALUES ($1, 'confidential', 'webserver', $1, 'admin', "
        "'h', 1, 1)",
        {Text(id)});
    ASSERT_TRUE(r) << r.error().detail;
  }
}

class ConsentStoreContract : public BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (GetParam() == "memory") {
      store_ = std::make_unique<oauth::MemoryConsentStore>();
    } else {
      AddClients(db(), {"app1", "app2", "App0"});
      store_ = std::make_unique<SqlConsentStore>(db());
    }
  }
  ConsentStore& consents() { return *store_; }
  std::unique_ptr<ConsentStore> store_;
};

TEST_P(ConsentStoreContract, WidenMergesScopesAndStampsTheTime) {
  EXPECT_FALSE(*consents().Find("", "alice", "app1"));
  ASSERT_TRUE(consents().Widen("", "alice", "app1", {"a.r"}, 10));
  auto c = consents().Find("", "alice", "app1");
  ASSERT_TRUE(c && *c);
  EXPECT_EQ((*c)->client_id, "app1");
  EXPECT_EQ((*c)->scope, (std::vector<std::string>{"a.r"}));
  EXPECT_EQ((*c)->created_at, 10);
  ASSERT_TRUE(consents().Widen("", "alice", "app1", {"a.w", "a.r", "b.r"}, 20));
  c = consents().Find("", "alice", "app1");
  ASSERT_TRUE(c && *c);
  EXPECT_EQ((*c)->scope, (std::vector<std::string>{"a.r", "a.w", "b.r"}));
  EXPECT_EQ((*c)->created_at, 20);
  // An empty consent (a client without scopes) is still a consent.
  ASSERT_TRUE(consents().Widen("", "alice", "app2", {}, 30));
  c = consents().Find("", "alice", "app2");
  ASSERT_TRUE(c && *c);
  EXPECT_TRUE((*c)->scope.empty());
  EXPECT_FALSE(*consents().Find("", "bob", "app1"));
}

TEST_P(ConsentStoreContract, ListAndDelete) {
  ASSERT_TRUE(consents().Widen("", "alice", "app2", {"x"}, 1));
  ASSERT_TRUE(consents().Widen("", "alice", "app1", {"y"}, 2));
  ASSERT_TRUE(consents().Widen("", "alice", "App0", {"z"}, 3));
  ASSERT_TRUE(consents().Widen("", "bob", "app1", {"y"}, 4));
  auto list = consents().List("", "alice");
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 3u);
  // By client id, bytewise.
  EXPECT_EQ((*list)[0].client_id, "App0");
  EXPECT_EQ((*list)[1].client_id, "app1");
  EXPECT_EQ((*list)[1].scope, (std::vector<std::string>{"y"}));
  EXPECT_EQ((*list)[1].created_at, 2);
  EXPECT_EQ((*list)[2].client_id, "app2");
  EXPECT_TRUE(consents().List("", "nobody")->empty());

  auto del = [&](std::string_view user, std::string_view client) {
    auto r = db().TransactValue<bool>(
        "t", [&](Tx& tx) { return consents().Delete(tx, "", user, client); });
    EXPECT_TRUE(r);
    return r && *r;
  };
  EXPECT_TRUE(del("alice", "app1"));
  EXPECT_FALSE(del("alice", "app1"));
  EXPECT_FALSE(*consents().Find("", "alice", "app1"));
  EXPECT_TRUE(*consents().Find("", "bob", "app1"));
  EXPECT_EQ(consents().List("", "alice")->size(), 2u);
}

// A user is named by realm and id: the directory's alice is not the local alice.
TEST_P(ConsentStoreContract, RealmsKeepSameNamedUsersApart) {
  ASSERT_TRUE(consents().Widen("", "alice", "app1", {"a.r"}, 1));
  EXPECT_FALSE(*consents().Find("ldap-corp", "alice", "app1"));
  EXPECT_TRUE(consents().List("ldap-corp", "alice")->empty());
  ASSERT_TRUE(consents().Widen("ldap-corp", "alice", "app1", {"b.r"}, 2));
  auto local = consents().Find("", "alice", "app1");
  ASSERT_TRUE(local && *local);
  EXPECT_EQ((*local)->scope, (std::vector<std::string>{"a.r"}));
  auto dir = consents().Find("ldap-corp", "alice", "app1");
  ASSERT_TRUE(dir && *dir);
  EXPECT_EQ((*dir)->scope, (std::vector<std::string>{"b.r"}));
  auto r = db().TransactValue<bool>(
      "t", [&](Tx& tx) { return consents().Delete(tx, "ldap-corp", "alice", "app1"); });
  ASSERT_TRUE(r && *r);
  EXPECT_TRUE(*consents().Find("", "alice", "app1"));
  EXPECT_EQ(consents().List("", "alice")->size(), 1u);
}

// Find inside a transaction reads through it: what the transaction changed, before it commits
// (UserAccess::RevokeConsent holds one pool connection, not two).
TEST_P(ConsentStoreContract, FindInsideATransactionSeesItsWrites) {
  ASSERT_TRUE(consents().Widen("", "alice", "app1", {"a.r"}, 10));
  ASSERT_TRUE(consents().Widen("ldap-corp", "alice", "app1", {"b.r"}, 11));
  ASSERT_TRUE(db().Transact("t", [&](Tx& tx) -> Status {
    auto before = consents().Find(tx, "", "alice", "app1");
    if (!before) return Fail(before.error());
    EXPECT_TRUE(*before);
    if (*before) EXPECT_EQ((*before)->scope, (std::vector<std::string>{"a.r"}));
    EXPECT_FALSE(*consents().Find(tx, "", "bob", "app1"));
    auto gone = consents().Delete(tx, "", "alice", "app1");
    if (!gone) return Fail(gone.error());
    EXPECT_TRUE(*gone);
    auto after = consents().Find(tx, "", "alice", "app1");
    if (!after) return Fail(after.error());
    EXPECT_FALSE(*after);
    auto other_realm = consents().Find(tx, "ldap-corp", "alice", "app1");
    if (!other_realm) return Fail(other_realm.error());
    EXPECT_TRUE(*other_realm);
    return {};
  }));
}

INSTANTIATE_TEST_SUITE_P(Backends, ConsentStoreContract,
                         ::testing::Values("memory", "sqlite", "postgres"), BackendName);

class SqlConsentStoreTest : public BackendTest {};

TEST_P(SqlConsentStoreTest, ConsentsBelongToRegisteredClients) {
  AddClients(db(), {"app1", "app2"});
  SqlConsentStore consents(db());
  EXPECT_FALSE(consents.Widen("", "alice", "unknown", {"a"}, 1));
  ASSERT_TRUE(consents.Widen("", "alice", "app1", {"a"}, 1));
  ASSERT_TRUE(consents.Widen("", "alice", "app2", {"a"}, 1));
  // Deleting the client removes its consents.
  ASSERT_TRUE(db().Exec("DELETE FROM clients WHERE client_id = 'app2'"));
  auto list = consents.List("", "alice");
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].client_id, "app1");
}

// Revoking a consent revokes the user's refresh tokens and unredeemed codes at that client, and
// nothing else, in the same transaction.
TEST_P(SqlConsentStoreTest, RevokeEndsTheUsersGrantsAtTheClient) {
  AddClients(db(), {"app1", "app2"});
  ManualClock clock;
  SqlConsentStore store(db());
  SqlRefreshTokenStore refresh_tokens(db());
  SqlAuthCodeStore code_store(db());
  SqlSessionStore session_store(db());
  SqlDeviceGrantStore devices(db());
  oauth::GrantRevocation revocation(refresh_tokens, code_store, session_store, devices);
  oauth::Consents consents(db(), store, clock, revocation.ForUserClient());
  ASSERT_TRUE(consents.Grant("", "alice", "app1", {"a.r"}));
  for (const char* sql :
       {"INSERT INTO refresh_tokens (token_hash, family_id, client_id, user_id, created_at, "
        "expires_at) VALUES ('r1', 'f1', 'app1', 'alice', 1, 9999999999), "
        "('r2', 'f2', 'app2', 'alice', 1, 9999999999), "
        "('r3', 'f3', 'app1', 'bob', 1, 9999999999)",
        "INSERT INTO auth_codes (code_hash, client_id, user_id, created_at, expires_at) VALUES "
        "('k1', 'app1', 'alice', 1, 9999999999), ('k2', 'app2', 'alice', 1, 9999999999)"}) {
    ASSERT_TRUE(db().Exec(sql));
  }
  EXPECT_TRUE(*consents.Revoke("", "alice", "app1"));
  EXPECT_FALSE(*consents.Covers("", "alice", "app1", {"a.r"}));
  auto states = db().Query("SELECT token_hash, state FROM refresh_tokens ORDER BY token_hash");
  ASSERT_TRUE(states && states->size() == 3);
  EXPECT_EQ((*states)[0].Str(1), "revoked");
  EXPECT_EQ((*states)[1].Str(1), "active");
  EXPECT_EQ((*states)[2].Str(1), "active");
  auto codes = db().Query("SELECT code_hash FROM auth_codes WHERE expires_at > $1 ORDER BY 1",
                          {clock.Now()});
  ASSERT_TRUE(codes && codes->size() == 1);
  EXPECT_EQ((*codes)[0].Str(0), "k2");
  EXPECT_FALSE(*consents.Revoke("", "alice", "app1"));
}

PORTCULLIS_INSTANTIATE_BACKENDS(SqlConsentStoreTest);

}  // namespace
}  // namespace portcullis::store
