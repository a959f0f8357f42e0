// ServiceCatalog over the in-memory ServiceStore.
#include "oauth/service/service_catalog.h"

#include <gtest/gtest.h>

#include "oauth/service/memory_service_store.h"
#include "store/fake_database.h"

namespace portcullis::oauth {
namespace {

class ServiceCatalogTest : public ::testing::Test {
 protected:
  void Put(const std::string& id, std::vector<Endpoint> endpoints) {
    auto st = db_.Transact("test", [&](store::Tx& tx) -> Status {
      Service s;
      s.service_id = id;
      s.host = "h";
      if (auto r = store_.Insert(tx, s); !r && r.error().code != "ERR12018") return r;
      return store_.ReplaceEndpoints(tx, id, endpoints);
    });
    ASSERT_TRUE(st);
  }
  void Remove(const std::string& id) {
    ASSERT_TRUE(db_.Transact("test", [&](store::Tx& tx) { return store_.Delete(tx, id); }));
  }

  store::FakeDatabase db_;
  MemoryServiceStore store_;
  ServiceCatalog catalog_{store_};
};

TEST_F(ServiceCatalogTest, ReloadAndFindEndpoints) {
  Put("a", {{"/v1/b@get", "", "b.r"}, {"/V1/a@get", "", "A.r"}, {"/v1/a@get", "", "a.r"}});
  Put("b", {});
  EXPECT_EQ(catalog_.size(), 0u);
  ASSERT_TRUE(catalog_.Reload());
  EXPECT_EQ(catalog_.size(), 2u);
  auto a = catalog_.Find("a");
  ASSERT_TRUE(a);
  ASSERT_EQ(a->endpoints.size(), 3u);
  // Byte order: upper case sorts first, and the binary search finds each exactly.
  EXPECT_EQ(a->endpoints[0].endpoint, "/V1/a@get");
  EXPECT_EQ(a->FindEndpoint("/v1/a@get")->scope, "a.r");
  EXPECT_EQ(a->FindEndpoint("/V1/a@get")->scope, "A.r");
  EXPECT_EQ(a->FindEndpoint("/v1/b@get")->scope, "b.r");
  EXPECT_FALSE(a->FindEndpoint("/v1/c@get"));
  EXPECT_TRUE(catalog_.Find("b")->endpoints.empty());
  EXPECT_FALSE(catalog_.Find("c"));
}

TEST_F(ServiceCatalogTest, RefreshAddsReplacesAndDrops) {
  ASSERT_TRUE(catalog_.Reload());
  Put("a", {{"/x@get", "", "x.r"}});
  ASSERT_TRUE(catalog_.Refresh("a"));
  auto before = catalog_.Find("a");
  ASSERT_TRUE(before);
  Put("a", {{"/x@get", "", "x.w"}});
  ASSERT_TRUE(catalog_.Refresh("a"));
  EXPECT_EQ(catalog_.Find("a")->FindEndpoint("/x@get")->scope, "x.w");
  // An entry already handed out stays as it was.
  EXPECT_EQ(before->FindEndpoint("/x@get")->scope, "x.r");
  Remove("a");
  ASSERT_TRUE(catalog_.Refresh("a"));
  EXPECT_FALSE(catalog_.Find("a"));
  ASSERT_TRUE(catalog_.Refresh("never"));
  EXPECT_EQ(catalog_.size(), 0u);
}

TEST_F(ServiceCatalogTest, AFailedReloadKeepsTheSnapshot) {
  Put("a", {});
  ASSERT_TRUE(catalog_.Reload());
  store_.fail_next_calls(1);
  EXPECT_FALSE(catalog_.Reload());
  EXPECT_TRUE(catalog_.Find("a"));
  store_.fail_next_calls(1);
  EXPECT_FALSE(catalog_.Refresh("a"));
  EXPECT_TRUE(catalog_.Find("a"));
}

}  // namespace
}  // namespace portcullis::oauth
