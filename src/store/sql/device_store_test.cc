// Contract: SqlDeviceGrantStore (SQLite, PostgreSQL) and MemoryDeviceGrantStore answer the same
// cases the same way: the user's decision and the redemption each have exactly one winner.
#include "store/sql/device_store.h"

#include <gtest/gtest.h>

#include <memory>

#include "oauth/device/memory_device_store.h"
#include "store/sql/token_store_test_util.h"

namespace portcullis::store {
namespace {

using oauth::DeviceApproval;
using oauth::DeviceGrant;
using oauth::DeviceGrantState;

class DeviceStoreContract : public TokenStateTest {
 protected:
  void SetUp() override {
    TokenStateTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (IsMemory()) {
      store_ = std::make_unique<oauth::MemoryDeviceGrantStore>();
    } else {
      store_ = std::make_unique<SqlDeviceGrantStore>(db());
    }
    AddClient("c1");
    AddClient("c2");
  }

  static DeviceGrant Grant(std::string device, std::string user, std::string client,
                           int64_t expires) {
    DeviceGrant g;
    g.device_code_hash = std::move(device);
    g.user_code_hash = std::move(user);
    g.client_id = std::move(client);
    g.scope = "openid read";
    g.created_at = expires - 600;
    g.expires_at = expires;
    g.interval = 5;
    return g;
  }

  static DeviceApproval Alice() {
    return DeviceApproval{"alice", "employee", "user admin", 400,
                          "sid-1", "pwd",      "1",          "authenticator:ldap-corp"};
  }

  std::optional<DeviceGrant> Lock(std::string_view hash) {
    std::optional<DeviceGrant> out;
    InTx([&](Tx& tx) -> Status {
      auto r = store_->Lock(tx, hash);
      if (!r) return Fail(r.error());
      out = std::move(*r);
      return {};
    });
    return out;
  }

  std::optional<DeviceGrant> Consume(std::string_view hash, std::string_view client, int64_t now) {
    std::optional<DeviceGrant> out;
    InTx([&](Tx& tx) -> Status {
      auto r = store_->Consume(tx, hash, client, now);
      if (!r) return Fail(r.error());
      out = std::move(*r);
      return {};
    });
    return out;
  }

  std::unique_ptr<oauth::DeviceGrantStore> store_;
};

TEST_P(DeviceStoreContract, InsertsPendingAndRefusesTakenHashes) {
  ASSERT_TRUE(store_->Insert(Grant("d1", "u1", "c1", 1000)).value());
  EXPECT_FALSE(store_->Insert(Grant("d2", "u1", "c1", 1000)).value());  // user code taken
  EXPECT_FALSE(store_->Insert(Grant("d1", "u2", "c1", 1000)).value());  // device code taken
  auto g = store_->FindByUserCode("u1");
  ASSERT_TRUE(g && *g);
  EXPECT_EQ((*g)->device_code_hash, "d1");
  EXPECT_EQ((*g)->client_id, "c1");
  EXPECT_EQ((*g)->scope, "openid read");
  EXPECT_EQ((*g)->state, DeviceGrantState::kPending);
  EXPECT_EQ((*g)->expires_at, 1000);
  EXPECT_EQ((*g)->interval, 5);
  EXPECT_FALSE((*g)->last_poll_at);
  EXPECT_EQ((*g)->user.user_id, "");
  EXPECT_FALSE(*store_->FindByUserCode("U1"));
  EXPECT_FALSE(*store_->FindByUserCode("nope"));
}

TEST_P(DeviceStoreContract, ApprovalRecordsTheUserOnceAndOnlyWhilePendingAndLive) {
  ASSERT_TRUE(store_->Insert(Grant("d1", "u1", "c1", 1000)).value());
  ASSERT_TRUE(store_->Insert(Grant("d2", "u2", "c1", 1000)).value());
  ASSERT_TRUE(store_->Insert(Grant("d3", "u3", "c1", 100)).value());
  EXPECT_TRUE(store_->Decide("u1", true, Alice(), 500).value());
  EXPECT_FALSE(store_->Decide("u1", false, {}, 501).value());  // decided already
  EXPECT_FALSE(store_->Decide("u1", true, Alice(), 501).value());
  EXPECT_TRUE(store_->Decide("u2", false, {}, 500).value());
  EXPECT_FALSE(store_->Decide("u2", true, Alice(), 500).value());
  EXPECT_FALSE(store_->Decide("u3", true, Alice(), 100).value());  // expired at its expiry
  EXPECT_FALSE(store_->Decide("unknown", true, Alice(), 1).value());

  auto a = Lock("d1");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->state, DeviceGrantState::kApproved);
  EXPECT_EQ(a->user.user_id, "alice");
  EXPECT_EQ(a->user.user_type, "employee");
  EXPECT_EQ(a->user.roles, "user admin");
  EXPECT_EQ(a->user.auth_time, 400);
  EXPECT_EQ(a->user.sid, "sid-1");
  EXPECT_EQ(a->user.amr, "pwd");
  EXPECT_EQ(a->user.acr, "1");
  EXPECT_EQ(a->user.user_source, "authenticator:ldap-corp");
  EXPECT_EQ(Lock("d2")->state, DeviceGrantState::kDenied);
  EXPECT_EQ(Lock("d3")->state, DeviceGrantState::kPending);
  EXPECT_FALSE(Lock("d9"));
}

TEST_P(DeviceStoreContract, PollsAreRecordedWithTheirInterval) {
  ASSERT_TRUE(store_->Insert(Grant("d1", "u1", "c1", 1000)).value());
  InTx([&](Tx& tx) { return store_->RecordPoll(tx, "d1", 410, 10); });
  auto g = Lock("d1");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->last_poll_at.value_or(0), 410);
  EXPECT_EQ(g->interval, 10);
}

TEST_P(DeviceStoreContract, ConsumeTakesOnlyApprovedLiveGrantsOfTheirClientOnce) {
  ASSERT_TRUE(store_->Insert(Grant("d1", "u1", "c1", 1000)).value());
  ASSERT_TRUE(store_->Insert(Grant("d2", "u2", "c1", 1000)).value());
  EXPECT_FALSE(Consume("d1", "c1", 500));  // pending
  ASSERT_TRUE(store_->Decide("u1", true, Alice(), 500).value());
  EXPECT_FALSE(Consume("d1", "c2", 500));   // another client
  EXPECT_FALSE(Consume("d1", "c1", 1000));  // expired
  auto g = Consume("d1", "c1", 600);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->user.user_id, "alice");
  EXPECT_EQ(g->scope, "openid read");
  EXPECT_FALSE(Consume("d1", "c1", 601));  // once
  EXPECT_EQ(Lock("d1")->state, DeviceGrantState::kConsumed);
  ASSERT_TRUE(store_->Decide("u2", false, {}, 500).value());
  EXPECT_FALSE(Consume("d2", "c1", 600));  // denied
}

// A password change, a lock (ExpireForUser) or a revoked consent (ExpireForUserClient) ends
// what the user approved and the device has not redeemed; nothing else changes.
TEST_P(DeviceStoreContract, ExpireForUserEndsOnlyTheUsersApprovedUnredeemedGrants) {
  DeviceApproval bob = Alice();
  bob.user_id = "bob";
  ASSERT_TRUE(store_->Insert(Grant("d1", "u1", "c1", 1000)).value());  // alice at c1
  ASSERT_TRUE(store_->Insert(Grant("d2", "u2", "c2", 1000)).value());  // alice at c2
  ASSERT_TRUE(store_->Insert(Grant("d3", "u3", "c1", 1000)).value());  // bob at c1
  ASSERT_TRUE(store_->Insert(Grant("d4", "u4", "c1", 1000)).value());  // pending
  ASSERT_TRUE(store_->Insert(Grant("d5", "u5", "c1", 1000)).value());  // alice, redeemed
  ASSERT_TRUE(store_->Decide("u1", true, Alice(), 400).value());
  ASSERT_TRUE(store_->Decide("u2", true, Alice(), 400).value());
  ASSERT_TRUE(store_->Decide("u3", true, bob, 400).value());
  ASSERT_TRUE(store_->Decide("u5", true, Alice(), 400).value());
  ASSERT_TRUE(Consume("d5", "c1", 410));

  InTx([&](Tx& tx) { return store_->ExpireForUserClient(tx, "alice", "c1", 500); });
  EXPECT_EQ(Lock("d1")->expires_at, 500);
  EXPECT_FALSE(Consume("d1", "c1", 501));  // expired now
  EXPECT_EQ(Lock("d2")->expires_at, 1000);
  EXPECT_EQ(Lock("d3")->expires_at, 1000);
  EXPECT_EQ(Lock("d4")->expires_at, 1000);
  EXPECT_EQ(Lock("d5")->expires_at, 1000);

  InTx([&](Tx& tx) { return store_->ExpireForUser(tx, "alice", 600); });
  EXPECT_EQ(Lock("d1")->expires_at, 500);  // expired already: unchanged
  EXPECT_EQ(Lock("d2")->expires_at, 600);
  EXPECT_FALSE(Consume("d2", "c2", 601));
  EXPECT_EQ(Lock("d3")->expires_at, 1000);
  EXPECT_EQ(Lock("d4")->expires_at, 1000);
  EXPECT_EQ(Lock("d5")->expires_at, 1000);
  EXPECT_TRUE(Consume("d3", "c1", 601));  // bob's still works
}

TEST_P(DeviceStoreContract, ConcurrentDecisionsAndRedemptionsHaveExactlyOneWinner) {
  for (int round = 0; round < 3; ++round) {
    std::string d = "race-d" + std::to_string(round), u = "race-u" + std::to_string(round);
    ASSERT_TRUE(store_->Insert(Grant(d, u, "c1", 1000)).value());
    std::atomic<int> decided{0}, consumed{0}, errors{0};
    Race(6, [&](int i) {
      auto r = store_->Decide(u, i % 2 == 0, Alice(), 500);
      if (!r) errors.fetch_add(1);
      if (r && *r) decided.fetch_add(1);
    });
    EXPECT_EQ(decided.load(), 1) << "round " << round;
    if (Lock(d)->state != DeviceGrantState::kApproved) continue;
    Race(6, [&](int) {
      auto st = txdb().Transact("race", [&](Tx& tx) -> Status {
        auto r = store_->Consume(tx, d, "c1", 500);
        if (!r) return Fail(r.error());
        if (*r) consumed.fetch_add(1);
        return {};
      });
      if (!st) errors.fetch_add(1);
    });
    EXPECT_EQ(errors.load(), 0);
    EXPECT_EQ(consumed.load(), 1) << "round " << round;
  }
}

TEST_P(DeviceStoreContract, PurgeDeletesRowsExpiredBeforeTheCutoff) {
  ASSERT_TRUE(store_->Insert(Grant("d1", "u1", "c1", 1000)).value());
  ASSERT_TRUE(store_->Insert(Grant("d2", "u2", "c1", 2000)).value());
  InTx([&](Tx& tx) { return store_->PurgeExpired(tx, 1000); });  // expires_at < cutoff
  EXPECT_TRUE(Lock("d1"));
  InTx([&](Tx& tx) { return store_->PurgeExpired(tx, 1001); });
  EXPECT_FALSE(Lock("d1"));
  EXPECT_TRUE(Lock("d2"));
  // The user code of a purged grant is free again.
  EXPECT_TRUE(store_->Insert(Grant("d3", "u1", "c1", 3000)).value());
}

PORTCULLIS_INSTANTIATE_TOKEN_STATE(DeviceStoreContract);

class DeviceStoreSqlContract : public DeviceStoreContract {};

TEST_P(DeviceStoreSqlContract, DeletingTheClientDeletesItsGrants) {
  ASSERT_TRUE(store_->Insert(Grant("d1", "u1", "c2", 1000)).value());
  ASSERT_TRUE(db().Exec("DELETE FROM clients WHERE client_id = $1", {Text("c2")}));
  EXPECT_FALSE(Lock("d1"));
}

TEST_P(DeviceStoreSqlContract, ARolledBackRedemptionLeavesTheGrantApproved) {
  ASSERT_TRUE(store_->Insert(Grant("d1", "u1", "c1", 1000)).value());
  ASSERT_TRUE(store_->Decide("u1", true, Alice(), 500).value());
  auto st = db().Transact("test", [&](Tx& tx) -> Status {
    auto r = store_->Consume(tx, "d1", "c1", 500);
    if (!r) return Fail(r.error());
    EXPECT_TRUE(*r);
    return Fail(Error::Internal("roll back"));
  });
  ASSERT_FALSE(st);
  EXPECT_TRUE(Consume("d1", "c1", 500));
}

PORTCULLIS_INSTANTIATE_BACKENDS(DeviceStoreSqlContract);

}  // namespace
}  // namespace portcullis::store
