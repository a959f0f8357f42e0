// JwtAdminAuth with a fake key ring whose Verify decodes the payload without a signature: the
// audience rule, the typ rule and the 401 challenge.
#include "api/jwt_admin_auth.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "common/clock.h"
#include "common/encoding.h"
#include "oauth/token/memory_token_state_store.h"
#include "oauth/token/token_service.h"
#include "verify/claims.h"

namespace portcullis::api {
namespace {

class FakeKeys final : public oauth::TokenKeys {
 public:
  Result<std::string> Sign(std::string_view, std::string_view) const override {
    return Fail(Error::Internal("unused"));
  }
  Result<boost::json::object> Verify(std::string_view jwt) const override {
    auto first = jwt.find('.');
    auto second = jwt.find('.', first + 1);
    auto payload = Base64UrlDecode(jwt.substr(first + 1, second - first - 1));
    if (!payload) return Fail(Error::Status("ERR10000"));
    return boost::json::parse(*payload).as_object();
  }
};

std::string Jwt(std::string_view header, std::string_view payload) {
  return Base64UrlEncode(header) + "." + Base64UrlEncode(payload) + ".c2ln";
}

constexpr std::string_view kIssuer = "https://as.example";

class JwtAdminAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    revoked_ = std::make_unique<oauth::RevocationList>(deny_list_, SystemClock::Instance());
  }

  Result<Caller> Call(const std::string& token, std::vector<std::string> audiences = {}) {
    JwtAdminAuth auth(keys_, *revoked_, std::string(kIssuer), std::move(audiences));
    http::Request req;
    req.headers.emplace_back("authorization", "Bearer " + token);
    return auth.Authorize(req, "portal.r");
  }

  FakeKeys keys_;
  oauth::MemoryDenyList deny_list_;
  std::unique_ptr<oauth::RevocationList> revoked_;
};

constexpr std::string_view kAtJwt = R"({"alg":"RS256","typ":"at+jwt"})";

TEST_F(JwtAdminAuthTest, AcceptsTokensForTheIssuer) {
  // {"iss": issuer, "aud": issuer, "scope": "portal.r", "client_id": "c", "roles": "user admin"}
  auto c = Call(Jwt(kAtJwt, R"({"iss":"https://as.example","aud":"https://as.example",)"
                            R"("scope":"portal.r","client_id":"c","user_id":"u",)"
                            R"("roles":"user admin","jti":"j1"})"));
  ASSERT_TRUE(c) << c.error().description;
  EXPECT_EQ(c->client_id, "c");
  EXPECT_EQ(c->roles, "user admin");
  // aud as an array that contains the issuer.
  EXPECT_TRUE(Call(Jwt(kAtJwt, R"({"iss":"https://as.example","aud":["svcc","https://as.example"],)"
                               R"("scope":"portal.r","jti":"j2"})")));
}

TEST_F(JwtAdminAuthTest, RefusesTokensForAnotherAudience) {
  // {"aud": "svcc"}: asked with resource=svcc, meant for that service only.
  auto c = Call(Jwt(kAtJwt, R"({"iss":"https://as.example","aud":"svcc","scope":"portal.r"})"));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, "ERR10000");
  EXPECT_EQ(c.error().http_status, 401);
  // No aud at all is not for us either.
  EXPECT_FALSE(Call(Jwt(kAtJwt, R"({"iss":"https://as.example","scope":"portal.r"})")));
  // A configured admin audience is.
  EXPECT_TRUE(Call(Jwt(kAtJwt, R"({"iss":"https://as.example","aud":"urn:com.networknt",)"
                               R"("scope":"portal.r"})"),
                   {"urn:com.networknt"}));
}

TEST_F(JwtAdminAuthTest, RefusesSignedPayloadsWhateverTheyCarry) {
  // {"typ":"payload+jwt"} header, payload with every claim an admin token would have.
  for (std::string_view header :
       {R"({"alg":"RS256","typ":"payload+jwt"})", R"({"alg":"RS256","typ":"Payload+JWT"})"}) {
    auto c = Call(Jwt(header, R"({"iss":"https://as.example","aud":"https://as.example",)"
                              R"("scope":"portal.r"})"));
    ASSERT_FALSE(c) << header;
    EXPECT_EQ(c.error().code, "ERR10000");
  }
  EXPECT_TRUE(verify::IsSignedPayloadTyp(verify::HeaderTyp(Jwt(R"({"typ":"Payload+JWT"})", "{}"))));
  EXPECT_EQ(verify::HeaderTyp("not-a-jwt"), "");
}

TEST_F(JwtAdminAuthTest, ChallengesFollowRfc6750) {
  auto missing = RenderAuthError(Error::Status("ERR10002"));
  auto invalid = RenderAuthError(Error::Status("ERR10000", "bad \"one\""));
  auto scope = RenderAuthError(Error::Status("ERR10005"));
  auto other = RenderAuthError(Error::Status("ERR12014"));
  auto header = [](const http::Response& r) {
    for (const auto& [k, v] : r.headers) {
      if (k == "WWW-Authenticate") return v;
    }
    return std::string();
  };
  EXPECT_EQ(header(missing), "Bearer realm=\"portcullis\"");
  EXPECT_EQ(header(invalid),
            "Bearer realm=\"portcullis\", error=\"invalid_token\", error_description=\"bad one\"");
  EXPECT_TRUE(
      header(scope).starts_with("Bearer realm=\"portcullis\", error=\"insufficient_scope\""));
  EXPECT_EQ(header(other), "");
  EXPECT_EQ(missing.status, 401);
}

}  // namespace
}  // namespace portcullis::api
