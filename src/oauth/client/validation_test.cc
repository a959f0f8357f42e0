#include "oauth/client/validation.h"

#include <gtest/gtest.h>

namespace portcullis::oauth {
namespace {

std::string Problem(const Status& st) { return st ? "ok" : st.error().description; }

TEST(Validation, RedirectUris) {
  auto check = [](std::string_view uri) { return Problem(CheckRedirectUri("redirectUri", uri)); };
  EXPECT_EQ(check("https://app.example.com/cb"), "ok");
  EXPECT_EQ(check("https://app.example.com:8443/cb?x=1"), "ok");
  EXPECT_EQ(check("http://localhost:8080/authorization"), "ok");  // light-oauth2's seed row
  EXPECT_EQ(check("http://127.0.0.1:53127/cb"), "ok");
  EXPECT_EQ(check("http://127.9.9.9/cb"), "ok");
  EXPECT_EQ(check("http://[::1]:8080/cb"), "ok");
  EXPECT_EQ(check("com.example.app:/oauth2redirect"), "ok");  // RFC 8252 §7.1
  EXPECT_EQ(check("http://app.example.com/cb"),
            "redirectUri: must use https unless the host is loopback");
  EXPECT_EQ(check("http://localhost.evil.com/cb"),
            "redirectUri: must use https unless the host is loopback");
  EXPECT_EQ(check("https://app.example.com/cb#frag"), "redirectUri: must not contain a fragment");
  EXPECT_EQ(check("https://app.example.com/cb#"), "redirectUri: must not contain a fragment");
  EXPECT_EQ(check("https://*.example.com/cb"),
            "redirectUri: must not contain wildcards: redirect URIs match exactly");
  EXPECT_EQ(check("https://user:pw@example.com/cb"), "redirectUri: must not contain userinfo");
  EXPECT_TRUE(check("javascript:alert(1)").starts_with("redirectUri: scheme 'javascript'"));
  EXPECT_TRUE(check("data:text/html,x").starts_with("redirectUri: scheme 'data'"));
  EXPECT_TRUE(check("file:///etc/passwd").starts_with("redirectUri: scheme 'file'"));
  EXPECT_TRUE(check("/relative/cb").find("is not an absolute URI") != std::string::npos);
  EXPECT_TRUE(check("https://exa mple.com/").find("is not an absolute URI") != std::string::npos);
  EXPECT_EQ(check(""), "redirectUri: is empty");
  EXPECT_EQ(check("https://a/" + std::string(1100, 'x')), "redirectUri: at most 1024 characters");
  EXPECT_EQ(check("https:///cb"), "redirectUri: needs a host");
}

TEST(Validation, HttpUrls) {
  auto check = [](std::string_view u, bool https) {
    return Problem(CheckHttpUrl("serverUrl", u, https, 256));
  };
  EXPECT_EQ(check("http://google.ca/light-4j:8080", false), "ok");  // reference §16.8
  EXPECT_EQ(check("https://peer.example.com", true), "ok");
  EXPECT_EQ(check("http://peer.example.com", true),
            "serverUrl: must use https unless the host is loopback");
  EXPECT_EQ(check("ftp://peer", false), "serverUrl: must be an http or https URL");
  EXPECT_EQ(check("https://peer/?a=b", false), "serverUrl: must not contain a query");
}

TEST(Validation, TextCountsCodePointsAndRefusesControls) {
  EXPECT_EQ(Problem(CheckText("clientName", "Zürich café ☕ 日本", 32, true)), "ok");
  EXPECT_EQ(Problem(CheckText("clientName", std::string(32, 'x'), 32, true)), "ok");
  // 32 code points of 3 bytes each: 96 bytes, still within 32 characters.
  std::string cjk;
  for (int i = 0; i < 32; ++i) cjk += "日";
  EXPECT_EQ(Problem(CheckText("clientName", cjk, 32, true)), "ok");
  EXPECT_EQ(Problem(CheckText("clientName", cjk + "x", 32, true)),
            "clientName: at most 32 characters");
  EXPECT_EQ(Problem(CheckText("clientName", "", 32, true)), "clientName: is required");
  EXPECT_EQ(Problem(CheckText("clientName", "a\nb", 32, true)),
            "clientName: contains a control character");
  EXPECT_EQ(Problem(CheckText("clientDesc", "a\nb", 32, false, true)), "ok");
  EXPECT_EQ(Problem(CheckText("clientName", std::string("a\0b", 3), 32, true)),
            "clientName: contains a control character");
  EXPECT_EQ(Problem(CheckText("clientName", "\xff\xfe", 32, true)),
            "clientName: is not valid UTF-8");
  EXPECT_EQ(Problem(CheckText("clientName", "\xed\xa0\x80", 32, true)),  // a lone surrogate
            "clientName: is not valid UTF-8");
  EXPECT_EQ(Problem(CheckText("clientName", "\xc0\xaf", 32, true)),  // overlong '/'
            "clientName: is not valid UTF-8");
  EXPECT_EQ(Problem(CheckText("clientName", "'; DROP TABLE clients; --", 32, true)), "ok");
}

TEST(Validation, Ids) {
  EXPECT_EQ(Problem(CheckId("serviceId", "AACT0001", 32)), "ok");
  EXPECT_EQ(Problem(CheckId("userId", "steve.hu@networknt.com", 64)), "ok");
  EXPECT_EQ(Problem(CheckId("serviceId", "a'b", 32)),
            "serviceId: may contain only letters, digits and . _ ~ @ + -");
  EXPECT_EQ(Problem(CheckId("serviceId", "a/b", 32)),
            "serviceId: may contain only letters, digits and . _ ~ @ + -");
  EXPECT_EQ(Problem(CheckId("serviceId", "ü", 32)),
            "serviceId: may contain only letters, digits and . _ ~ @ + -");
  EXPECT_EQ(Problem(CheckId("serviceId", std::string(33, 'a'), 32)),
            "serviceId: at most 32 characters");
  EXPECT_EQ(Problem(CheckId("serviceId", "", 32)), "serviceId: is required");
}

TEST(Validation, EnumAndScope) {
  EXPECT_EQ(Problem(CheckEnum("clientType", "fake", {"public", "trusted"})),
            "clientType: 'fake' is not one of public, trusted");
  EXPECT_EQ(Problem(CheckScope("scope", "petstore.r read:provider", 100)), "ok");
  EXPECT_EQ(Problem(CheckScope("scope", "a\"b", 100)),
            "scope: scope tokens may not contain '\"', '\\' or controls");
  EXPECT_EQ(Problem(CheckScope("scope", std::string(101, 'a'), 100)),
            "scope: at most 100 characters");
}

TEST(Validation, CustomClaims) {
  EXPECT_EQ(Problem(CheckCustomClaims("customClaim", R"({"c1": "361", "c2": "67"})", 4096)), "ok");
  EXPECT_EQ(Problem(CheckCustomClaims("customClaim", R"({"tier": {"level": 3}})", 4096)), "ok");
  EXPECT_EQ(Problem(CheckCustomClaims("customClaim", "", 4096)), "ok");
  for (const char* reserved :
       {"iss", "sub", "aud", "exp", "client_id", "scope", "user_id", "roles", "cnf", "act", "ver",
        "version", "typ", "userinfo_claims", "user_realm"}) {
    std::string text = std::string(R"({"c1":"x",")") + reserved + R"(":"evil"})";
    EXPECT_EQ(Problem(CheckCustomClaims("customClaim", text, 4096)),
              std::string("customClaim: '") + reserved +
                  "' is a reserved claim name and cannot be overridden");
  }
  EXPECT_EQ(Problem(CheckCustomClaims("customClaim", "[1]", 4096)),
            "customClaim: must be a JSON object");
  EXPECT_TRUE(Problem(CheckCustomClaims("customClaim", "{", 4096))
                  .starts_with("customClaim: not valid JSON"));
  EXPECT_EQ(Problem(CheckCustomClaims("customClaim", R"({"a":1,"a":2})", 4096)),
            "customClaim: duplicate member 'a'");
  EXPECT_EQ(Problem(CheckCustomClaims("customClaim", R"({"":1})", 4096)),
            "customClaim: claim names may not be empty");
}

TEST(Validation, Jwks) {
  // A P-256 public key generated for this test.
  const std::string rsa =
      R"({"keys":[{"kty":"EC","crv":"P-256","kid":"k1","use":"sig","alg":"ES256",)"
      R"("x":"h8V-ybhHVj4BcAZ84FLdTUO-ozj7nE5BGhAbnAnKnhI",)"
      R"("y":"dNpKGGBqRQ3RsFg5AAMkxp-A_6dCLVV32wiTkaCurC8"}]})";
  EXPECT_EQ(Problem(CheckJwks("jwks", rsa)), "ok");
  EXPECT_EQ(Problem(CheckJwks("jwks", R"({"keys":[]})")),
            "jwks: must be a JWK Set with a non-empty \"keys\" array");
  EXPECT_EQ(Problem(CheckJwks("jwks", R"({"keys":[{"kty":"oct","kid":"s","k":"c2VjcmV0"}]})")),
            "jwks: holds private or symmetric key material: register public keys only");
  std::string with_d = rsa;
  with_d.insert(with_d.find("\"x\""), R"("d":"AAAA",)");
  EXPECT_EQ(Problem(CheckJwks("jwks", with_d)),
            "jwks: holds private or symmetric key material: register public keys only");
  EXPECT_EQ(Problem(CheckJwks("jwks", R"({"keys":[{"kty":"RSA","kid":"x","n":"AQ","e":"AQAB"}]})")),
            "jwks: every key needs a kid, a supported kty/alg and use \"sig\"");
}

TEST(Validation, Email) {
  EXPECT_EQ(Problem(CheckEmail("email", "admin@networknt.com", 64)), "ok");
  EXPECT_EQ(Problem(CheckEmail("email", "admin", 64)), "email: 'admin' is not an e-mail address");
  EXPECT_EQ(Problem(CheckEmail("email", "a@b@c", 64)), "email: 'a@b@c' is not an e-mail address");
  EXPECT_EQ(Problem(CheckEmail("email", "@b", 64)), "email: '@b' is not an e-mail address");
}

TEST(Validation, StrictJsonRefusesDuplicatesAtAnyDepthAndDeepNesting) {
  EXPECT_TRUE(ParseStrictJson(R"({"a":{"b":1,"c":[{"d":1},{"d":2}]}})"));
  auto dup = ParseStrictJson(R"({"a":{"b":1,"b":2}})");
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().description, "body: duplicate member 'b'");
  // Escapes are decoded before comparing.
  EXPECT_FALSE(ParseStrictJson(R"({"ab":1,"a\u0062":2})"));
  std::string deep(40, '[');
  deep += std::string(40, ']');
  EXPECT_FALSE(ParseStrictJson(deep));
  EXPECT_FALSE(ParseStrictJson("{} trailing"));
  EXPECT_FALSE(ParseStrictJson("\"\xff\""));  // invalid UTF-8 inside a string
}

}  // namespace
}  // namespace portcullis::oauth
