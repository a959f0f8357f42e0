// Contract: SqlPushedRequestStore (SQLite, PostgreSQL) and MemoryPushedRequestStore answer the
// same cases the same way: a pushed request is consumed once, only by its client, only while
// it lives.
#include "store/sql/par_store.h"

#include <gtest/gtest.h>

#include <memory>

#include "oauth/code/memory_par_store.h"
#include "store/sql/token_store_test_util.h"

namespace portcullis::store {
namespace {

using oauth::PushedRequest;

class ParStoreContract : public TokenStateTest {
 protected:
  void SetUp() override {
    TokenStateTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (IsMemory()) {
      store_ = std::make_unique<oauth::MemoryPushedRequestStore>();
    } else {
      store_ = std::make_unique<SqlPushedRequestStore>(db());
    }
    AddClient("c1");
    AddClient("c2");
  }

  static PushedRequest Pushed(std::string hash, std::string client, int64_t expires) {
    PushedRequest r;
    r.reference_hash = std::move(hash);
    r.client_id = std::move(client);
    r.params = "response_type=code&client_id=" + r.client_id + "&scope=openid%20read";
    r.created_at = expires - 60;
    r.expires_at = expires;
    return r;
  }

  std::unique_ptr<oauth::PushedRequestStore> store_;
};

TEST_P(ParStoreContract, InsertsUnusedAndRefusesATakenHash) {
  ASSERT_TRUE(store_->Insert(Pushed("h1", "c1", 1000)).value());
  EXPECT_FALSE(store_->Insert(Pushed("h1", "c2", 2000)).value());
  auto r = store_->Find("h1");
  ASSERT_TRUE(r && *r);
  EXPECT_EQ((*r)->client_id, "c1");
  EXPECT_EQ((*r)->params, "response_type=code&client_id=c1&scope=openid%20read");
  EXPECT_EQ((*r)->created_at, 940);
  EXPECT_EQ((*r)->expires_at, 1000);
  EXPECT_FALSE((*r)->used_at);
  EXPECT_FALSE(*store_->Find("H1"));
  EXPECT_FALSE(*store_->Find("nope"));
}

TEST_P(ParStoreContract, ConsumeTakesOnlyLiveUnusedRequestsOfTheirClientOnce) {
  ASSERT_TRUE(store_->Insert(Pushed("h1", "c1", 1000)).value());
  EXPECT_FALSE(store_->Consume("h1", "c2", 500, 500).value());    // another client
  EXPECT_FALSE(store_->Consume("h1", "c1", 1000, 1000).value());  // expired at its expiry
  EXPECT_FALSE(store_->Consume("nope", "c1", 500, 500).value());
  EXPECT_TRUE(store_->Consume("h1", "c1", 999, 1200).value());  // valid_after is the caller's
  EXPECT_FALSE(store_->Consume("h1", "c1", 500, 500).value());  // once
  auto r = store_->Find("h1");
  ASSERT_TRUE(r && *r);
  EXPECT_EQ((*r)->used_at.value_or(0), 1200);
}

TEST_P(ParStoreContract, ConcurrentUsesHaveExactlyOneWinner) {
  for (int round = 0; round < 3; ++round) {
    std::string h = "race-" + std::to_string(round);
    ASSERT_TRUE(store_->Insert(Pushed(h, "c1", 1000)).value());
    std::atomic<int> won{0}, errors{0};
    Race(6, [&](int) {
      auto r = store_->Consume(h, "c1", 500, 500);
      if (!r) errors.fetch_add(1);
      if (r && *r) won.fetch_add(1);
    });
    EXPECT_EQ(errors.load(), 0);
    EXPECT_EQ(won.load(), 1) << "round " << round;
  }
}

TEST_P(ParStoreContract, PurgeDeletesRowsExpiredBeforeTheCutoff) {
  ASSERT_TRUE(store_->Insert(Pushed("h1", "c1", 1000)).value());
  ASSERT_TRUE(store_->Insert(Pushed("h2", "c1", 2000)).value());
  InTx([&](Tx& tx) { return store_->PurgeExpired(tx, 1000); });  // expires_at < cutoff
  EXPECT_TRUE(*store_->Find("h1"));
  InTx([&](Tx& tx) { return store_->PurgeExpired(tx, 1001); });
  EXPECT_FALSE(*store_->Find("h1"));
  EXPECT_TRUE(*store_->Find("h2"));
}

PORTCULLIS_INSTANTIATE_TOKEN_STATE(ParStoreContract);

class ParStoreSqlContract : public ParStoreContract {};

TEST_P(ParStoreSqlContract, DeletingTheClientDeletesItsRequests) {
  ASSERT_TRUE(store_->Insert(Pushed("h1", "c2", 1000)).value());
  ASSERT_TRUE(db().Exec("DELETE FROM clients WHERE client_id = $1", {Text("c2")}));
  EXPECT_FALSE(*store_->Find("h1"));
}

TEST_P(ParStoreSqlContract, RequirePushedAuthorizationRequestsColumnDefaultsToOff) {
  auto row = db().QueryRow("SELECT require_par FROM clients WHERE client_id = $1", {Text("c1")});
  ASSERT_TRUE(row && *row);
  EXPECT_EQ((**row).Int(0), 0);
}

PORTCULLIS_INSTANTIATE_BACKENDS(ParStoreSqlContract);

}  // namespace
}  // namespace portcullis::store
