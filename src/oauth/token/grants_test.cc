// Drives each registered grant through TokenService over fakes: store::FakeDatabase (whose
// transactions fail any SQL), fake keys, a fake user authenticator. The request's client is
// resolved by the test (TokenRequest::Resolve), as Prepare would from the catalog.

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/encoding.h"
#include "oauth/client/client_catalog.h"
#include "oauth/code/memory_code_store.h"
#include "oauth/credentials/secret_hash.h"
#include "oauth/login/authenticator.h"
#include "oauth/refresh/memory_refresh_token_store.h"
#include "oauth/token/grant.h"
#include "oauth/token/grant_registry.h"
#include "oauth/token/memory_token_state_store.h"
#include "oauth/token/token_service.h"
#include "store/fake_database.h"

namespace portcullis::oauth {
namespace {

namespace json = boost::json;

constexpr std::string_view kIssuer = "https://as.example";

// "h.<base64url payload>.s": readable back by Verify, enough for the token service's own checks.
class FakeKeys final : public TokenKeys {
 public:
  Result<std::string> Sign(std::string_view payload, std::string_view typ) const override {
    last_typ = std::string(typ);
    return "h." + Base64UrlEncode(payload) + ".s";
  }
  Result<json::object> Verify(std::string_view jwt) const override {
    auto first = jwt.find('.');
    auto second = jwt.find('.', first + 1);
    if (first == std::string_view::npos || second == std::string_view::npos) {
      return Fail(Error::Status("ERR10000"));
    }
    auto payload = Base64UrlDecode(jwt.substr(first + 1, second - first - 1));
    if (!payload) return Fail(Error::Status("ERR10000"));
    return json::parse(*payload).as_object();
  }
  mutable std::string last_typ;
};

class FakeUsers final : public UserAuthenticator {
 public:
  Result<AuthenticatedUser> Authenticate(std::string_view user_id,
                                         std::string_view password) override {
    ++calls;
    if (user_id == "alice" && password == "wonderland") {
      return AuthenticatedUser{"alice", "customer", "user"};
    }
    return Fail(Error::Status("ERR12016"));
  }
  Result<AuthenticatedUser> Find(std::string_view) override {
    return Fail(Error::Status("ERR12016"));
  }
  int calls = 0;
};

class StepRandom final : public Random {
 public:
  void Fill(void* out, size_t n) override {
    auto* p = static_cast<unsigned char*>(out);
    for (size_t i = 0; i < n; ++i) p[i] = static_cast<unsigned char>(next_++ * 37 + 11);
  }

 private:
  uint64_t next_ = 1;
};

json::object Claims(std::string_view jwt) {
  FakeKeys keys;
  auto c = keys.Verify(jwt);
  EXPECT_TRUE(c.has_value());
  return c ? *c : json::object{};
}

class GrantsTest : public ::testing::Test {
 protected:
  GrantsTest()
      : secrets_(Secret(std::string(32, 'p'))),
        catalog_(db_),
        revoked_(deny_list_, clock_),
        tokens_(Settings(), catalog_, secrets_, keys_, db_,
                TokenStores{codes_, refresh_tokens_, references_, jtis_}, users_, revoked_,
                clock_, random_) {}

  static TokenSettings Settings() {
    TokenSettings s;
    s.issuer = std::string(kIssuer);
    s.token_endpoint = std::string(kIssuer) + "/oauth2/token";
    s.bootstrap_client_id = "boot";
    return s;
  }

  // A client with the secret "s3cret" (keyed digest).
  std::shared_ptr<Client> MakeClient(std::string id, std::string type = "confidential") {
    auto c = std::make_shared<Client>();
    c->client_id = std::move(id);
    c->client_type = std::move(type);
    c->secret_hash = secrets_.Digest("s3cret");
    c->scope = {"read", "write"};
    return c;
  }

  static std::string BasicFor(std::string_view id, std::string_view secret = "s3cret") {
    return "Basic " + Base64Encode(std::string(id) + ":" + std::string(secret));
  }

  // A prepared request: the form, Basic credentials for `client` (when given) and that client
  // resolved, as TokenService::Prepare does from the catalog.
  TokenRequest Request(std::string_view form, std::shared_ptr<const Client> client,
                       std::optional<std::string> authorization = std::nullopt) {
    auto params = Params::FromForm(form);
    EXPECT_TRUE(params.has_value());
    if (!authorization && client) authorization = BasicFor(client->client_id);
    TokenRequest r(std::move(*params), authorization, "203.0.113.9");
    r.Resolve(GrantRegistry::Default().Find(r.grant_type()), std::move(client));
    return r;
  }

  Result<IssuedToken> Run(const TokenRequest& r) {
    return tokens_.Token(r, tokens_.Needs(r) != GrantNeeds::kNothing);
  }

  static std::string Code(const Result<IssuedToken>& t) {
    return t ? std::string("ok") : t.error().code;
  }

  store::FakeDatabase db_;
  ManualClock clock_;
  StepRandom random_;
  SecretHasher secrets_;
  FakeKeys keys_;
  FakeUsers users_;
  ClientCatalog catalog_;
  MemoryAuthCodeStore codes_;
  MemoryRefreshTokenStore refresh_tokens_;
  MemoryReferenceTokenStore references_;
  MemoryAssertionJtiStore jtis_;
  MemoryDenyList deny_list_;
  RevocationList revoked_;
  TokenService tokens_;
};

// --- The registry -------------------------------------------------------------------------

TEST(GrantRegistryTest, ListsEveryGrantInDiscoveryOrder) {
  std::vector<std::string> names;
  for (const auto& g : GrantRegistry::Default().grants()) names.emplace_back(g->name());
  EXPECT_EQ(names,
            (std::vector<std::string>{"authorization_code", "client_credentials", "refresh_token",
                                      "password", "urn:ietf:params:oauth:grant-type:token-exchange",
                                      "client_authenticated_user", "bootstrap_token"}));
  EXPECT_EQ(GrantRegistry::Default().Find("implicit"), nullptr);
  EXPECT_EQ(GrantRegistry::Default().Find(""), nullptr);
}

TEST(GrantRegistryTest, TraitsAgreeWithTheClientRegistrationRule) {
  // Client registration refuses these grants to public clients (NeedsClientAuthentication); the
  // token endpoint reads the grant's trait. The two must say the same.
  for (const auto& g : GrantRegistry::Default().grants()) {
    EXPECT_EQ(g->traits().needs_client_authentication, NeedsClientAuthentication(g->name()))
        << g->name();
  }
}

// --- Where a request runs -------------------------------------------------------------------

TEST_F(GrantsTest, ClientCredentialsNamingAResourceOrAudienceNeedsTheStore) {
  auto c = MakeClient("svc");
  EXPECT_EQ(tokens_.Needs(Request("grant_type=client_credentials", c)), GrantNeeds::kNothing);
  // The service registry is read for a named target (RFC 8707): never on an I/O thread.
  EXPECT_EQ(tokens_.Needs(Request("grant_type=client_credentials&audience=petstore", c)),
            GrantNeeds::kStore);
  EXPECT_EQ(tokens_.Needs(Request("grant_type=client_credentials&resource=petstore", c)),
            GrantNeeds::kStore);
  EXPECT_EQ(tokens_.Needs(Request("grant_type=client_credentials&audience=", c)),
            GrantNeeds::kStore);
  // External clients get stored reference tokens.
  EXPECT_EQ(tokens_.Needs(Request("grant_type=client_credentials", MakeClient("ext", "external"))),
            GrantNeeds::kStore);
  // Client authentication: a legacy PBKDF2 secret is slow and upgraded in the store.
  auto legacy = MakeClient("legacy");
  legacy->secret_hash = HashPbkdf2ForTest("s3cret", "[1, 2, 3]", 1000);
  EXPECT_EQ(tokens_.Needs(Request("grant_type=client_credentials", legacy)), GrantNeeds::kStore);
  // An assertion's jti goes to the replay cache in the store.
  auto pkj = MakeClient("pkj");
  EXPECT_EQ(tokens_.Needs(Request("grant_type=client_credentials&client_id=pkj&client_assertion="
                                  "a.b.c&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3A"
                                  "client-assertion-type%3Ajwt-bearer",
                                  pkj, std::string())),
            GrantNeeds::kStore);
}

TEST_F(GrantsTest, EachGrantDeclaresWhatItNeeds) {
  auto c = MakeClient("svc", "trusted");
  EXPECT_EQ(tokens_.Needs(Request("grant_type=authorization_code&code=x", c)), GrantNeeds::kStore);
  EXPECT_EQ(tokens_.Needs(Request("grant_type=refresh_token&refresh_token=x", c)),
            GrantNeeds::kStore);
  EXPECT_EQ(tokens_.Needs(Request("grant_type=password&username=a&password=b", c)),
            GrantNeeds::kSlowHash);
  EXPECT_EQ(tokens_.Needs(Request("grant_type=client_authenticated_user&userId=u", c)),
            GrantNeeds::kStore);
  EXPECT_EQ(tokens_.Needs(Request("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-"
                                  "exchange&subject_token=x",
                                  c)),
            GrantNeeds::kStore);
  EXPECT_EQ(tokens_.Needs(Request("grant_type=bootstrap_token", c)), GrantNeeds::kNothing);
  // Refusals that need nothing: an unknown grant type, unreadable credentials.
  EXPECT_EQ(tokens_.Needs(Request("grant_type=implicit", c)), GrantNeeds::kNothing);
  EXPECT_EQ(tokens_.Needs(Request("grant_type=password", c, std::string("Bearer x"))),
            GrantNeeds::kNothing);
}

TEST_F(GrantsTest, StoreAccessFromAGrantOnAnIoThreadFailsLoudly) {
  auto c = MakeClient("svc");
  auto r = Request("grant_type=client_credentials&audience=petstore", c);
  // Had the binding run this on an I/O thread (may_block=false), the guard refuses before the
  // store is touched...
  auto io = tokens_.Token(r, /*may_block=*/false);
  ASSERT_FALSE(io);
  EXPECT_EQ(io.error().code, "ERR10010");
  EXPECT_NE(io.error().detail.find("on an I/O thread"), std::string::npos) << io.error().detail;
  // ...while on a pool the same request does reach the store (here the fake, which refuses SQL).
  auto pool = tokens_.Token(r, /*may_block=*/true);
  ASSERT_FALSE(pool);
  EXPECT_NE(pool.error().detail.find("FakeDatabase"), std::string::npos) << pool.error().detail;
  // The same guard holds for every grant that needs the store or a hash.
  auto trusted = MakeClient("t", "trusted");
  EXPECT_EQ(
      tokens_
          .Token(Request("grant_type=password&username=alice&password=wonderland", trusted), false)
          .error()
          .code,
      "ERR10010");
  EXPECT_EQ(users_.calls, 0);
  EXPECT_EQ(tokens_.Token(Request("grant_type=authorization_code&code=abc", c), false).error().code,
            "ERR10010");
  // A legacy secret is never checked on an I/O thread either.
  auto legacy = MakeClient("legacy");
  legacy->secret_hash = HashPbkdf2ForTest("s3cret", "[1, 2, 3]", 1000);
  EXPECT_EQ(tokens_.Token(Request("grant_type=client_credentials", legacy), false).error().code,
            "ERR10010");
}

// --- The checks before a grant runs, in their order ---------------------------------------

TEST_F(GrantsTest, TheGrantTypeIsCheckedBeforeTheClient) {
  auto r = Request("grant_type=implicit", nullptr, std::string("Bearer nonsense"));
  EXPECT_EQ(Code(Run(r)), "ERR12001");
  EXPECT_EQ(
      Code(Run(Request("grant_type=client_credentials", nullptr, std::string("Bearer nonsense")))),
      "ERR12003");
  // An unknown client: 401 invalid_client (RFC 6749 §5.2) with light-oauth2's code.
  auto unknown = Run(Request("grant_type=client_credentials", nullptr, BasicFor("ghost")));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, "ERR12014");
  EXPECT_EQ(unknown.error().http_status, 401);
  EXPECT_EQ(Code(Run(Request("grant_type=client_credentials", MakeClient("svc"),
                             BasicFor("svc", "wrong")))),
            "ERR12007");
}

TEST_F(GrantsTest, APublicClientGetsNoGrantThatNeedsClientAuthentication) {
  auto pub = MakeClient("pub", "public");
  pub->secret_hash.clear();
  pub->auth_method = "none";
  for (std::string_view g :
       {"client_credentials", "password", "client_authenticated_user", "bootstrap_token"}) {
    auto r = Request("grant_type=" + std::string(g) + "&client_id=pub", pub, std::string());
    EXPECT_EQ(Code(Run(r)), "ERR12024") << g;
  }
}

TEST_F(GrantsTest, TheClientsGrantListDecidesExceptForPolicyGrants) {
  auto c = MakeClient("svc");
  c->grant_types = {"authorization_code"};
  EXPECT_EQ(Code(Run(Request("grant_type=client_credentials", c))), "ERR12024");
  // bootstrap_token is decided by identity, not by the list.
  auto boot = MakeClient("boot");
  boot->grant_types = {"authorization_code"};
  EXPECT_EQ(Code(Run(Request("grant_type=bootstrap_token", boot))), "ok");
  // Without a list: password and client_authenticated_user for trusted clients only.
  auto plain = MakeClient("plain");
  EXPECT_EQ(Code(Run(Request("grant_type=password&username=alice&password=wonderland", plain))),
            "ERR12024");
}

// --- Each grant: its success and its main refusal ----------------------------------------

TEST_F(GrantsTest, ClientCredentialsIssuesOnTheIoThread) {
  auto c = MakeClient("svc");
  auto r = Request("grant_type=client_credentials&scope=read", c);
  ASSERT_EQ(tokens_.Needs(r), GrantNeeds::kNothing);
  auto t = tokens_.Token(r, /*may_block=*/false);
  ASSERT_TRUE(t) << t.error().detail;
  auto claims = Claims(t->access_token);
  EXPECT_EQ(claims["sub"].as_string(), "svc");
  EXPECT_EQ(claims["scope"].as_string(), "read");
  EXPECT_EQ(claims["aud"].as_string(), "urn:com.networknt");
  EXPECT_EQ(keys_.last_typ, "at+jwt");
  EXPECT_EQ(t->scope, "read");
  EXPECT_EQ(t->expires_in, 600);
  // Refused: a scope the client does not hold.
  EXPECT_EQ(Code(Run(Request("grant_type=client_credentials&scope=admin", c))), "ERR12027");
}

TEST_F(GrantsTest, BootstrapTokenIsForTheBootstrapClientOnly) {
  auto boot = MakeClient("boot");
  auto t = Run(Request("grant_type=bootstrap_token&sid=svc-1", boot));
  ASSERT_TRUE(t) << t.error().detail;
  auto claims = Claims(t->access_token);
  EXPECT_EQ(claims["sid"].as_string(), "svc-1");
  EXPECT_EQ(claims["scope"].as_string(), "portal.w");
  EXPECT_EQ(t->expires_in, 86400);
  EXPECT_EQ(Code(Run(Request("grant_type=bootstrap_token", MakeClient("other")))), "ERR12007");
}

TEST_F(GrantsTest, AuthorizationCodeRefusesAMissingCode) {
  EXPECT_EQ(Code(Run(Request("grant_type=authorization_code", MakeClient("svc")))), "ERR12052");
}

TEST_F(GrantsTest, RefreshTokenRefusesAMissingToken) {
  EXPECT_EQ(Code(Run(Request("grant_type=refresh_token", MakeClient("svc")))), "ERR12029");
}

TEST_F(GrantsTest, PasswordRefusesMissingCredentials) {
  auto t = MakeClient("t", "trusted");
  EXPECT_EQ(Code(Run(Request("grant_type=password&password=x", t))), "ERR12022");
  EXPECT_EQ(Code(Run(Request("grant_type=password&username=x", t))), "ERR12023");
  EXPECT_EQ(users_.calls, 0);
}

TEST_F(GrantsTest, ClientAuthenticatedUserRefusesAMissingUser) {
  auto t = MakeClient("t", "trusted");
  EXPECT_EQ(Code(Run(Request("grant_type=client_authenticated_user&userType=x", t))), "ERR12031");
  EXPECT_EQ(Code(Run(Request("grant_type=client_authenticated_user&userId=x", t))), "ERR12032");
}

TEST_F(GrantsTest, TokenExchangeRefusesAForeignSubjectToken) {
  auto c = MakeClient("svc");
  std::string exchange =
      "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange"
      "&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token"
      "&audience=petstore&subject_token=";
  auto foreign = "h." + Base64UrlEncode(R"({"iss":"https://evil.example","scope":"read"})") + ".s";
  auto r = Run(Request(exchange + foreign, c));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "ERR10000");
  EXPECT_EQ(r.error().oauth_error, "invalid_grant");
  EXPECT_EQ(Code(Run(Request("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-"
                             "exchange&audience=x",
                             c))),
            "ERR11004");
}

}  // namespace
}  // namespace portcullis::oauth
