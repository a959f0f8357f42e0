#include "oauth/login/authenticator_settings.h"

#include <gtest/gtest.h>

namespace portcullis::oauth::settings {
namespace {

TEST(AuthenticatorSettingsTest, ParseBoolTakesEmptyOnlyWhenAsked) {
  EXPECT_EQ(ParseBool("yes", false), true);
  EXPECT_EQ(ParseBool("off", false), false);
  EXPECT_EQ(ParseBool("", true), false);
  ASSERT_FALSE(ParseBool("", false));
  EXPECT_EQ(ParseBool("", false).error(), "expected true or false");
  EXPECT_FALSE(ParseBool("maybe", true));
}

TEST(AuthenticatorSettingsTest, ParseIntNamesTheRange) {
  EXPECT_EQ(ParseInt("42", 1, 100), 42);
  for (const char* bad : {"0", "101", "4x", "", " 5"}) {
    auto n = ParseInt(bad, 1, 100);
    ASSERT_FALSE(n) << bad;
    EXPECT_EQ(n.error(), "expected an integer from 1 to 100");
  }
}

TEST(AuthenticatorSettingsTest, SplitListKeepsSpacesInsideItemsUnlessTheySeparate) {
  using List = std::vector<std::string>;
  EXPECT_EQ(SplitList(" Ldap One , two,,three ", ","), (List{"Ldap One", "two", "three"}));
  EXPECT_EQ(SplitList("openid, email\tprofile  x", ", \t"),
            (List{"openid", "email", "profile", "x"}));
  EXPECT_EQ(SplitList("", ","), List{});
}

TEST(AuthenticatorSettingsTest, BadNamesTheKey) {
  auto e = Bad("url", "required");
  EXPECT_EQ(e.error().key, "url");
  EXPECT_EQ(e.error().message, "required");
}

}  // namespace
}  // namespace portcullis::oauth::settings
