// Contract: SqlInstanceStore on SQLite and PostgreSQL, and MemoryInstanceStore, answer the same
// cases the same way.
#include "store/sql/instance_store.h"

#include <gtest/gtest.h>

#include <memory>

#include "oauth/instance/memory_instance_store.h"
#include "store/sql/backend_test_fixture.h"

namespace portcullis::store {
namespace {

using oauth::Instance;

class InstanceStoreContract : public BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (GetParam() == "memory") {
      store_ = std::make_unique<oauth::MemoryInstanceStore>();
    } else {
      store_ = std::make_unique<SqlInstanceStore>(db());
    }
  }
  oauth::InstanceStore& instances() { return *store_; }
  std::vector<std::string> Ids() {
    std::vector<std::string> ids;
    auto list = instances().List();  // kept: the loop must not outlive a temporary
    EXPECT_TRUE(list);
    if (list) {
      for (const auto& i : *list) ids.push_back(i.instance_id);
    }
    return ids;
  }
  std::unique_ptr<oauth::InstanceStore> store_;
};

TEST_P(InstanceStoreContract, BeatListRemoveAndPurge) {
  EXPECT_TRUE(instances().List()->empty());
  ASSERT_TRUE(instances().Beat({"b", "host-1", 42, "code token", "1.0", 100, 110}));
  ASSERT_TRUE(instances().Beat({"a", "host-2", 7, "all", "1.1", 100, 110}));
  ASSERT_TRUE(instances().Beat({"C", "host-3", 9, "user", "1.1", 90, 90}));
  EXPECT_EQ(Ids(), (std::vector<std::string>{"a", "b", "C"}));  // newest, then by id bytewise

  // A later beat replaces the row.
  ASSERT_TRUE(instances().Beat({"b", "host-1", 42, "code token", "1.0", 100, 120}));
  auto list = instances().List();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 3u);
  const Instance& b = (*list)[0];
  EXPECT_EQ(b.instance_id, "b");
  EXPECT_EQ(b.host, "host-1");
  EXPECT_EQ(b.pid, 42);
  EXPECT_EQ(b.services, "code token");
  EXPECT_EQ(b.version, "1.0");
  EXPECT_EQ(b.started_at, 100);
  EXPECT_EQ(b.last_seen, 120);

  ASSERT_TRUE(instances().Remove("a"));
  ASSERT_TRUE(instances().Remove("a"));  // gone already: fine
  EXPECT_EQ(Ids(), (std::vector<std::string>{"b", "C"}));
  auto purged = instances().Purge(100);  // last_seen < 100
  ASSERT_TRUE(purged);
  EXPECT_EQ(*purged, 1);
  EXPECT_EQ(Ids(), (std::vector<std::string>{"b"}));
}

INSTANTIATE_TEST_SUITE_P(Backends, InstanceStoreContract,
                         ::testing::Values("memory", "sqlite", "postgres"), BackendName);

}  // namespace
}  // namespace portcullis::store
