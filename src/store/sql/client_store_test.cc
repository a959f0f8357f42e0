// Contract: SqlClientStore on SQLite and PostgreSQL, and the in-memory fake (MemoryClientStore),
// answer the same calls the same way. Cases that only SQL can show (rollback, the rows of other
// domains a client delete removes, text that looks like SQL) run on the SQL store alone.
#include "store/sql/client_store.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "oauth/client/client_catalog.h"
#include "oauth/client/client_service.h"
#include "oauth/client/memory_client_store.h"
#include "oauth/credentials/secret_hash.h"
#include "oauth/credentials/token_hash.h"
#include "oauth/token/grant_registry.h"
#include "store/fake_database.h"
#include "store/sql/audit_log.h"
#include "store/sql/backend_test_fixture.h"
#include "store/sql/row_count_testing.h"

namespace portcullis::store {
namespace {

using oauth::AuthMethod;
using oauth::Client;
using oauth::ClientStore;
using oauth::ClientType;
using oauth::TokenProfile;

// Declares an endpoint (and its service) that links may name.
using AddEndpoint =
    std::function<void(const std::string& sid, const std::string& ep, const std::string& scope)>;

Client Sample(std::string id, std::string name = "PetStore", std::string host = "lightapi.net") {
  Client c;
  c.client_id = std::move(id);
  c.client_type = ClientType::kExternal;
  c.client_profile = "service";
  c.client_name = std::move(name);
  c.client_desc = "desc";
  c.secret_hash = "hs256$abc";
  c.scope = {"petstore.r", "petstore.w"};
  c.custom_claim = R"({"c1":"361"})";
  c.redirect_uris = {"https://a.example/cb", "https://b.example/cb"};
  c.grant_types = {"client_credentials"};
  c.token_profile = TokenProfile::kLight4j;
  c.access_token_ttl = 600;
  c.auth_method = AuthMethod::kClientSecretPost;
  c.auth_method_explicit = true;
  c.authenticate_class = "com.example.Auth";
  c.deref_client_id = "deref";
  c.owner_id = "admin";
  c.host = std::move(host);
  c.post_logout_redirect_uris = {"https://a.example/bye", "http://127.0.0.1:9/bye"};
  c.backchannel_logout_uri = "https://a.example/bc?x=1";
  c.id_token_signed_response_alg = "ES256";
  c.require_par = true;
  c.dpop_bound_access_tokens = true;
  c.tls_subject_kind = oauth::TlsSubjectKind::kSanUri;
  c.tls_subject = "spiffe://example/c1";
  c.tls_bound_tokens = true;
  c.security_profile = oauth::SecurityProfile::kFapi2;
  c.second_factor_required = true;
  c.created_at = 100;
  c.updated_at = 200;
  return c;
}

void ExpectSame(const Client& a, const Client& b) {
  EXPECT_EQ(a.client_id, b.client_id);
  EXPECT_EQ(a.client_type, b.client_type);
  EXPECT_EQ(a.client_profile, b.client_profile);
  EXPECT_EQ(a.client_name, b.client_name);
  EXPECT_EQ(a.client_desc, b.client_desc);
  EXPECT_EQ(a.secret_hash, b.secret_hash);
  EXPECT_EQ(a.scope, b.scope);
  EXPECT_EQ(a.custom_claim, b.custom_claim);
  EXPECT_EQ(a.redirect_uris, b.redirect_uris);
  EXPECT_EQ(a.grant_types, b.grant_types);
  EXPECT_EQ(a.token_profile, b.token_profile);
  EXPECT_EQ(a.access_token_ttl, b.access_token_ttl);
  EXPECT_EQ(a.auth_method, b.auth_method);
  EXPECT_EQ(a.auth_method_explicit, b.auth_method_explicit);
  EXPECT_EQ(a.jwks, b.jwks);
  EXPECT_EQ(a.jwks_uri, b.jwks_uri);
  EXPECT_EQ(a.authenticate_class, b.authenticate_class);
  EXPECT_EQ(a.deref_client_id, b.deref_client_id);
  EXPECT_EQ(a.owner_id, b.owner_id);
  EXPECT_EQ(a.host, b.host);
  EXPECT_EQ(a.post_logout_redirect_uris, b.post_logout_redirect_uris);
  EXPECT_EQ(a.backchannel_logout_uri, b.backchannel_logout_uri);
  EXPECT_EQ(a.id_token_signed_response_alg, b.id_token_signed_response_alg);
  EXPECT_EQ(a.require_par, b.require_par);
  EXPECT_EQ(a.dpop_bound_access_tokens, b.dpop_bound_access_tokens);
  EXPECT_EQ(a.tls_subject_kind, b.tls_subject_kind);
  EXPECT_EQ(a.tls_subject, b.tls_subject);
  EXPECT_EQ(a.tls_bound_tokens, b.tls_bound_tokens);
  EXPECT_EQ(a.security_profile, b.security_profile);
  EXPECT_EQ(a.second_factor_required, b.second_factor_required);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.updated_at, b.updated_at);
}

class ClientStoreContract : public BackendTest {
 protected:
  // Runs `body` on the SQL store over this backend, then on the fake.
  void OnBoth(const std::function<void(ClientStore&, Database&, const AddEndpoint&)>& body) {
    {
      SCOPED_TRACE(GetParam());
      SqlClientStore sql(db());
      body(sql, db(), [&](const std::string& sid, const std::string& ep, const std::string& scope) {
        ASSERT_TRUE(db().Exec(
            "INSERT INTO services (service_id, service_type, service_name, owner_id, host, "
            "created_at, updated_at) VALUES ($1, 'openapi', $1, 'admin', 'h', 1, 1) "
            "ON CONFLICT DO NOTHING",
            {sid}));
        ASSERT_TRUE(db().Exec(
            "INSERT INTO service_endpoints (service_id, endpoint, operation, scope) VALUES "
            "($1, $2, 'op', $3)",
            {sid, ep, scope}));
      });
    }
    {
      SCOPED_TRACE("memory");
      FakeDatabase fake;
      oauth::MemoryClientStore memory;
      body(memory, fake,
           [&](const std::string& sid, const std::string& ep, const std::string& scope) {
             memory.AddEndpoint(sid, ep, scope);
           });
    }
  }

  static Status In(Database& db, const std::function<Status(Tx&)>& fn) {
    return db.Transact("test", fn);
  }
};

TEST_P(ClientStoreContract, InsertLoadAndUpdateKeepEveryField) {
  OnBoth([](ClientStore& s, Database& db, const AddEndpoint&) {
    Client c = Sample("c1");
    ASSERT_TRUE(In(db, [&](Tx& tx) { return s.Insert(tx, c); }));
    auto found = s.Find("c1");
    ASSERT_TRUE(found && *found);
    ExpectSame(**found, c);
    EXPECT_FALSE(*s.Find("nope"));

    // Defaults and empty optionals read back as they were written.
    Client plain;
    plain.client_id = "c2";
    plain.client_profile = "mobile";
    plain.client_name = "Plain";
    plain.owner_id = "admin";
    plain.host = "h";
    ASSERT_TRUE(In(db, [&](Tx& tx) { return s.Insert(tx, plain); }));
    ExpectSame(**s.Find("c2"), plain);

    auto dup = In(db, [&](Tx& tx) { return s.Insert(tx, c); });
    ASSERT_FALSE(dup);
    EXPECT_EQ(dup.error().code, "ERR12019");

    Client changed = c;
    changed.client_type = ClientType::kPublic;
    changed.auth_method = AuthMethod::kNone;
    changed.auth_method_explicit = false;
    changed.token_profile = TokenProfile::kRfc9068;
    changed.access_token_ttl.reset();
    changed.redirect_uris.clear();
    changed.client_desc.clear();
    changed.post_logout_redirect_uris = {"https://c.example/bye"};
    changed.backchannel_logout_uri.clear();
    changed.id_token_signed_response_alg = "PS256";
    changed.require_par = false;
    changed.tls_subject_kind = oauth::TlsSubjectKind::kNone;  // cleared: NULL in the row
    changed.tls_subject.clear();
    changed.tls_bound_tokens = false;
    changed.security_profile = oauth::SecurityProfile::kNone;  // NULL in the row
    changed.second_factor_required = false;                    // NULL in the row
    changed.created_at = 999;                                  // not written by Update
    changed.updated_at = 300;
    ASSERT_TRUE(In(db, [&](Tx& tx) -> Status {
      auto loaded = s.LoadForUpdate(tx, "c1");
      EXPECT_TRUE(loaded && *loaded);
      auto r = s.Update(tx, changed);
      EXPECT_TRUE(r && *r);
      Client ghost = changed;
      ghost.client_id = "ghost";
      auto none = s.Update(tx, ghost);
      EXPECT_TRUE(none && !*none);
      return {};
    }));
    changed.created_at = c.created_at;
    ExpectSame(**s.Find("c1"), changed);

    auto all = s.FindAll();
    ASSERT_TRUE(all);
    EXPECT_EQ(all->size(), 2u);
  });
}

TEST_P(ClientStoreContract, InsertIfAbsentSkipsAnExistingId) {
  OnBoth([](ClientStore& s, Database& db, const AddEndpoint&) {
    ASSERT_TRUE(In(db, [&](Tx& tx) -> Status {
      auto first = s.InsertIfAbsent(tx, Sample("c1", "first"));
      EXPECT_TRUE(first && *first);
      auto second = s.InsertIfAbsent(tx, Sample("c1", "second"));
      EXPECT_TRUE(second && !*second);
      return {};
    }));
    EXPECT_EQ((*s.Find("c1"))->client_name, "first");
  });
}

TEST_P(ClientStoreContract, SecretHashUpdatesAndConditionalReplace) {
  OnBoth([](ClientStore& s, Database& db, const AddEndpoint&) {
    ASSERT_TRUE(In(db, [&](Tx& tx) { return s.Insert(tx, Sample("c1")); }));
    ASSERT_TRUE(In(db, [&](Tx& tx) -> Status {
      EXPECT_TRUE(*s.UpdateSecretHash(tx, "c1", "hs256$new", 300));
      EXPECT_FALSE(*s.UpdateSecretHash(tx, "nope", "x", 300));
      // Replace only while the stored digest is still the expected one.
      EXPECT_FALSE(*s.ReplaceSecretHash(tx, "c1", "hs256$abc", "hs256$lost", 400));
      EXPECT_TRUE(*s.ReplaceSecretHash(tx, "c1", "hs256$new", "hs256$won", 500));
      EXPECT_FALSE(*s.ReplaceSecretHash(tx, "nope", "a", "b", 500));
      return {};
    }));
    auto c = **s.Find("c1");
    EXPECT_EQ(c.secret_hash, "hs256$won");
    EXPECT_EQ(c.updated_at, 500);
    ASSERT_TRUE(In(db, [&](Tx& tx) -> Status {
      EXPECT_TRUE(*s.UpdateSecretHash(tx, "c1", "", 600));  // none
      return {};
    }));
    EXPECT_TRUE((*s.Find("c1"))->secret_hash.empty());
  });
}

TEST_P(ClientStoreContract, ListSortsByNameThenIdInByteOrderAndFiltersByHostPrefix) {
  OnBoth([](ClientStore& s, Database& db, const AddEndpoint&) {
    ASSERT_TRUE(In(db, [&](Tx& tx) -> Status {
      for (auto [id, name, host] :
           {std::tuple{"b", "beta", "lightapi.net"}, std::tuple{"a", "beta", "lightapi.net"},
            std::tuple{"c", "Zeta", "lightapi.net"}, std::tuple{"d", "alpha", "other.org"}}) {
        if (auto st = s.Insert(tx, Sample(id, name, host)); !st) return st;
      }
      return {};
    }));
    ASSERT_TRUE(In(db, [&](Tx& tx) -> Status {
      auto all = s.List(tx, {.host_prefix = "", .offset = 0, .limit = 10});
      std::vector<std::string> ids;
      for (const auto& c : *all) ids.push_back(c.client_id);
      // Byte order: upper case before lower case.
      EXPECT_EQ(ids, (std::vector<std::string>{"c", "d", "a", "b"}));
      auto page = s.List(tx, {.host_prefix = "light", .offset = 1, .limit = 1});
      EXPECT_EQ(page->size(), 1u);
      EXPECT_EQ(page->at(0).client_id, "a");
      EXPECT_EQ(*s.Count(tx, "light"), 3);
      EXPECT_EQ(*s.Count(tx, ""), 4);
      EXPECT_EQ(*s.Count(tx, "%"), 0);  // not a LIKE pattern
      EXPECT_TRUE(s.List(tx, {.host_prefix = "_", .offset = 0, .limit = 10})->empty());
      return {};
    }));
  });
}

TEST_P(ClientStoreContract, LinksAndTheScopeTheyDerive) {
  OnBoth([](ClientStore& s, Database& db, const AddEndpoint& add) {
    add("S2", "/b@get", "b.r shared");
    add("S1", "/z@get", "z.r shared");
    add("S1", "/a@get", "a.r");
    add("S3", "/x@get", "x.r");
    ASSERT_TRUE(In(db, [&](Tx& tx) -> Status {
      if (auto st = s.Insert(tx, Sample("c1")); !st) return st;
      return s.Insert(tx, Sample("c2"));
    }));
    ASSERT_TRUE(In(db, [&](Tx& tx) -> Status {
      EXPECT_TRUE(*s.LockService(tx, "S1"));
      EXPECT_FALSE(*s.LockService(tx, "nope"));
      EXPECT_TRUE(*s.EndpointExists(tx, "S1", "/a@get"));
      EXPECT_FALSE(*s.EndpointExists(tx, "S1", "/b@get"));
      EXPECT_TRUE(s.ReplaceServiceLinks(tx, "c1", "S2", {"/b@get"}));
      EXPECT_TRUE(s.ReplaceServiceLinks(tx, "c1", "S1", {"/z@get", "/a@get"}));
      EXPECT_TRUE(s.ReplaceServiceLinks(tx, "c2", "S1", {"/a@get"}));
      EXPECT_TRUE(s.ReplaceServiceLinks(tx, "c2", "S3", {"/x@get"}));
      return {};
    }));
    ASSERT_TRUE(In(db, [&](Tx& tx) -> Status {
      auto links = s.Links(tx, "c1");
      EXPECT_EQ(*links, (oauth::ClientLinkMap{{"S1", {"/a@get", "/z@get"}}, {"S2", {"/b@get"}}}));
      EXPECT_EQ(*s.ServiceLinks(tx, "c1", "S1"), (std::vector<std::string>{"/a@get", "/z@get"}));
      EXPECT_TRUE(s.ServiceLinks(tx, "c1", "S3")->empty());
      EXPECT_EQ(*s.ClientsLinkedTo(tx, "S1"), (std::vector<std::string>{"c1", "c2"}));
      EXPECT_EQ(*s.ClientsLinkedTo(tx, "S2"), (std::vector<std::string>{"c1"}));
      // By service, then endpoint; split, de-duplicated in order.
      EXPECT_EQ(*s.LinkedScope(tx, "c1"),
                (std::vector<std::string>{"a.r", "z.r", "shared", "b.r"}));
      EXPECT_TRUE(s.SetScope(tx, "c1", *s.LinkedScope(tx, "c1"), 700));
      // Replacing one service's links keeps the others'.
      EXPECT_TRUE(s.ReplaceServiceLinks(tx, "c1", "S1", {"/z@get"}));
      EXPECT_EQ(s.Links(tx, "c1")->size(), 2u);
      EXPECT_TRUE(s.DeleteLinks(tx, "c1", std::string_view("S2")));
      EXPECT_EQ(*s.Links(tx, "c1"), (oauth::ClientLinkMap{{"S1", {"/z@get"}}}));
      EXPECT_TRUE(s.DeleteLinks(tx, "c2", std::nullopt));
      EXPECT_TRUE(s.Links(tx, "c2")->empty());
      EXPECT_EQ(*s.ClientsLinkedTo(tx, "S1"), (std::vector<std::string>{"c1"}));
      return {};
    }));
    auto c1 = **s.Find("c1");
    EXPECT_EQ(c1.scope, (std::vector<std::string>{"a.r", "z.r", "shared", "b.r"}));
    EXPECT_EQ(c1.updated_at, 700);
    ASSERT_TRUE(In(db, [&](Tx& tx) { return s.SetScope(tx, "c1", {}, 800); }));
    EXPECT_TRUE((*s.Find("c1"))->scope.empty());
  });
}

TEST_P(ClientStoreContract, DeleteRemovesTheClientAndItsLinks) {
  OnBoth([](ClientStore& s, Database& db, const AddEndpoint& add) {
    add("S1", "/a@get", "a.r");
    ASSERT_TRUE(In(db, [&](Tx& tx) -> Status {
      if (auto st = s.Insert(tx, Sample("c1")); !st) return st;
      if (auto st = s.Insert(tx, Sample("c2")); !st) return st;
      if (auto st = s.ReplaceServiceLinks(tx, "c1", "S1", {"/a@get"}); !st) return st;
      return s.ReplaceServiceLinks(tx, "c2", "S1", {"/a@get"});
    }));
    ASSERT_TRUE(In(db, [&](Tx& tx) -> Status {
      EXPECT_TRUE(*s.Delete(tx, "c1"));
      EXPECT_FALSE(*s.Delete(tx, "c1"));
      EXPECT_TRUE(s.Links(tx, "c1")->empty());
      EXPECT_EQ(s.Links(tx, "c2")->size(), 1u);
      return {};
    }));
    EXPECT_FALSE(*s.Find("c1"));
    EXPECT_TRUE(*s.Find("c2"));
  });
}

TEST_P(ClientStoreContract, SqlDeleteRemovesEverythingTheClientOwns) {
  SqlClientStore s(db());
  ASSERT_TRUE(In(db(), [&](Tx& tx) -> Status {
    if (auto st = s.Insert(tx, Sample("c1")); !st) return st;
    return s.Insert(tx, Sample("c2"));
  }));
  for (const char* id : {"c1", "c2"}) {
    ASSERT_TRUE(
        db().Exec("INSERT INTO refresh_tokens (token_hash, family_id, client_id, user_id, scope, "
                  "created_at, expires_at) VALUES ($1, 'fam', $2, 'admin', 'a', 1, 2)",
                  {oauth::TokenHash(std::string("token-") + id), std::string(id)}));
    ASSERT_TRUE(db().Exec(
        "INSERT INTO delegation_policies (client_id, audience, scopes, max_depth) VALUES ($1, "
        "'S1', 'a.r', 1)",
        {std::string(id)}));
  }
  ASSERT_TRUE(In(db(), [&](Tx& tx) -> Status {
    EXPECT_TRUE(*s.Delete(tx, "c1"));
    return {};
  }));
  EXPECT_EQ(CountRows(db(), "refresh_tokens WHERE client_id = 'c1'"), 0);
  EXPECT_EQ(CountRows(db(), "delegation_policies WHERE client_id = 'c1'"), 0);
  EXPECT_EQ(CountRows(db(), "refresh_tokens"), 1);
  EXPECT_EQ(CountRows(db(), "delegation_policies"), 1);
}

TEST_P(ClientStoreContract, SqlWritesRollBackWithTheirTransactionAndKeepHostileText) {
  SqlClientStore s(db());
  auto failed = In(db(), [&](Tx& tx) -> Status {
    if (auto st = s.Insert(tx, Sample("c1")); !st) return st;
    return Fail(Error::Internal("roll back"));
  });
  ASSERT_FALSE(failed);
  EXPECT_FALSE(*s.Find("c1"));

  Client hostile = Sample("c2", "x'); DROP TABLE clients; --");
  hostile.client_desc = "Robert'); DELETE FROM clients WHERE ('1'='1 ☃ \"quoted\" \\ 𝄞";
  ASSERT_TRUE(In(db(), [&](Tx& tx) { return s.Insert(tx, hostile); }));
  ExpectSame(**s.Find("c2"), hostile);
}

TEST_P(ClientStoreContract, SqlRowsWithUnknownEnumTextReadAsTheColumnDefaults) {
  // Written by other means (an older tool, a hand edit): no CHECK constrains these two columns.
  ASSERT_TRUE(db().Exec(
      "INSERT INTO clients (client_id, client_type, client_profile, client_name, owner_id, host, "
      "created_at, updated_at, token_profile, auth_method) VALUES ('odd', 'public', 'mobile', "
      "'Odd', 'admin', 'h', 1, 1, 'jwt', 'client_secret_jwt')"));
  SqlClientStore s(db());
  auto c = **s.Find("odd");
  EXPECT_EQ(c.client_type, ClientType::kPublic);
  EXPECT_EQ(c.token_profile, TokenProfile::kRfc9068);
  EXPECT_EQ(c.auth_method, AuthMethod::kClientSecretBasic);
}

TEST_P(ClientStoreContract, CatalogSnapshotsHoldParsedCustomClaims) {
  SqlClientStore s(db());
  Client c = Sample("c1");
  c.custom_claim = R"({"c1":"361","iss":"evil"})";
  ASSERT_TRUE(In(db(), [&](Tx& tx) { return s.Insert(tx, c); }));
  oauth::ClientCatalog catalog(s);
  ASSERT_TRUE(catalog.Reload());
  auto snap = catalog.Find("c1");
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->custom_claim, c.custom_claim);  // the raw text, for the admin API
  EXPECT_EQ(snap->custom_claims.size(), 1u);      // parsed, reserved names dropped
  EXPECT_EQ(snap->custom_claims.at("c1"), "361");
  ASSERT_TRUE(db().Exec("UPDATE clients SET custom_claim = '{\"c2\":2}' WHERE client_id = 'c1'"));
  ASSERT_TRUE(catalog.Refresh("c1"));
  EXPECT_EQ(catalog.Find("c1")->custom_claims.at("c2"), 2);
  ASSERT_TRUE(db().Exec("DELETE FROM clients WHERE client_id = 'c1'"));
  ASSERT_TRUE(catalog.Refresh("c1"));
  EXPECT_FALSE(catalog.Find("c1"));
}

// ClientService over the SQL store: a failed link change leaves the earlier links, and a legacy
// digest is upgraded once (conditional update), with its audit entry in the same transaction.
TEST_P(ClientStoreContract, SqlClientServiceLinksAndSecretUpgradeAreTransactional) {
  SqlClientStore s(db());
  SqlAuditLog audit(db());
  ManualClock clock;
  oauth::SecretHasher hasher{Secret(std::string(32, 'p'))};
  oauth::ClientService service(db(), s, audit, clock, Random::System(), hasher, nullptr,
                               oauth::GrantRegistry::Default().types());
  ASSERT_TRUE(db().Exec(
      "INSERT INTO services (service_id, service_type, service_name, owner_id, host, created_at, "
      "updated_at) VALUES ('S1', 'openapi', 'S1', 'admin', 'h', 1, 1)"));
  ASSERT_TRUE(db().Exec(
      "INSERT INTO service_endpoints (service_id, endpoint, operation, scope) VALUES ('S1', "
      "'/a@get', 'op', 'a.r')"));
  Client c = Sample("c1");
  c.client_type = ClientType::kConfidential;
  c.deref_client_id.clear();
  c.secret_hash = oauth::HashPbkdf2ForTest("s3cret", "[1, 2, 3, 4]", 1000);
  ASSERT_TRUE(In(db(), [&](Tx& tx) { return s.Insert(tx, c); }));

  ASSERT_TRUE(service.Link("c1", "S1", {"/a@get"}, "t"));
  auto missing = service.Link("c1", "S1", {"/a@get", "/none@get"}, "t");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, "ERR12042");
  EXPECT_EQ(*service.ServiceLinks("c1", "S1"), (std::vector<std::string>{"/a@get"}));
  EXPECT_EQ(oauth::JoinScope(service.Get("c1")->scope), "a.r");

  EXPECT_TRUE(*service.VerifySecret("c1", Secret("s3cret")));
  EXPECT_EQ(service.Get("c1")->secret_hash, hasher.Digest("s3cret"));
  EXPECT_TRUE(*service.VerifySecret("c1", Secret("s3cret")));
  auto upgrades = audit.List({.action = "client.upgrade_secret"});
  ASSERT_TRUE(upgrades);
  EXPECT_EQ(upgrades->total, 1);
}

PORTCULLIS_INSTANTIATE_BACKENDS(ClientStoreContract);

}  // namespace
}  // namespace portcullis::store
