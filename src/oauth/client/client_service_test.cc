#include "oauth/client/client_service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <utility>

#include "oauth/audit/audit.h"
#include "oauth/client/bootstrap_client.h"
#include "oauth/client/registry_testing.h"
#include "oauth/credentials/token_hash.h"

namespace portcullis::oauth {
namespace {

using testing::RegistryDbTest;

constexpr std::string_view kSeedSecret = "f6h1FTI8Q3-7UScPZDzfXA";

class ClientServiceTest : public RegistryDbTest {
 protected:
  void SetUp() override {
    RegistryDbTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    catalog_ = std::make_unique<ClientCatalog>(*db_);
    service_ =
        std::make_unique<ClientService>(*db_, clock_, Random::System(), hasher_, catalog_.get());
  }

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
    ASSERT_TRUE(
        db_->Exec("INSERT INTO services (service_id, service_type, service_name, "
                  "owner_id, host, created_at, updated_at) VALUES ($1, 'openapi', "
                  "'Account Service', 'admin', 'lightapi.net', 1, 1)",
                  {id}));
    for (auto [ep, scope] :
         {std::pair{"/v1/data@get", "data.w data.r"}, std::pair{"/v1/data@post", "data.w"},
          std::pair{"/v1/data@put", "data.w"}, std::pair{"/v1/data@delete", "data.w"}}) {
      ASSERT_TRUE(
          db_->Exec("INSERT INTO service_endpoints (service_id, endpoint, operation, "
                    "scope) VALUES ($1, $2, 'op', $3)",
                    {id, std::string(ep), std::string(scope)}));
    }
  }

  std::string Code(const Error& e) { return e.code; }

  ManualClock clock_;
  SecretHasher hasher_{Secret(std::string(32, 'p'))};
  std::unique_ptr<ClientCatalog> catalog_;
  std::unique_ptr<ClientService> service_;
};

TEST_P(ClientServiceTest, CreateGeneratesA256BitSecretStoredAsKeyedDigest) {
  auto created = MustCreate(Confidential());
  ASSERT_TRUE(created.secret);
  EXPECT_EQ(created.secret->Reveal().size(), 43u);  // 32 bytes base64url
  EXPECT_EQ(created.client.client_id.size(), 36u);  // UUID, as light-oauth2
  auto row = db_->QueryRow("SELECT secret_hash FROM clients WHERE client_id = $1",
                           {created.client.client_id});
  ASSERT_TRUE(row && *row);
  std::string stored = (**row).Str(0);
  EXPECT_TRUE(stored.starts_with("hs256$"));
  EXPECT_EQ(stored.find(created.secret->Reveal()), std::string::npos);
  EXPECT_TRUE(hasher_.Verify(created.secret->Reveal(), stored));
  // Defaults.
  EXPECT_EQ(created.client.token_profile, "rfc9068");
  EXPECT_EQ(created.client.auth_method, "client_secret_basic");
  EXPECT_EQ(created.client.grant_types, DefaultGrantTypes("confidential"));
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

TEST_P(ClientServiceTest, CreateRecordsAnAuditEntryWithoutSecrets) {
  auto created = MustCreate(Confidential());
  auto page = audit::List(*db_, {.entity_kind = "client"});
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

TEST_P(ClientServiceTest, CreateNotifiesInsideTheTransaction) {
  if (IsPostgres()) GTEST_SKIP() << "notification delivery is the store suite's business";
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> seen;
  db_->Subscribe([&](std::string_view kind, std::string_view id) {
    std::lock_guard l(mu);
    seen.emplace_back(kind, id);
  });
  auto created = MustCreate(Confidential());
  std::lock_guard l(mu);
  EXPECT_EQ(
      seen,
      (std::vector<std::pair<std::string, std::string>>{{"client", created.client.client_id}}));
}

TEST_P(ClientServiceTest, CreateRefusesBadInputWithLightOauth2Codes) {
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
  EXPECT_EQ(Count("clients"), 0);
  EXPECT_EQ(Count("audit_log"), 0);
}

TEST_P(ClientServiceTest, DuplicateIdIsRefused) {
  auto p = Confidential();
  p.client_id = "f7d42348-c647-4efb-a52d-4c5787421e72";
  MustCreate(p);
  auto again = service_->Create(p, "test", "admin");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, "ERR12019");
  EXPECT_EQ(Count("clients"), 1);
}

TEST_P(ClientServiceTest, HostileTextIsStoredVerbatim) {
  auto p = Confidential("x'); DROP TABLE clients; --");
  p.client_desc = "Robert'); DELETE FROM clients WHERE ('1'='1 ☃ \"quoted\" \\ 𝄞";
  auto created = MustCreate(p);
  auto got = service_->Get(created.client.client_id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->client_name, "x'); DROP TABLE clients; --");
  EXPECT_EQ(got->client_desc, *p.client_desc);
  EXPECT_EQ(Count("clients"), 1);
}

TEST_P(ClientServiceTest, ServiceProfileClientWithPrivateKeyJwtHasNoSecret) {
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

TEST_P(ClientServiceTest, PublicClientGetsNoneNoSecretAndNoGrantThatNeedsAuthentication) {
  auto p = Confidential();
  p.client_type = "public";
  auto created = MustCreate(p);
  EXPECT_FALSE(created.secret);
  EXPECT_EQ(created.client.auth_method, "none");
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
  EXPECT_EQ(updated->client.auth_method, "client_secret_basic");
  ASSERT_TRUE(updated->secret);
}

TEST_P(ClientServiceTest, ExplicitAuthMethodIsRememberedAndCanBeCleared) {
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

TEST_P(ClientServiceTest, UpdateMergesAndKeepsTheSecret) {
  auto created = MustCreate(Confidential());
  clock_.Advance(10);
  ClientPatch p;
  p.client_type = "trusted";
  p.client_profile = "webserver";
  p.client_desc = "";
  auto updated = service_->Update(created.client.client_id, p, "alice");
  ASSERT_TRUE(updated) << updated.error().description;
  EXPECT_EQ(updated->client.client_type, "trusted");
  EXPECT_EQ(updated->client.client_name, "PetStore Web Server");  // untouched
  EXPECT_EQ(updated->client.redirect_uris, created.client.redirect_uris);
  // Still on its type's default grants: it follows the type (light-oauth2 PUT to trusted).
  EXPECT_EQ(updated->client.grant_types, DefaultGrantTypes("trusted"));
  EXPECT_EQ(updated->client.updated_at, created.client.created_at + 10);
  EXPECT_EQ(updated->client.created_at, created.client.created_at);
  EXPECT_FALSE(updated->secret);
  EXPECT_TRUE(hasher_.Verify(created.secret->Reveal(),
                             catalog_->Find(created.client.client_id)->secret_hash));
  EXPECT_EQ(catalog_->Find(created.client.client_id)->client_type, "trusted");

  auto page = audit::List(*db_, {.action = "client.update"});
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

TEST_P(ClientServiceTest, RotateSecretReturnsTheNewSecretOnce) {
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
  auto page = audit::List(*db_, {.action = "client.rotate_secret"});
  ASSERT_TRUE(page && page->entries.size() == 1);
  EXPECT_EQ(page->entries[0].after_json.find(rotated->secret->Reveal()), std::string::npos);
}

TEST_P(ClientServiceTest, LegacyPbkdf2SecretVerifiesAndIsUpgraded) {
  std::string legacy =
      HashPbkdf2ForTest(kSeedSecret, "[73, -66, -69, 116, 126, 62, 78, 4, -78, -115]", 1000);
  ASSERT_TRUE(
      db_->Exec("INSERT INTO clients (client_id, client_type, client_profile, "
                "client_name, secret_hash, owner_id, host, created_at, updated_at) "
                "VALUES ('legacy', 'public', 'mobile', 'Legacy', $1, 'admin', 'h', 1, 1)",
                {legacy}));
  EXPECT_FALSE(*service_->VerifySecret("legacy", Secret("wrong")));
  auto row = db_->QueryRow("SELECT secret_hash FROM clients WHERE client_id = 'legacy'");
  EXPECT_EQ((**row).Str(0), legacy);  // a failed check upgrades nothing
  EXPECT_TRUE(*service_->VerifySecret("legacy", Secret(std::string(kSeedSecret))));
  row = db_->QueryRow("SELECT secret_hash FROM clients WHERE client_id = 'legacy'");
  EXPECT_EQ((**row).Str(0), hasher_.Digest(kSeedSecret));
  EXPECT_TRUE(*service_->VerifySecret("legacy", Secret(std::string(kSeedSecret))));
  EXPECT_EQ(catalog_->Find("legacy")->secret_hash, hasher_.Digest(kSeedSecret));
  EXPECT_EQ(Code(service_->VerifySecret("nope", Secret("x")).error()), "ERR12014");
}

TEST_P(ClientServiceTest, LinksRecomputeScopeInTheSameTransaction) {
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
  EXPECT_EQ(Count("client_endpoints"), 0);
  EXPECT_EQ(Code(service_->Unlink("nope", std::nullopt, "t").error()), "ERR12014");

  auto page = audit::List(*db_, {.entity_id = id, .action = "client."});
  ASSERT_TRUE(page);
  EXPECT_EQ(page->total, 6);  // create, 3 links, 2 unlinks
}

TEST_P(ClientServiceTest, DeleteRemovesLinksAndRefreshTokensInOneTransaction) {
  SeedService();
  auto created = MustCreate(Confidential());
  const std::string id = created.client.client_id;
  ASSERT_TRUE(service_->Link(id, "AACT0001", {"/v1/data@get", "/v1/data@put"}, "t"));
  ASSERT_TRUE(
      db_->Exec("INSERT INTO refresh_tokens (token_hash, family_id, client_id, user_id, "
                "scope, created_at, expires_at) VALUES ($1, 'fam', $2, 'admin', 'a', 1, "
                "2)",
                {TokenHash("86c0a39f-0789-4b71-9fed-d99fe6dc9281"), id}));
  auto other = MustCreate(Confidential("Other"));
  ASSERT_TRUE(service_->Link(other.client.client_id, "AACT0001", {"/v1/data@get"}, "t"));

  auto deleted = service_->Delete(id, "t");
  ASSERT_TRUE(deleted) << deleted.error().description;
  EXPECT_EQ(deleted->client_id, id);
  EXPECT_EQ(Count("clients WHERE client_id = '" + id + "'"), 0);
  EXPECT_EQ(Count("client_endpoints WHERE client_id = '" + id + "'"), 0);
  EXPECT_EQ(Count("refresh_tokens"), 0);
  EXPECT_EQ(Count("client_endpoints"), 1);  // the other client's link stays
  EXPECT_FALSE(catalog_->Find(id));
  EXPECT_TRUE(catalog_->Find(other.client.client_id));
  EXPECT_EQ(Code(service_->Get(id).error()), "ERR12014");
  EXPECT_EQ(Code(service_->Delete(id, "t").error()), "ERR12014");
  auto page = audit::List(*db_, {.action = "client.delete"});
  ASSERT_TRUE(page && page->entries.size() == 1);
  EXPECT_NE(page->entries[0].before_json.find("/v1/data@put"), std::string::npos);
  EXPECT_TRUE(page->entries[0].after_json.empty());
}

TEST_P(ClientServiceTest, ListPagesSortedByNameAndFiltersByHostPrefix) {
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

TEST_P(ClientServiceTest, CatalogReloadAndConcurrentReaders) {
  auto a = MustCreate(Confidential("a"));
  auto b = MustCreate(Confidential("b"));
  ClientCatalog fresh(*db_);
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

TEST_P(ClientServiceTest, BootstrapClientIsCreatedOnceWithEveryAdminScope) {
  Secret secret("bootstrap-secret-0123456789abcdef0123456789");
  auto c =
      EnsureBootstrapClient(*db_, hasher_, "f7d42348-c647-4efb-a52d-4c5787421e00", secret, clock_);
  ASSERT_TRUE(c) << c.error().description << c.error().detail;
  EXPECT_EQ(c->client_type, "trusted");
  EXPECT_EQ(c->grant_types, (std::vector<std::string>{"client_credentials", "bootstrap_token"}));
  for (const char* s :
       {"portal.r", "portal.w", "oauth.user.r", "oauth.user.w", "oauth.refresh_token.r",
        "oauth.refresh_token.w", "read:provider", "write:provider", "oauth.key.r", "oauth.key.w",
        "oauth.audit.r", "oauth.revoked.r"}) {
    EXPECT_TRUE(c->HasScope(s)) << s;
  }
  EXPECT_TRUE(hasher_.Verify(secret.Reveal(), c->secret_hash));
  EXPECT_TRUE(ValidateClient(*c));
  // Idempotent, and an existing client is left as an administrator made it.
  ClientPatch p;
  p.client_name = "renamed";
  ASSERT_TRUE(service_->Update(c->client_id, p, "t"));
  auto again = EnsureBootstrapClient(*db_, hasher_, c->client_id, Secret("other"), clock_);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->client_name, "renamed");
  EXPECT_EQ(again->secret_hash, c->secret_hash);
  EXPECT_EQ(Count("clients"), 1);
  EXPECT_FALSE(EnsureBootstrapClient(*db_, hasher_, "", secret, clock_));
  EXPECT_FALSE(EnsureBootstrapClient(*db_, hasher_, "x", Secret(), clock_));
}

INSTANTIATE_TEST_SUITE_P(Backends, ClientServiceTest, testing::kRegistryBackends,
                         testing::BackendName);

}  // namespace
}  // namespace portcullis::oauth
