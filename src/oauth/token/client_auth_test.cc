#include "oauth/token/client_auth.h"

#include <gtest/gtest.h>

#include "common/encoding.h"
#include "oauth/token/client_jwks.h"

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

TEST(ClientAuth, AssertionWithoutClientIdNamesTheClientBySub) {
  // RFC 7521 §4.2: client_id is optional next to client_assertion; the (not yet verified) sub
  // only selects whose keys the signature is then checked with.
  std::string jwt = Base64UrlEncode(R"({"alg":"ES256"})") + "." +
                    Base64UrlEncode(R"({"iss":"c1","sub":"c1","aud":"x"})") + ".sig";
  auto form = Form(
      "grant_type=client_credentials&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3A"
      "client-assertion-type%3Ajwt-bearer&client_assertion=" +
      jwt);
  auto c = ReadClientCredentials(std::nullopt, &form);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->client_id, "c1");
  EXPECT_EQ(c->method, "private_key_jwt");
  // A given client_id wins; an unreadable assertion leaves the id empty (unknown client).
  auto named = Form(
      "client_id=c2&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3A"
      "client-assertion-type%3Ajwt-bearer&client_assertion=" +
      jwt);
  EXPECT_EQ(ReadClientCredentials(std::nullopt, &named)->client_id, "c2");
  auto junk = Form(
      "client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
      "&client_assertion=not-a-jwt");
  EXPECT_EQ(ReadClientCredentials(std::nullopt, &junk)->client_id, "");
  EXPECT_EQ(UnverifiedAssertionSubject("a." + Base64UrlEncode("[1]") + ".c"), "");
  EXPECT_EQ(UnverifiedAssertionSubject("a." + Base64UrlEncode(R"({"sub":7})") + ".c"), "");
}

}  // namespace
}  // namespace portcullis::oauth
