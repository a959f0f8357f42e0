#include "oauth/token/user_scope.h"

#include <gtest/gtest.h>

#include "oauth/token/grants/user_tokens.h"
#include "oauth/token/token_service.h"

namespace portcullis::oauth {
namespace {

using Scopes = std::vector<std::string>;

TEST(UserScopeTest, AdminScopesNeedTheAdminRole) {
  Scopes asked = {"petstore.r", "portal.w", "oauth.key.w", "write:provider", "openid"};
  EXPECT_EQ(ScopeForUser(asked, "user"), (Scopes{"petstore.r", "openid"}));
  EXPECT_EQ(ScopeForUser(asked, ""), (Scopes{"petstore.r", "openid"}));
  EXPECT_EQ(ScopeForUser(asked, "administrator"), (Scopes{"petstore.r", "openid"}));
  EXPECT_EQ(ScopeForUser(asked, "user admin"), asked);
  EXPECT_EQ(ScopeForUser({"portal.r"}, "user"), Scopes{});
}

// A grant whose sign-in had no "otp" is refused once today's roles or realm need one.
TEST(UserScopeTest, PasswordOnlyGrantsOfRequiredUsersLackASecondFactor) {
  TokenSettings s;
  s.second_factor_roles = {"admin"};
  s.second_factor_realms = {"ldap-corp"};
  auto subject = [](std::string roles, std::string source) {
    TokenSubject t{"bob", "employee", std::move(roles), true};
    t.user_source = std::move(source);
    return t;
  };
  EXPECT_TRUE(LacksRequiredSecondFactor(s, subject("user admin", "users"), "pwd"));
  EXPECT_TRUE(LacksRequiredSecondFactor(s, subject("user,admin", "users"), ""));  // as HasRole
  EXPECT_FALSE(LacksRequiredSecondFactor(s, subject("user admin", "users"), "pwd otp"));
  EXPECT_FALSE(LacksRequiredSecondFactor(s, subject("user administrator", "users"), "pwd"));
  EXPECT_TRUE(LacksRequiredSecondFactor(s, subject("user", "authenticator:ldap-corp"), "pwd"));
  EXPECT_FALSE(LacksRequiredSecondFactor(s, subject("user", "authenticator:ldap-other"), "pwd"));
  // A chain or an old row ("") by role only; a trusted client's assertion is no sign-in.
  EXPECT_TRUE(LacksRequiredSecondFactor(s, subject("admin", ""), "pwd"));
  EXPECT_FALSE(LacksRequiredSecondFactor(s, subject("user", ""), "pwd"));
  EXPECT_FALSE(LacksRequiredSecondFactor(s, subject("admin", "client"), ""));
  s.second_factor_realms = {""};
  EXPECT_TRUE(LacksRequiredSecondFactor(s, subject("user", "users"), "pwd"));
  EXPECT_FALSE(LacksRequiredSecondFactor(s, subject("user", "authenticator:ldap-corp"), "pwd"));
}

}  // namespace
}  // namespace portcullis::oauth
