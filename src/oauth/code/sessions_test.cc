// SSO sessions, consents, CSRF tokens, the authenticator registry and scope words.

#include <gtest/gtest.h>

#include "oauth/client/client_store.h"
#include "oauth/client/registry_testing.h"
#include "oauth/code/authenticators.h"
#include "oauth/code/consent_store.h"
#include "oauth/code/csrf.h"
#include "oauth/code/scope_text.h"
#include "oauth/code/sso_session.h"
#include "oauth/credentials/token_hash.h"
#include "store/db.h"
#include "store/sql/client_store.h"

namespace portcullis::oauth {
namespace {

using testing::RegistryDbTest;

class SessionTest : public RegistryDbTest {
 protected:
  void SetUp() override {
    RegistryDbTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    for (const char* id : {"app1", "app2"}) {
      Client c;
      c.client_id = id;
      c.client_type = ClientType::kConfidential;
      c.client_profile = "webserver";
      c.client_name = id;
      c.owner_id = "admin";
      c.host = "h";
      store::SqlClientStore clients(*db_);
      auto s = db_->Transact([&](store::Tx& tx) { return clients.Insert(tx, c); });
      ASSERT_TRUE(s) << s.error().detail;
    }
  }
  ManualClock clock_;
};

TEST_P(SessionTest, SessionsAreStoredHashedAndExpire) {
  SessionStore sessions(*db_, clock_, Random::System(), {3600, 86400});
  auto made = sessions.Create("", "alice", false);
  ASSERT_TRUE(made) << made.error().detail;
  EXPECT_EQ(made->cookie.Reveal().size(), 43u);
  EXPECT_EQ(made->max_age, 0);
  EXPECT_EQ(Count("sso_sessions WHERE session_hash = '" + TokenHash(made->cookie.Reveal()) + "'"),
            1);
  EXPECT_EQ(Count("sso_sessions WHERE session_hash = '" + std::string(made->cookie.Reveal()) + "'"),
            0);

  auto found = sessions.Find("", made->cookie.Reveal());
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->user_id, "alice");
  EXPECT_FALSE((*found)->remember);
  EXPECT_FALSE(*sessions.Find("", "forged"));
  EXPECT_FALSE(*sessions.Find("", ""));
  // Another realm does not see it.
  EXPECT_FALSE(*sessions.Find("ldap", made->cookie.Reveal()));

  clock_.Advance(3600);
  EXPECT_FALSE(*sessions.Find("", made->cookie.Reveal()));
  ASSERT_TRUE(sessions.Purge());
  EXPECT_EQ(Count("sso_sessions"), 0);
}

TEST_P(SessionTest, RememberLastsLongerAndDeleteEnds) {
  SessionStore sessions(*db_, clock_, Random::System(), {3600, 86400});
  auto made = sessions.Create("ldap", "bob", true);
  ASSERT_TRUE(made);
  EXPECT_EQ(made->max_age, 86400);
  clock_.Advance(7200);
  auto found = sessions.Find("ldap", made->cookie.Reveal());
  ASSERT_TRUE(found && *found);
  EXPECT_TRUE((*found)->remember);
  EXPECT_FALSE(*sessions.Find("", made->cookie.Reveal()));
  ASSERT_TRUE(sessions.Delete("ldap", made->cookie.Reveal()));
  EXPECT_FALSE(*sessions.Find("ldap", made->cookie.Reveal()));
}

TEST_P(SessionTest, ConsentCoversGrantedScopesAndWidens) {
  ConsentStore consents(*db_, clock_);
  EXPECT_FALSE(*consents.Covers("alice", "app1", {}));
  ASSERT_TRUE(consents.Grant("alice", "app1", {"a.r"}));
  EXPECT_TRUE(*consents.Covers("alice", "app1", {"a.r"}));
  EXPECT_TRUE(*consents.Covers("alice", "app1", {}));
  EXPECT_FALSE(*consents.Covers("alice", "app1", {"a.r", "a.w"}));
  EXPECT_FALSE(*consents.Covers("alice", "app2", {"a.r"}));
  EXPECT_FALSE(*consents.Covers("bob", "app1", {"a.r"}));
  ASSERT_TRUE(consents.Grant("alice", "app1", {"a.w"}));
  EXPECT_TRUE(*consents.Covers("alice", "app1", {"a.r", "a.w"}));
  ASSERT_TRUE(consents.Grant("alice", "app2", {}));
  auto list = consents.List("alice");
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].client_id, "app1");
  EXPECT_EQ((*list)[0].scope, (std::vector<std::string>{"a.r", "a.w"}));
  EXPECT_TRUE(*consents.Revoke("alice", "app1"));
  EXPECT_FALSE(*consents.Revoke("alice", "app1"));
  EXPECT_FALSE(*consents.Covers("alice", "app1", {"a.r"}));
  // Revoking a consent revokes the user's refresh tokens and unredeemed codes at that client,
  // and nothing else.
  ASSERT_TRUE(consents.Grant("alice", "app1", {"a.r"}));
  for (const char* sql :
       {"INSERT INTO refresh_tokens (token_hash, family_id, client_id, user_id, created_at, "
        "expires_at) VALUES ('r1', 'f1', 'app1', 'alice', 1, 9999999999), "
        "('r2', 'f2', 'app2', 'alice', 1, 9999999999), "
        "('r3', 'f3', 'app1', 'bob', 1, 9999999999)",
        "INSERT INTO auth_codes (code_hash, client_id, user_id, created_at, expires_at) VALUES "
        "('k1', 'app1', 'alice', 1, 9999999999), ('k2', 'app2', 'alice', 1, 9999999999)"}) {
    ASSERT_TRUE(db_->Exec(sql));
  }
  EXPECT_TRUE(*consents.Revoke("alice", "app1"));
  auto states = db_->Query("SELECT token_hash, state FROM refresh_tokens ORDER BY token_hash");
  ASSERT_TRUE(states && states->size() == 3);
  EXPECT_EQ((*states)[0].Str(1), "revoked");
  EXPECT_EQ((*states)[1].Str(1), "active");
  EXPECT_EQ((*states)[2].Str(1), "active");
  auto codes = db_->Query("SELECT code_hash FROM auth_codes WHERE expires_at > $1 ORDER BY 1",
                          {clock_.Now()});
  ASSERT_TRUE(codes && codes->size() == 1);
  EXPECT_EQ((*codes)[0].Str(0), "k2");
  // Deleting the client removes its consents.
  ASSERT_TRUE(db_->Exec("DELETE FROM clients WHERE client_id = 'app2'"));
  EXPECT_TRUE(consents.List("alice")->empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, SessionTest, testing::kRegistryBackends, testing::BackendName);

TEST(CsrfTest, TokensAreBoundToPurposeBindingKeyAndTime) {
  ManualClock clock;
  CsrfGuard guard(Secret(std::string(32, 'k')), clock, 3600);
  std::string t = guard.Issue("login", "nonce-1");
  EXPECT_TRUE(guard.Verify(t, "login", "nonce-1"));
  EXPECT_FALSE(guard.Verify(t, "consent", "nonce-1"));
  EXPECT_FALSE(guard.Verify(t, "login", "nonce-2"));
  EXPECT_FALSE(guard.Verify(t, "login", ""));
  EXPECT_FALSE(guard.Verify("", "login", "nonce-1"));
  EXPECT_TRUE(guard.Issue("login", "").empty());
  CsrfGuard other(Secret(std::string(32, 'x')), clock, 3600);
  EXPECT_FALSE(other.Verify(t, "login", "nonce-1"));
  // Tampering with the time or the MAC.
  std::string later = std::to_string(clock.Now() + 1) + t.substr(t.find('.'));
  EXPECT_FALSE(guard.Verify(later, "login", "nonce-1"));
  std::string flipped = t;
  flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(guard.Verify(flipped, "login", "nonce-1"));
  EXPECT_FALSE(guard.Verify("x.y", "login", "nonce-1"));
  EXPECT_FALSE(guard.Verify(".abc", "login", "nonce-1"));
  clock.Advance(3601);
  EXPECT_FALSE(guard.Verify(t, "login", "nonce-1"));
}

class FakeLogin final : public LoginAuthenticator {
 public:
  Result<AuthenticatedUser> Login(std::string_view, std::string_view, std::string_view) override {
    return AuthenticatedUser{"u", "", ""};
  }
  Result<AuthenticatedUser> Find(std::string_view) override {
    return AuthenticatedUser{"u", "", ""};
  }
};

TEST(AuthenticatorRegistryTest, ChoosesPerClientAndRefusesUnknownClasses) {
  AuthenticatorRegistry registry;
  auto builtin = std::make_shared<FakeLogin>();
  auto ldap = std::make_shared<FakeLogin>();
  registry.AddDefault(builtin);
  registry.Add("ldap", ldap, {"com.example.LdapAuth"});
  Client c;
  auto e = registry.ForClient(c);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->authenticator, builtin.get());
  EXPECT_EQ(e->realm, "");
  c.authenticate_class = "com.networknt.oauth.auth.DefaultAuth";
  EXPECT_EQ(registry.ForClient(c)->authenticator, builtin.get());
  c.authenticate_class = "com.example.LdapAuth";
  EXPECT_EQ(registry.ForClient(c)->realm, "ldap");
  c.authenticate_class = "com.networknt.oauth.auth.MarketPlaceAuth";
  auto missing = registry.ForClient(c);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, "ERR10043");
  EXPECT_EQ(registry.Realms().size(), 2u);
}

TEST(ScopeTextTest, DescribesCommonShapes) {
  EXPECT_EQ(DescribeScope("petstore.r"), "Read your petstore data");
  EXPECT_EQ(DescribeScope("petstore.w"), "Change your petstore data");
  EXPECT_EQ(DescribeScope("read:provider"), "Read your provider data");
  EXPECT_EQ(DescribeScope("write:provider"), "Change your provider data");
  EXPECT_EQ(DescribeScope("account_info.read"), "Read your account info data");
  EXPECT_EQ(DescribeScope("openid"), "Confirm who you are");
  EXPECT_EQ(DescribeScope("x"), "Use x");
  EXPECT_EQ(DescribeScope(".r"), "Use .r");
}

}  // namespace
}  // namespace portcullis::oauth
