#include "oauth/token/client_auth.h"

#include <gtest/gtest.h>

#include "common/encoding.h"

namespace portcullis::oauth {
namespace {

Params Form(std::string_view body) { return *Params::FromForm(body); }

TEST(ClientAuth, BasicIsPercentDecodedPerRfc6749) {
  // id "a:b c" and secret "p%ss" form-encoded, then base64 (RFC 6749 §2.3.1).
  std::string header = "Basic " + Base64Encode("a%3Ab+c:p%25ss");
  auto c = ReadClientCredentials(header, nullptr);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->client_id, "a:b c");
  EXPECT_EQ(c->secret.Reveal(), "p%ss");
  EXPECT_EQ(c->method, "client_secret_basic");
}

TEST(ClientAuth, UnencodedLightOauth2FormIsAccepted) {
  auto c = ReadClientCredentials("Basic f7d42348-c647:f6h1FTI8Q3-7UScPZDzfXA", nullptr);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->client_id, "f7d42348-c647");
  EXPECT_EQ(c->secret.Reveal(), "f6h1FTI8Q3-7UScPZDzfXA");
}

TEST(ClientAuth, LightOauth2ErrorCodes) {
  EXPECT_EQ(ReadClientCredentials(std::nullopt, nullptr).error().code, "ERR12002");
  auto empty = Form("grant_type=client_credentials");
  EXPECT_EQ(ReadClientCredentials(std::nullopt, &empty).error().code, "ERR12002");
  EXPECT_EQ(ReadClientCredentials("Bearer abc", nullptr).error().code, "ERR12003");
  EXPECT_EQ(ReadClientCredentials("Bas", nullptr).error().code, "ERR12003");  // no crash
  EXPECT_EQ(ReadClientCredentials("Basic abc", nullptr).error().code, "ERR12004");
  EXPECT_EQ(ReadClientCredentials("Basic " + Base64Encode("nocolon"), nullptr).error().code,
            "ERR12004");
  EXPECT_EQ(ReadClientCredentials("Basic " + Base64Encode("id:"), nullptr).error().code,
            "ERR12004");
}

TEST(ClientAuth, FormCredentialsAndPublicClients) {
  auto post = Form("client_id=abc&client_secret=s3cret");
  auto c = ReadClientCredentials(std::nullopt, &post);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->method, "client_secret_post");
  auto pub = Form("client_id=abc");
  EXPECT_EQ(ReadClientCredentials(std::nullopt, &pub)->method, "none");
}

TEST(ClientAuth, TwoMethodsAtOnceAreRefused) {
  auto post = Form("client_id=abc&client_secret=s3cret");
  auto c = ReadClientCredentials("Basic " + Base64Encode("abc:s3cret"), &post);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().oauth_error, "invalid_request");
}

TEST(Params, RepeatedAndMalformedParametersAreRefused) {
  EXPECT_EQ(Params::FromForm("a=1&a=2").error().oauth_error, "invalid_request");
  EXPECT_EQ(Params::FromForm("a=%zz").error().code, "ERR12000");
  EXPECT_EQ(Params::FromForm("a=" + std::string(9000, 'x')).error().oauth_error, "invalid_request");
  auto p = Params::FromForm("scope=a+b&x=");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->Value("scope"), "a b");
  EXPECT_TRUE(p->Has("x"));
  EXPECT_FALSE(p->Has("y"));
}

}  // namespace
}  // namespace portcullis::oauth
