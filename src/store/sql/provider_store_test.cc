// Contract: SqlProviderStore on SQLite and PostgreSQL, and MemoryProviderStore, answer the same
// cases the same way.
#include "store/sql/provider_store.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>

#include "oauth/provider/memory_provider_store.h"
#include "store/fake_database.h"
#include "store/sql/backend_test_fixture.h"

namespace portcullis::store {
namespace {

using oauth::Provider;
using oauth::ProviderStore;

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

class ProviderStoreContract : public BackendTest {
 protected:
  bool IsMemory() const { return GetParam() == "memory"; }

  void SetUp() override {
    if (IsMemory()) {
      store_ = std::make_unique<oauth::MemoryProviderStore>();
      return;
    }
    BackendTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    store_ = std::make_unique<SqlProviderStore>(db());
  }

  Status InTx(const std::function<Status(Tx&)>& fn) {
    return (IsMemory() ? static_cast<Database&>(fake_) : db()).Transact("test", fn);
  }

  FakeDatabase fake_;
  std::unique_ptr<ProviderStore> store_;
};

TEST_P(ProviderStoreContract, InsertGetListAndConflict) {
  for (const Provider& p : {Provider{"07", "https://b.example", "/oauth2/key", "b"},
                            Provider{"05", "http://a.example:8080", "/oauth/key", ""}}) {
    auto st = InTx([&](Tx& tx) { return store_->Insert(tx, p); });
    ASSERT_TRUE(st) << st.error().detail;
  }
  auto dup = InTx([&](Tx& tx) {
    return store_->Insert(tx, Provider{"05", "https://x", "/k", ""});
  });
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, "ERR12048");

  auto got = store_->Get("05");
  ASSERT_TRUE(got);
  ASSERT_TRUE(*got);
  EXPECT_EQ((*got)->server_url, "http://a.example:8080");
  EXPECT_EQ((*got)->uri, "/oauth/key");
  EXPECT_EQ((*got)->provider_name, "");
  EXPECT_FALSE(*store_->Get("09"));

  auto list = store_->List();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].provider_id, "05");
  EXPECT_EQ((*list)[1].provider_name, "b");
}

TEST_P(ProviderStoreContract, UpdateAndDeleteInTheCallersTransaction) {
  ASSERT_TRUE(InTx([&](Tx& tx) {
    return store_->Insert(tx, Provider{"05", "https://a.example", "/oauth2/key", "a"});
  }));
  std::optional<Provider> before;
  auto st = InTx([&](Tx& tx) -> Status {
    auto loaded = store_->LoadForUpdate(tx, "05");
    if (!loaded) return Fail(loaded.error());
    before = *loaded;
    auto missing = store_->LoadForUpdate(tx, "06");
    if (!missing) return Fail(missing.error());
    EXPECT_FALSE(*missing);
    return store_->Update(tx, Provider{"05", "https://b.example", "/keys", ""});
  });
  ASSERT_TRUE(st) << st.error().detail;
  ASSERT_TRUE(before);
  EXPECT_EQ(before->server_url, "https://a.example");
  auto got = *store_->Get("05");
  EXPECT_EQ(got->server_url, "https://b.example");
  EXPECT_EQ(got->uri, "/keys");
  EXPECT_EQ(got->provider_name, "");

  ASSERT_TRUE(InTx([&](Tx& tx) { return store_->Delete(tx, "05"); }));
  EXPECT_FALSE(*store_->Get("05"));
  EXPECT_TRUE(store_->List()->empty());
}

TEST_P(ProviderStoreContract, EveryWriteAnnouncesItself) {
  Notifications seen;
  (IsMemory() ? static_cast<Database&>(fake_) : db()).Subscribe(seen.Fn());
  const Provider p{"05", "https://a.example", "/oauth2/key", "a"};
  ASSERT_TRUE(InTx([&](Tx& tx) { return store_->Insert(tx, p); }));
  ASSERT_TRUE(seen.WaitFor("provider", "05", 1));
  ASSERT_TRUE(InTx([&](Tx& tx) { return store_->Update(tx, p); }));
  ASSERT_TRUE(seen.WaitFor("provider", "05", 2));
  ASSERT_TRUE(InTx([&](Tx& tx) { return store_->Delete(tx, "05"); }));
  ASSERT_TRUE(seen.WaitFor("provider", "05", 3));
}

// Cases that need SQL (transactions that roll back, other tables, other instances): run on
// SQLite and PostgreSQL only.
class ProviderStoreSqlContract : public ProviderStoreContract {};

TEST_P(ProviderStoreSqlContract, ARolledBackInsertLeavesNothing) {
  auto st = InTx([&](Tx& tx) -> Status {
    if (auto r = store_->Insert(tx, Provider{"05", "https://a", "/k", ""}); !r) return r;
    return Fail(Error::Internal("roll back"));
  });
  ASSERT_FALSE(st);
  EXPECT_FALSE(*store_->Get("05"));
}

INSTANTIATE_TEST_SUITE_P(Backends, ProviderStoreContract,
                         ::testing::Values("sqlite", "postgres", "memory"), BackendName);
PORTCULLIS_INSTANTIATE_BACKENDS(ProviderStoreSqlContract);

}  // namespace
}  // namespace portcullis::store
