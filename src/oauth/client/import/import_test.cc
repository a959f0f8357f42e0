// The import's domain rules over fakes (MemoryClientStore, a recording ImportTarget,
// MemoryAuditLog). The SQL adapters and the import end to end on both backends:
// src/store/sql/light_oauth2_import_test.cc.
#include <gtest/gtest.h>

#include <set>
#include <tuple>

#include "oauth/client/import/light_oauth2_import.h"
#include "oauth/client/memory_client_store.h"
#include "oauth/credentials/token_hash.h"
#include "store/fake_database.h"

namespace portcullis::oauth::legacy {
namespace {

// Keeps what the import writes in other domains' tables, by key.
class RecordingTarget final : public ImportTarget {
 public:
  Result<bool> InsertUser(store::Tx&, const ImportedUser& u) override {
    return users.emplace(u.user_id).second;
  }
  Result<bool> InsertService(store::Tx&, const ImportedService& s) override {
    return services.emplace(s.service_id).second;
  }
  Result<bool> ServiceExists(store::Tx&, std::string_view id) override {
    return services.contains(std::string(id));
  }
  Result<bool> InsertEndpoint(store::Tx&, const ImportedEndpoint& e) override {
    return endpoints.emplace(e.service_id, e.endpoint).second;
  }
  Result<bool> EndpointExists(store::Tx&, std::string_view sid, std::string_view ep) override {
    return endpoints.contains({std::string(sid), std::string(ep)});
  }
  Result<bool> InsertLink(store::Tx&, std::string_view c, std::string_view s,
                          std::string_view e) override {
    return links.emplace(std::string(c), std::string(s), std::string(e)).second;
  }
  Result<bool> InsertProvider(store::Tx&, const ImportedProvider& p) override {
    return providers.emplace(p.provider_id).second;
  }
  Result<bool> InsertRefreshToken(store::Tx&, const ImportedRefreshToken& t) override {
    tokens.push_back(t);
    return true;
  }

  std::set<std::string> users, services, providers;
  std::set<std::pair<std::string, std::string>> endpoints;
  std::set<std::tuple<std::string, std::string, std::string>> links;
  std::vector<ImportedRefreshToken> tokens;
};

Row R(std::initializer_list<std::pair<const std::string, std::optional<std::string>>> cells) {
  return Row(cells);
}

TEST(ImportRules, ClientsGetLightOauth2DefaultsAndBadRowsAreSkippedWithWarnings) {
  Tables tables;
  tables["client"] = {
      R({{"client_id", "pet"},
         {"client_type", "trusted"},
         {"client_secret", "1000:aa:bb"},
         {"client_name", "Pet"},
         {"scope", "petstore.r petstore.w"},
         {"custom_claim", R"({"c1":"361","iss":"evil"})"},
         {"redirect_uri", "http://localhost:8080/authorization"},
         {"host", "lightapi.net"}}),
      R({{"client_id", "bad"}, {"client_type", "superuser"}, {"host", "h"}}),
  };
  tables["service"] = {R({{"service_id", "S1"}})};
  tables["service_endpoint"] = {R({{"service_id", "S1"}, {"endpoint", "/a@get"}}),
                                R({{"service_id", "NOPE"}, {"endpoint", "/x@get"}})};
  tables["client_service"] = {
      R({{"client_id", "pet"}, {"service_id", "S1"}, {"endpoint", "/a@get"}}),
      R({{"client_id", "bad"}, {"service_id", "S1"}, {"endpoint", "/a@get"}})};
  tables["refresh_token"] = {
      R({{"refresh_token", "rt-1"}, {"client_id", "pet"}, {"remember", "Y"}}),
      R({{"refresh_token", "rt-2"}, {"client_id", "gone"}})};

  store::FakeDatabase db;
  MemoryClientStore clients;
  RecordingTarget target;
  audit::MemoryAuditLog audit;
  ManualClock clock;
  ImportOptions options;
  options.actor = "cli:test";
  auto report =
      ImportLightOauth2(db, clients, target, audit, tables, clock, Random::System(), options);
  ASSERT_TRUE(report) << report.error().detail;
  EXPECT_EQ(report->counts["clients"].imported, 1);
  EXPECT_EQ(report->counts["clients"].skipped, 1);
  EXPECT_EQ(report->counts["endpoints"].skipped, 1);
  EXPECT_EQ(report->counts["links"].imported, 1);
  EXPECT_EQ(report->counts["links"].skipped, 1);
  EXPECT_EQ(report->counts["refresh_tokens"].imported, 1);
  EXPECT_EQ(report->counts["refresh_tokens"].skipped, 1);
  std::string warnings;
  for (const auto& w : report->warnings) warnings += w + "\n";
  EXPECT_NE(warnings.find("custom claim 'iss' is reserved"), std::string::npos) << warnings;
  EXPECT_NE(warnings.find("clientType 'superuser'"), std::string::npos) << warnings;
  EXPECT_EQ(warnings.find("rt-1"), std::string::npos);  // tokens are named by hash only

  auto c = **clients.Find("pet");
  EXPECT_EQ(c.client_type, ClientType::kTrusted);
  EXPECT_EQ(c.token_profile, TokenProfile::kLight4j);
  EXPECT_EQ(c.auth_method, AuthMethod::kClientSecretBasic);
  EXPECT_FALSE(c.auth_method_explicit);
  EXPECT_EQ(c.secret_hash, "1000:aa:bb");  // verified as is, upgraded on first use
  EXPECT_EQ(c.custom_claim, R"({"c1":"361"})");
  EXPECT_EQ(c.grant_types,
            (std::vector<std::string>{"authorization_code", "client_credentials", "password",
                                      "refresh_token", "client_authenticated_user"}));
  EXPECT_EQ(c.redirect_uris, (std::vector<std::string>{"http://localhost:8080/authorization"}));
  EXPECT_EQ(c.owner_id, "admin");
  ASSERT_EQ(target.tokens.size(), 1u);
  EXPECT_EQ(target.tokens[0].token_hash, TokenHash("rt-1"));
  EXPECT_EQ(target.tokens[0].remember, "Y");
  EXPECT_EQ(target.tokens[0].expires_at, clock.Now() + options.refresh_token_ttl);
  EXPECT_EQ(db.notified(), (std::vector<std::pair<std::string, std::string>>{{"*", ""}}));
  auto entries = audit.List({.action = "import.light_oauth2"});
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->total, 1);
  EXPECT_EQ(entries->entries[0].actor, "cli:test");

  // A re-run skips what is there.
  auto again =
      ImportLightOauth2(db, clients, target, audit, tables, clock, Random::System(), options);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->counts["clients"].imported, 0);
  EXPECT_EQ(again->counts["clients"].skipped, 2);
}

TEST(ImportRules, LightOauth2AuthenticatorClassesMapToConfiguredAuthenticators) {
  Tables tables;
  auto client = [](std::string id, std::string cls) {
    return R({{"client_id", id},
              {"client_type", "trusted"},
              {"client_secret", "1000:aa:bb"},
              {"host", "lightapi.net"},
              {"authenticate_class", cls}});
  };
  tables["client"] = {client("ldap-one", "com.networknt.oauth.auth.MarketPlaceAuth"),
                      client("other", "com.networknt.oauth.auth.LightPortalAuth")};
  store::FakeDatabase db;
  MemoryClientStore clients;
  RecordingTarget target;
  audit::MemoryAuditLog audit;
  ManualClock clock;
  ImportOptions options;
  options.authenticate_classes = {{"com.networknt.oauth.auth.MarketPlaceAuth", "ldap-corp"}};
  auto report =
      ImportLightOauth2(db, clients, target, audit, tables, clock, Random::System(), options);
  ASSERT_TRUE(report) << report.error().detail;
  EXPECT_EQ((**clients.Find("ldap-one")).authenticate_class, "ldap-corp");
  // A class with no configured authenticator stays, and its clients get ERR10043 at sign-in.
  EXPECT_EQ((**clients.Find("other")).authenticate_class,
            "com.networknt.oauth.auth.LightPortalAuth");
  std::string warnings;
  for (const auto& w : report->warnings) warnings += w + "\n";
  EXPECT_NE(warnings.find("is now the authenticator ldap-corp"), std::string::npos) << warnings;
}

}  // namespace
}  // namespace portcullis::oauth::legacy
