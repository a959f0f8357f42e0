// SSO sessions, consents, CSRF tokens, the authenticator registry and scope words.

#include <gtest/gtest.h>

#include "oauth/code/authenticators.h"
#include "oauth/code/consents.h"
#include "oauth/code/csrf.h"
#include "oauth/code/memory_consent_store.h"
#include "oauth/code/memory_session_store.h"
#include "oauth/code/scope_text.h"
#include "oauth/code/sso_session.h"
#include "oauth/credentials/token_hash.h"
#include "store/fake_database.h"

namespace portcullis::oauth {
namespace {

TEST(SsoSessionsTest, SessionsAreStoredHashedAndExpire) {
  ManualClock clock;
  MemorySessionStore store;
  SsoSessions sessions(store, clock, Random::System(), {3600, 86400});
  auto made = sessions.Create("", "alice", false);
  ASSERT_TRUE(made) << made.error().detail;
  EXPECT_EQ(made->cookie.Reveal().size(), 43u);
  EXPECT_EQ(made->max_age, 0);
  EXPECT_EQ(made->session.expires_at, clock.Now() + 3600);
  // Only the hash is stored, never the cookie.
  EXPECT_TRUE(store.Contains(TokenHash(made->cookie.Reveal())));
  EXPECT_FALSE(store.Contains(made->cookie.Reveal()));
  EXPECT_EQ(store.size(), 1u);

  auto found = sessions.Find("", made->cookie.Reveal());
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->user_id, "alice");
  EXPECT_FALSE((*found)->remember);
  EXPECT_FALSE(*sessions.Find("", "forged"));
  EXPECT_FALSE(*sessions.Find("", ""));
  // Another realm does not see it.
  EXPECT_FALSE(*sessions.Find("ldap", made->cookie.Reveal()));

  clock.Advance(3600);
  EXPECT_FALSE(*sessions.Find("", made->cookie.Reveal()));
  ASSERT_TRUE(sessions.Purge());
  EXPECT_EQ(store.size(), 0u);
}

TEST(SsoSessionsTest, RememberLastsLongerAndDeleteEnds) {
  ManualClock clock;
  MemorySessionStore store;
  SsoSessions sessions(store, clock, Random::System(), {3600, 86400});
  auto made = sessions.Create("ldap", "bob", true);
  ASSERT_TRUE(made);
  EXPECT_EQ(made->max_age, 86400);
  EXPECT_TRUE(store.Contains(SsoSessions::Key("ldap", made->cookie.Reveal())));
  EXPECT_EQ(SsoSessions::Key("ldap", "c"), TokenHash("ldap\nc"));
  clock.Advance(7200);
  auto found = sessions.Find("ldap", made->cookie.Reveal());
  ASSERT_TRUE(found && *found);
  EXPECT_TRUE((*found)->remember);
  EXPECT_FALSE(*sessions.Find("", made->cookie.Reveal()));
  ASSERT_TRUE(sessions.Delete("", made->cookie.Reveal()));  // another realm's key: a no-op
  EXPECT_TRUE(*sessions.Find("ldap", made->cookie.Reveal()));
  ASSERT_TRUE(sessions.Delete("ldap", made->cookie.Reveal()));
  EXPECT_FALSE(*sessions.Find("ldap", made->cookie.Reveal()));
  EXPECT_TRUE(sessions.Delete("ldap", ""));
}

// Every 256th Create also purges expired sessions, so the table stays bounded without the job.
TEST(SsoSessionsTest, CreatePurgesNowAndThen) {
  ManualClock clock;
  MemorySessionStore store;
  SsoSessions sessions(store, clock, Random::System(), {60, 120});
  for (int i = 0; i < 255; ++i) ASSERT_TRUE(sessions.Create("", "u", false));
  EXPECT_EQ(store.size(), 255u);
  clock.Advance(60);
  ASSERT_TRUE(sessions.Create("", "u", false));  // the 256th: purges the 255 expired first
  EXPECT_EQ(store.size(), 1u);
}

class ConsentsTest : public ::testing::Test {
 protected:
  ConsentsTest()
      : consents_(
            db_, store_, clock_,
            [this](store::Tx&, std::string_view user, std::string_view client, int64_t) -> Status {
              revoked_.push_back(std::string(user) + "/" + std::string(client));
              return {};
            }) {}
  store::FakeDatabase db_;
  MemoryConsentStore store_;
  ManualClock clock_;
  std::vector<std::string> revoked_;
  Consents consents_;
};

TEST_F(ConsentsTest, ConsentCoversGrantedScopesAndWidens) {
  EXPECT_FALSE(*consents_.Covers("", "alice", "app1", {}));
  ASSERT_TRUE(consents_.Grant("", "alice", "app1", {"a.r"}));
  EXPECT_TRUE(*consents_.Covers("", "alice", "app1", {"a.r"}));
  EXPECT_TRUE(*consents_.Covers("", "alice", "app1", {}));
  EXPECT_FALSE(*consents_.Covers("", "alice", "app1", {"a.r", "a.w"}));
  EXPECT_FALSE(*consents_.Covers("", "alice", "app2", {"a.r"}));
  EXPECT_FALSE(*consents_.Covers("", "bob", "app1", {"a.r"}));
  clock_.Advance(5);
  ASSERT_TRUE(consents_.Grant("", "alice", "app1", {"a.w", "a.r"}));
  EXPECT_TRUE(*consents_.Covers("", "alice", "app1", {"a.r", "a.w"}));
  ASSERT_TRUE(consents_.Grant("", "alice", "app2", {}));
  auto list = consents_.List("", "alice");
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].client_id, "app1");
  EXPECT_EQ((*list)[0].scope, (std::vector<std::string>{"a.r", "a.w"}));
  EXPECT_EQ((*list)[0].created_at, clock_.Now());  // last widened
  EXPECT_EQ((*list)[1].client_id, "app2");
  EXPECT_TRUE((*list)[1].scope.empty());
}

// Revoking a consent ends the user's grants at that client in the same transaction, whether or
// not a consent was stored (codes issued with implicit consent end too).
TEST_F(ConsentsTest, RevokeDeletesAndEndsTheClientsGrants) {
  ASSERT_TRUE(consents_.Grant("", "alice", "app1", {"a.r"}));
  ASSERT_TRUE(consents_.Grant("", "alice", "app2", {"a.r"}));
  EXPECT_TRUE(*consents_.Revoke("", "alice", "app1"));
  EXPECT_EQ(revoked_, (std::vector<std::string>{"alice/app1"}));
  EXPECT_FALSE(*consents_.Covers("", "alice", "app1", {"a.r"}));
  EXPECT_TRUE(*consents_.Covers("", "alice", "app2", {"a.r"}));
  EXPECT_FALSE(*consents_.Revoke("", "alice", "app1"));
  EXPECT_EQ(revoked_.size(), 2u);
  ASSERT_EQ(consents_.List("", "alice")->size(), 1u);
}

TEST_F(ConsentsTest, AFailedRevocationFailsTheRevoke) {
  Consents failing(db_, store_, clock_,
                   [](store::Tx&, std::string_view, std::string_view, int64_t) -> Status {
                     return Fail(Error::Unavailable("down"));
                   });
  ASSERT_TRUE(failing.Grant("", "alice", "app1", {"a.r"}));
  auto r = failing.Revoke("", "alice", "app1");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().http_status, 503);
}

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

// spnego.roles_from names an authenticator: by realm or alias, like authenticate_class.
TEST(AuthenticatorRegistryTest, FindsByNameForSpnegoRoles) {
  AuthenticatorRegistry registry;
  auto builtin = std::make_shared<FakeLogin>();
  auto ldap = std::make_shared<FakeLogin>();
  registry.AddDefault(builtin);
  registry.Add("ldap-corp", ldap, {"com.example.LdapAuth"});
  EXPECT_EQ(registry.ByName("ldap-corp")->authenticator, ldap.get());
  EXPECT_EQ(registry.ByName("com.example.LdapAuth")->realm, "ldap-corp");
  EXPECT_EQ(registry.ByName("default")->authenticator, builtin.get());
  EXPECT_EQ(registry.ByName("")->authenticator, builtin.get());
  auto missing = registry.ByName("ldap-nowhere");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, "ERR10043");
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
