// ServiceRegistry in two settings: over fake stores (FakeDatabase, MemoryServiceStore,
// MemoryAuditLog) for what involves no client links, and over the SQL stores on SQLite and
// PostgreSQL for what does (client links live in the client store, which is SQL).
#include "oauth/service/service_registry.h"

#include <gtest/gtest.h>

#include "oauth/audit/audit.h"
#include "oauth/client/client_service.h"
#include "oauth/client/memory_client_store.h"
#include "oauth/client/registry_testing.h"
#include "oauth/service/memory_service_store.h"
#include "oauth/token/grant_registry.h"
#include "store/fake_database.h"
#include "store/sql/audit_log.h"
#include "store/sql/client_store.h"
#include "store/sql/service_store.h"

namespace portcullis::oauth {
namespace {

using testing::RegistryDbTest;

ServicePatch Account(std::string id) {
  ServicePatch p;
  p.service_id = std::move(id);
  p.service_type = "openapi";
  p.service_name = "Account Service";
  p.service_desc = "A microservice that serves account information";
  p.scope = "a.r b.r";
  p.host = "lightapi.net";
  return p;
}

std::vector<Endpoint> DataEndpoints() {
  return {{"/v1/data@get", "getData", "data.w data.r"},
          {"/v1/data@post", "postData", "data.w"},
          {"/v1/data@put", "putData", "data.w"},
          {"/v1/data@delete", "deleteData", "data.w"}};
}

class ServiceRegistryFakeTest : public ::testing::Test {
 protected:
  store::FakeDatabase db_;
  MemoryServiceStore store_;
  MemoryClientStore client_store_;
  audit::MemoryAuditLog audit_;
  ManualClock clock_;
  ServiceCatalog catalog_{store_};
  ServiceRegistry registry_{db_, store_, client_store_, audit_, clock_, &catalog_, nullptr};
};

// Reference §16.4, the parts without endpoints.
TEST_F(ServiceRegistryFakeTest, LightOauth2Scenarios) {
  for (const char* id : {"AACT0001", "AACT0002", "AACT0003"}) {
    ASSERT_TRUE(registry_.Create(Account(id), "t", "admin"));
  }
  auto page = registry_.List("", 0, 10);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->total, 3);
  EXPECT_EQ(page->services[0].service_id, "AACT0001");
  page = registry_.List("", 10, 10);  // page=1 of 10: empty
  ASSERT_TRUE(page);
  EXPECT_TRUE(page->services.empty());
  EXPECT_EQ(registry_.List("other", 0, 10)->total, 0);

  auto created = registry_.Create(Account("AACT0005"), "t", "admin");
  ASSERT_TRUE(created);
  EXPECT_EQ(created->owner_id, "admin");
  EXPECT_EQ(created->created_at, clock_.Now());
  EXPECT_EQ(registry_.Create(Account("AACT0005"), "t", "admin").error().code, "ERR12018");

  clock_.Advance(10);
  ServicePatch rename;
  rename.service_name = "Account Service 2";
  auto updated = registry_.Update("AACT0005", rename, "t");
  ASSERT_TRUE(updated);
  EXPECT_EQ(updated->service_name, "Account Service 2");
  EXPECT_EQ(updated->scope, "a.r b.r");
  EXPECT_EQ(updated->updated_at, created->created_at + 10);
  EXPECT_EQ(registry_.Update("fake", rename, "t").error().code, "ERR12015");
  EXPECT_EQ(registry_.Get("AACT0005")->service_name, "Account Service 2");
  EXPECT_EQ(registry_.Get("AACT0005")->created_at, created->created_at);
  EXPECT_EQ(registry_.Get("fake").error().code, "ERR12015");
  EXPECT_EQ(catalog_.Find("AACT0005")->service.service_name, "Account Service 2");

  EXPECT_EQ(registry_.Endpoints("AACT0001").error().code, "ERR12042");
  EXPECT_EQ(registry_.Endpoints("AACT0004").error().code, "ERR12042");

  auto entries = audit_.List({.entity_id = "AACT0005"});
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->total, 2);
  EXPECT_EQ(entries->entries[0].action, "service.update");
  EXPECT_NE(entries->entries[0].before_json.find("\"Account Service\""), std::string::npos);
  EXPECT_NE(entries->entries[0].after_json.find("Account Service 2"), std::string::npos);
  EXPECT_EQ(entries->entries[1].action, "service.create");
  EXPECT_EQ(db_.notified().back(), (std::pair<std::string, std::string>{"service", "AACT0005"}));
}

TEST_F(ServiceRegistryFakeTest, Validation) {
  auto p = Account("AACT0001");
  p.service_type = "soap";
  EXPECT_EQ(registry_.Create(p, "t", "a").error().description,
            "serviceType: 'soap' is not one of swagger, openapi, graphql, hybrid");
  p = Account("AACT 1");
  EXPECT_EQ(registry_.Create(p, "t", "a").error().description,
            "serviceId: may contain only letters, digits and . _ ~ @ + -");
  p = Account(std::string(33, 'A'));
  EXPECT_EQ(registry_.Create(p, "t", "a").error().description, "serviceId: at most 32 characters");
  p = Account("A1");
  p.host.reset();
  EXPECT_EQ(registry_.Create(p, "t", "a").error().code, "ERR12051");
  p = Account("A1");
  p.service_name.reset();
  EXPECT_EQ(registry_.Create(p, "t", "a").error().description, "serviceName: is required");
  EXPECT_EQ(store_.List("", 0, 10)->total, 0);

  ASSERT_TRUE(registry_.Create(Account("A1"), "t", "a"));
  auto eps = DataEndpoints();
  eps.push_back(eps[0]);
  EXPECT_EQ(registry_.SetEndpoints("A1", eps, "t").error().description,
            "[4].endpoint: '/v1/data@get' is a duplicate");
  eps = DataEndpoints();
  eps[1].scope = "";
  EXPECT_EQ(registry_.SetEndpoints("A1", eps, "t").error().description, "[1].scope: is required");
  eps = DataEndpoints();
  eps[2].endpoint = std::string(257, 'e');
  EXPECT_EQ(registry_.SetEndpoints("A1", eps, "t").error().description,
            "[2].endpoint: at most 256 characters");
  EXPECT_TRUE(store_.ListEndpoints("A1")->empty());

  ServicePatch bad;
  bad.path_case = "upper";
  EXPECT_EQ(registry_.Update("A1", bad, "t").error().description,
            "pathCase: 'upper' is not one of exact, insensitive");
  EXPECT_EQ(registry_.Get("A1")->path_case, "exact");
  EXPECT_EQ(audit_.List({})->total, 1);  // the create only
}

TEST_F(ServiceRegistryFakeTest, OwnersGuardTheirServices) {
  ASSERT_TRUE(registry_.Create(Account("A1"), "t", "alice"));
  ServicePatch rename;
  rename.service_name = "mine now";
  Authority bob;
  bob.user_id = "bob";
  bob.roles = "user";
  auto r = registry_.Update("A1", rename, "t", bob);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "ERR11620");
  EXPECT_EQ(registry_.Get("A1")->service_name, "Account Service");
}

TEST_F(ServiceRegistryFakeTest, StoreFailuresSurface) {
  store_.fail_next_calls(1);
  auto r = registry_.Get("A1");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().http_status, 503);
}

class ServiceRegistryTest : public RegistryDbTest {
 protected:
  void SetUp() override {
    RegistryDbTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    client_store_ = std::make_unique<store::SqlClientStore>(*db_);
    service_store_ = std::make_unique<store::SqlServiceStore>(*db_);
    audit_ = std::make_unique<store::SqlAuditLog>(*db_);
    clients_catalog_ = std::make_unique<ClientCatalog>(*client_store_);
    services_catalog_ = std::make_unique<ServiceCatalog>(*service_store_);
    registry_ =
        std::make_unique<ServiceRegistry>(*db_, *service_store_, *client_store_, *audit_, clock_,
                                          services_catalog_.get(), clients_catalog_.get());
    clients_ = std::make_unique<ClientService>(*db_, *client_store_, *audit_, clock_,
                                               Random::System(), hasher_, clients_catalog_.get(),
                                               GrantRegistry::Default().types());
  }

  std::string NewClient() {
    ClientPatch p;
    p.client_type = "confidential";
    p.client_profile = "service";
    p.client_name = "caller";
    p.host = "lightapi.net";
    auto c = clients_->Create(p, "t", "admin");
    EXPECT_TRUE(c) << c.error().description;
    return c ? c->client.client_id : "";
  }

  ManualClock clock_;
  SecretHasher hasher_{Secret(std::string(32, 'p'))};
  std::unique_ptr<store::SqlClientStore> client_store_;
  std::unique_ptr<store::SqlServiceStore> service_store_;
  std::unique_ptr<store::SqlAuditLog> audit_;
  std::unique_ptr<ClientCatalog> clients_catalog_;
  std::unique_ptr<ServiceCatalog> services_catalog_;
  std::unique_ptr<ServiceRegistry> registry_;
  std::unique_ptr<ClientService> clients_;
};

// Reference §16.4, at the domain level.
TEST_P(ServiceRegistryTest, LightOauth2Scenarios) {
  for (const char* id : {"AACT0001", "AACT0002", "AACT0003"}) {
    ASSERT_TRUE(registry_->Create(Account(id), "t", "admin"));
  }
  auto page = registry_->List("", 0, 10);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->total, 3);
  EXPECT_EQ(page->services[0].service_id, "AACT0001");
  page = registry_->List("", 10, 10);  // page=1 of 10: empty
  ASSERT_TRUE(page);
  EXPECT_TRUE(page->services.empty());

  auto created = registry_->Create(Account("AACT0005"), "t", "admin");
  ASSERT_TRUE(created);
  EXPECT_EQ(created->owner_id, "admin");
  EXPECT_EQ(registry_->Create(Account("AACT0005"), "t", "admin").error().code, "ERR12018");

  ServicePatch rename;
  rename.service_name = "Account Service 2";
  auto updated = registry_->Update("AACT0005", rename, "t");
  ASSERT_TRUE(updated);
  EXPECT_EQ(updated->service_name, "Account Service 2");
  EXPECT_EQ(updated->scope, "a.r b.r");
  EXPECT_EQ(registry_->Update("fake", rename, "t").error().code, "ERR12015");
  EXPECT_EQ(registry_->Get("AACT0005")->service_name, "Account Service 2");
  EXPECT_EQ(registry_->Get("fake").error().code, "ERR12015");

  ASSERT_TRUE(registry_->Delete("AACT0002", "t"));
  EXPECT_EQ(registry_->Delete("AACT0002", "t").error().code, "ERR12015");

  ASSERT_TRUE(registry_->SetEndpoints("AACT0001", DataEndpoints(), "t"));
  EXPECT_EQ(registry_->SetEndpoints("fake", DataEndpoints(), "t").error().code, "ERR12015");
  auto endpoints = registry_->Endpoints("AACT0001");
  ASSERT_TRUE(endpoints);
  ASSERT_EQ(endpoints->size(), 4u);
  EXPECT_EQ((*endpoints)[0].endpoint, "/v1/data@delete");  // sorted
  EXPECT_EQ(registry_->Endpoints("AACT0004").error().code, "ERR12042");
  EXPECT_EQ(registry_->Endpoints("AACT0003").error().code, "ERR12042");
  ASSERT_TRUE(registry_->SetEndpoints("AACT0003", DataEndpoints(), "t"));
  ASSERT_TRUE(registry_->DeleteEndpoints("AACT0003", "t"));
  EXPECT_EQ(registry_->DeleteEndpoints("AACT0003", "t").error().code, "ERR12042");
  EXPECT_EQ(registry_->DeleteEndpoints("AACT0004", "t").error().code, "ERR12042");
}

TEST_P(ServiceRegistryTest, ReplacingEndpointsKeepsLinksAndRecomputesClientScopes) {
  ASSERT_TRUE(registry_->Create(Account("AACT0001"), "t", "admin"));
  ASSERT_TRUE(registry_->SetEndpoints("AACT0001", DataEndpoints(), "t"));
  std::string a = NewClient(), b = NewClient();
  ASSERT_TRUE(clients_->Link(a, "AACT0001", {"/v1/data@get"}, "t"));
  ASSERT_TRUE(clients_->Link(b, "AACT0001", {"/v1/data@post", "/v1/data@delete"}, "t"));
  EXPECT_EQ(JoinScope(clients_catalog_->Find(a)->scope), "data.w data.r");

  // The get endpoint stays with a new scope; post goes away; a new one arrives.
  std::vector<Endpoint> next = {{"/v1/data@get", "getData", "data.read"},
                                {"/v1/data@delete", "deleteData", "data.w"},
                                {"/v2/data@get", "getData2", "data2.r"}};
  ASSERT_TRUE(registry_->SetEndpoints("AACT0001", next, "ops"));
  EXPECT_EQ(*clients_->ServiceLinks(a, "AACT0001"), (std::vector<std::string>{"/v1/data@get"}));
  EXPECT_EQ(*clients_->ServiceLinks(b, "AACT0001"), (std::vector<std::string>{"/v1/data@delete"}));
  EXPECT_EQ(JoinScope(clients_->Get(a)->scope), "data.read");
  EXPECT_EQ(JoinScope(clients_catalog_->Find(a)->scope), "data.read");
  EXPECT_EQ(JoinScope(clients_->Get(b)->scope), "data.w");

  auto entry = services_catalog_->Find("AACT0001");
  ASSERT_TRUE(entry);
  ASSERT_EQ(entry->endpoints.size(), 3u);
  ASSERT_TRUE(entry->FindEndpoint("/v2/data@get"));
  EXPECT_EQ(entry->FindEndpoint("/v2/data@get")->scope, "data2.r");
  EXPECT_FALSE(entry->FindEndpoint("/v1/data@post"));

  auto scoped = audit_->List({.action = "client.scope"});
  ASSERT_TRUE(scoped);
  EXPECT_EQ(scoped->total, 1);  // b's scope did not change: data.w either way
  EXPECT_EQ(scoped->entries[0].actor, "ops");
  EXPECT_EQ(scoped->entries[0].entity_id, a);

  // Deleting every endpoint, then the service, empties the linked clients' scopes.
  ASSERT_TRUE(registry_->DeleteEndpoints("AACT0001", "ops"));
  EXPECT_TRUE(clients_->Get(a)->scope.empty());
  EXPECT_TRUE(clients_catalog_->Find(b)->scope.empty());
  EXPECT_TRUE(clients_->ServiceLinks(a, "AACT0001")->empty());
  EXPECT_TRUE(clients_->ServiceLinks(b, "AACT0001")->empty());
  EXPECT_TRUE(services_catalog_->Find("AACT0001")->endpoints.empty());
}

TEST_P(ServiceRegistryTest, DeletingAServiceUnlinksItsClients) {
  ASSERT_TRUE(registry_->Create(Account("AACT0001"), "t", "admin"));
  ASSERT_TRUE(registry_->Create(Account("AACT0002"), "t", "admin"));
  ASSERT_TRUE(registry_->SetEndpoints("AACT0001", DataEndpoints(), "t"));
  ASSERT_TRUE(registry_->SetEndpoints("AACT0002", {{"/x@get", "x", "x.r"}}, "t"));
  std::string a = NewClient();
  ASSERT_TRUE(clients_->Link(a, "AACT0001", {"/v1/data@get"}, "t"));
  ASSERT_TRUE(clients_->Link(a, "AACT0002", {"/x@get"}, "t"));
  EXPECT_EQ(JoinScope(clients_->Get(a)->scope), "data.w data.r x.r");
  auto deleted = registry_->Delete("AACT0001", "ops");
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->service_id, "AACT0001");
  EXPECT_EQ(JoinScope(clients_->Get(a)->scope), "x.r");
  EXPECT_EQ(JoinScope(clients_catalog_->Find(a)->scope), "x.r");
  EXPECT_TRUE(service_store_->ListEndpoints("AACT0001")->empty());
  auto links = clients_->Links(a);
  ASSERT_TRUE(links);
  EXPECT_FALSE(links->contains("AACT0001"));
  EXPECT_TRUE(links->contains("AACT0002"));
  EXPECT_FALSE(services_catalog_->Find("AACT0001"));
  auto page = audit_->List({.entity_kind = "service", .entity_id = "AACT0001"});
  ASSERT_TRUE(page);
  EXPECT_EQ(page->entries[0].action, "service.delete");
  EXPECT_NE(page->entries[0].before_json.find("/v1/data@get"), std::string::npos);
}

TEST_P(ServiceRegistryTest, CatalogReload) {
  ASSERT_TRUE(registry_->Create(Account("AACT0001"), "t", "admin"));
  ASSERT_TRUE(registry_->SetEndpoints("AACT0001", DataEndpoints(), "t"));
  ServiceCatalog fresh(*service_store_);
  ASSERT_TRUE(fresh.Reload());
  EXPECT_EQ(fresh.size(), 1u);
  auto e = fresh.Find("AACT0001");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->endpoints.size(), 4u);
  EXPECT_EQ(e->FindEndpoint("/v1/data@get")->scope, "data.w data.r");
  EXPECT_FALSE(fresh.Find("nope"));
}

INSTANTIATE_TEST_SUITE_P(Backends, ServiceRegistryTest, testing::kRegistryBackends,
                         testing::BackendName);

}  // namespace
}  // namespace portcullis::oauth
