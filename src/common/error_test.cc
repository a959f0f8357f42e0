#include "common/error.h"

#include <gtest/gtest.h>

namespace portcullis {
namespace {

TEST(Error, CatalogCarriesStatusMessageAndOAuthError) {
  auto e = Error::Status("ERR12007");
  EXPECT_EQ(e.http_status, 401);
  EXPECT_EQ(e.message, "UNAUTHORIZED_CLIENT");
  EXPECT_EQ(e.oauth_error, "invalid_client");
  EXPECT_FALSE(e.description.empty());
}

TEST(Error, DescriptionOverridesAndDetailStaysInternal) {
  auto e = Error::Status("ERR12014", "Client x is not found.", "lookup miss");
  EXPECT_EQ(e.http_status, 404);
  EXPECT_EQ(e.description, "Client x is not found.");
  EXPECT_EQ(e.detail, "lookup miss");
}

TEST(Error, UnknownCodeIsInternal) {
  auto e = Error::Status("ERR99999");
  EXPECT_EQ(e.http_status, 500);
  EXPECT_EQ(e.code, "ERR10010");
}

}  // namespace
}  // namespace portcullis
