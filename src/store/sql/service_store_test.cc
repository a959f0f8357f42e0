// Contract: SqlServiceStore on SQLite and PostgreSQL, and MemoryServiceStore, answer the same
// cases the same way. Cases a fake cannot keep (rollback, client links) run on SQL only.
#include "store/sql/service_store.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>

#include "oauth/service/memory_service_store.h"
#include "store/fake_database.h"
#include "store/sql/backend_test_fixture.h"

namespace portcullis::store {
namespace {

using oauth::Endpoint;
using oauth::Service;
using oauth::ServiceStore;

Service Make(std::string id, std::string host = "lightapi.net") {
  Service s;
  s.service_id = std::move(id);
  s.service_type = "openapi";
  s.service_name = "name " + s.service_id;
  s.owner_id = "admin";
  s.host = std::move(host);
  s.created_at = 100;
  s.updated_at = 100;
  return s;
}

std::vector<std::string> Ids(const std::vector<Endpoint>& endpoints) {
  std::vector<std::string> out;
  for (const auto& e : endpoints) out.push_back(e.endpoint);
  return out;
}

// Collects notifications; its state outlives the test body, since a store's listener thread
// may still deliver until the database closes.
class Notifications {
 public:
  Database::Subscriber Fn() {
    return [state = state_](std::string_view kind, std::string_view id) {
      std::lock_guard lock(state->mu);
      state->seen.emplace_back(std::string(kind), std::string(id));
      state->cv.notify_all();
    };
  }
  // Waits (PostgreSQL delivers from its listener thread) until `kind`/`id` arrived `n` times.
  bool WaitFor(std::string_view kind, std::string_view id, int n = 1) {
    std::unique_lock lock(state_->mu);
    return state_->cv.wait_for(lock, std::chrono::seconds(15), [&] {
      int count = 0;
      for (const auto& [k, i] : state_->seen) count += k == kind && i == id;
      return count >= n;
    });
  }

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::pair<std::string, std::string>> seen;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

class ServiceStoreContract : public BackendTest {
 protected:
  bool IsMemory() const { return GetParam() == "memory"; }

  void SetUp() override {
    if (IsMemory()) {
      store_ = std::make_unique<oauth::MemoryServiceStore>();
      return;
    }
    BackendTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    store_ = std::make_unique<SqlServiceStore>(db());
  }

  Database& database() { return IsMemory() ? static_cast<Database&>(fake_) : db(); }

  Status InTx(const std::function<Status(Tx&)>& fn) { return database().Transact("test", fn); }

  void Insert(const Service& s) {
    auto st = InTx([&](Tx& tx) { return store_->Insert(tx, s); });
    ASSERT_TRUE(st) << st.error().detail;
  }
  void Replace(const std::string& id, const std::vector<Endpoint>& endpoints) {
    auto st = InTx([&](Tx& tx) { return store_->ReplaceEndpoints(tx, id, endpoints); });
    ASSERT_TRUE(st) << st.error().detail;
  }

  FakeDatabase fake_;
  std::unique_ptr<ServiceStore> store_;
};

TEST_P(ServiceStoreContract, InsertGetAndConflict) {
  Service s = Make("AACT0001");
  s.service_desc = "desc";
  s.scope = "a.r b.r";
  s.path_case = "insensitive";
  Insert(s);
  auto got = store_->Get("AACT0001");
  ASSERT_TRUE(got);
  ASSERT_TRUE(*got);
  EXPECT_EQ((*got)->service_name, "name AACT0001");
  EXPECT_EQ((*got)->service_desc, "desc");
  EXPECT_EQ((*got)->scope, "a.r b.r");
  EXPECT_EQ((*got)->path_case, "insensitive");
  EXPECT_EQ((*got)->created_at, 100);
  // Empty optional fields read back empty.
  Insert(Make("AACT0002"));
  EXPECT_TRUE((*store_->Get("AACT0002"))->service_desc.empty());
  EXPECT_TRUE((*store_->Get("AACT0002"))->scope.empty());

  auto dup = InTx([&](Tx& tx) { return store_->Insert(tx, Make("AACT0001")); });
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, "ERR12018");
  auto none = store_->Get("nope");
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
}

TEST_P(ServiceStoreContract, UpdateAndLoadForUpdate) {
  Insert(Make("A1"));
  Service changed = Make("A1", "other.net");
  changed.service_name = "renamed";
  changed.created_at = 999;  // not written
  changed.updated_at = 200;
  std::optional<Service> locked;
  auto st = InTx([&](Tx& tx) -> Status {
    auto l = store_->LoadForUpdate(tx, "A1");
    if (!l) return Fail(l.error());
    locked = *l;
    auto missing = store_->LoadForUpdate(tx, "A2");
    if (!missing) return Fail(missing.error());
    EXPECT_FALSE(*missing);
    return store_->Update(tx, changed);
  });
  ASSERT_TRUE(st) << st.error().detail;
  ASSERT_TRUE(locked);
  EXPECT_EQ(locked->service_name, "name A1");
  auto got = *store_->Get("A1");
  EXPECT_EQ(got->service_name, "renamed");
  EXPECT_EQ(got->host, "other.net");
  EXPECT_EQ(got->created_at, 100);
  EXPECT_EQ(got->updated_at, 200);
}

TEST_P(ServiceStoreContract, ListFiltersByHostPrefixAndPagesInByteOrder) {
  for (const char* id : {"b", "B", "a_", "a", "Z9"}) Insert(Make(id));
  Insert(Make("x1", "other.net"));
  auto page = store_->List("light", 0, 10);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->total, 5);
  std::vector<std::string> ids;
  for (const auto& s : page->services) ids.push_back(s.service_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"B", "Z9", "a", "a_", "b"}));
  page = store_->List("", 2, 3);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->total, 6);
  ASSERT_EQ(page->services.size(), 3u);
  EXPECT_EQ(page->services[0].service_id, "a");
  EXPECT_EQ(store_->List("other.net", 0, 10)->services.at(0).service_id, "x1");
  EXPECT_EQ(store_->List("none", 0, 10)->total, 0);
}

TEST_P(ServiceStoreContract, ReplaceEndpointsKeepsSortsAndRemoves) {
  Insert(Make("A1"));
  Replace("A1",
          {{"/v1/b@get", "getB", "b.r"}, {"/V1/a@get", "", "A.r"}, {"/v1/a@get", "x", "a.r"}});
  auto eps = store_->ListEndpoints("A1");
  ASSERT_TRUE(eps);
  EXPECT_EQ(Ids(*eps), (std::vector<std::string>{"/V1/a@get", "/v1/a@get", "/v1/b@get"}));
  EXPECT_EQ((*eps)[0].operation, "");
  EXPECT_EQ((*eps)[2].operation, "getB");

  Replace("A1", {{"/v1/b@get", "getB2", "b.w"}, {"/v2/c@get", "", "c.r"}});
  eps = store_->ListEndpoints("A1");
  ASSERT_TRUE(eps);
  EXPECT_EQ(Ids(*eps), (std::vector<std::string>{"/v1/b@get", "/v2/c@get"}));
  EXPECT_EQ((*eps)[0].scope, "b.w");
  EXPECT_EQ((*eps)[0].operation, "getB2");

  std::vector<Endpoint> in_tx;
  auto st = InTx([&](Tx& tx) -> Status {
    auto e = store_->Endpoints(tx, "A1");
    if (!e) return Fail(e.error());
    in_tx = *e;
    return {};
  });
  ASSERT_TRUE(st);
  EXPECT_EQ(Ids(in_tx), Ids(*eps));

  Replace("A1", {});
  EXPECT_TRUE(store_->ListEndpoints("A1")->empty());
  EXPECT_TRUE(store_->ListEndpoints("unknown")->empty());
}

TEST_P(ServiceStoreContract, EntriesForTheCatalog) {
  Insert(Make("A1"));
  Insert(Make("A2"));
  Replace("A1", {{"/b@get", "", "b.r"}, {"/A@get", "", "a.r"}});
  auto all = store_->LoadAll();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  for (const auto& e : *all) {
    if (e.service.service_id == "A1") {
      EXPECT_EQ(Ids(e.endpoints), (std::vector<std::string>{"/A@get", "/b@get"}));
    } else {
      EXPECT_EQ(e.service.service_id, "A2");
      EXPECT_TRUE(e.endpoints.empty());
    }
  }
  auto one = store_->LoadEntry("A1");
  ASSERT_TRUE(one);
  ASSERT_TRUE(*one);
  EXPECT_EQ((*one)->service.host, "lightapi.net");
  EXPECT_EQ(Ids((*one)->endpoints), (std::vector<std::string>{"/A@get", "/b@get"}));
  EXPECT_FALSE(*store_->LoadEntry("nope"));
}

TEST_P(ServiceStoreContract, DeclaredScopes) {
  Insert(Make("A1"));
  Insert(Make("A2"));
  Replace("A1", {{"/b@get", "", "b.r shared"}, {"/a@get", "", "a.r shared"}});
  auto scopes = store_->DeclaredScopes("A1");
  ASSERT_TRUE(scopes);
  ASSERT_TRUE(*scopes);
  EXPECT_EQ(**scopes, (std::vector<std::string>{"a.r", "shared", "b.r"}));
  auto empty = store_->DeclaredScopes("A2");
  ASSERT_TRUE(empty);
  ASSERT_TRUE(*empty);  // a service without endpoints declares nothing, but exists
  EXPECT_TRUE((*empty)->empty());
  auto unknown = store_->DeclaredScopes("nope");
  ASSERT_TRUE(unknown);
  EXPECT_FALSE(*unknown);
}

TEST_P(ServiceStoreContract, DeleteTakesTheEndpoints) {
  Insert(Make("A1"));
  Replace("A1", {{"/a@get", "", "a.r"}});
  ASSERT_TRUE(InTx([&](Tx& tx) { return store_->Delete(tx, "A1"); }));
  EXPECT_FALSE(*store_->Get("A1"));
  EXPECT_TRUE(store_->ListEndpoints("A1")->empty());
  EXPECT_FALSE(*store_->DeclaredScopes("A1"));
  // The id is free again, without endpoints.
  Insert(Make("A1"));
  EXPECT_TRUE(store_->ListEndpoints("A1")->empty());
}

TEST_P(ServiceStoreContract, EveryWriteAnnouncesItself) {
  Notifications seen;
  database().Subscribe(seen.Fn());
  Insert(Make("A1"));
  ASSERT_TRUE(seen.WaitFor("service", "A1", 1));
  ASSERT_TRUE(InTx([&](Tx& tx) { return store_->Update(tx, Make("A1", "other.net")); }));
  ASSERT_TRUE(seen.WaitFor("service", "A1", 2));
  Replace("A1", {{"/a@get", "", "a.r"}});
  ASSERT_TRUE(seen.WaitFor("service", "A1", 3));
  Replace("A1", {});
  ASSERT_TRUE(seen.WaitFor("service", "A1", 4));
  ASSERT_TRUE(InTx([&](Tx& tx) { return store_->Delete(tx, "A1"); }));
  ASSERT_TRUE(seen.WaitFor("service", "A1", 5));
}

// Cases that need SQL (transactions that roll back, other tables, other instances): run on
// SQLite and PostgreSQL only.
class ServiceStoreSqlContract : public ServiceStoreContract {};

TEST_P(ServiceStoreSqlContract, ARolledBackWriteLeavesNothing) {
  auto st = InTx([&](Tx& tx) -> Status {
    if (auto r = store_->Insert(tx, Make("A1")); !r) return r;
    if (auto r = store_->ReplaceEndpoints(tx, "A1", {{"/a@get", "", "a.r"}}); !r) return r;
    return Fail(Error::Internal("roll back"));
  });
  ASSERT_FALSE(st);
  EXPECT_FALSE(*store_->Get("A1"));
  EXPECT_TRUE(store_->ListEndpoints("A1")->empty());
}

// Client links (client_endpoints) hang off endpoints: an endpoint that goes away takes its
// links with it, one that stays keeps them. The links are forged here in SQL: the client store
// owns them.
TEST_P(ServiceStoreSqlContract, RemovedEndpointsTakeTheirClientLinks) {
  auto forged = db().Exec(
      "INSERT INTO clients (client_id, client_type, client_profile, client_name, owner_id, host, "
      "created_at, updated_at) VALUES ('c1', 'confidential', 'service', 'c', 'admin', 'h', 1, 1)");
  ASSERT_TRUE(forged) << forged.error().detail;
  Insert(Make("A1"));
  Replace("A1", {{"/a@get", "", "a.r"}, {"/b@get", "", "b.r"}, {"/c@get", "", "c.r"}});
  for (const char* e : {"/a@get", "/b@get", "/c@get"}) {
    auto r = db().Exec(
        "INSERT INTO client_endpoints (client_id, service_id, endpoint) VALUES ('c1', 'A1', $1)",
        {Text(e)});
    ASSERT_TRUE(r) << r.error().detail;
  }
  auto links = [&] {
    auto rows = db().Query(
        "SELECT endpoint FROM client_endpoints WHERE client_id = 'c1' ORDER BY endpoint");
    EXPECT_TRUE(rows);
    std::vector<std::string> out;
    for (const auto& r : *rows) out.push_back(r.Str(0));
    return out;
  };
  Replace("A1", {{"/a@get", "", "a.w"}, {"/c@get", "", "c.r"}});
  EXPECT_EQ(links(), (std::vector<std::string>{"/a@get", "/c@get"}));
  Replace("A1", {});
  EXPECT_TRUE(links().empty());
  Replace("A1", {{"/a@get", "", "a.r"}});
  ASSERT_TRUE(db().Exec(
      "INSERT INTO client_endpoints (client_id, service_id, endpoint) VALUES ('c1', 'A1', "
      "'/a@get')"));
  ASSERT_TRUE(InTx([&](Tx& tx) { return store_->Delete(tx, "A1"); }));
  EXPECT_TRUE(links().empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, ServiceStoreContract,
                         ::testing::Values("sqlite", "postgres", "memory"), BackendName);
PORTCULLIS_INSTANTIATE_BACKENDS(ServiceStoreSqlContract);

}  // namespace
}  // namespace portcullis::store
