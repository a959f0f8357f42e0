#include "oauth/client/client_service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <utility>

#include "oauth/audit/audit.h"
#include "oauth/client/bootstrap_client.h"
#include "oauth/client/memory_client_store.h"
#include "oauth/token/grant.h"
#include "oauth/token/grant_registry.h"
#include "oauth/token/token_service.h"
#include "store/fake_database.h"

// ClientService over the in-memory fakes (MemoryClientStore, MemoryAuditLog, FakeDatabase). The
// SQL store's behaviour on both backends is src/store/sql/client_store_test.cc's.
namespace portcullis::oauth {
namespace {

constexpr std::string_view kSeedSecret = "f6h1FTI8Q3-7UScPZDzfXA";

class ClientServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    catalog_ = std::make_unique<ClientCatalog>(store_);
    service_ =
        std::make_unique<ClientService>(db_, store_, audit_, clock_, Random::System(), hasher_,
                                        catalog_.get(), GrantRegistry::Default().types());
  }

  int64_t ClientCount() { return static_cast<int64_t>(store_.FindAll()->size()); }
  int64_t AuditCount() { return audit_.List({})->total; }
  std::string StoredSecretHash(std::string_view id) { return (*store_.Find(id))->secret_hash; }

  ClientPatch Confidential(std::string name = "PetStore Web Server") {
    ClientPatch p;
    p.client_type = "confidential";
    p.client_profile = "webserver";
    p.client_name = std::move(name);
    p.host = "lightapi.net";
    p.scope = "petstore.r petstore.w";
    p.redirect_uris = std::vector<std::string>{"https://petstore.example.com/cb"};
    return p;
  }

  ClientWithSecret MustCreate(const ClientPatch& p) {
    auto r = service_->Create(p, "test", "admin");
    EXPECT_TRUE(r) << r.error().code << " " << r.error().description << " " << r.error().detail;
    return r ? std::move(*r) : ClientWithSecret{};
  }

  // Service AACT0001 with light-oauth2's fixture endpoints (reference §16 fixtures).
  void SeedService(const std::string& id = "AACT0001") {
    for (auto [ep, scope] :
         {std::pair{"/v1/data@get", "data.w data.r"}, std::pair{"/v1/data@post", "data.w"},
          std::pair{"/v1/data@put", "data.w"}, std::pair{"/v1/data@delete", "data.w"}}) {
      store_.AddEndpoint(id, ep, scope);
    }
  }

  std::string Code(const Error& e) { return e.code; }

  store::FakeDatabase db_;
  MemoryClientStore store_;
  audit::MemoryAuditLog audit_;
  ManualClock clock_;
  SecretHasher hasher_{Secret(std::string(32, 'p'))};
  std::unique_ptr<ClientCatalog> catalog_;
  std::unique_ptr<ClientService> service_;
};

TEST_F(ClientServiceTest, CreateGeneratesA256BitSecretStoredAsKeyedDigest) {
  auto created = MustCreate(Confidential());
  ASSERT_TRUE(created.secret);
  EXPECT_EQ(created.secret->Reveal().size(), 43u);  // 32 bytes base64url
  EXPECT_EQ(created.client.client_id.size(), 36u);  // UUID, as light-oauth2
  std::string stored = StoredSecretHash(created.client.client_id);
  EXPECT_TRUE(stored.starts_with("hs256$"));
  EXPECT_EQ(stored.find(created.secret->Reveal()), std::string::npos);
  EXPECT_TRUE(hasher_.Verify(created.secret->Reveal(), stored));
  // Defaults.
  EXPECT_EQ(created.client.token_profile, TokenProfile::kRfc9068);
  EXPECT_EQ(created.client.auth_method, AuthMethod::kClientSecretBasic);
  EXPECT_EQ(created.client.grant_types, DefaultGrantTypes(ClientType::kConfidential));
  EXPECT_EQ(created.client.owner_id, "admin");
  // The catalog has it at once.
  auto cached = catalog_->Find(created.client.client_id);
  ASSERT_TRUE(cached);
  EXPECT_EQ(cached->client_name, "PetStore Web Server");
  EXPECT_EQ(cached->secret_hash, stored);
  auto got = service_->Get(created.client.client_id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->redirect_uris, created.client.redirect_uris);
  EXPECT_EQ(got->scope, (std::vector<std::string>{"petstore.r", "petstore.w"}));
}

TEST_F(ClientServiceTest, CreateRecordsAnAuditEntryWithoutSecrets) {
  auto created = MustCreate(Confidential());
  auto page = audit_.List({.entity_kind = "client"});
  ASSERT_TRUE(page);
  ASSERT_EQ(page->entries.size(), 1u);
  const auto& e = page->entries[0];
  EXPECT_EQ(e.action, "client.create");
  EXPECT_EQ(e.actor, "test");
  EXPECT_EQ(e.entity_id, created.client.client_id);
  EXPECT_EQ(e.at, clock_.Now());
  EXPECT_TRUE(e.before_json.empty());
  EXPECT_NE(e.after_json.find("PetStore Web Server"), std::string::npos);
  EXPECT_EQ(e.after_json.find("hs256"), std::string::npos);
  EXPECT_EQ(e.after_json.find(created.secret->Reveal()), std::string::npos);
  EXPECT_EQ(e.after_json.find("clientSecret"), std::string::npos);
}

TEST_F(ClientServiceTest, CreateNotifiesInsideTheTransaction) {
  auto created = MustCreate(Confidential());
  EXPECT_EQ(
      db_.notified(),
      (std::vector<std::pair<std::string, std::string>>{{"client", created.client.client_id}}));
}

TEST_F(ClientServiceTest, CreateRefusesBadInputWithLightOauth2Codes) {
  auto p = Confidential();
  p.client_type = "fake";
  auto r = service_->Create(p, "test", "admin");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "ERR11004");
  EXPECT_EQ(r.error().description,
            "clientType: 'fake' is not one of public, confidential, trusted, external");

  p = Confidential();
  p.client_profile = "fake";
  EXPECT_EQ(Code(service_->Create(p, "t", "a").error()), "ERR11004");

  p = Confidential();
  p.client_type = "public";
  p.deref_client_id = "841c7d50-7690-11e8-adc0-fa7ae01bbebc";
  EXPECT_EQ(Code(service_->Create(p, "t", "a").error()), "ERR12043");

  p = Confidential();
  p.host.reset();
  EXPECT_EQ(Code(service_->Create(p, "t", "a").error()), "ERR12051");

  p = Confidential();
  p.client_name.reset();
  EXPECT_EQ(service_->Create(p, "t", "a").error().description, "clientName: is required");

  p = Confidential();
  p.client_name = std::string(33, 'n');
  EXPECT_EQ(service_->Create(p, "t", "a").error().description, "clientName: at most 32 characters");

  p = Confidential();
  p.redirect_uris = std::vector<std::string>{"https://ok/cb", "http://evil.example.com/cb"};
  EXPECT_EQ(service_->Create(p, "t", "a").error().description,
            "redirectUris[1]: must use https unless the host is loopback");

  p = Confidential();
  p.redirect_uris = std::vector<std::string>{"https://ok/cb", "https://ok/cb"};
  EXPECT_EQ(service_->Create(p, "t", "a").error().description, "redirectUris[1]: is a duplicate");

  p = Confidential();
  p.grant_types = std::vector<std::string>{"client_credentials", "password"};
  EXPECT_EQ(service_->Create(p, "t", "a").error().description,
            "grantTypes[1]: password is allowed for trusted clients only");

  p = Confidential();
  p.grant_types = std::vector<std::string>{"implicit"};
  EXPECT_TRUE(service_->Create(p, "t", "a")
                  .error()
                  .description.starts_with("grantTypes[0]: 'implicit' is not one of"));

  p = Confidential();
  p.custom_claim = R"({"scope":"admin"})";
  EXPECT_EQ(service_->Create(p, "t", "a").error().description,
            "customClaim: 'scope' is a reserved claim name and cannot be overridden");

  p = Confidential();
  p.access_token_ttl = std::optional<int64_t>(0);
  EXPECT_EQ(service_->Create(p, "t", "a").error().description,
            "accessTokenTtl: must be between 1 and 86400 seconds");

  p = Confidential();
  p.auth_method = "private_key_jwt";
  EXPECT_EQ(service_->Create(p, "t", "a").error().description,
            "jwks: private_key_jwt needs exactly one of jwks and jwksUri");

  p = Confidential();
  p.auth_method = "none";
  EXPECT_EQ(service_->Create(p, "t", "a").error().description,
            "authMethod: none is allowed for public clients only");

  p = Confidential();
  p.token_profile = "jwt";
  EXPECT_EQ(service_->Create(p, "t", "a").error().description,
            "tokenProfile: 'jwt' is not one of rfc9068, light-4j");

  p = Confidential();
  p.client_id = "bad id";
  EXPECT_EQ(service_->Create(p, "t", "a").error().description,
            "clientId: may contain only letters, digits and . _ ~ @ + -");

  // OpenID Connect logout and ID-token metadata.
  p = Confidential();
  p.post_logout_redirect_uris = std::vector<std::string>{"https://ok/bye", "http://evil.example/"};
  EXPECT_EQ(service_->Create(p, "t", "a").error().description,
            "postLogoutRedirectUris[1]: must use https unless the host is loopback");
  p.post_logout_redirect_uris = std::vector<std::string>{"https://ok/bye", "https://ok/bye"};
  EXPECT_EQ(service_->Create(p, "t", "a").error().description,
            "postLogoutRedirectUris[1]: is a duplicate");
  p.post_logout_redirect_uris = std::vector<std::string>{"https://ok/bye#f"};
  EXPECT_EQ(service_->Create(p, "t", "a").error().description,
            "postLogoutRedirectUris[0]: must not contain a fragment");
  p.post_logout_redirect_uris = std::vector<std::string>(21, "https://ok/bye");
  EXPECT_EQ(service_->Create(p, "t", "a").error().description,
            "postLogoutRedirectUris: at most 20 URIs");

  p = Confidential();
  p.backchannel_logout_uri = "http://rp.example/bc";
  EXPECT_EQ(service_->Create(p, "t", "a").error().description,
            "backchannelLogoutUri: must use https unless the host is loopback");
  p.backchannel_logout_uri = "https://rp.example/bc#frag";
  EXPECT_EQ(service_->Create(p, "t", "a").error().description,
            "backchannelLogoutUri: must not contain a fragment");
  p.backchannel_logout_uri = "/bc";
  EXPECT_EQ(service_->Create(p, "t", "a").error().description,
            "backchannelLogoutUri: '/bc' is not an absolute URL");
  p.backchannel_logout_uri = "javascript:alert(1)";
  EXPECT_EQ(service_->Create(p, "t", "a").error().description,
            "backchannelLogoutUri: must be an https URL");
  p.backchannel_logout_uri = "https://u:p@rp.example/bc";
  EXPECT_EQ(service_->Create(p, "t", "a").error().description,
            "backchannelLogoutUri: must not contain userinfo");

  p = Confidential();
  p.id_token_signed_response_alg = "none";
  EXPECT_EQ(service_->Create(p, "t", "a").error().description,
            "idTokenSignedResponseAlg: 'none' is not one of RS256, PS256, ES256, EdDSA");
  p.id_token_signed_response_alg = "HS256";
  EXPECT_EQ(service_->Create(p, "t", "a").error().description,
            "idTokenSignedResponseAlg: 'HS256' is not one of RS256, PS256, ES256, EdDSA");
  EXPECT_EQ(ClientCount(), 0);
  EXPECT_EQ(AuditCount(), 0);
}

// Enum members that name no value are reported where ValidateClient checks the field, so a body
// with several faults gets the same first error as when the fields were strings.
TEST_F(ClientServiceTest, UnknownEnumValuesAreReportedInValidationOrder) {
  auto p = Confidential();
  p.client_id = "bad id";
  p.client_type = "fake";
  EXPECT_EQ(service_->Create(p, "t", "a").error().description,
            "clientId: may contain only letters, digits and . _ ~ @ + -");

  p = Confidential();
  p.redirect_uris = std::vector<std::string>{""};
  p.token_profile = "jwt";
  p.auth_method = "magic";
  EXPECT_EQ(service_->Create(p, "t", "a").error().description, "redirectUris[0]: is empty");
  p.redirect_uris.reset();
  EXPECT_EQ(service_->Create(p, "t", "a").error().description,
            "tokenProfile: 'jwt' is not one of rfc9068, light-4j");
  p.token_profile = "light-4j";
  EXPECT_EQ(service_->Create(p, "t", "a").error().description,
            "authMethod: 'magic' is not one of client_secret_basic, client_secret_post, "
            "private_key_jwt, none, tls_client_auth, self_signed_tls_client_auth");

  // An update with an unknown value changes nothing.
  auto created = MustCreate(Confidential());
  ClientPatch bad;
  bad.client_type = "superuser";
  auto r = service_->Update(created.client.client_id, bad, "t");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "ERR11004");
  EXPECT_EQ(service_->Get(created.client.client_id)->client_type, ClientType::kConfidential);
}

TEST_F(ClientServiceTest, DuplicateIdIsRefused) {
  auto p = Confidential();
  p.client_id = "f7d42348-c647-4efb-a52d-4c5787421e72";
  MustCreate(p);
  auto again = service_->Create(p, "test", "admin");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, "ERR12019");
  EXPECT_EQ(ClientCount(), 1);
}

TEST_F(ClientServiceTest, HostileTextIsStoredVerbatim) {
  auto p = Confidential("x'); DROP TABLE clients; --");
  p.client_desc = "Robert'); DELETE FROM clients WHERE ('1'='1 ☃ \"quoted\" \\ 𝄞";
  auto created = MustCreate(p);
  auto got = service_->Get(created.client.client_id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->client_name, "x'); DROP TABLE clients; --");
  EXPECT_EQ(got->client_desc, *p.client_desc);
  EXPECT_EQ(ClientCount(), 1);
}

TEST_F(ClientServiceTest, ServiceProfileClientWithPrivateKeyJwtHasNoSecret) {
  auto p = Confidential();
  p.auth_method = "private_key_jwt";
  p.jwks_uri = "https://keys.example.com/jwks.json";
  auto created = MustCreate(p);
  EXPECT_FALSE(created.secret);
  EXPECT_TRUE(created.client.secret_hash.empty());
  auto rotate = service_->RotateSecret(created.client.client_id, "t");
  ASSERT_FALSE(rotate);
  EXPECT_EQ(rotate.error().description,
            "authMethod: private_key_jwt clients have no secret to rotate");
  // Switching to a secret method generates one, returned once.
  ClientPatch to_basic;
  to_basic.auth_method = "client_secret_post";
  to_basic.jwks_uri = "";
  auto updated = service_->Update(created.client.client_id, to_basic, "t");
  ASSERT_TRUE(updated) << updated.error().description;
  ASSERT_TRUE(updated->secret);
  EXPECT_TRUE(hasher_.Verify(updated->secret->Reveal(), updated->client.secret_hash));
  // A later update that keeps the method returns no secret.
  ClientPatch rename;
  rename.client_name = "renamed";
  auto again = service_->Update(created.client.client_id, rename, "t");
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->secret);
  EXPECT_EQ(again->client.secret_hash, updated->client.secret_hash);
}

// Registration reads the grant registry (RegistrationPolicy::grant_types): every grant the token
// endpoint serves can be registered by a client its traits allow, and nothing else can.
TEST_F(ClientServiceTest, RegistrationAcceptsEveryRegisteredGrantAndNoOther) {
  const auto types = GrantRegistry::Default().types();
  ASSERT_EQ(types.size(), GrantRegistry::Default().grants().size());
  std::string names;
  for (const auto& t : types) names += (names.empty() ? "" : ", ") + std::string(t.name);
  for (const auto& t : types) {
    const std::string name(t.name);
    // A trusted client may hold any grant.
    auto p = Confidential("trusted " + name.substr(0, 20));
    p.client_type = "trusted";
    p.grant_types = std::vector<std::string>{name};
    auto r = service_->Create(p, "t", "a");
    EXPECT_TRUE(r) << name << ": " << (r ? "" : r.error().description);
    // A confidential one, unless only trusted clients may use it.
    p.client_type = "confidential";
    r = service_->Create(p, "t", "a");
    EXPECT_EQ(static_cast<bool>(r), !t.traits.trusted_only)
        << name << ": " << (r ? "" : r.error().description);
    // A public one, unless it rests on client authentication (RFC 6749 §2.1).
    p.client_type = "public";
    r = service_->Create(p, "t", "a");
    EXPECT_EQ(static_cast<bool>(r), !t.traits.needs_client_authentication && !t.traits.trusted_only)
        << name << ": " << (r ? "" : r.error().description);
  }
  for (std::string unknown :
       {"implicit", "urn:example:not-a-grant", "", "Password", "authorization_code "}) {
    auto p = Confidential();
    p.client_type = "trusted";
    p.grant_types = std::vector<std::string>{"authorization_code", unknown};
    auto r = service_->Create(p, "t", "a");
    ASSERT_FALSE(r) << unknown;
    EXPECT_EQ(r.error().code, "ERR11004");
    EXPECT_EQ(r.error().description, "grantTypes[1]: '" + unknown + "' is not one of " + names);
  }
}

// A grant added to a registry is registrable through it, with no edit in the client domain.
class ExampleGrant final : public Grant {
 public:
  ExampleGrant() : Grant("urn:example:grant", {.needs_client_authentication = false}, {}) {}
  GrantNeeds Needs(const TokenRequest&) const override { return GrantNeeds::kNothing; }
  Result<IssuedToken> Issue(GrantContext&, const TokenRequest&, const Client&) const override {
    return Fail(Error::Internal("not issued in this test"));
  }
};

TEST_F(ClientServiceTest, ANewGrantIsRegistrableFromItsRegistryAlone) {
  GrantRegistry registry;
  registry.Add(std::make_unique<ExampleGrant>());
  ClientService service(db_, store_, audit_, clock_, Random::System(), hasher_, nullptr,
                        registry.types());
  auto p = Confidential();
  p.client_type = "public";
  p.grant_types = std::vector<std::string>{"urn:example:grant"};
  auto r = service.Create(p, "t", "a");
  EXPECT_TRUE(r) << r.error().description;
  // The default registry does not know it, and this one knows nothing else.
  EXPECT_FALSE(service_->Create(p, "t", "a"));
  p.grant_types = std::vector<std::string>{"authorization_code"};
  r = service.Create(p, "t", "a");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().description,
            "grantTypes[0]: 'authorization_code' is not one of urn:example:grant");
}

TEST_F(ClientServiceTest, PublicClientGetsNoneNoSecretAndNoGrantThatNeedsAuthentication) {
  auto p = Confidential();
  p.client_type = "public";
  auto created = MustCreate(p);
  EXPECT_FALSE(created.secret);
  EXPECT_EQ(created.client.auth_method, AuthMethod::kNone);
  EXPECT_FALSE(created.client.auth_method_explicit);
  EXPECT_TRUE(created.client.secret_hash.empty());
  for (const char* grant : {"client_credentials", "password", "client_authenticated_user",
                            "bootstrap_token", "urn:ietf:params:oauth:grant-type:token-exchange"}) {
    auto q = p;
    q.grant_types = std::vector<std::string>{"authorization_code", grant};
    auto r = service_->Create(q, "t", "a");
    ASSERT_FALSE(r) << grant;
    EXPECT_TRUE(r.error().description.starts_with("grantTypes[1]:")) << r.error().description;
  }
  // Turned confidential without naming a method: the default follows the type, with a secret.
  ClientPatch to_conf;
  to_conf.client_type = "confidential";
  auto updated = service_->Update(created.client.client_id, to_conf, "t");
  ASSERT_TRUE(updated) << updated.error().description;
  EXPECT_EQ(updated->client.auth_method, AuthMethod::kClientSecretBasic);
  ASSERT_TRUE(updated->secret);
}

TEST_F(ClientServiceTest, ExplicitAuthMethodIsRememberedAndCanBeCleared) {
  auto p = Confidential();
  p.auth_method = "client_secret_post";
  auto created = MustCreate(p);
  auto cached = catalog_->Find(created.client.client_id);
  ASSERT_TRUE(cached);
  EXPECT_TRUE(cached->auth_method_explicit);
  EXPECT_TRUE(cached->AcceptsSecretMethod("client_secret_post"));
  EXPECT_FALSE(cached->AcceptsSecretMethod("client_secret_basic"));
  EXPECT_TRUE(ClientToJson(*cached)["authMethod"] == "client_secret_post");
  ClientPatch clear;
  clear.auth_method = "";
  auto updated = service_->Update(created.client.client_id, clear, "t");
  ASSERT_TRUE(updated);
  cached = catalog_->Find(created.client.client_id);
  EXPECT_FALSE(cached->auth_method_explicit);
  EXPECT_TRUE(cached->AcceptsSecretMethod("client_secret_basic"));
  EXPECT_TRUE(cached->AcceptsSecretMethod("client_secret_post"));
  EXPECT_TRUE(ClientToJson(*cached)["authMethod"].is_null());
  EXPECT_FALSE(updated->secret);  // still a secret method: the secret is kept
}

TEST_F(ClientServiceTest, Fapi2ProfileRulesAtRegistration) {
  auto fapi = Confidential();
  fapi.profile = "fapi2";
  fapi.auth_method = "private_key_jwt";
  fapi.jwks_uri = "https://keys.example.com/jwks.json";
  fapi.grant_types = std::vector<std::string>{"authorization_code", "refresh_token"};
  service_->SetIdTokenAlgs({"RS256", "ES256"});
  // No idTokenSignedResponseAlg: keys.algorithm's (the one that is not RS256).
  auto created = MustCreate(fapi);
  EXPECT_TRUE(created.client.IsFapi2());
  EXPECT_FALSE(created.secret);
  EXPECT_EQ(created.client.id_token_signed_response_alg, "ES256");
  EXPECT_TRUE(ClientToJson(created.client)["profile"] == "fapi2");
  EXPECT_TRUE(catalog_->Find(created.client.client_id)->IsFapi2());

  auto refused = [&](ClientPatch p, std::string_view field) {
    p.client_id = "c" + std::to_string(ClientCount() + 1000);
    auto r = service_->Create(p, "t", "a");
    ASSERT_FALSE(r) << field;
    EXPECT_EQ(r.error().code, "ERR11004");
    EXPECT_TRUE(r.error().description.starts_with(field)) << r.error().description;
  };
  // Client authentication by secret (or none), an RS256 ID token, the password grants.
  for (const char* method : {"client_secret_basic", "client_secret_post"}) {
    auto p = fapi;
    p.auth_method = method;
    p.jwks_uri = "";
    refused(p, "authMethod:");
  }
  auto p = fapi;
  p.id_token_signed_response_alg = "RS256";
  refused(p, "idTokenSignedResponseAlg:");
  p = fapi;
  p.client_type = "trusted";
  p.grant_types = std::vector<std::string>{"authorization_code", "password"};
  refused(p, "grantTypes[1]:");
  p = fapi;
  p.client_type = "public";
  p.auth_method.reset();
  p.jwks_uri.reset();
  refused(p, "profile:");
  p = fapi;
  p.profile = "fapi1";
  refused(p, "profile:");
  // A server that signs with RS256 only takes no fapi2 client.
  service_->SetIdTokenAlgs({"RS256"});
  refused(fapi, "profile:");

  // An existing client moved to fapi2 is held to the same rules; null takes the profile off.
  service_->SetIdTokenAlgs({"RS256", "PS256"});
  auto plain = MustCreate(Confidential("plain"));
  ClientPatch to_fapi;
  to_fapi.profile = "fapi2";
  auto moved = service_->Update(plain.client.client_id, to_fapi, "t");
  ASSERT_FALSE(moved);
  EXPECT_TRUE(moved.error().description.starts_with("authMethod:")) << moved.error().description;
  to_fapi.auth_method = "private_key_jwt";
  to_fapi.jwks_uri = "https://keys.example.com/jwks.json";
  moved = service_->Update(plain.client.client_id, to_fapi, "t");
  ASSERT_TRUE(moved) << moved.error().description;
  EXPECT_TRUE(moved->client.IsFapi2());
  EXPECT_EQ(moved->client.id_token_signed_response_alg, "PS256");
  EXPECT_TRUE(moved->client.secret_hash.empty());
  ClientPatch off;
  off.profile = "";
  moved = service_->Update(plain.client.client_id, off, "t");
  ASSERT_TRUE(moved);
  EXPECT_FALSE(moved->client.IsFapi2());
  EXPECT_TRUE(ClientToJson(moved->client)["profile"].is_null());
}

TEST_F(ClientServiceTest, UpdateMergesAndKeepsTheSecret) {
  auto created = MustCreate(Confidential());
  clock_.Advance(10);
  ClientPatch p;
  p.client_type = "trusted";
  p.client_profile = "webserver";
  p.client_desc = "";
  auto updated = service_->Update(created.client.client_id, p, "alice");
  ASSERT_TRUE(updated) << updated.error().description;
  EXPECT_EQ(updated->client.client_type, ClientType::kTrusted);
  EXPECT_EQ(updated->client.client_name, "PetStore Web Server");  // untouched
  EXPECT_EQ(updated->client.redirect_uris, created.client.redirect_uris);
  // Still on its type's default grants: it follows the type (light-oauth2 PUT to trusted).
  EXPECT_EQ(updated->client.grant_types, DefaultGrantTypes(ClientType::kTrusted));
  EXPECT_EQ(updated->client.updated_at, created.client.created_at + 10);
  EXPECT_EQ(updated->client.created_at, created.client.created_at);
  EXPECT_FALSE(updated->secret);
  EXPECT_TRUE(hasher_.Verify(created.secret->Reveal(),
                             catalog_->Find(created.client.client_id)->secret_hash));
  EXPECT_EQ(catalog_->Find(created.client.client_id)->client_type, ClientType::kTrusted);

  auto page = audit_.List({.action = "client.update"});
  ASSERT_TRUE(page && page->entries.size() == 1);
  EXPECT_EQ(page->entries[0].actor, "alice");
  EXPECT_NE(page->entries[0].before_json.find("\"confidential\""), std::string::npos);
  EXPECT_NE(page->entries[0].after_json.find("\"trusted\""), std::string::npos);

  ClientPatch bad;
  bad.client_type = "public";
  bad.deref_client_id = "someone";
  EXPECT_EQ(Code(service_->Update(created.client.client_id, bad, "t").error()), "ERR12043");
  EXPECT_EQ(Code(service_->Update("nope", p, "t").error()), "ERR12014");
}

TEST_F(ClientServiceTest, RotateSecretReturnsTheNewSecretOnce) {
  auto created = MustCreate(Confidential());
  auto rotated = service_->RotateSecret(created.client.client_id, "ops");
  ASSERT_TRUE(rotated) << rotated.error().description;
  ASSERT_TRUE(rotated->secret);
  EXPECT_NE(rotated->secret->Reveal(), created.secret->Reveal());
  auto cached = catalog_->Find(created.client.client_id);
  EXPECT_TRUE(hasher_.Verify(rotated->secret->Reveal(), cached->secret_hash));
  EXPECT_FALSE(hasher_.Verify(created.secret->Reveal(), cached->secret_hash));
  auto ok = service_->VerifySecret(created.client.client_id, *rotated->secret);
  ASSERT_TRUE(ok);
  EXPECT_TRUE(*ok);
  EXPECT_FALSE(*service_->VerifySecret(created.client.client_id, *created.secret));
  EXPECT_EQ(Code(service_->RotateSecret("nope", "ops").error()), "ERR12014");
  auto page = audit_.List({.action = "client.rotate_secret"});
  ASSERT_TRUE(page && page->entries.size() == 1);
  EXPECT_EQ(page->entries[0].after_json.find(rotated->secret->Reveal()), std::string::npos);
}

TEST_F(ClientServiceTest, LegacyPbkdf2SecretVerifiesAndIsUpgraded) {
  std::string legacy =
      HashPbkdf2ForTest(kSeedSecret, "[73, -66, -69, 116, 126, 62, 78, 4, -78, -115]", 1000);
  Client c;
  c.client_id = "legacy";
  c.client_type = ClientType::kPublic;
  c.client_profile = "mobile";
  c.client_name = "Legacy";
  c.secret_hash = legacy;
  c.owner_id = "admin";
  c.host = "h";
  ASSERT_TRUE(db_.Transact("test", [&](store::Tx& tx) { return store_.Insert(tx, c); }));
  EXPECT_FALSE(*service_->VerifySecret("legacy", Secret("wrong")));
  EXPECT_EQ(StoredSecretHash("legacy"), legacy);  // a failed check upgrades nothing
  EXPECT_TRUE(*service_->VerifySecret("legacy", Secret(std::string(kSeedSecret))));
  EXPECT_EQ(StoredSecretHash("legacy"), hasher_.Digest(kSeedSecret));
  auto upgraded = audit_.List({.action = "client.upgrade_secret"});
  ASSERT_TRUE(upgraded);
  EXPECT_EQ(upgraded->total, 1);
  EXPECT_TRUE(*service_->VerifySecret("legacy", Secret(std::string(kSeedSecret))));
  EXPECT_EQ(catalog_->Find("legacy")->secret_hash, hasher_.Digest(kSeedSecret));
  EXPECT_EQ(Code(service_->VerifySecret("nope", Secret("x")).error()), "ERR12014");
}

TEST_F(ClientServiceTest, LinksRecomputeScopeInTheSameTransaction) {
  SeedService("AACT0001");
  SeedService("AACT0002");
  auto created = MustCreate(Confidential());
  const std::string id = created.client.client_id;

  auto change = service_->Link(id, "AACT0001", {"/v1/data@get"}, "t");
  ASSERT_TRUE(change) << change.error().description;
  EXPECT_EQ(change->old_scope, "petstore.r petstore.w");
  EXPECT_EQ(change->new_scope, "data.w data.r");
  EXPECT_EQ(catalog_->Find(id)->scope, (std::vector<std::string>{"data.w", "data.r"}));
  EXPECT_EQ(JoinScope(service_->Get(id)->scope), "data.w data.r");

  change = service_->Link(id, "AACT0002", {"/v1/data@post", "/v1/data@get"}, "t");
  ASSERT_TRUE(change);
  EXPECT_EQ(change->new_scope, "data.w data.r");
  auto links = service_->Links(id);
  ASSERT_TRUE(links);
  EXPECT_EQ(links->size(), 2u);
  EXPECT_EQ(links->at("AACT0002"), (std::vector<std::string>{"/v1/data@get", "/v1/data@post"}));

  // Replacing one service's links keeps the other's.
  change = service_->Link(id, "AACT0002", {"/v1/data@delete"}, "t");
  ASSERT_TRUE(change);
  EXPECT_EQ(*service_->ServiceLinks(id, "AACT0002"), (std::vector<std::string>{"/v1/data@delete"}));
  EXPECT_EQ(*service_->ServiceLinks(id, "AACT0001"), (std::vector<std::string>{"/v1/data@get"}));

  // Errors: unknown client, service, endpoint; duplicates. Nothing changes.
  EXPECT_EQ(Code(service_->Link("nope", "AACT0001", {"/v1/data@get"}, "t").error()), "ERR12014");
  EXPECT_EQ(Code(service_->Link(id, "fake", {"/v1/data@get"}, "t").error()), "ERR12015");
  auto missing = service_->Link(id, "AACT0001", {"/v1/data@get", "/v2/none@get"}, "t");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, "ERR12042");
  EXPECT_EQ(*service_->ServiceLinks(id, "AACT0001"), (std::vector<std::string>{"/v1/data@get"}));
  EXPECT_EQ(
      service_->Link(id, "AACT0001", {"/v1/data@get", "/v1/data@get"}, "t").error().description,
      "endpoints[1]: is a duplicate");
  EXPECT_EQ(Code(service_->ServiceLinks(id, "fake").error()), "ERR12015");
  EXPECT_EQ(Code(service_->ServiceLinks("nope", "AACT0001").error()), "ERR12014");
  EXPECT_EQ(Code(service_->Links("nope").error()), "ERR12014");

  // An empty list changes nothing.
  auto none = service_->Link(id, "AACT0001", {}, "t");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->old_scope, none->new_scope);
  EXPECT_EQ(*service_->ServiceLinks(id, "AACT0001"), (std::vector<std::string>{"/v1/data@get"}));

  // Unlink one service, then all.
  change = service_->Unlink(id, std::string_view("AACT0001"), "t");
  ASSERT_TRUE(change);
  EXPECT_EQ(change->old_scope, "data.w data.r");
  EXPECT_EQ(change->new_scope, "data.w");
  EXPECT_EQ(Code(service_->Unlink(id, std::string_view("fake"), "t").error()), "ERR12015");
  change = service_->Unlink(id, std::nullopt, "t");
  ASSERT_TRUE(change);
  EXPECT_EQ(change->new_scope, "");
  EXPECT_TRUE(catalog_->Find(id)->scope.empty());
  EXPECT_TRUE(service_->Links(id)->empty());
  EXPECT_EQ(Code(service_->Unlink("nope", std::nullopt, "t").error()), "ERR12014");

  auto page = audit_.List({.entity_id = id, .action = "client."});
  ASSERT_TRUE(page);
  EXPECT_EQ(page->total, 6);  // create, 3 links, 2 unlinks
}

// What else Delete removes (refresh tokens, codes, ...) is the SQL store's: client_store_test.cc.
TEST_F(ClientServiceTest, DeleteRemovesTheClientAndItsLinks) {
  SeedService();
  auto created = MustCreate(Confidential());
  const std::string id = created.client.client_id;
  ASSERT_TRUE(service_->Link(id, "AACT0001", {"/v1/data@get", "/v1/data@put"}, "t"));
  auto other = MustCreate(Confidential("Other"));
  ASSERT_TRUE(service_->Link(other.client.client_id, "AACT0001", {"/v1/data@get"}, "t"));

  auto deleted = service_->Delete(id, "t");
  ASSERT_TRUE(deleted) << deleted.error().description;
  EXPECT_EQ(deleted->client_id, id);
  EXPECT_FALSE(*store_.Find(id));
  EXPECT_EQ(ClientCount(), 1);
  EXPECT_TRUE(db_.Transact("test", [&](store::Tx& tx) -> Status {
    auto mine = store_.Links(tx, id);
    auto others = store_.Links(tx, other.client.client_id);
    EXPECT_TRUE(mine->empty());
    EXPECT_EQ(others->size(), 1u);  // the other client's link stays
    return {};
  }));
  EXPECT_FALSE(catalog_->Find(id));
  EXPECT_TRUE(catalog_->Find(other.client.client_id));
  EXPECT_EQ(Code(service_->Get(id).error()), "ERR12014");
  EXPECT_EQ(Code(service_->Delete(id, "t").error()), "ERR12014");
  auto page = audit_.List({.action = "client.delete"});
  ASSERT_TRUE(page && page->entries.size() == 1);
  EXPECT_NE(page->entries[0].before_json.find("/v1/data@put"), std::string::npos);
  EXPECT_TRUE(page->entries[0].after_json.empty());
}

TEST_F(ClientServiceTest, ListPagesSortedByNameAndFiltersByHostPrefix) {
  for (auto [name, host] : {std::pair{"charlie", "lightapi.net"}, std::pair{"alpha", "a.com"},
                            std::pair{"Bravo", "lightapi.net"}, std::pair{"delta", "light.org"}}) {
    auto p = Confidential(name);
    p.host = host;
    MustCreate(p);
  }
  auto page = service_->List({.host_prefix = "", .offset = 0, .limit = 10});
  ASSERT_TRUE(page);
  EXPECT_EQ(page->total, 4);
  ASSERT_EQ(page->clients.size(), 4u);
  // Byte order on both backends: upper case first.
  EXPECT_EQ(page->clients[0].client_name, "Bravo");
  EXPECT_EQ(page->clients[1].client_name, "alpha");
  EXPECT_EQ(page->clients[3].client_name, "delta");
  page = service_->List({.host_prefix = "light", .offset = 0, .limit = 2});
  ASSERT_TRUE(page);
  EXPECT_EQ(page->total, 3);
  ASSERT_EQ(page->clients.size(), 2u);
  EXPECT_EQ(page->clients[0].client_name, "Bravo");
  EXPECT_EQ(page->clients[1].client_name, "charlie");
  page = service_->List({.host_prefix = "light", .offset = 2, .limit = 2});
  ASSERT_EQ(page->clients.size(), 1u);
  EXPECT_EQ(page->clients[0].client_name, "delta");
  page = service_->List({.host_prefix = "%", .offset = 0, .limit = 10});  // not a LIKE pattern
  EXPECT_EQ(page->total, 0);
}

TEST_F(ClientServiceTest, CatalogReloadAndConcurrentReaders) {
  auto a = MustCreate(Confidential("a"));
  auto b = MustCreate(Confidential("b"));
  ClientCatalog fresh(store_);
  EXPECT_FALSE(fresh.Find(a.client.client_id));
  ASSERT_TRUE(fresh.Reload());
  EXPECT_EQ(fresh.size(), 2u);
  EXPECT_EQ(fresh.Find(b.client.client_id)->client_name, "b");
  EXPECT_FALSE(fresh.Find("nope"));
  ASSERT_TRUE(fresh.Refresh("nope"));  // unknown and absent: nothing to do
  EXPECT_EQ(fresh.size(), 2u);

  // Readers run while a writer renames a client repeatedly; each sees a whole client. The test
  // waits for conditions (every reader running; a read after the last write), never assumes
  // the scheduler ran a thread by some time.
  constexpr int kReaders = 3;
  std::atomic<bool> stop{false};
  std::atomic<int> running{0};
  std::atomic<int64_t> reads{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < kReaders; ++t) {
    readers.emplace_back([&] {
      bool first = true;
      while (!stop) {
        auto c = catalog_->Find(a.client.client_id);
        if (!c || c->client_id != a.client.client_id) std::abort();
        ++reads;
        if (std::exchange(first, false)) ++running;
      }
    });
  }
  // Polls `done` for up to 60 s (a loaded machine is slow, not broken).
  auto eventually = [](const auto& done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return done();
  };
  bool all_running = eventually([&] { return running.load() == kReaders; });
  bool writes_ok = true;
  for (int i = 0; i < 20 && writes_ok; ++i) {
    ClientPatch p;
    p.client_name = "a" + std::to_string(i);
    writes_ok = service_->Update(a.client.client_id, p, "t").has_value();
  }
  const int64_t after_writes = reads.load();
  bool read_after = eventually([&] { return reads.load() > after_writes; });
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_TRUE(all_running);
  ASSERT_TRUE(writes_ok);
  EXPECT_TRUE(read_after);
  EXPECT_EQ(catalog_->Find(a.client.client_id)->client_name, "a19");
}

TEST_F(ClientServiceTest, BootstrapClientIsCreatedOnceWithEveryAdminScope) {
  Secret secret("bootstrap-secret-0123456789abcdef0123456789");
  auto c = EnsureBootstrapClient(db_, store_, audit_, hasher_,
                                 "f7d42348-c647-4efb-a52d-4c5787421e00", secret, clock_);
  ASSERT_TRUE(c) << c.error().description << c.error().detail;
  EXPECT_EQ(c->client_type, ClientType::kTrusted);
  EXPECT_EQ(c->grant_types, (std::vector<std::string>{"client_credentials", "bootstrap_token"}));
  for (const char* s :
       {"portal.r", "portal.w", "oauth.user.r", "oauth.user.w", "oauth.refresh_token.r",
        "oauth.refresh_token.w", "read:provider", "write:provider", "oauth.key.r", "oauth.key.w",
        "oauth.audit.r", "oauth.revoked.r"}) {
    EXPECT_TRUE(c->HasScope(s)) << s;
  }
  EXPECT_TRUE(hasher_.Verify(secret.Reveal(), c->secret_hash));
  EXPECT_TRUE(ValidateClient(*c, {}, {.grant_types = GrantRegistry::Default().types()}));
  // Idempotent, and an existing client is left as an administrator made it.
  ClientPatch p;
  p.client_name = "renamed";
  ASSERT_TRUE(service_->Update(c->client_id, p, "t"));
  auto again =
      EnsureBootstrapClient(db_, store_, audit_, hasher_, c->client_id, Secret("other"), clock_);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->client_name, "renamed");
  EXPECT_EQ(again->secret_hash, c->secret_hash);
  EXPECT_EQ(ClientCount(), 1);
  EXPECT_FALSE(EnsureBootstrapClient(db_, store_, audit_, hasher_, "", secret, clock_));
  EXPECT_FALSE(EnsureBootstrapClient(db_, store_, audit_, hasher_, "x", Secret(), clock_));
}

}  // namespace
}  // namespace portcullis::oauth
