// Contract: the SQL reference-token, deny-list and assertion-jti stores (SQLite, PostgreSQL) and
// their in-memory fakes answer the same cases the same way; a RevocationList over the SQL
// deny-list reloads what another instance added.
#include "store/sql/token_state_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>

#include "common/clock.h"
#include "oauth/token/memory_token_state_store.h"
#include "oauth/token/revocation_list.h"
#include "store/sql/token_store_test_util.h"

namespace portcullis::store {
namespace {

using oauth::ReferenceToken;

class TokenStateContract : public TokenStateTest {
 protected:
  void SetUp() override {
    TokenStateTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (IsMemory()) {
      references_ = std::make_unique<oauth::MemoryReferenceTokenStore>();
      deny_ = std::make_unique<oauth::MemoryDenyList>();
      jtis_ = std::make_unique<oauth::MemoryAssertionJtiStore>();
    } else {
      references_ = std::make_unique<SqlReferenceTokenStore>(db());
      deny_ = std::make_unique<SqlDenyList>(db());
      jtis_ = std::make_unique<SqlAssertionJtiStore>(db());
    }
  }

  std::unique_ptr<oauth::ReferenceTokenStore> references_;
  std::unique_ptr<oauth::DenyListStore> deny_;
  std::unique_ptr<oauth::AssertionJtiStore> jtis_;
};

TEST_P(TokenStateContract, ReferenceTokensInsertFindDelete) {
  ASSERT_TRUE(references_->Insert(ReferenceToken{"r1", "jwt1", "c1", "deref", 1000}));
  InTx([&](Tx& tx) {
    return references_->Insert(tx, ReferenceToken{"r2", "jwt2", "c1", "", 500});
  });
  auto r1 = references_->Find("r1");
  ASSERT_TRUE(r1 && *r1);
  EXPECT_EQ((*r1)->token_hash, "r1");
  EXPECT_EQ((*r1)->jwt, "jwt1");
  EXPECT_EQ((*r1)->client_id, "c1");
  EXPECT_EQ((*r1)->deref_client_id, "deref");
  EXPECT_EQ((*r1)->expires_at, 1000);
  auto r2 = references_->Find("r2");
  ASSERT_TRUE(r2 && *r2);
  EXPECT_EQ((*r2)->deref_client_id, "");
  EXPECT_EQ((*r2)->expires_at, 500);
  auto none = references_->Find("nope");
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);

  ASSERT_TRUE(references_->Delete("r1"));
  ASSERT_TRUE(references_->Delete("r1"));  // unknown: not an error
  EXPECT_FALSE(*references_->Find("r1"));
  EXPECT_FALSE(references_->Insert(ReferenceToken{"r2", "x", "c1", "", 1}))
      << "a duplicate hash fails";
}

TEST_P(TokenStateContract, ReferenceTokensDeleteForClientAndPurge) {
  ASSERT_TRUE(references_->Insert(ReferenceToken{"a", "j", "c1", "", 1000}));
  ASSERT_TRUE(references_->Insert(ReferenceToken{"b", "j", "c2", "", 1000}));
  ASSERT_TRUE(references_->Insert(ReferenceToken{"c", "j", "c2", "", 2000}));
  InTx([&](Tx& tx) { return references_->DeleteForClient(tx, "c1"); });
  EXPECT_FALSE(*references_->Find("a"));
  InTx([&](Tx& tx) { return references_->PurgeExpired(tx, 1000); });
  EXPECT_TRUE(*references_->Find("b"));
  InTx([&](Tx& tx) { return references_->PurgeExpired(tx, 1001); });
  EXPECT_FALSE(*references_->Find("b"));
  EXPECT_TRUE(*references_->Find("c"));
}

TEST_P(TokenStateContract, DenyListAddKeepsTheFirstEntryLoadsAndPurges) {
  ASSERT_TRUE(deny_->Add("j1", 1000));
  ASSERT_TRUE(deny_->Add("j1", 5000));  // kept as it was
  ASSERT_TRUE(deny_->Add("j2", 200));
  auto all = deny_->LoadSince(0);
  ASSERT_TRUE(all);
  std::sort(all->begin(), all->end());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0], std::make_pair(std::string("j1"), int64_t{1000}));
  EXPECT_EQ((*all)[1], std::make_pair(std::string("j2"), int64_t{200}));
  auto recent = deny_->LoadSince(200);  // expires_at > cutoff
  ASSERT_TRUE(recent);
  ASSERT_EQ(recent->size(), 1u);
  EXPECT_EQ((*recent)[0].first, "j1");
  InTx([&](Tx& tx) { return deny_->PurgeExpired(tx, 201); });
  auto left = deny_->LoadSince(0);
  ASSERT_TRUE(left);
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].first, "j1");
}

// Cases that need SQL (transactions that roll back, other tables, other instances): run on
// SQLite and PostgreSQL only.
class TokenStateSqlContract : public TokenStateContract {};

TEST_P(TokenStateSqlContract, DenyListAddNotifiesOtherInstances) {
  std::atomic<int> heard{0};
  db().Subscribe([&](std::string_view kind, std::string_view id) {
    if (kind == "revoked" && id == "j1") heard.fetch_add(1);
  });
  ASSERT_TRUE(deny_->Add("j1", 1000));
  for (int i = 0; i < 100 && heard.load() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_GE(heard.load(), 1);
}

TEST_P(TokenStateContract, RevocationListReloadsWhatAnotherInstanceAdded) {
  ManualClock clock(1000);
  oauth::RevocationList mine(*deny_, clock, 60);
  oauth::RevocationList theirs(*deny_, clock, 60);
  ASSERT_TRUE(theirs.Add("j1", 1100));
  ASSERT_TRUE(theirs.Add("old", 980));   // past exp, within retention: 980 + 60 > 1000
  ASSERT_TRUE(theirs.Add("gone", 940));  // at 1000 past retention: 940 + 60 <= 1000
  EXPECT_TRUE(theirs.Contains("j1"));
  EXPECT_FALSE(mine.Contains("j1"));
  clock.Set(995);
  ASSERT_TRUE(mine.Reload());
  EXPECT_TRUE(mine.Contains("j1"));
  EXPECT_TRUE(mine.Contains("old"));
  EXPECT_TRUE(mine.Contains("gone"));
  clock.Set(1000);
  ASSERT_TRUE(mine.Reload());
  EXPECT_FALSE(mine.Contains("gone"));
  auto entries = mine.Entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].first, "j1");
  EXPECT_EQ(entries[1].first, "old");
}

TEST_P(TokenStateContract, AssertionJtiIsRememberedOnce) {
  auto first = jtis_->Remember("c1:j", "c1", 1000);
  ASSERT_TRUE(first);
  EXPECT_TRUE(*first);
  auto replay = jtis_->Remember("c1:j", "c1", 1000);
  ASSERT_TRUE(replay);
  EXPECT_FALSE(*replay);
  auto other = jtis_->Remember("c2:j", "c2", 1000);
  ASSERT_TRUE(other);
  EXPECT_TRUE(*other);
  InTx([&](Tx& tx) { return jtis_->PurgeExpired(tx, 1001); });
  auto after = jtis_->Remember("c1:j", "c1", 2000);
  ASSERT_TRUE(after);
  EXPECT_TRUE(*after) << "purged, so known again as new";
}

TEST_P(TokenStateContract, ConcurrentAssertionsWithOneJtiHaveExactlyOneWinner) {
  std::atomic<int> winners{0}, errors{0};
  Race(6, [&](int) {
    auto r = jtis_->Remember("c1:race", "c1", 1000);
    if (!r) {
      errors.fetch_add(1);
    } else if (*r) {
      winners.fetch_add(1);
    }
  });
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(winners.load(), 1);
}

PORTCULLIS_INSTANTIATE_TOKEN_STATE(TokenStateContract);
PORTCULLIS_INSTANTIATE_BACKENDS(TokenStateSqlContract);

}  // namespace
}  // namespace portcullis::store
