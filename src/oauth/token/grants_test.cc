// Drives each registered grant through TokenService over fakes: store::FakeDatabase (whose
// transactions fail any SQL), fake keys, a fake user authenticator. The request's client is
// resolved by the test (TokenRequest::Resolve), as Prepare would from the catalog.

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <map>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/encoding.h"
#include "jose/jws_testing.h"
#include "jose/key.h"
#include "oauth/client/client_catalog.h"
#include "oauth/client/memory_client_store.h"
#include "oauth/code/memory_code_store.h"
#include "oauth/credentials/secret_hash.h"
#include "oauth/credentials/token_hash.h"
#include "oauth/dpop/dpop_proof.h"
#include "oauth/login/authenticator.h"
#include "oauth/oidc/id_token.h"
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
  Result<std::string> SignIdToken(std::string_view payload, jose::Alg alg) const override {
    if (alg == jose::Alg::kPS256) return Fail(Error::Unavailable("no PS256 key"));
    last_id_alg = alg;
    return "i." + Base64UrlEncode(payload) + ".s";
  }
  std::optional<jose::Alg> AccessTokenAlg() const override { return access_alg; }
  mutable std::string last_typ;
  mutable std::optional<jose::Alg> last_id_alg;
  std::optional<jose::Alg> access_alg = jose::Alg::kES256;
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

// The reads grants make in other domains, from maps.
class FakeLookups final : public GrantLookups {
 public:
  Result<std::optional<CurrentUser>> FindUser(store::Tx&, std::string_view user_id) override {
    ++calls;
    auto it = users.find(std::string(user_id));
    if (it == users.end()) return std::optional<CurrentUser>();
    return std::optional<CurrentUser>(it->second);
  }
  Result<std::optional<ExchangePolicy>> FindDelegation(std::string_view client_id,
                                                       std::string_view audience) override {
    ++calls;
    auto it = policies.find(std::string(client_id) + " " + std::string(audience));
    if (it == policies.end()) return std::optional<ExchangePolicy>();
    return std::optional<ExchangePolicy>(it->second);
  }
  Result<std::optional<std::vector<std::string>>> ServiceScopes(
      std::string_view service_id) override {
    ++calls;
    auto it = services.find(std::string(service_id));
    if (it == services.end()) return std::optional<std::vector<std::string>>();
    return std::optional<std::vector<std::string>>(it->second);
  }
  Status UpgradeLegacySecret(std::string_view client_id, std::string_view, const Secret&) override {
    ++calls;
    upgraded.emplace_back(client_id);
    return {};
  }
  std::map<std::string, CurrentUser> users;
  std::vector<std::string> upgraded;
  std::map<std::string, ExchangePolicy> policies;  // "client audience"
  std::map<std::string, std::vector<std::string>> services;
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
        catalog_(client_store_),
        revoked_(deny_list_, clock_),
        tokens_(Settings(), catalog_, secrets_, keys_, db_,
                TokenStores{codes_, refresh_tokens_, references_, jtis_}, users_, revoked_, clock_,
                random_, lookups_) {
    lookups_.users["alice"] = CurrentUser{"customer", "user", false};
    lookups_.services["petstore"] = {"read", "pets.w"};
  }

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
    c->client_type = ParseClientType(type).value_or(ClientType::kConfidential);
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

  // An authorization code for alice at `client_id`, scope "read write".
  void IssueCode(std::string_view code, std::string client_id) {
    IssueCode(code, std::move(client_id), [](AuthCode&) {});
  }
  template <typename F>
  void IssueCode(std::string_view code, std::string client_id, F edit) {
    AuthCode c;
    c.code_hash = TokenHash(code);
    c.client_id = std::move(client_id);
    c.user_id = "alice";
    c.user_type = "customer";
    c.roles = "user";
    c.scope = "read write";
    c.created_at = clock_.Now();
    c.expires_at = clock_.Now() + 60;
    edit(c);
    ASSERT_TRUE(codes_.Insert(c));
  }

  std::optional<RefreshToken> StoredRefresh(std::string_view token) {
    auto r = refresh_tokens_.Find(TokenHash(token));
    EXPECT_TRUE(r.has_value());
    return r ? *r : std::nullopt;
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
  FakeLookups lookups_;
  MemoryClientStore client_store_;
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
                                      "client_authenticated_user", "bootstrap_token",
                                      "urn:ietf:params:oauth:grant-type:device_code"}));
  EXPECT_EQ(GrantRegistry::Default().Find("implicit"), nullptr);
  EXPECT_EQ(GrantRegistry::Default().Find(""), nullptr);
}

TEST(GrantRegistryTest, TypesAreWhatClientRegistrationReads) {
  // Client registration checks grant lists against types() (RegistrationPolicy::grant_types):
  // the same names and traits as the grants, in the same order.
  const auto& registry = GrantRegistry::Default();
  ASSERT_EQ(registry.types().size(), registry.grants().size());
  for (size_t i = 0; i < registry.grants().size(); ++i) {
    const Grant& g = *registry.grants()[i];
    const GrantType& t = registry.types()[i];
    EXPECT_EQ(t.name, g.name());
    EXPECT_EQ(t.traits.needs_client_authentication, g.traits().needs_client_authentication);
    EXPECT_EQ(t.traits.trusted_only, g.traits().trusted_only);
    EXPECT_EQ(t.traits.shows_password, g.traits().shows_password);
    EXPECT_EQ(FindGrantType(registry.types(), g.name()), &t);
  }
  // The grants that show the client a user's password (FAPI 2.0 §5.3.2.1).
  std::vector<std::string> shows_password;
  for (const auto& t : registry.types()) {
    if (t.traits.shows_password) shows_password.emplace_back(t.name);
  }
  EXPECT_EQ(shows_password, (std::vector<std::string>{"password", "client_authenticated_user"}));
}

// --- The request, parsed once ------------------------------------------------------------

TEST_F(GrantsTest, ATokenRequestKeepsItsViewsAcrossAMove) {
  // Short values (in-string storage): a copy of the fields would leave the views dangling.
  auto c = MakeClient("svc");
  auto r = Request("grant_type=client_credentials&scope=read&audience=petstore", c,
                   "Basic " + Base64Encode("a%3Ab:s%2Bc"));
  auto moved = std::make_shared<const TokenRequest>(std::move(r));
  EXPECT_EQ(moved->grant_type(), "client_credentials");
  EXPECT_EQ(moved->scope(), "read");
  EXPECT_EQ(moved->audience().value_or("?"), "petstore");
  EXPECT_FALSE(moved->resource().has_value());
  EXPECT_EQ(moved->remote_ip(), "203.0.113.9");
  ASSERT_TRUE(moved->grant());
  EXPECT_EQ(moved->grant()->name(), "client_credentials");
  // Basic credentials decoded once, form-decoded as RFC 6749 §2.3.1 wants.
  ASSERT_TRUE(moved->credentials());
  EXPECT_EQ(moved->credentials()->client_id, "a:b");
  EXPECT_EQ(moved->credentials()->secret.Reveal(), "s+c");
  EXPECT_EQ(moved->credentials()->method, "client_secret_basic");
}

TEST_F(GrantsTest, PrepareResolvesTheGrantAndTheClientOnce) {
  auto r = tokens_.Prepare(*Params::FromForm("grant_type=password"), BasicFor("ghost"), "");
  ASSERT_TRUE(r.grant());
  EXPECT_EQ(r.grant()->name(), "password");
  EXPECT_EQ(r.client(), nullptr);  // not in the (empty) catalog
  auto unknown = tokens_.Prepare(*Params::FromForm("grant_type=implicit"), std::nullopt, "");
  EXPECT_EQ(unknown.grant(), nullptr);
  EXPECT_FALSE(unknown.credentials());
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
  EXPECT_EQ(lookups_.calls, 0);
  // ...while on a pool the same request reads the service registry (here the fake) and succeeds.
  auto pool = tokens_.Token(r, /*may_block=*/true);
  ASSERT_TRUE(pool) << pool.error().detail;
  EXPECT_EQ(lookups_.calls, 1);
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

// --- Introspection (RFC 7662): the caller read once, and the same I/O-thread guard ---------

class IntrospectionTest : public GrantsTest {
 protected:
  // As PrepareIntrospection builds it, with `client` as the catalog's snapshot.
  IntrospectionRequest Introspection(std::string_view form, std::shared_ptr<const Client> client,
                                     std::optional<std::string> authorization = std::nullopt) {
    auto params = Params::FromForm(form);
    EXPECT_TRUE(params.has_value());
    if (!authorization && client) authorization = BasicFor(client->client_id);
    IntrospectionRequest r{std::move(*params), {}, std::move(client)};
    r.credentials = ReadClientCredentials(authorization, &r.params);
    return r;
  }
  std::string AccessToken() {
    auto t = Run(Request("grant_type=client_credentials", MakeClient("svc")));
    EXPECT_TRUE(t) << t.error().detail;
    return t ? t->access_token : std::string();
  }
};

TEST_F(IntrospectionTest, TheCallerIsReadOnceAndAJwtIsAnsweredOnTheIoThread) {
  auto ghost =
      tokens_.PrepareIntrospection(*Params::FromForm("token=a.b.c"), BasicFor("ghost"), nullptr);
  ASSERT_TRUE(ghost.credentials);
  EXPECT_EQ(ghost.credentials->client_id, "ghost");
  EXPECT_EQ(ghost.client, nullptr);
  // Unknown or unreadable callers are refused on the I/O thread, as before.
  EXPECT_EQ(tokens_.IntrospectionNeeds(ghost), GrantNeeds::kNothing);
  auto unknown = tokens_.Introspect(ghost, /*may_block=*/false);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, "ERR12014");
  auto bearer = tokens_.PrepareIntrospection(*Params::FromForm("token=a.b.c"), "Bearer x", nullptr);
  ASSERT_FALSE(bearer.credentials);
  EXPECT_EQ(tokens_.IntrospectionNeeds(bearer), GrantNeeds::kNothing);
  EXPECT_EQ(tokens_.Introspect(bearer, false).error().code, bearer.credentials.error().code);

  auto r = Introspection("token=" + AccessToken(), MakeClient("svc"));
  ASSERT_EQ(tokens_.IntrospectionNeeds(r), GrantNeeds::kNothing);
  auto body = tokens_.Introspect(r, /*may_block=*/false);
  ASSERT_TRUE(body) << body.error().detail;
  EXPECT_NE(body->find("\"active\":true"), std::string::npos) << *body;
  EXPECT_EQ(lookups_.calls, 0);
}

TEST_F(IntrospectionTest, WhatNeedsTheStoreIsRefusedOnAnIoThread) {
  auto expect_guard = [&](const IntrospectionRequest& r, std::string_view what) {
    EXPECT_EQ(tokens_.IntrospectionNeeds(r), GrantNeeds::kStore) << what;
    auto io = tokens_.Introspect(r, /*may_block=*/false);
    ASSERT_FALSE(io) << what;
    EXPECT_EQ(io.error().code, "ERR10010") << what;
    EXPECT_NE(io.error().detail.find("on an I/O thread"), std::string::npos) << io.error().detail;
  };
  // A reference token is looked up in the store.
  auto svc = MakeClient("svc");
  ASSERT_TRUE(references_.Insert(
      ReferenceToken{TokenHash("ref-1"), AccessToken(), "svc", "", clock_.Now() + 60}));
  auto ref = Introspection("token=ref-1", svc);
  expect_guard(ref, "reference token");
  auto pool = tokens_.Introspect(ref, /*may_block=*/true);
  ASSERT_TRUE(pool) << pool.error().detail;
  EXPECT_NE(pool->find("\"active\":true"), std::string::npos) << *pool;

  // private_key_jwt: the assertion's jti goes to the replay cache in the store.
  auto pkj = MakeClient("pkj");
  pkj->auth_method = AuthMethod::kPrivateKeyJwt;
  pkj->secret_hash.clear();
  auto assertion = Introspection("token=" + AccessToken() +
                                     "&client_id=pkj&client_assertion=a.b.c&client_assertion_type="
                                     "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-"
                                     "bearer",
                                 pkj, std::string());
  expect_guard(assertion, "private_key_jwt");
  // On a pool the assertion is checked (and this one is refused as a client error).
  auto checked = tokens_.Introspect(assertion, /*may_block=*/true);
  ASSERT_FALSE(checked);
  EXPECT_NE(checked.error().code, "ERR10010");

  // A legacy PBKDF2 secret is slow to check, and upgraded in the store once it matches.
  auto legacy = MakeClient("legacy");
  legacy->secret_hash = HashPbkdf2ForTest("s3cret", "[1, 2, 3]", 1000);
  auto slow = Introspection("token=" + AccessToken(), legacy);
  expect_guard(slow, "legacy secret");
  EXPECT_TRUE(lookups_.upgraded.empty());
  ASSERT_TRUE(tokens_.Introspect(slow, /*may_block=*/true));
  EXPECT_EQ(lookups_.upgraded, std::vector<std::string>{"legacy"});
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
  pub->auth_method = AuthMethod::kNone;
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

// Mint writes the claims of a token without grant-specific extras directly (json_writer.h); a
// grant's extras take the general boost::json path. An `extra` that only repeats the issuer
// changes nothing, so both paths must give the same bytes, jti aside (each Mint draws its own).
TEST_F(GrantsTest, DirectlyWrittenClaimsMatchTheGeneralPath) {
  const TokenSettings settings = Settings();
  const TokenStores stores{codes_, refresh_tokens_, references_, jtis_};
  GrantDeps deps{settings, keys_, db_, stores, lookups_, users_, revoked_, clock_, random_};
  auto payload_of = [](const std::string& jwt) {
    auto first = jwt.find('.');
    auto second = jwt.find('.', first + 1);
    return Base64UrlDecode(jwt.substr(first + 1, second - first - 1)).value_or("");
  };
  auto both = [&](const GrantContext& ctx, const Client& c, const TokenSubject& subject,
                  const std::vector<std::string>& scope) {
    auto fast = ctx.Mint(c, subject, scope, "aud \"x\"", 600, {});
    auto general =
        ctx.Mint(c, subject, scope, "aud \"x\"", 600, json::object{{"iss", std::string(kIssuer)}});
    ASSERT_TRUE(fast && general);
    std::string a = payload_of(fast->jwt), b = payload_of(general->jwt);
    ASSERT_NE(fast->jti, general->jti);
    auto at = b.find(general->jti);
    ASSERT_NE(at, std::string::npos);
    b.replace(at, general->jti.size(), fast->jti);
    EXPECT_EQ(a, b);
    EXPECT_EQ(json::parse(a).as_object().at("jti").as_string(), fast->jti);
  };
  Client rfc;
  rfc.client_id = "svc\x01\xc3\xa9";
  rfc.custom_claims =
      json::parse(R"({"tenant":"t\n1","scope":"never","n":{"a":[1,true,null]}})").as_object();
  TokenSubject user{"alice\\", "customer", "user admin", true, "", "users"};
  GrantContext bound(deps, false, "jkt-thumbprint");
  bound.BindToCertificate("x5t-thumbprint");
  both(bound, rfc, user, {"read", "write"});
  both(bound, rfc, TokenSubject{}, {});
  // A directory user names its realm (user_realm), on both paths.
  both(bound, rfc, TokenSubject{"alice", "", "", true, "", "authenticator:ldap-corp"}, {"read"});
  Client light;
  light.client_id = "legacy";
  light.token_profile = TokenProfile::kLight4j;
  light.custom_claims = json::parse(R"({"sub":"kept","nbf":1})").as_object();
  GrantContext plain(deps, false);
  both(plain, light, TokenSubject{"bob", "", "", true, "", "users"}, {"read"});
  both(plain, light, TokenSubject{}, {});
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

// --- Each grant through the fake stores: success, and the refusal that guards it -----------

TEST_F(GrantsTest, ClientCredentialsForANamedResourceReadsTheServiceRegistryOnThePool) {
  auto c = MakeClient("svc");
  auto r = Request("grant_type=client_credentials&resource=petstore", c);
  ASSERT_EQ(tokens_.Needs(r), GrantNeeds::kStore);
  auto t = tokens_.Token(r, /*may_block=*/true);
  ASSERT_TRUE(t) << t.error().detail;
  // RFC 8707 §2.2: narrowed to what the resource defines.
  EXPECT_EQ(t->scope, "read");
  EXPECT_EQ(Claims(t->access_token)["aud"].as_string(), "petstore");
  auto unknown = Run(Request("grant_type=client_credentials&audience=nowhere", c));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().oauth_error, "invalid_target");
}

TEST_F(GrantsTest, AnExternalClientGetsAStoredReference) {
  auto ext = MakeClient("ext", "external");
  auto t = Run(Request("grant_type=client_credentials", ext));
  ASSERT_TRUE(t) << t.error().detail;
  EXPECT_EQ(std::count(t->access_token.begin(), t->access_token.end(), '.'), 0);
  auto ref = references_.Find(TokenHash(t->access_token));
  ASSERT_TRUE(ref && *ref);
  EXPECT_EQ((*ref)->client_id, "ext");
  EXPECT_EQ(Claims((*ref)->jwt)["client_id"].as_string(), "ext");
}

TEST_F(GrantsTest, AuthorizationCodeIsRedeemedOnceAndAReplayRevokesWhatItIssued) {
  auto c = MakeClient("web");
  IssueCode("the-code", "web");
  auto t = Run(Request("grant_type=authorization_code&code=the-code", c));
  ASSERT_TRUE(t) << t.error().detail;
  auto claims = Claims(t->access_token);
  EXPECT_EQ(claims["user_id"].as_string(), "alice");
  EXPECT_EQ(claims["scope"].as_string(), "read write");
  EXPECT_EQ(t->remember, "N");
  auto refresh = StoredRefresh(t->refresh_token);
  ASSERT_TRUE(refresh);
  EXPECT_EQ(refresh->state, "active");
  EXPECT_EQ(refresh->user_source, "users");
  // A replay: refused, the refresh family revoked, the access token deny-listed.
  auto again = Run(Request("grant_type=authorization_code&code=the-code", c));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, "ERR12052");
  EXPECT_EQ(StoredRefresh(t->refresh_token)->state, "revoked");
  EXPECT_TRUE(revoked_.Contains(claims["jti"].as_string()));
  // Another client's code is not burnt by a foreign redemption.
  IssueCode("other-code", "web");
  EXPECT_EQ(
      Code(Run(Request("grant_type=authorization_code&code=other-code", MakeClient("intruder")))),
      "ERR12028");
  EXPECT_EQ(Code(Run(Request("grant_type=authorization_code&code=other-code", c))), "ok");
}

TEST_F(GrantsTest, AuthorizationCodeForALockedUserIssuesNothing) {
  lookups_.users["alice"].locked = true;
  IssueCode("the-code", "web");
  EXPECT_EQ(Code(Run(Request("grant_type=authorization_code&code=the-code", MakeClient("web")))),
            "ERR12052");
}

TEST_F(GrantsTest, RefreshTokenRotatesAndAReuseRevokesTheFamily) {
  auto c = MakeClient("web");
  IssueCode("the-code", "web");
  auto first = Run(Request("grant_type=authorization_code&code=the-code", c));
  ASSERT_TRUE(first) << first.error().detail;
  // The user's roles changed since: the rotation carries today's.
  lookups_.users["alice"].roles = "user auditor";
  auto second =
      Run(Request("grant_type=refresh_token&scope=read&refresh_token=" + first->refresh_token, c));
  ASSERT_TRUE(second) << second.error().detail;
  EXPECT_EQ(second->scope, "read");
  EXPECT_EQ(Claims(second->access_token)["roles"].as_string(), "user auditor");
  EXPECT_EQ(StoredRefresh(first->refresh_token)->state, "rotated");
  auto next = StoredRefresh(second->refresh_token);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->scope, "read write");  // the grant's scope stays for later rotations
  EXPECT_EQ(next->parent_hash, TokenHash(first->refresh_token));
  // The rotated token presented again: refused, and the whole family revoked.
  auto reuse = Run(Request("grant_type=refresh_token&refresh_token=" + first->refresh_token, c));
  ASSERT_FALSE(reuse);
  EXPECT_EQ(reuse.error().code, "ERR12029");
  EXPECT_EQ(StoredRefresh(second->refresh_token)->state, "revoked");
  // Another client cannot use (or destroy) a token.
  EXPECT_EQ(Code(Run(Request("grant_type=refresh_token&refresh_token=" + second->refresh_token,
                             MakeClient("intruder")))),
            "ERR12028");
}

// --- OpenID Connect ID tokens (Core §3.1.3.3, §12.2) ---------------------------------------

TEST_F(GrantsTest, AuthorizationCodeWithOpenidIssuesAnIdToken) {
  auto c = MakeClient("web");
  c->scope = {"openid", "profile", "read"};
  lookups_.users["alice"].first_name = "Alice";
  lookups_.users["alice"].email = "alice@example.com";
  const int64_t signed_in = clock_.Now() - 42;
  IssueCode("oidc-code", "web", [&](AuthCode& a) {
    a.scope = "openid profile read";
    a.nonce = "n 0S6_WzA2Mj+/=";
    a.auth_time = signed_in;
    a.sid = "sid-1";
    a.amr = "pwd";
    a.acr = "urn:acr:pwd";
    a.claims = R"({"id_token":{"email":{"essential":true}},"userinfo":{"given_name":null}})";
  });
  clock_.Advance(5);
  auto t = Run(Request("grant_type=authorization_code&code=oidc-code", c));
  ASSERT_TRUE(t) << t.error().detail;
  ASSERT_FALSE(t->id_token.empty());
  EXPECT_EQ(keys_.last_id_alg, jose::Alg::kRS256);  // no registered alg: RS256
  EXPECT_NE(t->ToJson().find("\"id_token\""), std::string::npos);
  auto id = Claims(t->id_token);
  EXPECT_EQ(id["iss"].as_string(), kIssuer);
  EXPECT_EQ(id["sub"].as_string(), "alice");
  EXPECT_EQ(id["sub"], Claims(t->access_token)["sub"]);  // the same sub as access tokens
  EXPECT_EQ(id["aud"].as_string(), "web");
  EXPECT_EQ(id["iat"].as_int64(), clock_.Now());
  EXPECT_EQ(id["exp"].as_int64(), clock_.Now() + 3600);
  EXPECT_EQ(id["auth_time"].as_int64(), signed_in);
  EXPECT_EQ(id["nonce"].as_string(), "n 0S6_WzA2Mj+/=");
  EXPECT_EQ(id["at_hash"].as_string(), oidc::AtHash(t->access_token, jose::Alg::kRS256));
  EXPECT_EQ(id["sid"].as_string(), "sid-1");
  EXPECT_EQ(id["acr"].as_string(), "urn:acr:pwd");
  EXPECT_EQ(id["amr"], (json::array{"pwd"}));
  EXPECT_EQ(id["email"].as_string(), "alice@example.com");  // asked for in the id_token member
  EXPECT_FALSE(id.contains("given_name"));                  // asked for in userinfo only
  EXPECT_FALSE(id.contains("name"));  // scope claims go to userinfo (an access token exists)
  EXPECT_FALSE(id.contains("client_id"));
  // The userinfo member travels in the access token, as claim names only.
  EXPECT_EQ(Claims(t->access_token)["userinfo_claims"], (json::array{"given_name"}));
  // The refresh token carries the sign-in.
  auto stored = StoredRefresh(t->refresh_token);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->auth_time, signed_in);
  EXPECT_EQ(stored->sid, "sid-1");
  EXPECT_EQ(stored->claims.find("email") != std::string::npos, true);

  // Refresh: a new ID token, same sub/auth_time/sid/acr/amr, new iat, no nonce (§12.2).
  clock_.Advance(100);
  auto r = Run(Request("grant_type=refresh_token&refresh_token=" + t->refresh_token, c));
  ASSERT_TRUE(r) << r.error().detail;
  ASSERT_FALSE(r->id_token.empty());
  auto again = Claims(r->id_token);
  EXPECT_EQ(again["sub"].as_string(), "alice");
  EXPECT_EQ(again["aud"].as_string(), "web");
  EXPECT_EQ(again["auth_time"].as_int64(), signed_in);
  EXPECT_EQ(again["sid"].as_string(), "sid-1");
  EXPECT_EQ(again["acr"].as_string(), "urn:acr:pwd");
  EXPECT_EQ(again["iat"].as_int64(), clock_.Now());
  EXPECT_FALSE(again.contains("nonce"));
  EXPECT_EQ(again["at_hash"].as_string(), oidc::AtHash(r->access_token, jose::Alg::kRS256));
  EXPECT_EQ(StoredRefresh(r->refresh_token)->auth_time, signed_in);
  EXPECT_EQ(Claims(r->access_token)["userinfo_claims"], (json::array{"given_name"}));
  // A refresh that narrows the scope without openid gets no ID token.
  auto narrow =
      Run(Request("grant_type=refresh_token&scope=read&refresh_token=" + r->refresh_token, c));
  ASSERT_TRUE(narrow) << narrow.error().detail;
  EXPECT_TRUE(narrow->id_token.empty());
  EXPECT_FALSE(Claims(narrow->access_token).contains("userinfo_claims"));
}

TEST_F(GrantsTest, NoOpenidNoIdTokenAndAnOldCodeFallsBackToItsCreation) {
  auto c = MakeClient("web");
  IssueCode("plain", "web");
  auto t = Run(Request("grant_type=authorization_code&code=plain", c));
  ASSERT_TRUE(t) << t.error().detail;
  EXPECT_TRUE(t->id_token.empty());
  EXPECT_EQ(t->ToJson().find("id_token"), std::string::npos);

  c->scope = {"openid"};
  const int64_t made = clock_.Now();
  IssueCode("old", "web", [](AuthCode& a) { a.scope = "openid"; });  // no auth_time recorded
  clock_.Advance(3);
  auto o = Run(Request("grant_type=authorization_code&code=old", c));
  ASSERT_TRUE(o) << o.error().detail;
  auto id = Claims(o->id_token);
  EXPECT_EQ(id["auth_time"].as_int64(), made);
  EXPECT_FALSE(id.contains("nonce"));
  EXPECT_FALSE(id.contains("sid"));
  EXPECT_FALSE(id.contains("amr"));
  EXPECT_FALSE(id.contains("acr"));
}

TEST_F(GrantsTest, TheClientsRegisteredAlgorithmSignsItsIdTokens) {
  auto c = MakeClient("web");
  c->scope = {"openid"};
  c->id_token_signed_response_alg = "ES256";
  IssueCode("es", "web", [](AuthCode& a) { a.scope = "openid"; });
  auto t = Run(Request("grant_type=authorization_code&code=es", c));
  ASSERT_TRUE(t) << t.error().detail;
  EXPECT_EQ(keys_.last_id_alg, jose::Alg::kES256);
  EXPECT_EQ(Claims(t->id_token)["at_hash"].as_string(),
            oidc::AtHash(t->access_token, jose::Alg::kES256));
  // No key for the registered algorithm: the request fails (and its transaction rolls back).
  c->id_token_signed_response_alg = "PS256";
  IssueCode("ps", "web", [](AuthCode& a) { a.scope = "openid"; });
  auto ps = Run(Request("grant_type=authorization_code&code=ps", c));
  ASSERT_FALSE(ps);
  EXPECT_EQ(ps.error().http_status, 503);
}

TEST_F(GrantsTest, PasswordIssuesForTheStoredUserOnTheHashingPool) {
  auto t = MakeClient("t", "trusted");
  auto r = Request("grant_type=password&username=alice&password=wonderland&scope=read", t);
  ASSERT_EQ(tokens_.Needs(r), GrantNeeds::kSlowHash);
  auto issued = tokens_.Token(r, /*may_block=*/true);
  ASSERT_TRUE(issued) << issued.error().detail;
  auto claims = Claims(issued->access_token);
  EXPECT_EQ(claims["user_id"].as_string(), "alice");
  EXPECT_EQ(claims["user_type"].as_string(), "customer");
  auto refresh = StoredRefresh(issued->refresh_token);
  ASSERT_TRUE(refresh);
  EXPECT_EQ(refresh->user_source, "users");
  EXPECT_EQ(Code(Run(Request("grant_type=password&username=alice&password=nope", t))), "ERR12016");
}

TEST_F(GrantsTest, ClientAuthenticatedUserIssuesWhatTheTrustedClientVouchesFor) {
  auto t = MakeClient("t", "trusted");
  auto issued =
      Run(Request("grant_type=client_authenticated_user&userId=bob&userType=partner&roles=user&"
                  "scope=write&tenant=acme&iss=forged",
                  t));
  ASSERT_TRUE(issued) << issued.error().detail;
  auto claims = Claims(issued->access_token);
  EXPECT_EQ(claims["user_id"].as_string(), "bob");
  EXPECT_EQ(claims["tenant"].as_string(), "acme");  // a remaining field becomes a claim
  EXPECT_EQ(claims["iss"].as_string(), kIssuer);    // a reserved one does not
  EXPECT_EQ(StoredRefresh(issued->refresh_token)->user_source, "client");
  // Only trusted clients.
  EXPECT_EQ(Code(Run(Request("grant_type=client_authenticated_user&userId=bob&userType=partner",
                             MakeClient("plain")))),
            "ERR12024");
}

TEST_F(GrantsTest, TokenExchangeNarrowsToTheDelegationPolicy) {
  auto actor = MakeClient("svc");
  std::string subject_token =
      *keys_.Sign(R"({"iss":"https://as.example","sub":"alice","user_id":"alice",)"
                  R"("roles":"user","scope":"read write","exp":1700000300,"jti":"j1"})",
                  "at+jwt");
  std::string form =
      "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange"
      "&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token"
      "&audience=petstore&subject_token=" +
      subject_token;
  // No policy for this client toward petstore.
  EXPECT_EQ(Code(Run(Request(form, actor))), "ERR12024");
  lookups_.policies["svc petstore"] = ExchangePolicy{{"read"}, std::nullopt};
  auto t = Run(Request(form, actor));
  ASSERT_TRUE(t) << t.error().detail;
  EXPECT_EQ(t->scope, "read");
  EXPECT_EQ(t->expires_in, 300);  // never outlives the subject token
  EXPECT_EQ(t->issued_token_type, "urn:ietf:params:oauth:token-type:access_token");
  auto claims = Claims(t->access_token);
  EXPECT_EQ(claims["sub"].as_string(), "alice");
  EXPECT_EQ(claims["aud"].as_string(), "petstore");
  EXPECT_EQ(claims["act"].as_object().at("sub").as_string(), "svc");
}

TEST_F(GrantsTest, TokenExchangeKeepsSenderBinding) {
  auto actor = MakeClient("svc");
  lookups_.policies["svc petstore"] = ExchangePolicy{{"read"}, std::nullopt};
  auto form = [](std::string_view claims_json, const FakeKeys& keys) {
    return "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange"
           "&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token"
           "&audience=petstore&subject_token=" +
           *keys.Sign(claims_json, "at+jwt");
  };
  const std::string base =
      R"({"iss":"https://as.example","sub":"alice","user_id":"alice","roles":"user",)"
      R"("scope":"read write","exp":1700000300,"jti":"j1",)";
  // Bound to a certificate the request does not present, or to a DPoP key it proves nothing of.
  for (std::string cnf : {R"("cnf":{"x5t#S256":"abc"}})", R"("cnf":{"jkt":"abc"}})",
                          R"("cnf":{"jwk":{}}})", R"("cnf":"x"})"}) {
    auto r = Run(Request(form(base + cnf, keys_), actor));
    ASSERT_FALSE(r) << cnf;
    EXPECT_EQ(r.error().oauth_error, "invalid_grant") << cnf;
    EXPECT_NE(r.error().description.find("sender-constrained"), std::string::npos);
  }
  // aud names the exchanging client (the resource it was presented to): accepted.
  for (std::string aud : {R"("aud":"svc",)", R"("aud":["other","svc"],)"}) {
    auto t = Run(Request(form(base + aud + R"("cnf":{"jkt":"abc"}})", keys_), actor));
    ASSERT_TRUE(t) << aud << t.error().description;
  }
  auto other_aud = Run(Request(form(base + R"("aud":"other","cnf":{"jkt":"abc"}})", keys_), actor));
  EXPECT_FALSE(other_aud);
}

// --- DPoP (RFC 9449) ---------------------------------------------------------------------

class DpopGrantsTest : public GrantsTest {
 protected:
  DpopGrantsTest() : key_(*jose::Key::Generate(jose::Alg::kES256)) {}

  json::object PublicJwk(const jose::Key& k) const {
    json::object jwk = *k.ToPublicJwk("k", jose::Alg::kES256);
    jwk.erase("kid");
    jwk.erase("use");
    jwk.erase("alg");
    return jwk;
  }
  std::string Proof(const jose::Key& k, std::string jti) const {
    json::object header{{"typ", "dpop+jwt"}, {"alg", "ES256"}, {"jwk", PublicJwk(k)}};
    json::object claims{{"jti", jti},
                        {"htm", "POST"},
                        {"htu", std::string(kIssuer) + "/oauth2/token"},
                        {"iat", clock_.Now()}};
    return jose::testing::SignRaw(k, jose::Alg::kES256, json::serialize(header),
                                  json::serialize(claims));
  }
  std::string Jkt(const jose::Key& k) const { return *dpop::JwkThumbprint(PublicJwk(k)); }
  TokenRequest WithProof(TokenRequest r, std::string proof) {
    r.SetDpopProofs({std::move(proof)});
    return r;
  }
  static std::string OAuthError(const Result<IssuedToken>& t) {
    return t ? std::string("ok") : t.error().oauth_error;
  }

  jose::Key key_;
};

TEST_F(DpopGrantsTest, AProofBindsTheTokenAndIsSingleUse) {
  auto c = MakeClient("conf");
  auto r = WithProof(Request("grant_type=client_credentials", c), Proof(key_, "j1"));
  // The jti replay cache is in the store: never on an I/O thread.
  EXPECT_EQ(tokens_.Needs(r), GrantNeeds::kStore);
  auto t = Run(r);
  ASSERT_TRUE(t) << t.error().description;
  EXPECT_EQ(t->token_type, "DPoP");
  EXPECT_EQ(Claims(t->access_token).at("cnf").as_object().at("jkt").as_string(), Jkt(key_));
  EXPECT_EQ(OAuthError(Run(r)), "invalid_dpop_proof");  // replayed
  // Without a proof, a bearer token without cnf.
  auto plain = Run(Request("grant_type=client_credentials", c));
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->token_type, "bearer");
  EXPECT_FALSE(Claims(plain->access_token).contains("cnf"));
  // Two DPoP headers.
  auto two = Request("grant_type=client_credentials", c);
  two.SetDpopProofs({Proof(key_, "j2"), Proof(key_, "j3")});
  EXPECT_EQ(OAuthError(Run(two)), "invalid_dpop_proof");
}

TEST_F(DpopGrantsTest, ADpopBoundClientNeedsAProof) {
  auto c = MakeClient("conf");
  c->dpop_bound_access_tokens = true;
  EXPECT_EQ(OAuthError(Run(Request("grant_type=client_credentials", c))), "invalid_request");
  EXPECT_EQ(
      OAuthError(Run(WithProof(Request("grant_type=client_credentials", c), Proof(key_, "j1")))),
      "ok");
}

TEST_F(DpopGrantsTest, ACodeWithDpopJktNeedsThatKey) {
  auto c = MakeClient("conf");
  auto other = *jose::Key::Generate(jose::Alg::kES256);
  IssueCode("c1", "conf", [&](AuthCode& a) { a.dpop_jkt = Jkt(key_); });
  auto t = Run(WithProof(Request("grant_type=authorization_code&code=c1", c), Proof(other, "j1")));
  EXPECT_EQ(OAuthError(t), "invalid_grant");
  IssueCode("c2", "conf", [&](AuthCode& a) { a.dpop_jkt = Jkt(key_); });
  EXPECT_EQ(OAuthError(Run(Request("grant_type=authorization_code&code=c2", c))), "invalid_grant");
  IssueCode("c3", "conf", [&](AuthCode& a) { a.dpop_jkt = Jkt(key_); });
  t = Run(WithProof(Request("grant_type=authorization_code&code=c3", c), Proof(key_, "j2")));
  ASSERT_TRUE(t) << t.error().description;
  EXPECT_EQ(t->token_type, "DPoP");
  // A confidential client's refresh token is not bound.
  EXPECT_EQ(StoredRefresh(t->refresh_token)->dpop_jkt, "");
  // The refusals spent nothing (RFC 9449 §10): c1 and c2 are still the key holder's.
  for (std::string code : {"c1", "c2"}) {
    t = Run(WithProof(Request("grant_type=authorization_code&code=" + code, c),
                      Proof(key_, "j-" + code)));
    ASSERT_TRUE(t) << code << ": " << t.error().description;
    EXPECT_EQ(OAuthError(Run(WithProof(Request("grant_type=authorization_code&code=" + code, c),
                                       Proof(key_, "j2-" + code)))),
              "invalid_grant")
        << "still single use";
  }
}

TEST_F(DpopGrantsTest, APublicClientsRefreshTokenIsBoundToTheKey) {
  auto pub = MakeClient("pub", "public");
  pub->secret_hash.clear();
  pub->auth_method = AuthMethod::kNone;
  auto other = *jose::Key::Generate(jose::Alg::kES256);
  IssueCode("c1", "pub");
  auto t = Run(
      WithProof(Request("grant_type=authorization_code&code=c1&client_id=pub", pub, std::string()),
                Proof(key_, "j1")));
  ASSERT_TRUE(t) << t.error().description;
  EXPECT_EQ(StoredRefresh(t->refresh_token)->dpop_jkt, Jkt(key_));
  const std::string refresh =
      "grant_type=refresh_token&client_id=pub&refresh_token=" + t->refresh_token;
  EXPECT_EQ(OAuthError(Run(WithProof(Request(refresh, pub, std::string()), Proof(other, "j2")))),
            "invalid_grant");
  EXPECT_EQ(OAuthError(Run(Request(refresh, pub, std::string()))), "invalid_grant");
  // Not rotated by the refusals: the key holder refreshes, and the new token is bound too.
  auto again = Run(WithProof(Request(refresh, pub, std::string()), Proof(key_, "j3")));
  ASSERT_TRUE(again) << again.error().description;
  EXPECT_EQ(again->token_type, "DPoP");
  EXPECT_EQ(StoredRefresh(again->refresh_token)->dpop_jkt, Jkt(key_));
}

// --- Profile fapi2 (README "FAPI 2.0 profile") ---------------------------------------------

class Fapi2GrantsTest : public DpopGrantsTest {
 protected:
  Fapi2GrantsTest() : client_key_(*jose::Key::Generate(jose::Alg::kES256)) {}

  // A fapi2 client authenticating with private_key_jwt (inline jwks), ID tokens in ES256.
  std::shared_ptr<Client> Fapi2Client() {
    auto c = MakeClient("fapi");
    c->secret_hash.clear();
    c->security_profile = SecurityProfile::kFapi2;
    c->auth_method = AuthMethod::kPrivateKeyJwt;
    c->auth_method_explicit = true;
    c->id_token_signed_response_alg = "ES256";
    c->scope = {"openid", "read", "write"};
    json::object jwk = *client_key_.ToPublicJwk("ck", jose::Alg::kES256);
    c->jwks = json::serialize(json::object{{"keys", json::array{jwk}}});
    return c;
  }
  // A form with a fresh client assertion (RFC 7523) for `client_id`.
  std::string WithAssertion(std::string form, std::string_view client_id = "fapi") {
    json::object header{{"alg", "ES256"}, {"kid", "ck"}, {"typ", "JWT"}};
    json::object claims{{"iss", client_id},
                        {"sub", client_id},
                        {"aud", std::string(kIssuer)},
                        {"jti", "a" + std::to_string(++assertions_)},
                        {"iat", clock_.Now()},
                        {"exp", clock_.Now() + 60}};
    return form +
           "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-"
           "bearer&client_assertion=" +
           jose::testing::SignRaw(client_key_, jose::Alg::kES256, json::serialize(header),
                                  json::serialize(claims));
  }
  TokenRequest Signed(std::string form, std::shared_ptr<const Client> c) {
    return Request(WithAssertion(std::move(form)), std::move(c), std::string());
  }
  std::string NextProof() { return Proof(key_, "p" + std::to_string(++proofs_)); }

  jose::Key client_key_;
  int assertions_ = 0;
  int proofs_ = 0;
};

TEST_F(Fapi2GrantsTest, TokensAreSenderConstrainedOnly) {
  auto c = Fapi2Client();
  auto plain = Run(Signed("grant_type=client_credentials", c));
  ASSERT_FALSE(plain);
  EXPECT_EQ(plain.error().oauth_error, "invalid_request");
  EXPECT_NE(plain.error().description.find("sender-constrained"), std::string::npos);
  auto bound = Run(WithProof(Signed("grant_type=client_credentials", c), NextProof()));
  ASSERT_TRUE(bound) << bound.error().description;
  EXPECT_EQ(bound->token_type, "DPoP");
  // A code is not spent by a request that is refused for want of a proof.
  IssueCode("c1", "fapi");
  EXPECT_EQ(OAuthError(Run(Signed("grant_type=authorization_code&code=c1", c))), "invalid_request");
  EXPECT_EQ(
      OAuthError(Run(WithProof(Signed("grant_type=authorization_code&code=c1", c), NextProof()))),
      "ok");
}

TEST_F(Fapi2GrantsTest, ClientAuthenticationBySecretIsRefused) {
  // A fapi2 row with a secret method (written around registration): its secret is not enough.
  auto legacy = MakeClient("legacy");
  legacy->security_profile = SecurityProfile::kFapi2;
  auto r = Run(WithProof(Request("grant_type=client_credentials", legacy), NextProof()));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "ERR12007");
  EXPECT_EQ(r.error().oauth_error, "invalid_client");
  // A private_key_jwt client presenting a secret instead.
  auto c = Fapi2Client();
  c->secret_hash = secrets_.Digest("s3cret");
  r = Run(WithProof(Request("grant_type=client_credentials", c), NextProof()));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().oauth_error, "invalid_client");
}

TEST_F(Fapi2GrantsTest, PasswordGrantsAreRefusedAtRequestTime) {
  // A fapi2 row that lists the password grants (written around registration).
  auto c = Fapi2Client();
  c->grant_types = {"password", "client_authenticated_user", "client_credentials"};
  for (std::string form : {"grant_type=password&username=u&password=p",
                           "grant_type=client_authenticated_user&userId=u&userType=employee"}) {
    auto r = Run(WithProof(Signed(form, c), NextProof()));
    ASSERT_FALSE(r) << form;
    EXPECT_EQ(r.error().code, "ERR12024") << form;
    EXPECT_NE(r.error().description.find("fapi2"), std::string::npos) << r.error().description;
  }
  // The client's other grants still work.
  auto ok = Run(WithProof(Signed("grant_type=client_credentials", c), NextProof()));
  EXPECT_TRUE(ok) << ok.error().description;
}

TEST_F(Fapi2GrantsTest, RefreshWithoutRotationStoresTheNarrowedScope) {
  auto c = Fapi2Client();
  IssueCode("c1", "fapi", [](AuthCode& a) { a.scope = "read write"; });
  auto first = Run(WithProof(Signed("grant_type=authorization_code&code=c1", c), NextProof()));
  ASSERT_TRUE(first) << first.error().description;
  const std::string refresh = "grant_type=refresh_token&refresh_token=" + first->refresh_token;
  // The client loses write: the refresh is cut down, and so is the kept token's row.
  c->scope = {"openid", "read"};
  auto narrowed = Run(WithProof(Signed(refresh, c), NextProof()));
  ASSERT_TRUE(narrowed) << narrowed.error().description;
  EXPECT_EQ(narrowed->scope, "read");
  EXPECT_EQ(StoredRefresh(first->refresh_token)->scope, "read");
  // Widened again: write does not come back with the old refresh token.
  c->scope = {"openid", "read", "write"};
  auto again = Run(WithProof(Signed(refresh, c), NextProof()));
  ASSERT_TRUE(again) << again.error().description;
  EXPECT_EQ(again->scope, "read");
}

TEST_F(Fapi2GrantsTest, NothingIsSignedWithRs256) {
  auto c = Fapi2Client();
  keys_.access_alg = jose::Alg::kRS256;  // keys.algorithm changed back since registration
  auto r = Run(WithProof(Signed("grant_type=client_credentials", c), NextProof()));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().oauth_error, "server_error");
  EXPECT_NE(r.error().description.find("RS256"), std::string::npos);
  keys_.access_alg = jose::Alg::kES256;
  // An ID token: the registered ES256; a row naming no algorithm gets an error, not RS256.
  IssueCode("c1", "fapi", [](AuthCode& a) {
    a.scope = "openid read";
    a.auth_time = 1;
  });
  auto t = Run(WithProof(Signed("grant_type=authorization_code&code=c1", c), NextProof()));
  ASSERT_TRUE(t) << t.error().description;
  EXPECT_FALSE(t->id_token.empty());
  EXPECT_EQ(keys_.last_id_alg, jose::Alg::kES256);
  c->id_token_signed_response_alg.clear();
  IssueCode("c2", "fapi", [](AuthCode& a) {
    a.scope = "openid read";
    a.auth_time = 1;
  });
  t = Run(WithProof(Signed("grant_type=authorization_code&code=c2", c), NextProof()));
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().oauth_error, "server_error");
}

TEST_F(Fapi2GrantsTest, RefreshTokensAreNotRotated) {
  auto c = Fapi2Client();
  IssueCode("c1", "fapi");
  auto first = Run(WithProof(Signed("grant_type=authorization_code&code=c1", c), NextProof()));
  ASSERT_TRUE(first) << first.error().description;
  ASSERT_FALSE(first->refresh_token.empty());
  const auto stored = StoredRefresh(first->refresh_token);
  ASSERT_TRUE(stored);
  // The same token comes back each time, stays active and keeps its expiry.
  for (int i = 0; i < 3; ++i) {
    clock_.Advance(10);
    auto again = Run(WithProof(
        Signed("grant_type=refresh_token&refresh_token=" + first->refresh_token, c), NextProof()));
    ASSERT_TRUE(again) << again.error().description;
    EXPECT_EQ(again->token_type, "DPoP");
    EXPECT_EQ(again->refresh_token, first->refresh_token);
    auto now = StoredRefresh(first->refresh_token);
    EXPECT_EQ(now->state, "active");
    EXPECT_EQ(now->expires_at, stored->expires_at);
  }
  // Still bound to the client: another client cannot use it.
  EXPECT_EQ(Code(Run(Request("grant_type=refresh_token&refresh_token=" + first->refresh_token,
                             MakeClient("intruder")))),
            "ERR12028");
}

}  // namespace
}  // namespace portcullis::oauth
