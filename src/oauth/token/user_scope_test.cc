#include "oauth/token/user_scope.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace portcullis::oauth
