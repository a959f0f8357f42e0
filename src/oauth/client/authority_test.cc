#include "oauth/client/authority.h"

#include <gtest/gtest.h>

namespace portcullis::oauth {
namespace {

Authority Caller(std::vector<std::string> scopes, bool trusted = false, std::string user = "",
                 std::string roles = "") {
  Authority a;
  a.scopes = std::move(scopes);
  a.trusted = trusted;
  a.user_id = std::move(user);
  a.roles = std::move(roles);
  return a;
}

Client MakeClient(std::vector<std::string> scope, std::string type = "confidential",
                  std::string owner = "alice") {
  Client c;
  c.client_id = "c1";
  c.client_type = *ParseClientType(type);
  c.scope = std::move(scope);
  c.owner_id = std::move(owner);
  return c;
}

TEST(AuthorityTest, AdminScopesAreThePortcullisApis) {
  for (const char* s : {"portal.r", "portal.w", "oauth.user.w", "oauth.key.w", "oauth.audit.r",
                        "oauth.revoked.r", "read:provider", "write:provider"}) {
    EXPECT_TRUE(IsAdminScope(s)) << s;
  }
  for (const char* s : {"petstore.r", "portal", "oauth", "openid", "read:providers", "xportal.w"}) {
    EXPECT_FALSE(IsAdminScope(s)) << s;
  }
}

TEST(AuthorityTest, RolesAreWholeWords) {
  EXPECT_TRUE(HasRole("user admin", "admin"));
  EXPECT_TRUE(HasRole("admin", "admin"));
  EXPECT_TRUE(HasRole("user,admin", "admin"));
  EXPECT_FALSE(HasRole("administrator user", "admin"));
  EXPECT_FALSE(HasRole("", "admin"));
}

TEST(AuthorityTest, ACallerGivesOnlyAdminScopesItHolds) {
  auto by = Caller({"portal.r", "portal.w"});
  Client before = MakeClient({"portal.r", "portal.w", "petstore.r"});
  Client after = before;
  after.scope.push_back("oauth.key.w");
  auto st = CheckClientWrite(by, &before, &after);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, "ERR10005");
  EXPECT_EQ(st.error().http_status, 403);
  EXPECT_NE(st.error().description.find("oauth.key.w"), std::string::npos);
  // Ordinary scopes are free; so are admin scopes the caller holds.
  after = before;
  after.scope.push_back("petstore.w");
  EXPECT_TRUE(CheckClientWrite(by, &before, &after));
  EXPECT_TRUE(CheckClientWrite(by, nullptr, &before));
}

TEST(AuthorityTest, AClientWithAnAdminScopeTheCallerLacksCannotBeTouched) {
  auto by = Caller({"portal.w"});
  Client held = MakeClient({"oauth.key.w"});
  Client narrowed = MakeClient({});
  EXPECT_FALSE(CheckClientWrite(by, &held, &held));      // secret rotation, redirect URIs
  EXPECT_FALSE(CheckClientWrite(by, &held, &narrowed));  // even narrowing
  EXPECT_FALSE(CheckClientWrite(by, &held, nullptr));    // delete
}

TEST(AuthorityTest, TrustNeedsATrustedCaller) {
  Client plain = MakeClient({"petstore.r"});
  Client trusted = MakeClient({"petstore.r"}, "trusted");
  auto untrusted_caller = Caller({"portal.w"});
  auto trusted_caller = Caller({"portal.w"}, true);
  for (auto [b, a] :
       {std::pair{&plain, &trusted}, std::pair{&trusted, &plain}, std::pair{&trusted, &trusted},
        std::pair<Client*, Client*>{nullptr, &trusted}}) {
    auto st = CheckClientWrite(untrusted_caller, b, a);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, "ERR11620");
    EXPECT_TRUE(CheckClientWrite(trusted_caller, b, a));
  }
  EXPECT_TRUE(CheckClientWrite(untrusted_caller, &plain, &plain));
}

TEST(AuthorityTest, ANonAdminUserChangesOnlyWhatItOwns) {
  auto bob = Caller({"portal.w"}, false, "bob", "user");
  Client alices = MakeClient({}, "confidential", "alice");
  Client bobs = MakeClient({}, "confidential", "bob");
  auto st = CheckClientWrite(bob, &alices, &alices);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, "ERR11620");
  EXPECT_EQ(st.error().http_status, 400);
  EXPECT_TRUE(CheckClientWrite(bob, &bobs, &bobs));
  EXPECT_FALSE(CheckClientWrite(bob, &bobs, &alices));  // giving it away
  EXPECT_FALSE(CheckClientWrite(bob, nullptr, &alices));
  EXPECT_TRUE(CheckClientWrite(bob, nullptr, &bobs));
  // An admin user, and a client's own token, are not bound by ownership.
  auto admin = Caller({"portal.w"}, false, "carol", "user admin");
  EXPECT_TRUE(CheckClientWrite(admin, &alices, &alices));
  EXPECT_TRUE(CheckClientWrite(Caller({"portal.w"}), &alices, &alices));
  EXPECT_TRUE(CheckOwner(bob, "bob", "bob"));
  EXPECT_FALSE(CheckOwner(bob, "alice", "alice"));
}

TEST(AuthorityTest, TheAdminRoleNeedsATrustedCaller) {
  std::string user = "user", admin = "user admin";
  auto untrusted = Caller({"oauth.user.w"});
  auto trusted = Caller({"oauth.user.w"}, true);
  EXPECT_FALSE(CheckUserWrite(untrusted, "u", nullptr, &admin));
  EXPECT_FALSE(CheckUserWrite(untrusted, "u", &user, &admin));
  EXPECT_FALSE(CheckUserWrite(untrusted, "u", &admin, &user));
  EXPECT_TRUE(CheckUserWrite(untrusted, "u", nullptr, &user));
  EXPECT_TRUE(CheckUserWrite(untrusted, "u", &admin, &admin));
  EXPECT_TRUE(CheckUserWrite(untrusted, "u", &admin, nullptr));
  EXPECT_TRUE(CheckUserWrite(trusted, "u", &user, &admin));
  // A non-admin user: only its own record, never its roles.
  auto bob = Caller({"oauth.user.w"}, true, "bob", "user");
  EXPECT_FALSE(CheckUserWrite(bob, "alice", &user, &user));
  EXPECT_FALSE(CheckUserWrite(bob, "bob", nullptr, &user));
  EXPECT_FALSE(CheckUserWrite(bob, "bob", &user, &admin));
  EXPECT_TRUE(CheckUserWrite(bob, "bob", &user, &user));
}

TEST(AuthorityTest, FullAuthorityPassesEveryRule) {
  auto full = Authority::Full();
  Client c = MakeClient({"oauth.key.w"}, "trusted");
  std::string admin = "admin";
  EXPECT_TRUE(CheckClientWrite(full, nullptr, &c));
  EXPECT_TRUE(CheckUserWrite(full, "u", nullptr, &admin));
  EXPECT_TRUE(CheckAdminScopes(full, {"oauth.key.w"}, "x"));
}

}  // namespace
}  // namespace portcullis::oauth
