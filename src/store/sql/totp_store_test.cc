// Contract: SqlTotpStore on SQLite and PostgreSQL, and MemoryTotpStore, answer the same cases
// the same way; the SQL rows go with the user.
#include "store/sql/totp_store.h"

#include <gtest/gtest.h>

#include <memory>

#include "oauth/totp/memory_totp_store.h"
#include "store/sql/backend_test_fixture.h"
#include "store/sql/user_store.h"

namespace portcullis::store {
namespace {

using oauth::TotpEnrolment;
using oauth::TotpStore;

class TotpStoreContract : public BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (GetParam() == "memory") {
      store_ = std::make_unique<oauth::MemoryTotpStore>();
    } else {
      store_ = std::make_unique<SqlTotpStore>(db());
      // The rows reference users.
      SqlUserStore users(db());
      for (const char* id : {"alice", "bob"}) {
        oauth::User u;
        u.user_id = id;
        u.user_type = "customer";
        u.email = std::string(id) + "@example.com";
        u.password_hash = "h";
        ASSERT_TRUE(db().Transact("t", [&](Tx& tx) { return users.Insert(tx, u); }));
      }
    }
  }
  TotpStore& s() { return *store_; }
  static TotpEnrolment E(std::string user, std::string sealed) {
    return TotpEnrolment{std::move(user), std::move(sealed), false, -1, 100};
  }
  std::unique_ptr<TotpStore> store_;
};

TEST_P(TotpStoreContract, BeginReplacesPendingButNotActive) {
  EXPECT_FALSE(*s().Find("alice"));
  ASSERT_TRUE(*s().Begin(E("alice", "s1"), {"d1", "d2"}));
  auto f = s().Find("alice");
  ASSERT_TRUE(f && *f);
  EXPECT_EQ((*f)->secret_sealed, "s1");
  EXPECT_FALSE((*f)->active);
  EXPECT_EQ((*f)->last_step, -1);
  EXPECT_EQ((*f)->created_at, 100);
  EXPECT_EQ(*s().RecoveryCodesLeft("alice"), 2);

  ASSERT_TRUE(*s().Begin(E("alice", "s2"), {"d3", "d4", "d5"}));
  EXPECT_EQ((*s().Find("alice"))->secret_sealed, "s2");
  EXPECT_EQ(*s().RecoveryCodesLeft("alice"), 3);
  // Confirming the replaced secret does nothing.
  EXPECT_FALSE(*s().Activate("alice", "s1", 10));
  EXPECT_TRUE(*s().Activate("alice", "s2", 10));
  EXPECT_FALSE(*s().Activate("alice", "s2", 11));  // once
  f = s().Find("alice");
  EXPECT_TRUE((*f)->active);
  EXPECT_EQ((*f)->last_step, 10);

  // Active: Begin refuses and changes nothing.
  EXPECT_FALSE(*s().Begin(E("alice", "s3"), {"d6"}));
  EXPECT_EQ((*s().Find("alice"))->secret_sealed, "s2");
  EXPECT_EQ(*s().RecoveryCodesLeft("alice"), 3);
}

TEST_P(TotpStoreContract, StepsAreSingleUseAndIncreasing) {
  ASSERT_TRUE(*s().Begin(E("alice", "s1"), {}));
  EXPECT_FALSE(*s().UseStep("alice", 5));  // pending
  ASSERT_TRUE(*s().Activate("alice", "s1", 5));
  EXPECT_FALSE(*s().UseStep("alice", 5));  // the confirming step
  EXPECT_TRUE(*s().UseStep("alice", 6));
  EXPECT_FALSE(*s().UseStep("alice", 6));
  EXPECT_FALSE(*s().UseStep("alice", 4));
  EXPECT_TRUE(*s().UseStep("alice", 8));
  EXPECT_FALSE(*s().UseStep("bob", 9));  // no enrolment
}

TEST_P(TotpStoreContract, RecoveryCodesOnceAndOnlyWhenActive) {
  ASSERT_TRUE(*s().Begin(E("alice", "s1"), {"d1", "d2"}));
  ASSERT_TRUE(*s().Begin(E("bob", "b1"), {"x1"}));
  EXPECT_FALSE(*s().UseRecoveryCode("alice", "d1", 50));  // pending
  ASSERT_TRUE(*s().Activate("alice", "s1", 1));
  EXPECT_TRUE(*s().UseRecoveryCode("alice", "d1", 50));
  EXPECT_FALSE(*s().UseRecoveryCode("alice", "d1", 51));
  EXPECT_FALSE(*s().UseRecoveryCode("alice", "x1", 51));  // bob's
  EXPECT_FALSE(*s().UseRecoveryCode("alice", "nope", 51));
  EXPECT_EQ(*s().RecoveryCodesLeft("alice"), 1);
  EXPECT_EQ(*s().RecoveryCodesLeft("bob"), 1);

  EXPECT_TRUE(*s().Delete("alice"));
  EXPECT_FALSE(*s().Delete("alice"));
  EXPECT_FALSE(*s().Find("alice"));
  EXPECT_EQ(*s().RecoveryCodesLeft("alice"), 0);
  EXPECT_TRUE(*s().Find("bob"));
}

TEST_P(TotpStoreContract, RecoveryCodesAreReplacedOnlyWhenActive) {
  ASSERT_TRUE(*s().Begin(E("alice", "s1"), {"d1", "d2"}));
  EXPECT_FALSE(*s().ReplaceRecoveryCodes("alice", {"n1"}));  // pending
  EXPECT_FALSE(*s().ReplaceRecoveryCodes("bob", {"n1"}));    // none
  ASSERT_TRUE(*s().Activate("alice", "s1", 1));
  ASSERT_TRUE(*s().UseRecoveryCode("alice", "d1", 50));
  EXPECT_TRUE(*s().ReplaceRecoveryCodes("alice", {"n1", "n2", "n3"}));
  EXPECT_EQ(*s().RecoveryCodesLeft("alice"), 3);
  EXPECT_FALSE(*s().UseRecoveryCode("alice", "d2", 51));  // the old ones are gone
  EXPECT_TRUE(*s().UseRecoveryCode("alice", "n2", 51));
  EXPECT_FALSE(*s().UseRecoveryCode("alice", "n2", 52));
  EXPECT_EQ(*s().RecoveryCodesLeft("alice"), 2);
}

INSTANTIATE_TEST_SUITE_P(Backends, TotpStoreContract,
                         ::testing::Values("memory", "sqlite", "postgres"), BackendName);

class SqlTotpStoreTest : public BackendTest {};

// Deleting a user deletes their enrolment and recovery codes (ON DELETE CASCADE).
TEST_P(SqlTotpStoreTest, RowsGoWithTheUser) {
  SqlUserStore users(db());
  oauth::User u;
  u.user_id = "carol";
  u.user_type = "customer";
  u.email = "carol@example.com";
  u.password_hash = "h";
  ASSERT_TRUE(db().Transact("t", [&](Tx& tx) { return users.Insert(tx, u); }));
  SqlTotpStore s(db());
  ASSERT_TRUE(*s.Begin(TotpEnrolment{"carol", "s", false, -1, 1}, {"d1"}));
  ASSERT_TRUE(db().Transact("t", [&](Tx& tx) { return users.Delete(tx, "carol"); }));
  EXPECT_FALSE(*s.Find("carol"));
  auto n = db().QueryRow("SELECT COUNT(*) FROM user_recovery_codes WHERE user_id = 'carol'");
  ASSERT_TRUE(n && *n);
  EXPECT_EQ((*n)->Int(0), 0);
  // No enrolment for a local user who does not exist.
  EXPECT_FALSE(s.Begin(TotpEnrolment{"nobody", "s", false, -1, 1}, {}));
}

// A directory user's enrolment (key "<realm>:<user>", local = false) needs no users row, and
// is not its local namesake's: deleting the local user leaves it.
TEST_P(SqlTotpStoreTest, DirectoryUsersEnrolBesideTheirLocalNamesakes) {
  SqlUserStore users(db());
  oauth::User u;
  u.user_id = "dana";
  u.user_type = "customer";
  u.email = "dana@example.com";
  u.password_hash = "h";
  ASSERT_TRUE(db().Transact("t", [&](Tx& tx) { return users.Insert(tx, u); }));
  SqlTotpStore s(db());
  ASSERT_TRUE(*s.Begin(TotpEnrolment{"dana", "local", false, -1, 1}, {"l1"}));
  TotpEnrolment dir{"ldap-corp:dana", "dir", false, -1, 2};
  dir.local = false;
  ASSERT_TRUE(*s.Begin(dir, {"d1", "d2"}));
  auto f = s.Find("ldap-corp:dana");
  ASSERT_TRUE(f && *f);
  EXPECT_FALSE((*f)->local);
  EXPECT_EQ((*f)->secret_sealed, "dir");
  EXPECT_TRUE((*s.Find("dana"))->local);
  EXPECT_TRUE(*s.Activate("ldap-corp:dana", "dir", 7));
  EXPECT_TRUE(*s.UseRecoveryCode("ldap-corp:dana", "d1", 9));
  EXPECT_FALSE(*s.UseRecoveryCode("dana", "d2", 9));  // the local user's enrolment is pending
  ASSERT_TRUE(db().Transact("t", [&](Tx& tx) { return users.Delete(tx, "dana"); }));
  EXPECT_FALSE(*s.Find("dana"));
  EXPECT_TRUE(*s.Find("ldap-corp:dana"));
  EXPECT_EQ(*s.RecoveryCodesLeft("ldap-corp:dana"), 1);
  EXPECT_TRUE(*s.Delete("ldap-corp:dana"));
  auto n = db().QueryRow("SELECT COUNT(*) FROM user_recovery_codes");
  ASSERT_TRUE(n && *n);
  EXPECT_EQ((*n)->Int(0), 0);
}

PORTCULLIS_INSTANTIATE_BACKENDS(SqlTotpStoreTest);

}  // namespace
}  // namespace portcullis::store
