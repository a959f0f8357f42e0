#include "oauth/client/client.h"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "oauth/client/client_json.h"
#include "oauth/client/validation.h"

namespace portcullis::oauth {
namespace {

namespace json = boost::json;

TEST(Scope, SplitDropsEmptyItemsAndDuplicatesKeepingOrder) {
  EXPECT_EQ(SplitScope("  a.r  b.w a.r\tc "), (std::vector<std::string>{"a.r", "b.w", "c"}));
  EXPECT_TRUE(SplitScope("").empty());
  EXPECT_TRUE(SplitScope("   ").empty());
  EXPECT_EQ(JoinScope({"a", "b"}), "a b");
  EXPECT_EQ(JoinScope({}), "");
}

TEST(Client, HasScopeIsExactNotSubstring) {
  Client c;
  c.scope = {"petstore.r", "petstore.w"};
  EXPECT_TRUE(c.HasScope("petstore.r"));
  EXPECT_FALSE(c.HasScope("pet"));  // light-oauth2's String.contains bug (reference §4.6)
  EXPECT_FALSE(c.HasScope("petstore.r petstore.w"));
}

TEST(Client, AllowsGrant) {
  Client c;
  EXPECT_TRUE(c.AllowsGrant("password"));  // legacy rows without a list keep old behaviour
  c.grant_types = {"client_credentials"};
  EXPECT_TRUE(c.AllowsGrant("client_credentials"));
  EXPECT_FALSE(c.AllowsGrant("password"));
  EXPECT_FALSE(c.AllowsGrant("client"));
}

ClientPatch Parse(std::string_view text) {
  auto o = ParseJsonObject(text);
  EXPECT_TRUE(o) << o.error().description;
  auto p = ClientPatchFromJson(*o);
  EXPECT_TRUE(p) << p.error().description;
  return p.value_or(ClientPatch{});
}

std::string ParseError(std::string_view text) {
  auto o = ParseJsonObject(text);
  if (!o) return o.error().code + " " + o.error().description;
  auto p = ClientPatchFromJson(*o);
  return p ? "ok" : p.error().code + " " + p.error().description;
}

TEST(ClientJson, LightOauth2ShapeIsAccepted) {
  // A light-oauth2 POST body (reference §16.3): customClaim as a JSON string, single redirectUri.
  auto p = Parse(R"({"clientType":"public","clientProfile":"mobile","clientName":"AccountViewer",
    "clientDesc":"Retail Online Banking Account Viewer","scope":"act.r act.w","ownerId":"admin",
    "host":"lightapi.net","customClaim":"{\"c1\": \"361\", \"c2\": \"67\"}",
    "redirectUri":"http://localhost:8080/authorization","clientSecret":null})");
  EXPECT_EQ(*p.client_type, "public");
  EXPECT_EQ(*p.custom_claim, R"({"c1": "361", "c2": "67"})");
  ASSERT_TRUE(p.redirect_uris);
  EXPECT_EQ(*p.redirect_uris, (std::vector<std::string>{"http://localhost:8080/authorization"}));
  EXPECT_FALSE(p.grant_types);
}

TEST(ClientJson, ObjectCustomClaimAndRedirectMerge) {
  auto p = Parse(R"({"customClaim":{"tier":"gold"},"redirectUri":"https://a/cb",
                     "redirectUris":["https://b/cb"],"accessTokenTtl":300,"jwks":null})");
  EXPECT_EQ(*p.custom_claim, R"({"tier":"gold"})");
  EXPECT_EQ(*p.redirect_uris, (std::vector<std::string>{"https://a/cb", "https://b/cb"}));
  EXPECT_EQ(**p.access_token_ttl, 300);
  EXPECT_EQ(*p.jwks, "");
}

TEST(ClientJson, WrongTypesAndUnknownFieldsNameTheField) {
  EXPECT_EQ(ParseError(R"({"clientName":42})"), "ERR11004 clientName: must be a string");
  EXPECT_EQ(ParseError(R"({"grantTypes":"client_credentials"})"),
            "ERR11004 grantTypes: must be an array of strings");
  EXPECT_EQ(ParseError(R"({"grantTypes":[1]})"),
            "ERR11004 grantTypes: must be an array of strings");
  EXPECT_EQ(ParseError(R"({"accessTokenTtl":"600"})"),
            "ERR11004 accessTokenTtl: must be an integer");
  EXPECT_EQ(ParseError(R"({"accessTokenTtl":1.5})"), "ERR11004 accessTokenTtl: must be an integer");
  EXPECT_EQ(ParseError(R"({"clientname":"x"})"), "ERR11004 clientname: unknown field");
  EXPECT_EQ(ParseError(R"({"customClaim":[1]})"),
            "ERR11004 customClaim: must be a JSON object or a string holding one");
  EXPECT_EQ(ParseError(R"({"clientType":"public","clientType":"trusted"})"),
            "ERR11004 body: duplicate member 'clientType'");
  EXPECT_EQ(ParseError(R"([1,2])"), "ERR11004 body: must be a JSON object");
  EXPECT_TRUE(ParseError(R"({"clientName":)").starts_with("ERR11004 body: not valid JSON"));
}

TEST(ClientJson, OutputHasNoSecretsAndLightOauth2Names) {
  Client c;
  c.client_id = "id";
  c.client_type = ClientType::kConfidential;
  c.secret_hash = "hs256$abc";
  c.scope = {"a", "b"};
  c.redirect_uris = {"https://x/cb", "https://y/cb"};
  std::string text = json::serialize(ClientToJson(c));
  EXPECT_EQ(text.find("hs256"), std::string::npos);
  EXPECT_EQ(text.find("clientSecret"), std::string::npos);
  EXPECT_EQ(text.find("secretHash"), std::string::npos);
  auto o = ClientToJson(c);
  EXPECT_EQ(o["scope"], "a b");
  EXPECT_EQ(o["redirectUri"], "https://x/cb");
  EXPECT_EQ(o["redirectUris"].as_array().size(), 2u);
  EXPECT_TRUE(o["clientDesc"].is_null());
  EXPECT_EQ(o["tokenProfile"], "rfc9068");
  EXPECT_EQ(o["clientType"], "confidential");
  EXPECT_TRUE(o["authMethod"].is_null());  // not named: Basic and post both accepted
  c.auth_method = AuthMethod::kPrivateKeyJwt;
  c.token_profile = TokenProfile::kLight4j;
  o = ClientToJson(c);
  EXPECT_EQ(o["authMethod"], "private_key_jwt");
  EXPECT_EQ(o["tokenProfile"], "light-4j");
}

TEST(ClientEnums, NamesRoundTripAndOtherSpellingsAreRefused) {
  for (auto t : {ClientType::kPublic, ClientType::kConfidential, ClientType::kTrusted,
                 ClientType::kExternal}) {
    EXPECT_EQ(ParseClientType(ClientTypeName(t)), t);
  }
  for (auto p : {TokenProfile::kRfc9068, TokenProfile::kLight4j}) {
    EXPECT_EQ(ParseTokenProfile(TokenProfileName(p)), p);
  }
  for (auto m : {AuthMethod::kClientSecretBasic, AuthMethod::kClientSecretPost,
                 AuthMethod::kPrivateKeyJwt, AuthMethod::kNone}) {
    EXPECT_EQ(ParseAuthMethod(AuthMethodName(m)), m);
  }
  EXPECT_EQ(ClientTypeName(ClientType::kExternal), "external");
  EXPECT_EQ(TokenProfileName(TokenProfile::kLight4j), "light-4j");
  EXPECT_EQ(AuthMethodName(AuthMethod::kClientSecretPost), "client_secret_post");
  EXPECT_FALSE(ParseClientType("Public"));
  EXPECT_FALSE(ParseTokenProfile(""));
  EXPECT_FALSE(ParseAuthMethod("client_secret_jwt"));
  EXPECT_EQ(DefaultAuthMethod(ClientType::kPublic), AuthMethod::kNone);
  EXPECT_EQ(DefaultAuthMethod(ClientType::kTrusted), AuthMethod::kClientSecretBasic);
}

TEST(Client, AcceptsSecretMethodFollowsTheRegisteredMethod) {
  Client c;
  EXPECT_TRUE(c.AcceptsSecretMethod("client_secret_basic"));
  EXPECT_TRUE(c.AcceptsSecretMethod("client_secret_post"));  // not named: both
  c.auth_method = AuthMethod::kClientSecretPost;
  c.auth_method_explicit = true;
  EXPECT_FALSE(c.AcceptsSecretMethod("client_secret_basic"));
  EXPECT_TRUE(c.AcceptsSecretMethod("client_secret_post"));
  c.auth_method = AuthMethod::kPrivateKeyJwt;
  EXPECT_FALSE(c.AcceptsSecretMethod("client_secret_post"));
}

TEST(Client, CustomClaimsAreParsedOnceWithoutReservedNames) {
  auto claims = ParseCustomClaims(R"({"c1":"361","n":2,"iss":"evil","scope":"x"})");
  EXPECT_EQ(json::serialize(claims), R"({"c1":"361","n":2})");
  EXPECT_TRUE(ParseCustomClaims("").empty());
  EXPECT_TRUE(ParseCustomClaims("[1]").empty());
  EXPECT_TRUE(ParseCustomClaims("{not json").empty());
}

}  // namespace
}  // namespace portcullis::oauth
